#!/usr/bin/env bats
# Agents over the Agent Client Protocol (protocol: acp): the real Qwen
# Code CLI (`qwen --acp`) and the real opencode (`opencode acp`), both
# from npm, talking to the scripted OpenAI-compatible server on 127.0.0.1
# (tests/qwen/mock-server.js); and a small fake agent
# (fake-acp-agent.py) for the protocol's edge cases. Only loopback is
# ever contacted. Every agent process a test starts is squad's child:
# tests count them by the pids squad logs, never by command lines (other
# test files run the same qwen at the same time).
bats_require_minimum_version 1.5.0
load helpers
load qwen_helpers

FAKE=$SQUAD_SRC/tests/e2e/fake-acp-agent.py
OPENCODE_DIR=${SQUAD_BUILD:-$SQUAD_SRC/build}/test-tools/opencode

setup_file() {
	QWEN_BIN=$("$SQUAD_SRC/tests/qwen/install.sh" "$QWEN_DIR" | tail -1)
	export QWEN_BIN
	OPENCODE_BIN=$("$SQUAD_SRC/tests/opencode/install.sh" "$OPENCODE_DIR" | tail -1)
	export OPENCODE_BIN
}

# squadfile_fake WORKER_FIELDS TASKS: the fake agent as worker `fake`
squadfile_fake() {
	cat > Squadfile <<Y
version: 1
workers:
  fake:
    command: [python3, "$FAKE"]
    protocol: acp
    slots: ${SLOTS:-2}
    timeout: 30s
$1
defaults: { worker: fake }
tasks:
$2
Y
}

# squadfile_qwen WORKER_FIELDS TASKS: the built-in qwen worker (ACP), its
# program the real CLI pointed at the mock server
squadfile_qwen() {
	cat > Squadfile <<Y
version: 1
workers:
  qwen:
    command: ["$QWEN_BIN", --acp, --auth-type, openai]
    protocol: acp
    env: { OPENAI_BASE_URL: "http://127.0.0.1:$PORT/v1", OPENAI_API_KEY: test, OPENAI_MODEL: mock }
    timeout: 90s
$1
tasks:
$2
Y
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

# --- the protocol, with the fake agent -------------------------------------

@test "acp: one warm agent per slot serves task after task, each in a session of its own" {
	export FAKE_ACP_LOG=$PWD/starts
	SLOTS=1 squadfile_fake "" '  a: { prompt: "pid" }
  b: { prompt: "pid", needs: [a] }
  c: { prompt: "pid", needs: [b] }'
	run "$SQUAD" c
	[ "$status" -eq 0 ]
	# started once, for three tasks
	[ "$(wc -l < starts)" -eq 1 ]
	pid=$(awk '{print $2}' starts)
	grep -q "\"answer\":\"pid $pid\"" .squad/state
	[ "$(grep -c "\"answer\":\"pid $pid\"" .squad/state)" -eq 3 ]
	# and gone when the run is
	none_alive "$pid"
}

@test "acp: with tasks waiting, an agent opens its next session during a turn; each task still gets a fresh one, in its folder" {
	export FAKE_ACP_LOG=$PWD/starts
	mkdir sub
	SLOTS=1 squadfile_fake "" '  a: { prompt: "session" }
  b: { prompt: "session" }
  c: { prompt: "session", dir: sub }
  d: { prompt: "session" }
  all: { needs: [a, b, c, d] }'
	run "$SQUAD" all
	[ "$status" -eq 0 ]
	[ "$(wc -l < starts)" -eq 1 ]
	# a opens s1 and, with b waiting, s2 ahead; b takes s2 and opens s3
	# ahead; c's folder is another: s3 stays unused, c opens s4 (and s5
	# ahead, in sub); d is in the project again: it opens s6
	grep -q '"answer":"session s1 in '"$PWD"'"' .squad/state
	grep -q '"answer":"session s2 in '"$PWD"'"' .squad/state
	grep -q '"answer":"session s4 in '"$PWD"'/sub"' .squad/state
	grep -q '"answer":"session s6 in '"$PWD"'"' .squad/state
	# never a session that had a prompt before
	! grep -q REUSED .squad/state || false
}

@test "acp: the answer reaches the summary, the state and the log; the prompt is one message, never a shell's" {
	squadfile_fake "" "  hi: { prompt: 'hello \$(touch pwned) \`touch pwned2\`' }"
	run "$SQUAD" hi
	[ "$status" -eq 0 ]
	[[ $output == *'hello $(touch pwned)'* ]]
	[ ! -e pwned ]
	[ ! -e pwned2 ]
	grep -q 'echo: hello \$(touch pwned)' .squad/logs/hi.log
}

@test "acp: a crash mid-task fails the task, is retried on a new agent, and leaves no process" {
	export FAKE_ACP_LOG=$PWD/starts
	SLOTS=1 squadfile_fake "" '  boom: { prompt: "crash", retries: 1 }'
	run "$SQUAD" boom
	[ "$status" -eq 1 ]
	[[ $output == *"FAILED boom"* ]]
	[[ $output == *"the agent died mid-task"* ]]
	# two attempts, two agents
	[ "$(wc -l < starts)" -eq 2 ]
	grep -q "attempt 1 of 2 failed" .squad/logs/boom.log
	none_alive $(awk '{print $2}' starts)
}

@test "acp: a hung agent gets session/cancel, then its group is killed; the task times out" {
	export FAKE_ACP_LOG=$PWD/starts
	squadfile_fake "" '  stuck: { prompt: "hang", timeout: 2s }'
	run "$SQUAD" stuck
	[ "$status" -eq 1 ]
	[[ $output == *"TIMED OUT stuck"* ]]
	grep -q "session/cancel sent" .squad/logs/stuck.log
	grep -q "did not end its turn after session/cancel" .squad/logs/stuck.log
	none_alive $(awk '{print $2}' starts)
}

@test "acp: an agent that heeds session/cancel stays warm for the next task" {
	export FAKE_ACP_LOG=$PWD/starts
	SLOTS=1 squadfile_fake "" '  slow: { prompt: "sleep", timeout: 2s }
  next: { prompt: "pid" }'
	run "$SQUAD" -k slow next
	[ "$status" -eq 1 ]
	[[ $output == *"TIMED OUT slow"* ]]
	[[ $output == *"ok next"* ]]
	[ "$(wc -l < starts)" -eq 1 ]
}

@test "acp: a 429 in the agent's error is a rate limit: backed off, not counted against retries" {
	squadfile_fake "" '  limited: { prompt: "ratelimit", timeout: 8s }'
	run "$SQUAD" limited
	[ "$status" -eq 1 ]
	grep -q "rate limited; trying again in 1s" .squad/logs/limited.log
	grep -q "rate limited; trying again in 2s" .squad/logs/limited.log
	[[ $output == *"rate limited"* ]]
}

@test "acp: garbage, malformed JSON-RPC, huge lines and strange ids are logged and passed over" {
	squadfile_fake "" '  g: { prompt: "garbage" }
  m: { prompt: "malformed" }
  h: { prompt: "huge" }
  o: { prompt: "ooo" }'
	run "$SQUAD" g m h o
	[ "$status" -eq 0 ]
	grep -q "not JSON-RPC" .squad/logs/g.log
	grep -q '"answer":"fine after garbage"' .squad/state
	grep -q "not JSON-RPC" .squad/logs/m.log
	grep -q '"answer":"fine after malformed"' .squad/state
	grep -q "longer than 8388608 bytes; squad dropped it" .squad/logs/h.log
	grep -q '"answer":"fine after huge"' .squad/state
	grep -q "squad is not waiting for (id 987654)" .squad/logs/o.log
	grep -q '"answer":"in order"' .squad/state
}

@test "acp: an agent that cannot start fails its task at once, with its words" {
	export FAKE_ACP_FAIL_INIT=1
	squadfile_fake "" '  x: { prompt: "hi", retries: 3 }'
	run "$SQUAD" x
	[ "$status" -eq 1 ]
	[[ $output == *"the agent did not start: initialize failed: no credentials"* ]]
	[ "$(grep -c 'started agent' .squad/logs/x.log)" -eq 1 ]
}

@test "acp: a stopped turn (refusal) fails the task with the stop reason" {
	squadfile_fake "" '  r: { prompt: "refuse" }'
	run "$SQUAD" r
	[ "$status" -eq 1 ]
	[[ $output == *"the agent stopped its turn: refusal"* ]]
}

@test "acp: the policy: a command runs only when allow_commands names it; each decision logged" {
	squadfile_fake "" '  allowed: { prompt: "tool touch allowed-canary", allow_commands: [touch] }
  denied: { prompt: "tool touch denied-canary" }
  other: { prompt: "tool rm -f Squadfile", allow_commands: [touch] }'
	run "$SQUAD" -k allowed denied other
	[ "$status" -eq 0 ]
	[ -e allowed-canary ]
	[ ! -e denied-canary ]
	[ -e Squadfile ]
	grep -q "allowed execute 'touch allowed-canary': the task allows 'touch'" .squad/logs/allowed.log
	grep -q "denied execute 'touch denied-canary': the task allows no commands" .squad/logs/denied.log
	grep -q "denied execute 'rm -f Squadfile': 'rm' is not in the task's allow_commands" .squad/logs/other.log
}

@test "acp: the policy: files are read and written only inside the task's folder" {
	mkdir -p sub
	echo secret > outside.txt
	squadfile_fake "" "  in: { prompt: 'write $PWD/sub/made.txt', dir: sub }
  out: { prompt: 'write $PWD/escaped.txt', dir: sub }
  peek: { prompt: 'read $PWD/outside.txt', dir: sub }"
	run "$SQUAD" -k in out peek
	[ "$status" -eq 0 ]
	[ "$(cat sub/made.txt)" = agent ]
	[ ! -e escaped.txt ]
	grep -q '"answer":"written"' .squad/state
	grep -q "denied fs/write_text_file '$PWD/escaped.txt': outside the task's folder" .squad/logs/out.log
	grep -q "denied fs/read_text_file '$PWD/outside.txt': outside the task's folder" .squad/logs/peek.log
	run grep -c secret .squad/state
	[ "$output" -eq 0 ]
}

@test "acp: Ctrl-C (SIGTERM here: a background job ignores SIGINT) cancels the turns, ends the agents and exits 130" {
	export FAKE_ACP_LOG=$PWD/starts
	squadfile_fake "" '  s: { prompt: "sleep", timeout: 60s }'
	"$SQUAD" s > out.txt 2>&1 &
	sq=$!
	echo "$sq" > squad.pid
	for _ in $(seq 100); do
		grep -q "asking agent" .squad/logs/s.log 2>/dev/null && break
		sleep 0.1
	done
	kill -TERM "$sq"
	st=0
	wait "$sq" || st=$?
	[ "$st" -eq 130 ]
	grep -q "interrupted" out.txt
	none_alive $(awk '{print $2}' starts)
}

@test "acp: a worker's command may not carry a task's placeholders" {
	cat > Squadfile <<'Y'
version: 1
workers:
  bad: { command: [agent, "{prompt}"], protocol: acp }
tasks:
  t: { prompt: hi, worker: bad }
Y
	run "$SQUAD" -n
	[ "$status" -ne 0 ]
	[[ $output == *"worker 'bad' speaks ACP"*"cannot use {prompt}"* ]]
}

# --- the real Qwen Code CLI over ACP -----------------------------------------

@test "qwen acp: a plain answer" {
	script '{"rules": [{"match": "How many", "reply": "There are 42 uses."}]}'
	squadfile_qwen "" '  count: { prompt: "How many uses are there?" }'
	run "$SQUAD" count
	[ "$status" -eq 0 ]
	[[ $output =~ count\ +ok\ +qwen\ +[0-9.]+s\ +There\ are\ 42\ uses ]]
	grep -q '"answer":"There are 42 uses."' .squad/state
	none_alive $(agent_pids count)
}

@test "qwen acp: a tool call the policy allows runs for real" {
	script '{"rules": [{"match": "marker", "tool_call": "touch agent-was-here.txt", "then": "Created the marker."}]}'
	squadfile_qwen "" '  act: { prompt: "create the marker file", allow_commands: [touch] }'
	run "$SQUAD" act
	[ "$status" -eq 0 ]
	[ -e agent-was-here.txt ]
	grep -q "allowed execute 'touch agent-was-here.txt'" .squad/logs/act.log
	grep -q '"answer":"Created the marker."' .squad/state
}

@test "qwen acp: a tool call the policy denies does not run" {
	script '{"rules": [{"match": "canary", "tool_call": "touch canary.txt", "then": "Could not."}]}'
	squadfile_qwen "" '  act: { prompt: "create the canary file", escalate: true }'
	run "$SQUAD" act
	[ ! -e canary.txt ]
	grep -q "denied execute 'touch canary.txt': the task allows no commands" .squad/logs/act.log
	# qwen ends its turn where it was refused, with no answer: not done,
	# never retried (it would ask again), escalated with the refusal
	[ "$status" -eq 1 ]
	[[ $output == *"the agent gave no answer after a tool call was refused (execute 'touch canary.txt': the task allows no commands (allow_commands))"* ]]
	[ "$(grep -c "asking agent" .squad/logs/act.log)" -eq 1 ]
	[ "$(jq -r '.tasks[0].failure.reason' .squad/handoff.json)" = "the agent gave no answer after a tool call was refused (execute 'touch canary.txt': the task allows no commands (allow_commands))" ]
	[ "$(jq -r '.tasks[0].tools.calls[] | select(.decision != null) | .decision' .squad/handoff.json)" = "denied: the task allows no commands (allow_commands)" ]
}

@test "qwen acp: an agent killed mid-task fails the task and is replaced" {
	# the model answers the slow task's turn slowly; the agent is killed
	# while it waits. Only that one request: qwen's side calls, and the
	# next agent (whose memory may hold the slow question), get answers
	# at once, so `after` does not wait on a load-dependent clock
	script '{"rules": [{"match": "a slow question", "max_matches": 1, "reply": "late", "delay_ms": 60000}]}'
	squadfile_qwen "    slots: 1" '  slow: { prompt: "a slow question" }
  after: { prompt: "after the crash" }'
	"$SQUAD" -k slow after > out.txt 2>&1 &
	sq=$!
	echo "$sq" > squad.pid
	for _ in $(seq 600); do
		grep -q "asking agent" .squad/logs/slow.log 2>/dev/null && break
		sleep 0.1
	done
	pid=$(agent_pids slow)
	[ -n "$pid" ]
	kill -KILL "$pid"
	st=0
	wait "$sq" || st=$?
	# shown only when the test fails
	cat out.txt .squad/logs/after.log
	[ "$st" -eq 1 ]
	grep -q "FAILED slow" out.txt
	grep -q "the agent died mid-task" .squad/logs/slow.log
	# the next task still runs
	grep -q "ok after" out.txt
	# after ran on a new agent
	[ "$(agent_pids after)" != "$pid" ]
	none_alive "$pid" $(agent_pids after)
}

@test "qwen acp: a hung model server: the task times out, the agent is ended" {
	# a first task warms the agent, so that the hung task's 20 s start
	# with its prompt, not with qwen's start-up (seconds under load, when
	# a timeout before the session would leave nothing to cancel)
	script '{"rules": [{"match": "never answered", "hang": true}]}'
	squadfile_qwen "    slots: 1" '  warm: { prompt: "warm up" }
  stuck: { prompt: "never answered", timeout: 20s, needs: [warm] }'
	run "$SQUAD" stuck
	[ "$status" -eq 1 ]
	[[ $output == *"ok warm"* ]]
	[[ $output == *"TIMED OUT stuck"* ]]
	grep -q "session/cancel sent" .squad/logs/stuck.log
	# the one agent, started for warm, served stuck and is ended
	[ -n "$(agent_pids warm)" ]
	none_alive $(agent_pids warm stuck)
}

@test "qwen acp: a 429 that qwen retries through ends in the answer" {
	script '{"rules": [{"id": "limit", "match": "tally", "error": {"status": 429, "times": 1}, "reply": "The tally is 12."}]}'
	squadfile_qwen "" '  tally: { prompt: "tally the results" }'
	run "$SQUAD" tally
	[ "$status" -eq 0 ]
	grep -q '"answer":"The tally is 12."' .squad/state
	[ "$(stat_of errors_sent)" -ge 1 ]
}
