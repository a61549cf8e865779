#!/usr/bin/env bats
# The built-in `opencode` worker (`opencode acp`, over the Agent Client
# Protocol) with the real opencode from npm (opencode-ai, pinned in
# tests/opencode/install.sh), found on PATH as a user would have it, and
# pointed by an opencode config (tests/opencode/write-config.sh) at the
# scripted OpenAI-compatible server on 127.0.0.1 (tests/qwen/mock-server.js).
# Only loopback is contacted: models.dev, auto-update, sharing, LSP and
# plugin downloads are all turned off (see tests/opencode/README.md).
# Agents are counted by the pids squad logs, never by command lines.
bats_require_minimum_version 1.5.0
load helpers

OPENCODE_DIR=${SQUAD_BUILD:-$SQUAD_SRC/build}/test-tools/opencode

setup_file() {
	OPENCODE_BIN=$("$SQUAD_SRC/tests/opencode/install.sh" "$OPENCODE_DIR" | tail -1)
	export OPENCODE_BIN
}

# Each test: its own folder, HOME, TMPDIR and model server.
setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	export NO_COLOR=1 SQUAD_CACHE=off # as helpers.bash: no result cache here
	[ -x "$OPENCODE_BIN" ] || { echo "opencode could not be installed from npm" >&2; return 1; }
	export HOME=$BATS_TEST_TMPDIR/home TMPDIR=$BATS_TEST_TMPDIR/tmp
	mkdir -p "$HOME" "$TMPDIR"
	unset XDG_CONFIG_HOME XDG_DATA_HOME XDG_CACHE_HOME XDG_STATE_HOME OPENCODE_CONFIG \
		OPENCODE_CONFIG_DIR OPENCODE_CONFIG_CONTENT OPENCODE_PERMISSION \
		HTTP_PROXY HTTPS_PROXY http_proxy https_proxy
	export NO_PROXY=127.0.0.1,localhost
	export OPENCODE_DISABLE_AUTOUPDATE=1 OPENCODE_DISABLE_MODELS_FETCH=1 \
		OPENCODE_DISABLE_SHARE=1 OPENCODE_DISABLE_LSP_DOWNLOAD=1 \
		OPENCODE_DISABLE_DEFAULT_PLUGINS=1
	# the built-in worker runs `opencode`: the one from npm, first on PATH
	PATH=$(dirname "$OPENCODE_BIN"):$PATH
	script '{"rules": []}'
	node "$SQUAD_SRC/tests/qwen/mock-server.js" --port-file port --script script.json \
		--log requests.log --dump-dir dumps > server.out 2>&1 &
	SERVER=$!
	wait_for port
	PORT=$(cat port)
	# outside the project folder: opencode reads no opencode.json of the test's
	"$SQUAD_SRC/tests/opencode/write-config.sh" "$HOME" "$PORT" "$HOME/mock-provider.json"
}

teardown() {
	kill "$SERVER" 2>/dev/null || true
	wait "$SERVER" 2>/dev/null || true
}

# script JSON: what the model server answers from now on. opencode's own
# turn has a system prompt that starts "You are opencode"; its other
# calls (a title for the session) are side calls, answered by default.
script() {
	jq '. + {main_system_prefix: "You are opencode"}' <<< "$1" > script.json
}

# stat_of FIELD: what the model server has seen (GET /stats)
stat_of() {
	curl -s "http://127.0.0.1:$PORT/stats" | jq -r ".$1"
}

# squadfile_opencode WORKER_FIELDS TASKS: tasks on the built-in opencode
# worker; the Squadfile adds only where its provider config is (an `env`
# of its own, which must leave the preset's permission settings alone)
squadfile_opencode() {
	cat > Squadfile <<Y
version: 1
workers:
  opencode:
    env: { OPENCODE_CONFIG: "$HOME/mock-provider.json" }
    timeout: 120s
$1
defaults: { worker: opencode }
tasks:
$2
Y
}

# main_request_seen TEXT: opencode's own turn asked the model about TEXT
# (request bodies are saved as they arrive; the log has them when answered)
main_request_seen() {
	grep -l -F "$1" dumps/req-*.json 2>/dev/null | xargs -r grep -l -F "You are opencode" | grep -q .
}

# agent_pids TASK...: the agents squad started, from the tasks' logs
agent_pids() {
	local t
	for t in "$@"; do
		sed -n 's/^squad: started agent \([0-9]*\) .*/\1/p' ".squad/logs/$t.log"
	done
}

# none_alive PID...: none of these processes is left
none_alive() {
	local p
	for p in "$@"; do
		if alive "$p"; then
			echo "agent $p is still running" >&2
			return 1
		fi
	done
}

@test "opencode acp: a plain answer, from the built-in worker" {
	script '{"rules": [{"match": "How many", "reply": "There are 42 uses."}]}'
	squadfile_opencode "" '  count: { prompt: "How many uses are there?" }'
	run "$SQUAD" count
	[ "$status" -eq 0 ]
	[[ $output =~ count\ +ok\ +opencode\ +[0-9.]+s\ +There\ are\ 42\ uses ]]
	grep -q '"answer":"There are 42 uses."' .squad/state
	grep -q "started agent [0-9]* of worker 'opencode' (opencode)" .squad/logs/count.log
	# the prompt reached the model as the user's message
	grep -q 'How many uses are there?' requests.log
	none_alive $(agent_pids count)
}

@test "opencode acp: a tool call the policy allows runs for real" {
	script '{"rules": [{"match": "marker", "tool_call": {"name": "bash", "arguments": {"command": "touch agent-was-here.txt", "description": "make the marker"}}, "then": "Created the marker."}]}'
	squadfile_opencode "" '  act: { prompt: "create the marker file", allow_commands: [touch] }'
	run "$SQUAD" act
	[ "$status" -eq 0 ]
	[ -e agent-was-here.txt ]
	grep -q "allowed execute 'touch agent-was-here.txt': the task allows 'touch'" .squad/logs/act.log
	grep -q '"answer":"Created the marker."' .squad/state
}

@test "opencode acp: a tool call the policy denies does not run, whatever the project's opencode.json allows" {
	# the project's own opencode config would let bash run unasked
	echo '{"permission": {"*": "allow", "bash": "allow"}}' > opencode.json
	script '{"rules": [{"match": "canary", "tool_call": {"name": "bash", "arguments": {"command": "touch canary.txt", "description": "make the canary"}}, "then": "Could not."}]}'
	squadfile_opencode "" '  act: { prompt: "create the canary file" }'
	run "$SQUAD" act
	[ ! -e canary.txt ]
	grep -q "denied execute 'touch canary.txt': the task allows no commands" .squad/logs/act.log
	# opencode heard the refusal and ended its turn with no answer: the
	# task was not done, and says why
	grep -q "tool execute touch canary.txt: failed" .squad/logs/act.log
	[ "$status" -eq 1 ]
	[[ $output == *"the agent gave no answer after a tool call was refused (execute 'touch canary.txt': the task allows no commands"* ]]
}

@test "opencode acp: an agent killed mid-task fails the task and is replaced" {
	# the model answers slowly; the agent is killed while it waits
	script '{"rules": [{"match": "slow", "reply": "late", "delay_ms": 60000}]}'
	squadfile_opencode "    slots: 1" '  slow: { prompt: "a slow question" }
  after: { prompt: "after the crash" }'
	"$SQUAD" -k slow after > out.txt 2>&1 &
	sq=$!
	echo "$sq" > squad.pid
	for _ in $(seq 1200); do
		main_request_seen "a slow question" && break
		sleep 0.1
	done
	main_request_seen "a slow question"
	pid=$(agent_pids slow)
	[ -n "$pid" ]
	kill -KILL "$pid"
	st=0
	wait "$sq" || st=$?
	[ "$st" -eq 1 ]
	grep -q "FAILED slow" out.txt
	grep -q "the agent died mid-task" .squad/logs/slow.log
	grep -q "ok after" out.txt
	# after ran on a new agent
	[ "$(agent_pids after)" != "$pid" ]
	none_alive "$pid" $(agent_pids after)
}

@test "opencode acp: a hung model server: the task times out, the agent is ended" {
	# a first task warms the one agent; the second one's model call hangs
	script '{"rules": [{"match": "never answered", "hang": true}, {"match": "warm", "reply": "warm"}]}'
	squadfile_opencode "    slots: 1" '  warm: { prompt: "warm up" }
  stuck: { prompt: "never answered", timeout: 15s, needs: [warm] }'
	run "$SQUAD" stuck
	[ "$status" -eq 1 ]
	[[ $output == *"ok warm"* ]]
	[[ $output == *"TIMED OUT stuck"* ]]
	grep -q "session/cancel sent" .squad/logs/stuck.log
	# the model call was made, and hung
	[ "$(stat_of hangs)" -ge 1 ]
	none_alive $(agent_pids warm stuck)
}

@test "opencode acp: a 429 that opencode retries through ends in the answer" {
	script '{"rules": [{"id": "limit", "match": "tally", "error": {"status": 429, "times": 1}, "reply": "The tally is 12."}]}'
	squadfile_opencode "" '  tally: { prompt: "tally the results" }'
	run "$SQUAD" tally
	[ "$status" -eq 0 ]
	grep -q '"answer":"The tally is 12."' .squad/state
	[ "$(stat_of errors_sent)" -ge 1 ]
}

@test "opencode acp: a provider that keeps answering 429: opencode gives up, squad backs off as for a rate limit" {
	# retry-after: 0 makes opencode's own retries (5) immediate
	script '{"rules": [{"match": "tally", "error": {"status": 429, "retry_after": 0}}]}'
	squadfile_opencode "" '  tally: { prompt: "tally the results", timeout: 60s }'
	run "$SQUAD" tally
	[ "$status" -eq 1 ]
	grep -q "Rate limit reached for requests (mock)" .squad/logs/tally.log
	grep -q "rate limited; trying again in 1s" .squad/logs/tally.log
	[[ $output == *"rate limited"* ]]
	none_alive $(agent_pids tally)
}
