#!/usr/bin/env bats
# Prompt tasks on the real Qwen Code CLI (from npm), talking to a scripted
# OpenAI-compatible server on 127.0.0.1 (tests/qwen/mock-server.js). Only
# loopback is ever contacted: HOME is a fresh folder whose qwen settings
# turn off usage statistics, telemetry and update checks.
bats_require_minimum_version 1.5.0
load helpers
load qwen_helpers

# squadfile_qwen EXTRA_WORKER_FIELDS TASKS: a Squadfile whose qwen worker
# is the real CLI pointed at the mock server
squadfile_qwen() {
	cat > Squadfile <<Y
version: 1
workers:
  qwen:
    command: ["$QWEN_BIN", --approval-mode, yolo, --auth-type, openai, -o, json, "{prompt}"]
    env: { OPENAI_BASE_URL: "http://127.0.0.1:$PORT/v1", OPENAI_API_KEY: test, OPENAI_MODEL: mock }
    timeout: 90s
$1
tasks:
$2
Y
}

@test "a prompt task's answer reaches the summary and the state" {
	script '{"rules": [{"match": "How many", "reply": "There are 42 uses of the validator."}]}'
	squadfile_qwen "" '  count: { prompt: "How many validator uses are there?" }'
	run "$SQUAD" count
	[ "$status" -eq 0 ]
	[[ $output == *"ok count"* ]]
	[[ $output =~ count\ +ok\ +qwen\ +[0-9.]+s\ +There\ are\ 42\ uses ]]
	grep -q '"answer":"There are 42 uses of the validator."' .squad/state
	grep -q "There are 42 uses" .squad/logs/count.log
}

@test "expect on the answer: a match gives the summary, a miss fails the task" {
	script '{"rules": [{"match": "uses", "reply": "Found 7 uses in backend/."}]}'
	squadfile_qwen "" '  good: { prompt: "list uses", expect: "Found (\\d+) uses" }
  bad: { prompt: "list uses again", expect: "No uses" }'
	run "$SQUAD" good
	[ "$status" -eq 0 ]
	[[ $output =~ good\ +ok\ +qwen\ +[0-9.]+s\ +7 ]]
	run "$SQUAD" bad
	[ "$status" -eq 1 ]
	[[ $output == *"FAILED bad"*"does not match 'expect'"* ]]
}

@test "an error the agent reports fails the task with its reason" {
	script '{"rules": [{"match": "broken", "error": {"status": 400, "message": "model refuses this"}}]}'
	squadfile_qwen "" '  broken: { prompt: "a broken request" }'
	run "$SQUAD" broken
	[ "$status" -eq 1 ]
	[[ $output == *"FAILED broken"* ]]
	[[ $output == *"400"* ]]
}

@test "a scripted tool call makes the real agent run a command, whose effect the test sees" {
	script '{"rules": [{"match": "marker", "tool_call": "touch agent-was-here.txt", "then": "Created the marker."}]}'
	squadfile_qwen "" '  act: { prompt: "create the marker file" }'
	run "$SQUAD" act
	[ "$status" -eq 0 ]
	[ -e agent-was-here.txt ]
	grep -q '"answer":"Created the marker."' .squad/state
}

@test "a prompt is one argv element: no shell ever sees it" {
	script '{"rules": [{"match": "quote", "reply": "fine"}]}'
	squadfile_qwen "" "  hostile: { prompt: 'quote \$(touch pwned) \`touch pwned2\` \"; touch pwned3; echo' }"
	run "$SQUAD" hostile
	[ "$status" -eq 0 ]
	[ ! -e pwned ]
	[ ! -e pwned2 ]
	[ ! -e pwned3 ]
	# the request bodies: the prompt reached the model as it was written
	# (qwen 0.24 puts a system reminder before it, so the log's excerpt
	# of the user text does not reach it)
	grep -rqF 'quote $(touch pwned) `touch pwned2` \"; touch pwned3; echo' dumps/
}

@test "a rate-limited answer is retried with backoff, without using the task's retries" {
	# qwen reports a 429 it gave up on as a "success" with this text
	script '{"rules": [
	  {"id": "quota", "match": "tally", "max_matches": 2,
	   "reply": "[API Error: 429 Rate limit reached for requests (mock)]\nPossible quota limitations in place or slow response times detected. Please wait and try again later."},
	  {"match": "tally", "reply": "The tally is 12."}]}'
	squadfile_qwen "" '  tally: { prompt: "tally the results", retries: 0 }'
	run "$SQUAD" tally
	[ "$status" -eq 0 ]
	[[ $output == *"ok tally"* ]]
	[ "$(grep -c 'rate limited; trying again' .squad/logs/tally.log)" -eq 2 ]
	grep -q '"answer":"The tally is 12."' .squad/state
}

@test "daily_limit is counted across runs; when spent, the agent is not called" {
	script '{"rules": [{"match": "hello", "reply": "hi"}]}'
	squadfile_qwen "    daily_limit: 2" '  first: { prompt: "hello one" }
  second: { prompt: "hello two", escalate: true }'
	run "$SQUAD" first
	[ "$status" -eq 0 ]
	used=$(stat_of chat_requests)
	# qwen's own stats say how many requests the call made
	spent=$(jq -r '.qwen.requests' "$XDG_STATE_HOME/squad/budget.json")
	[ "$spent" -ge 2 ]
	run "$SQUAD" second
	# escalated, and still a failure
	[ "$status" -eq 1 ]
	[[ $output == *"budget exhausted: worker 'qwen' has used $spent of its daily_limit of 2 requests today"* ]]
	# when it starts over, and where the count is kept
	[[ $output == *"it resets at midnight, local time (in "* ]]
	[[ $output == *"the count is kept in '$XDG_STATE_HOME/squad/budget.json'"* ]]
	[ "$(stat_of chat_requests)" -eq "$used" ]
	[ "$(jq -r '.tasks[0].kind' .squad/handoff.json)" = escalation ]
}

@test "slots: 2 agents at most, however many prompt tasks are ready" {
	script '{"rules": [{"kind": "any", "match": "job", "reply": "done", "delay_ms": 1500}]}'
	squadfile_qwen "    slots: 2" '  j1: { prompt: "job 1" }
  j2: { prompt: "job 2" }
  j3: { prompt: "job 3" }
  j4: { prompt: "job 4" }
  j5: { prompt: "job 5" }
  j6: { prompt: "job 6" }
  all: { needs: [j1, j2, j3, j4, j5, j6] }'
	run "$SQUAD" -j6 all
	[ "$status" -eq 0 ]
	[ "$(stat_of max_concurrent)" -eq 2 ]
	[ "$(stat_of main_requests)" -ge 6 ]
}

@test "a hung model server ends in the task's timeout, with no process left" {
	script '{"rules": [{"kind": "any", "hang": true}]}'
	squadfile_qwen "" '  stuck: { prompt: "never answered", timeout: 8s }'
	run "$SQUAD" stuck
	[ "$status" -eq 1 ]
	[[ $output == *"TIMED OUT stuck"* ]]
	! pgrep -f "$QWEN_BIN" >/dev/null || false
}

@test "without a model configured, qwen fails clearly instead of hanging" {
	cat > Squadfile <<Y
version: 1
workers:
  qwen: { command: ["$QWEN_BIN", -o, json, "{prompt}"], timeout: 60s }
tasks:
  ask: { prompt: "anything" }
Y
	run env -u OPENAI_API_KEY -u OPENAI_BASE_URL "$SQUAD" ask
	[ "$status" -eq 1 ]
	[[ $output == *"FAILED ask"* ]]
	[[ $output != *"TIMED OUT"* ]]
}

@test "a worker program that is not on PATH fails its tasks with a clear message" {
	squadfile <<'Y'
version: 1
workers:
  agent: { command: [no-such-agent-cli, "{prompt}"] }
tasks:
  ask: { prompt: "anything", worker: agent }
  esc: { prompt: "anything", worker: agent, escalate: true }
Y
	run "$SQUAD" ask
	[ "$status" -eq 1 ]
	[[ $output == *"'no-such-agent-cli' is not on PATH: worker 'agent' cannot start"* ]]
	run "$SQUAD" esc
	# escalated, and still a failure
	[ "$status" -eq 1 ]
	[ "$(jq -r '.tasks[0].failure.reason' .squad/handoff.json)" = "'no-such-agent-cli' is not on PATH: worker 'agent' cannot start" ]
}
