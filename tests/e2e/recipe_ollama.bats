#!/usr/bin/env bats
# recipes/ollama/Squadfile as a user runs it: the real Qwen Code CLI over
# ACP, the "Ollama" server being the scripted OpenAI-compatible one on
# 127.0.0.1 (tests/qwen/mock-server.js), chosen from the shell with
# OLLAMA_URL and OLLAMA_MODEL as the recipe says. Only loopback is ever
# contacted.
bats_require_minimum_version 1.5.0
load helpers
load qwen_helpers

# the recipe, copied into a small project with something to explore; its
# `qwen` is the one from npm, first on PATH
recipe_project() {
	unset OLLAMA_URL OLLAMA_MODEL
	cp "$SQUAD_SRC/recipes/ollama/Squadfile" Squadfile
	printf 'int main(void) { return 0; } /* TODO: read the config */\n' > main.c
	PATH=$(dirname "$QWEN_BIN"):$PATH
	script '{"rules": [
		{"match": "TODO and FIXME", "reply": "main.c:1 TODO: read the config"},
		{"match": "entry points", "reply": "main.c:1 main, reads nothing"}]}'
}

@test "recipe ollama: both explorations on one warm qwen, on the server and model the shell names" {
	recipe_project
	OLLAMA_URL=http://127.0.0.1:$PORT/v1 OLLAMA_MODEL=tiny-coder:1b run "$SQUAD"
	[ "$status" -eq 0 ]
	[[ $output == *"explore-todos"*"ok"*"main.c:1 TODO: read the config"* ]]
	[[ $output == *"explore-entry-points"*"ok"*"main.c:1 main, reads nothing"* ]]
	# ACP: one agent (slots: 1) served both tasks
	[ "$(cat .squad/logs/explore-*.log | grep -c 'started agent')" -eq 1 ]
	# every model call went to this server, for the model the shell named
	[ "$(stat_of main_requests)" -ge 2 ]
	[ "$(jq -r 'select(.path == "/v1/chat/completions") | .model' requests.log | sort -u)" = tiny-coder:1b ]
}

@test "recipe ollama: without OLLAMA_MODEL the recipe's default model is asked for" {
	recipe_project
	OLLAMA_URL=http://127.0.0.1:$PORT/v1 run "$SQUAD" explore-todos
	[ "$status" -eq 0 ]
	grep -q '"answer":"main.c:1 TODO: read the config"' .squad/state
	[ "$(jq -r 'select(.path == "/v1/chat/completions") | .model' requests.log | sort -u)" = qwen2.5-coder:7b ]
}
