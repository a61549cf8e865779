#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# The first hour of a new user (issue 22): wording, dry runs, colour for
# tasks, ${VAR:-default}, the manifest's worker label, man page, init.

load helpers

# --- wording ------------------------------------------------------------

@test "explain counts one input as 1 file, two as 2 files" {
	squadfile <<'Y'
version: 1
tasks:
  one: { run: "true", inputs: [a.c] }
  two: { run: "true", inputs: ["*.c"] }
Y
	touch a.c
	run "$SQUAD" explain one
	[ "$status" -eq 0 ]
	[[ $output == *"inputs: a.c (1 file now)"* ]]
	touch b.c
	run "$SQUAD" explain two
	[[ $output == *"(2 files now)"* ]]
}

@test "a task escalated before its first attempt says it was not run, not 'after 0 attempts'" {
	export XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	squadfile <<'Y'
version: 1
workers:
  agent: { command: [sh, -c, "touch called; echo answer", "{prompt}"], daily_limit: 1 }
tasks:
  ask: { prompt: "anything", worker: agent, escalate: true }
Y
	mkdir -p "$XDG_STATE_HOME/squad"
	printf '{"agent": {"day": "%s", "requests": 5, "recent": []}}\n' "$(date +%F)" \
		> "$XDG_STATE_HOME/squad/budget.json"
	run "$SQUAD" ask
	[ "$status" -eq 1 ]
	[[ $output == *"(not run: budget exhausted"* ]]
	[[ $output != *"0 attempt"* ]]
	[ ! -e called ]
	run jq -r '.tasks[0].instruction' .squad/handoff.json
	[[ $output == *"Task 'ask' of "*" was not run: budget exhausted"* ]]
}

@test "a task escalated after one attempt says 1 attempt" {
	squadfile <<'Y'
version: 1
tasks:
  bad: { run: "exit 3", escalate: true }
Y
	run "$SQUAD" bad
	[ "$status" -eq 1 ]
	[[ $output == *"(failed after 1 attempt;"* ]]
	run jq -r '.tasks[0].instruction' .squad/handoff.json
	[[ $output == *"failed after 1 attempt and was escalated"* ]]
	run "$SQUAD" handoff
	[[ $output == *"1 task waits for the tactician"* ]]
}

# --- -n with an empty selection -------------------------------------------

@test "-n --changed with nothing changed says nothing to do, like the real run" {
	git init -q
	squadfile <<'Y'
version: 1
tasks:
  a: { run: "echo hi", inputs: ["*.c"] }
Y
	touch x.c
	git add -A
	git -c user.email=t@t -c user.name=t commit -qm init
	run --separate-stderr "$SQUAD" -n --changed a
	[ "$status" -eq 0 ]
	[ "$output" = "squad: nothing to do" ]
	run --separate-stderr "$SQUAD" --changed a
	[ "$status" -eq 0 ]
	[[ $output == "squad: nothing to do in "* ]]
	echo 'int x;' > x.c
	run --separate-stderr "$SQUAD" -n --changed a
	[[ $output == *"1  a     shell   echo hi"* ]]
}

# --- the manifest's worker ------------------------------------------------

@test "a skill task's worker in the manifest and in 'squad handoff' is the tactician" {
	squadfile <<'Y'
version: 1
defaults: { worker: qwen }
workers:
  qwen: { command: [sh, -c, "touch called", "{prompt}"] }
tasks:
  review: { prompt: "review it", skills: [security-review] }
  bad: { run: "exit 3", worker: shell, escalate: true }
Y
	run "$SQUAD" -k review bad
	[ "$status" -eq 1 ]
	[ ! -e called ]
	run jq -r '.tasks[] | select(.name == "review") | .worker' .squad/handoff.json
	[ "$output" = tactician ]
	run jq -r '.tasks[] | select(.name == "bad") | .worker' .squad/handoff.json
	[ "$output" = shell ]
	run "$SQUAD" handoff
	[[ $output == *"review (skill)"$'\n'"  worker: tactician"$'\n'* ]]
	[[ $output == *"bad (escalation)"$'\n'"  worker: shell"$'\n'* ]]
}

# --- ${VAR:-default} ------------------------------------------------------

@test '${VAR:-default}: unset or empty takes the default, set takes the value, in vars, run, env, worker templates' {
	unset SQUAD_T_MODEL SQUAD_T_URL
	squadfile <<'Y'
version: 1
vars:
  MODEL: "${SQUAD_T_MODEL:-small}"
workers:
  fake:
    command: [sh, -c, 'printf "%s %s %s\n" "$1" "$URL" "$2" > got', sh, "${MODEL}", "{prompt}"]
    env: { URL: "${SQUAD_T_URL:-http://localhost:1}" }
tasks:
  ask: { prompt: "p", worker: fake }
  say: { run: 'echo "run=${SQUAD_T_URL:-none} empty=${SQUAD_T_EMPTY:-dflt}" > said', env: { E: "${SQUAD_T_E:-e0}" } }
Y
	run "$SQUAD" ask say
	[ "$status" -eq 0 ]
	[ "$(cat got)" = "small http://localhost:1 p" ]
	[ "$(cat said)" = "run=none empty=dflt" ]
	SQUAD_T_MODEL=big SQUAD_T_URL=http://gpu:2 SQUAD_T_EMPTY= run "$SQUAD" ask say
	[ "$status" -eq 0 ]
	[ "$(cat got)" = "big http://gpu:2 p" ]
	[ "$(cat said)" = "run=http://gpu:2 empty=dflt" ]
}

@test "recipes/ollama: OLLAMA_URL and OLLAMA_MODEL from the shell reach qwen; without them the defaults" {
	# qwen here is the fake ACP agent, noting what it was started with
	# (recipe_ollama.bats runs the recipe with the real qwen)
	mkdir bin
	cat > bin/qwen <<SH
#!/bin/sh
echo "\$OPENAI_BASE_URL \$OPENAI_MODEL \$*" >> "\$CALLS"
exec python3 "$SQUAD_SRC/tests/e2e/fake-acp-agent.py"
SH
	chmod +x bin/qwen
	cp "$SQUAD_SRC/recipes/ollama/Squadfile" .
	export CALLS=$PWD/calls PATH=$PWD/bin:$PATH
	unset OLLAMA_URL OLLAMA_MODEL
	run "$SQUAD" explore-todos
	[ "$status" -eq 0 ]
	[ "$(cat calls)" = "http://localhost:11434/v1 qwen2.5-coder:7b --acp --auth-type openai" ]
	rm calls
	OLLAMA_URL=http://gpu-box:11434/v1 OLLAMA_MODEL=qwen3:14b run "$SQUAD" explore-todos
	[ "$status" -eq 0 ]
	[ "$(cat calls)" = "http://gpu-box:11434/v1 qwen3:14b --acp --auth-type openai" ]
}

# --- -n shows what will run -----------------------------------------------

@test "-n shows commands with vars expanded; values from the environment stay masked" {
	export SQUAD_T_TOKEN=s3cr3t-value
	squadfile <<'Y'
version: 1
vars:
  PY: python3
  T: "${SQUAD_T_TOKEN}"
tasks:
  unit: { run: "${PY} -m pytest -q --key ${T} ${SQUAD_T_TOKEN}" }
  lint: { run: ["${PY}", -m, ruff, "${T}"] }
Y
	run --separate-stderr "$SQUAD" -n unit lint
	[ "$status" -eq 0 ]
	[[ $output == *'python3 -m pytest -q --key ${T} ${SQUAD_T_TOKEN}'* ]]
	[[ $output == *'python3 -m ruff '*'${T}'* ]]
	[[ $output != *s3cr3t* ]]
	[[ $stderr != *s3cr3t* ]]
}

# --- colour for tasks -----------------------------------------------------

colour_project() {
	squadfile <<'Y'
version: 1
tasks:
  show: 'echo "no=$NO_COLOR term=$TERM force=$FORCE_COLOR cli=$CLICOLOR_FORCE" > env.txt; printf "\033[31mred\033[0m\n"'
  own: { run: 'echo "term=$TERM" > own.txt', env: { TERM: xterm-256color } }
Y
}

@test "piped: tasks get NO_COLOR=1 and TERM=dumb, a task's env wins, the log keeps every byte" {
	colour_project
	unset NO_COLOR FORCE_COLOR CLICOLOR_FORCE
	TERM=xterm FORCE_COLOR=1 run "$SQUAD" show own
	[ "$status" -eq 0 ]
	[ "$(cat env.txt)" = "no=1 term=dumb force= cli=" ]
	[ "$(cat own.txt)" = "term=xterm-256color" ]
	[ "$(cat .squad/logs/show.log)" = $'\033[31mred\033[0m' ]
}

@test "--color always: tasks get FORCE_COLOR=1 and CLICOLOR_FORCE=1" {
	colour_project
	TERM=xterm run "$SQUAD" --color always show
	[ "$status" -eq 0 ]
	[ "$(cat env.txt)" = "no= term=xterm force=1 cli=1" ]
}

@test "on a terminal in auto mode the tasks' environment is unchanged" {
	colour_project
	unset NO_COLOR FORCE_COLOR CLICOLOR_FORCE
	TERM=xterm script -qfec "$SQUAD show" /dev/null > tty.out 2>&1
	[ "$(cat env.txt)" = "no= term=xterm force= cli=" ]
}

# --- the quick start ------------------------------------------------------

@test "Squadfile.example: its checks of squad's own tree pass, as the quick start runs them" {
	export SQUAD_CACHE=off
	mkdir tree
	cp -r "$SQUAD_SRC/src" "$SQUAD_SRC/build.sh" "$SQUAD_SRC/Squadfile.example" tree/
	mkdir tree/.ci
	cp "$SQUAD_SRC/.ci/run" tree/.ci/
	cd tree
	run "$SQUAD" -f Squadfile.example backend-lint frontend-lint explore-spawn explore-shell
	[ "$status" -eq 0 ]
	[[ $output == *"squad: 4 ok"* ]]
	# the exploration found what it looks for (its result goes to the review)
	grep -q 'kill(' .squad/logs/explore-spawn.log
	grep -q 'bin/sh' .squad/logs/explore-shell.log
}
