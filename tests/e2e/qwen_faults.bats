#!/usr/bin/env bats
# The failure matrix of agent tasks, on the real Qwen Code CLI (npm
# @qwen-code/qwen-code, tests/qwen/install.sh) against the scripted model
# server on 127.0.0.1 (tests/qwen/mock-server.js). For each way a provider
# or the agent can fail, one run of `squad --json --junit` on an
# escalating task, asserting: squad's exit code, the JUnit element, the
# JSON finish and summary events, the manifest entry, the attempts, and
# what the model server saw (GET /stats) against what the budget counted.
#
# Every run is bounded by the task's timeout (30 s at most here; squad
# gives qwen --max-wall-time under it, and kills it at the timeout), and
# the assertions hold whichever of the two ends a call first: no test
# depends on timing to pass. The whole file takes about 3 minutes.
#
# Exit codes and JUnit follow the failure model (README, "When things
# fail"; src/outcome.c): a task that failed is exit 1 and <failure>, even
# when it escalated; `retries` covers an `expect` mismatch; a rate limit
# backs off a bounded number of times.
bats_require_minimum_version 1.5.0
load helpers
load qwen_helpers

# project PROMPT TASK_FIELDS [WORKER_ARGS]: one escalating prompt task
# `t` on the built-in qwen worker pointed at the mock server, with a
# budget so that squad counts the requests. The prompt gets this test's
# own token, by which its qwen processes are found.
project() {
	TOKEN="qwen-faults-$$-$BATS_TEST_NUMBER"
	cat > Squadfile <<Y
version: 1
workers:
  qwen:
    command: ["$QWEN_BIN", --approval-mode, yolo, --auth-type, openai, -o, json${3:+, $3}, "{prompt}"]
    env: { OPENAI_BASE_URL: "http://127.0.0.1:$PORT/v1", OPENAI_API_KEY: test, OPENAI_MODEL: mock }
    daily_limit: 100000
tasks:
  t: { escalate: true, prompt: "$1 ($TOKEN)", $2 }
Y
}

# fault: run squad on `t` (bounded: a hang of squad itself ends at 120 s
# with status 124, which fails every test); events in events.jsonl
fault() {
	run --separate-stderr timeout 120 "$SQUAD" --json --junit junit.xml t
	printf '%s\n' "$output" > events.jsonl
	printf '%s\n' "$stderr" > human.txt
}

finish_of() {
	jq -r "select(.event == \"finish\" and .task == \"t\") | $1" events.jsonl
}

summary_of() {
	jq -r "select(.event == \"summary\") | $1" events.jsonl
}

entry_of() {
	jq -r ".tasks[] | select(.name == \"t\") | $1" .squad/handoff.json
}

junit_count() {
	xmllint --xpath "count(//testcase[@name='t']/$1)" junit.xml
}

budget_used() {
	jq -r '.qwen.requests' "$XDG_STATE_HOME/squad/budget.json"
}

# What every failed, escalated run shows, whatever the fault: $1 is how
# the reason starts.
assert_failed_and_escalated() {
	[ "$status" -eq 1 ]
	[ "$(summary_of .exit_code)" -eq 1 ]
	[ "$(junit_count failure)" -eq 1 ]
	[ "$(summary_of '.counts.ok')" -eq 0 ]
	[ "$(summary_of '.counts.failed + .counts["timed out"] + .counts.escalated')" -eq 1 ]
	[[ "$(finish_of .reason)" == "$1"* ]]
	[ "$(entry_of .kind)" = escalation ]
	[[ "$(entry_of .failure.reason)" == "$1"* ]]
	[ "$(entry_of .failure.attempts)" -eq "$(finish_of .attempts)" ]
	# nothing of the agent is left running
	! pgrep -f "$TOKEN" >/dev/null || false
	# nothing of squad's request log is left behind
	[ -d "$TMPDIR" ]
	[ -z "$(find "$TMPDIR" -maxdepth 1 -name 'squad-api-*')" ]
}

@test "429 on every request: rate limited, in bounded time, every request counted" {
	script '{"rules": [{"kind": "any", "error": 429}]}'
	project "tally the results" 'timeout: 30s'
	fault
	assert_failed_and_escalated "rate limited: 429 Rate limit reached for requests (mock)"
	[ "$(finish_of .attempts)" -eq 1 ]
	# the timeout bounds it: 30 s, and the grace of a kill
	[ "$(finish_of .duration_ms)" -lt 40000 ]
	grep -q "the provider failed [0-9]* of [0-9]* model calls; the last: 429 Rate limit reached" \
		.squad/logs/t.log
	# the budget counted every model call qwen made (each one up to 3 HTTP
	# requests, with the SDK's own retries), though no stats came back
	[ "$(stat_of errors_sent)" -ge 1 ]
	[ "$(budget_used)" -ge 1 ]
	[ "$(budget_used)" -le "$(stat_of chat_requests)" ]
}

# The author's own --max-wall-time (far past the timeout) is left alone,
# so squad's timeout is what ends the call: the request log still says why.
@test "429 until squad's timeout kills qwen: still rate limited, not a bare timeout" {
	script '{"rules": [{"kind": "any", "error": 429}]}'
	project "tally the results" 'timeout: 30s' '--max-wall-time, 10m'
	fault
	assert_failed_and_escalated "rate limited: 429 Rate limit reached for requests (mock) (killed at its timeout)"
	[ "$(finish_of .attempts)" -eq 1 ]
	[ "$(finish_of .duration_ms)" -lt 40000 ]
	grep -q "timed out after 30.0s" .squad/logs/t.log
	[ "$(budget_used)" -ge 2 ]
	[ "$(budget_used)" -le "$(stat_of chat_requests)" ]
}

@test "500 on every request: an API error, not a bare timeout" {
	script '{"rules": [{"kind": "any", "error": 500}]}'
	project "tally the results" 'timeout: 30s'
	fault
	assert_failed_and_escalated "API error: 500 mock error 500"
	[ "$(finish_of .attempts)" -eq 1 ]
	[ "$(finish_of .duration_ms)" -lt 40000 ]
	[ "$(stat_of errors_sent)" -ge 1 ]
	[ "$(budget_used)" -ge 1 ]
	[ "$(budget_used)" -le "$(stat_of chat_requests)" ]
}

@test "quota text in a success answer: backed off, then rate limited; every call charged" {
	script '{"rules": [{"match": "tally", "reply": "Quota exceeded for requests per minute. Please try again later."}]}'
	# the timeout leaves each attempt (26 s of wall time) far more than a
	# trivial call takes even on a loaded machine: backing off is what
	# ends this task, not its timeout
	project "tally the results" 'timeout: 40s'
	fault
	assert_failed_and_escalated "rate limited"
	# each attempt is one turn of the model (and one memory extractor
	# call): squad tried again at least once, and counted both calls
	[ "$(finish_of .attempts)" -ge 2 ]
	[ "$(stat_of main_requests)" -eq "$(finish_of .attempts)" ]
	[ "$(budget_used)" -eq "$(stat_of chat_requests)" ]
	grep -q "rate limited; trying again" .squad/logs/t.log
	# the bound: no wait starts past the timeout, and the last attempt
	# has its own (40 s, and 5 s of grace for a kill)
	[ "$(finish_of .duration_ms)" -lt 90000 ]
}

@test "a model server that never answers: timed out, the call charged" {
	script '{"rules": [{"kind": "any", "hang": true}]}'
	project "tally the results" 'timeout: 30s'
	fault
	assert_failed_and_escalated "timed out"
	[ "$(finish_of .attempts)" -eq 1 ]
	[ "$(finish_of .duration_ms)" -lt 40000 ]
	[ "$(stat_of hangs)" -ge 1 ]
	# no stats came back: the call keeps what it was charged at admission
	[ "$(budget_used)" -ge 1 ]
}

@test "a stream that stalls after its first chunk: timed out" {
	script '{"rules": [{"kind": "any", "stall": true}]}'
	project "tally the results" 'timeout: 30s'
	fault
	assert_failed_and_escalated "timed out"
	[ "$(finish_of .attempts)" -eq 1 ]
	[ "$(finish_of .duration_ms)" -lt 40000 ]
	[ "$(stat_of chat_requests)" -ge 1 ]
	[ "$(budget_used)" -ge 1 ]
}

@test "a wrong answer against expect: retried, then failed with its reason" {
	script '{"rules": [{"match": "uses", "reply": "I could not find any."}]}'
	project "count the uses" 'expect: "Found (\\d+) uses", retries: 1, timeout: 60s'
	fault
	assert_failed_and_escalated "the output does not match 'expect'"
	[ "$(finish_of .attempts)" -eq 2 ]
	[ "$(stat_of main_requests)" -eq 2 ]
	# qwen's stats: 2 requests a call, the budget has them all
	[ "$(budget_used)" -eq "$(stat_of chat_requests)" ]
	[ "$(entry_of .failure.log_tail | grep -c 'I could not find any')" -ge 1 ]
}

@test "is_error from the agent: failed with its own message, no model request" {
	# no auth: qwen answers with a result that has is_error and a message
	TOKEN="qwen-faults-$$-$BATS_TEST_NUMBER"
	cat > Squadfile <<Y
version: 1
workers:
  qwen: { command: ["$QWEN_BIN", -o, json, "{prompt}"], daily_limit: 100000 }
tasks:
  t: { prompt: "anything ($TOKEN)", escalate: true, timeout: 60s }
Y
	fault
	assert_failed_and_escalated "No auth type is selected"
	[ "$(finish_of .attempts)" -eq 1 ]
	[[ "$(finish_of .summary)" == "No auth type is selected."* ]]
	[ "$(stat_of chat_requests)" -eq 0 ]
	# it made none: the charge of its admission is given back
	[ "$(budget_used)" -eq 0 ]
}

@test "qwen's known exit codes get a plain reason, the summary from its error message" {
	# a tool loop against --max-session-turns 1: qwen exits 53
	script '{"rules": [{"match": "loop", "tool_call": "echo one", "then": {"tool_call": "echo two", "then": "done"}}]}'
	project "loop over the files" 'timeout: 60s' '--max-session-turns, 1'
	fault
	assert_failed_and_escalated "qwen exited with 53: it reached its turn limit (Reached max session turns"
	[[ "$(finish_of .reason)" != *"JSON event list"* ]]
	[[ "$(finish_of .summary)" == "Reached max session turns for this session."* ]]
	[ "$(finish_of .exit_code)" -eq 53 ]
	[ "$(finish_of .attempts)" -eq 1 ]
	[ "$(stat_of main_requests)" -eq 1 ]
}

# kill -9 gives squad no time to remove qwen's request-log folder; its
# name carries squad's pid, so the next run knows it as a dead squad's
@test "kill -9 of squad: qwen's request-log folder is left, and the next run's first call removes it" {
	script '{"rules": [{"kind": "any", "hang": true}]}'
	project "stuck for ever" 'timeout: 90s'
	"$SQUAD" t > out 2>&1 &
	local pid=$! dir="" i
	for ((i = 0; i < 1200; i++)); do
		[ "$(stat_of hangs)" -ge 1 ] && break
		sleep 0.05
	done
	[ "$(stat_of hangs)" -ge 1 ]
	dir=$(find "$TMPDIR" -maxdepth 1 -name "squad-api-$pid-??????")
	[ -d "$dir" ]
	kill -9 "$pid"
	wait "$pid" || true
	# squad's guard ends qwen; the folder stays, with what qwen wrote
	for ((i = 0; i < 400; i++)); do
		pgrep -f "$TOKEN" >/dev/null || break
		sleep 0.05
	done
	! pgrep -f "$TOKEN" >/dev/null || false
	[ -d "$dir" ]
	echo '{}' > "$dir/openai-left-behind.json"
	# a running squad's folder (this shell stands in for it), and one
	# whose name says no pid, are not squad's to remove
	mkdir "$TMPDIR/squad-api-$$-AbCdEf" "$TMPDIR/squad-api-AbCdEf"
	script '{"rules": [{"kind": "any", "reply": "hi"}]}'
	project "hello" 'timeout: 90s'
	run "$SQUAD" t
	[ "$status" -eq 0 ]
	[ ! -e "$dir" ]
	[ -d "$TMPDIR/squad-api-$$-AbCdEf" ]
	[ -d "$TMPDIR/squad-api-AbCdEf" ]
	# the run's own folder went as its call ended
	[ "$(find "$TMPDIR" -maxdepth 1 -name 'squad-api-*' | wc -l)" -eq 2 ]
}
