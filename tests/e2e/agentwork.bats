#!/usr/bin/env bats
# What an agent did for a task, made visible (issue 18, points 4 and 5):
# its tool calls (a tool event in --json, the finish event, the manifest,
# exec --json) and its usage (tokens, requests: the summary, the JSON
# summary, the manifest, exec --json). The fake ACP agent
# (fake-acp-agent.py) for the edge cases; the real Qwen Code CLI (npm),
# over ACP and one-shot, against the scripted model server on 127.0.0.1
# (tests/qwen/mock-server.js) for the real thing.
bats_require_minimum_version 1.5.0
load helpers
load qwen_helpers

FAKE=$SQUAD_SRC/tests/e2e/fake-acp-agent.py

# squadfile_fake TASKS: the fake agent as worker `fake`
squadfile_fake() {
	cat > Squadfile <<Y
version: 1
workers:
  fake:
    command: [python3, "$FAKE"]
    protocol: acp
    slots: 2
    timeout: 30s
defaults: { worker: fake }
tasks:
$1
Y
}

# squadfile_qwen TASKS: the real qwen, over ACP, at the mock server
squadfile_qwen() {
	cat > Squadfile <<Y
version: 1
workers:
  qwen:
    command: ["$QWEN_BIN", --acp, --auth-type, openai]
    protocol: acp
    env: { OPENAI_BASE_URL: "http://127.0.0.1:$PORT/v1", OPENAI_API_KEY: test, OPENAI_MODEL: mock }
    timeout: 90s
tasks:
$1
Y
}

# events_valid FILE: each line of FILE follows grammar/events.schema.json
events_valid() {
	mkdir -p ev
	split -l1 -d -a3 --additional-suffix=.json "$1" ev/e
	for f in ev/*.json; do
		validate_json "$SQUAD_SRC/grammar/events.schema.json" "$f"
	done
}

# --- the fake agent ---------------------------------------------------------

@test "agentwork: each tool call is a tool event, with squad's decision, and in the task's finish" {
	squadfile_fake '  allowed: { prompt: "tool touch allowed-canary", allow_commands: [touch] }
  denied: { prompt: "tool touch denied-canary" }'
	run --separate-stderr "$SQUAD" -k --json allowed denied
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" > events.ndjson
	events_valid events.ndjson
	[ -e allowed-canary ]
	[ ! -e denied-canary ]
	# the call as it began, and as it ended
	[ "$(jq -r 'select(.event == "tool" and .task == "allowed") | .status' events.ndjson | tail -1)" = completed ]
	[ "$(jq -r 'select(.event == "tool" and .task == "allowed") | .target' events.ndjson | sort -u)" = "touch allowed-canary" ]
	[ "$(jq -r 'select(.event == "tool" and .task == "allowed") | .kind' events.ndjson | sort -u)" = execute ]
	[ "$(jq -r 'select(.event == "tool" and .task == "allowed" and .decision != null) | .decision' events.ndjson | sort -u)" = "allowed: the task allows 'touch'" ]
	[ "$(jq -r 'select(.event == "tool" and .task == "denied") | .status' events.ndjson | tail -1)" = failed ]
	[ "$(jq -r 'select(.event == "tool" and .task == "denied" and .decision != null) | .decision' events.ndjson | sort -u)" = "denied: the task allows no commands (allow_commands)" ]
	# a tool event comes before its task's finish
	first_tool=$(grep -n '"event":"tool","[^}]*"task":"allowed"' events.ndjson | head -1 | cut -d: -f1)
	finish=$(grep -n '"event":"finish","[^}]*"task":"allowed"' events.ndjson | cut -d: -f1)
	[ "$first_tool" -lt "$finish" ]
	# the finish keeps the call in its last state, once
	[ "$(jq -c 'select(.event == "finish" and .task == "denied") | .tools.calls | map(.status)' events.ndjson)" = '["failed"]' ]
	[ "$(jq -r 'select(.event == "finish" and .task == "denied") | .tools.omitted' events.ndjson)" = 0 ]
	# and the log has it too
	grep -q "^squad: tool execute touch allowed-canary: completed (touch allowed-canary)" .squad/logs/allowed.log
}

@test "agentwork: at most 50 tool calls are kept per task, the last ones, and the rest counted" {
	squadfile_fake '  many: { prompt: "tools 60" }'
	run --separate-stderr "$SQUAD" --json many
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" > events.ndjson
	events_valid events.ndjson
	# live, every one of them is an event (began, then completed)
	[ "$(jq -r 'select(.event == "tool") | .id' events.ndjson | sort -u | wc -l)" -eq 60 ]
	[ "$(jq -r 'select(.event == "finish") | .tools.calls | length' events.ndjson)" -eq 50 ]
	[ "$(jq -r 'select(.event == "finish") | .tools.omitted' events.ndjson)" -eq 10 ]
	[ "$(jq -r 'select(.event == "finish") | .tools.calls[0].target' events.ndjson)" = file10.txt ]
	[ "$(jq -r 'select(.event == "finish") | .tools.calls[49].target' events.ndjson)" = file59.txt ]
}

@test "agentwork: usage per worker in the summary and the JSON; what no one reported stays unknown" {
	squadfile_fake '  a: { prompt: "pid" }
  b: { prompt: "tools 2" }
  q: { prompt: "quiet" }
  sh: { run: "echo shell", worker: shell }'
	run --separate-stderr "$SQUAD" --json a b q sh
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" > events.ndjson
	events_valid events.ndjson
	# the fake agent reports 10 in, 5 out, 15 total per message
	[[ $stderr == *"fake: 2 requests, 20 tokens in, 10 out"* ]]
	# the shell used no model: no line for it
	[[ $stderr != *"shell: "*request* ]]
	[ "$(jq -c 'select(.event == "finish" and .task == "a") | .usage' events.ndjson)" = '{"requests":1,"input_tokens":10,"output_tokens":5,"total_tokens":15}' ]
	[ "$(jq -c 'select(.event == "finish" and .task == "q") | .usage' events.ndjson)" = '{"requests":null,"input_tokens":null,"output_tokens":null,"total_tokens":null}' ]
	[ "$(jq -c 'select(.event == "finish" and .task == "sh") | .usage.requests' events.ndjson)" = null ]
	[ "$(jq -c 'select(.event == "summary") | .usage' events.ndjson)" = '{"fake":{"requests":2,"input_tokens":20,"output_tokens":10,"total_tokens":30}}' ]
}

@test "agentwork: an escalated agent task carries its tool calls and usage into the manifest" {
	squadfile_fake '  risky: { prompt: "fail touch canary", escalate: true }'
	run "$SQUAD" risky
	[ "$status" -eq 1 ]
	[ ! -e canary ]
	validate_json "$SQUAD_SRC/grammar/handoff.schema.json" .squad/handoff.json
	[ "$(jq -r '.tasks[0].kind' .squad/handoff.json)" = escalation ]
	[ "$(jq -r '.tasks[0].tools.calls[0].target' .squad/handoff.json)" = "touch canary" ]
	[ "$(jq -r '.tasks[0].tools.calls[0].status' .squad/handoff.json)" = failed ]
	[ "$(jq -r '.tasks[0].tools.calls[0].decision' .squad/handoff.json)" = "denied: the task allows no commands (allow_commands)" ]
	[ "$(jq -r '.tasks[0].tools.omitted' .squad/handoff.json)" = 0 ]
	# it said no usage: unknown, not 0
	[ "$(jq -r '.tasks[0].usage.requests' .squad/handoff.json)" = null ]
}

@test "agentwork: a skill task's manifest entry shows the tool calls of the agent task it needs" {
	squadfile_fake '  gather: { prompt: "tools 3" }
  review: { skills: [code-review], prompt: "review it", needs: [gather] }'
	run "$SQUAD" review
	[ "$status" -eq 3 ]
	validate_json "$SQUAD_SRC/grammar/handoff.schema.json" .squad/handoff.json
	[ "$(jq -r '.tasks[0].needs[0].name' .squad/handoff.json)" = gather ]
	[ "$(jq -r '.tasks[0].needs[0].tools.calls | length' .squad/handoff.json)" -eq 3 ]
	[ "$(jq -r '.tasks[0].needs[0].usage.requests' .squad/handoff.json)" -eq 1 ]
}

@test "agentwork: squad handoff shows a person each entry's tool calls, the last ones, and how many are not shown" {
	squadfile_fake '  risky: { prompt: "fail touch canary", escalate: true }
  gather: { prompt: "tools 60" }
  review: { skills: [code-review], prompt: "review it", needs: [gather] }'
	run "$SQUAD" -k risky review
	[ "$status" -eq 1 ]
	run "$SQUAD" handoff
	[ "$status" -eq 0 ]
	# the escalation's own call: kind, command, status and the refusal
	[[ $output == *"risky (escalation)"*"  tool calls: 1"*"    execute touch canary: failed (denied: the task allows no commands (allow_commands))"* ]]
	# the calls of the agent task a skill task waits on: 60 made, the
	# manifest keeps 50, a person sees the last 8
	[[ $output == *"review (skill)"*"  tool calls of gather: 60"*"    (52 earlier not shown: see --json and the log)"*"    read file52.txt: completed"* ]]
	[[ $output == *"    read file59.txt: completed"* ]]
	[[ $output != *"file51.txt"* ]]
	[ "$(printf '%s\n' "$output" | grep -c '^    read file')" -eq 8 ]
	# --json has what the manifest has, uncut
	[ "$(jq -r '.tasks[] | select(.name == "review") | .needs[0].tools.calls | length' .squad/handoff.json)" -eq 50 ]
}

@test "agentwork: exec --json gives each task's tool calls and usage, and usage per worker" {
	squadfile_fake ''
	run --separate-stderr "$SQUAD" exec --json --prompt "tools 2" --worker shell --run "echo hi" <&-
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" > out.json
	validate_json "$SQUAD_SRC/grammar/exec.schema.json" out.json
	[ "$(jq -r '.tasks[0].tools.calls | length' out.json)" -eq 2 ]
	[ "$(jq -r '.tasks[0].tools.calls[1].target' out.json)" = file1.txt ]
	[ "$(jq -r '.tasks[0].usage.output_tokens' out.json)" -eq 5 ]
	[ "$(jq -r '.tasks[1].usage.requests' out.json)" = null ]
	[ "$(jq -r '.tasks[1].tools.calls | length' out.json)" -eq 0 ]
	[ "$(jq -r '.usage.fake.requests' out.json)" -eq 1 ]
	[[ $stderr == *"fake: 1 request, 10 tokens in, 5 out"* ]]
}

# --- daily_tokens -------------------------------------------------------------

@test "agentwork: daily_tokens counts what calls used, across runs; once spent, the agent is not asked" {
	export XDG_STATE_HOME=$PWD/state FAKE_ACP_LOG=$PWD/starts
	squadfile_fake '  a: { prompt: "pid" }
  b: { prompt: "pid" }
  c: { prompt: "pid", escalate: true }'
	sed -i 's/^    timeout: 30s$/    timeout: 30s\n    daily_tokens: 20/' Squadfile
	# each answer of the fake agent reports 15 tokens
	run "$SQUAD" a
	[ "$status" -eq 0 ]
	[ "$(jq -r '.fake.tokens' state/squad/budget.json)" -eq 15 ]
	# 15 of 20: still under, so b starts, and passes the limit
	run "$SQUAD" b
	[ "$status" -eq 0 ]
	[ "$(jq -r '.fake.tokens' state/squad/budget.json)" -eq 30 ]
	starts=$(wc -l < starts)
	run "$SQUAD" c
	# escalated, and still a failure: the budget row of the failure model
	[ "$status" -eq 1 ]
	[[ $output == *"budget exhausted: worker 'fake' has used 30 of its daily_tokens of 20 tokens today"* ]]
	[[ $output == *"the count is kept in '$PWD/state/squad/budget.json'"* ]]
	[ "$(wc -l < starts)" -eq "$starts" ]
	[ "$(jq -r '.tasks[0].kind' .squad/handoff.json)" = escalation ]
	[[ $(jq -r '.tasks[0].failure.reason' .squad/handoff.json) == "budget exhausted: worker 'fake' has used 30 of its daily_tokens"* ]]
	# the requests are a budget of their own, untouched
	[ "$(jq -r '.fake.requests' state/squad/budget.json)" = 0 ]
}

@test "agentwork: an injected spent token budget fails the task at once, also in --json and exec" {
	export XDG_STATE_HOME=$PWD/state FAKE_ACP_LOG=$PWD/starts
	mkdir -p state/squad
	printf '{"fake": {"day": "%s", "requests": 0, "tokens": 1e300, "recent": []}}\n' "$(date +%F)" \
		> state/squad/budget.json
	squadfile_fake '  a: { prompt: "pid" }'
	sed -i 's/^    timeout: 30s$/    timeout: 30s\n    daily_tokens: 1000000/' Squadfile
	run --separate-stderr "$SQUAD" --json a
	[ "$status" -eq 1 ]
	[ ! -e starts ]
	[ "$(printf '%s\n' "$output" | jq -r 'select(.event == "finish") | .status')" = failed ]
	[[ $(printf '%s\n' "$output" | jq -r 'select(.event == "finish") | .reason') == "budget exhausted: worker 'fake' has used 9223372036854775807 of its daily_tokens of 1000000 tokens today"* ]]
	run --separate-stderr "$SQUAD" exec --json --worker fake --prompt pid <&-
	[ "$status" -eq 1 ]
	[[ $(jq -r '.tasks[0].reason' <<<"$output") == "budget exhausted: worker 'fake'"* ]]
	[ ! -e starts ]
}

@test "agentwork: -n and explain show each budget with today's use, and say when one is spent" {
	export XDG_STATE_HOME=$PWD/state
	squadfile_fake '  a: { prompt: "pid" }
  sh: { run: "true", worker: shell }'
	run "$SQUAD" -n a sh
	[ "$status" -eq 0 ]
	# no budget: no line
	[[ $output != *"budget:"* ]]
	sed -i 's/^    timeout: 30s$/    timeout: 30s\n    daily_limit: 100\n    per_minute: 10\n    daily_tokens: 5000/' Squadfile
	mkdir -p state/squad
	printf '{"fake": {"day": "%s", "requests": 12, "tokens": 340, "recent": []}}\n' "$(date +%F)" \
		> state/squad/budget.json
	run "$SQUAD" -n a sh
	[ "$status" -eq 0 ]
	[[ $output == *"budget: fake: 12 of its daily_limit of 100 requests and 340 of its daily_tokens of 5000 tokens used today, at most 10 requests a minute (per_minute); it resets at midnight, local time (in "* ]]
	[[ $output != *"spent"* ]]
	# the shell worker has none
	[[ $output != *"budget: shell"* ]]
	run "$SQUAD" explain a
	[ "$status" -eq 0 ]
	[[ $output == *"  budget: worker fake has 12 of its daily_limit of 100 requests and 340 of its daily_tokens of 5000 tokens used today"* ]]
	# the tokens spent: said, as the run would fail it
	printf '{"fake": {"day": "%s", "requests": 12, "tokens": 5000, "recent": []}}\n' "$(date +%F)" \
		> state/squad/budget.json
	run "$SQUAD" -n a
	[[ $output == *"5000 of its daily_tokens of 5000 tokens used today"*"; spent: its tasks fail as 'budget exhausted' until then"* ]]
	run "$SQUAD" explain a
	[[ $output == *"spent: its tasks fail as 'budget exhausted' until then"* ]]
	# yesterday's counts are not today's
	printf '{"fake": {"day": "2001-01-01", "requests": 99, "tokens": 5000, "recent": []}}\n' \
		> state/squad/budget.json
	run "$SQUAD" -n a
	[[ $output == *"budget: fake: 0 of its daily_limit of 100 requests and 0 of its daily_tokens of 5000 tokens used today"* ]]
	# a file that cannot be read: the limits, and why today's use is unknown
	echo garbage > state/squad/budget.json
	run "$SQUAD" -n a
	[ "$status" -eq 0 ]
	[[ $output == *"budget: fake: its daily_limit of 100 requests and its daily_tokens of 5000 tokens, at most 10 requests a minute (per_minute); today's use unknown: '$PWD/state/squad/budget.json' is not a budget file"* ]]
}

@test "agentwork: daily_tokens out of range is FILE:LINE:COL" {
	squadfile_fake '  a: { prompt: "pid" }'
	sed -i 's/^    timeout: 30s$/    timeout: 30s\n    daily_tokens: lots/' Squadfile
	run "$SQUAD" -n
	[ "$status" -eq 2 ]
	[[ $output == *"Squadfile:8:19: error: workers.fake.daily_tokens must be a whole number from 0 to 1000000000000, not 'lots'"* ]]
}

# --- the real Qwen Code CLI -------------------------------------------------

@test "qwen acp: a real tool call is a tool event and in the manifest; usage in the summary" {
	script '{"rules": [{"match": "marker", "tool_call": "touch agent-was-here.txt", "then": "Created the marker."}]}'
	squadfile_qwen '  act: { prompt: "create the marker file", allow_commands: [touch] }
  review: { skills: [code-review], prompt: "check what act did", needs: [act] }'
	run --separate-stderr "$SQUAD" --json review
	[ "$status" -eq 3 ]
	printf '%s\n' "$output" > events.ndjson
	events_valid events.ndjson
	[ -e agent-was-here.txt ]
	# qwen's own tool call, as qwen reported it, with squad's decision
	[ "$(jq -r 'select(.event == "tool" and .task == "act") | .kind' events.ndjson | sort -u)" = execute ]
	jq -r 'select(.event == "tool" and .task == "act") | .target' events.ndjson | grep -qx "touch agent-was-here.txt"
	jq -r 'select(.event == "tool" and .task == "act") | .decision' events.ndjson | grep -q "^allowed: the task allows 'touch'"
	[ "$(jq -r 'select(.event == "finish" and .task == "act") | .tools.calls[-1].status' events.ndjson)" = completed ]
	# the manifest shows the tactician what act did before its answer
	validate_json "$SQUAD_SRC/grammar/handoff.schema.json" .squad/handoff.json
	[ "$(jq -r '.tasks[0].needs[0].tools.calls[-1].target' .squad/handoff.json)" = "touch agent-was-here.txt" ]
	[ "$(jq -r '.tasks[0].needs[0].usage.requests' .squad/handoff.json)" -ge 1 ]
	# usage: as the model server counted it, in the JSON and the summary
	[ "$(jq -r 'select(.event == "summary") | .usage.qwen.requests' events.ndjson)" -ge 1 ]
	[ "$(jq -r 'select(.event == "summary") | .usage.qwen.input_tokens' events.ndjson)" -gt 0 ]
	[[ $stderr =~ qwen:\ [0-9]+\ requests?,\ [0-9.]+k?\ tokens\ in,\ [0-9.]+k?\ out ]]
}

@test "qwen one-shot: the requests and tokens of its -o json reach the summary, the JSON and exec" {
	script '{"rules": [{"match": "How many", "reply": "There are 42 uses."}]}'
	cat > Squadfile <<Y
version: 1
workers:
  # the built-in one-shot preset (its output read as qwen's JSON), its
  # program the real CLI pointed at the mock server
  qwen-oneshot:
    command: ["$QWEN_BIN", --approval-mode, yolo, --auth-type, openai, -o, json, "{prompt}"]
    env: { OPENAI_BASE_URL: "http://127.0.0.1:$PORT/v1", OPENAI_API_KEY: test, OPENAI_MODEL: mock }
    timeout: 90s
tasks:
  count: { prompt: "How many uses are there?", worker: qwen-oneshot }
Y
	run --separate-stderr "$SQUAD" --json count
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" > events.ndjson
	events_valid events.ndjson
	# qwen's stats count its requests (the turn and its memory extractor)
	[ "$(jq -r 'select(.event == "finish") | .usage.requests' events.ndjson)" -eq "$(stat_of requests)" ]
	[ "$(jq -r 'select(.event == "finish") | .usage.input_tokens' events.ndjson)" -gt 0 ]
	[ "$(jq -r 'select(.event == "finish") | .usage.output_tokens' events.ndjson)" -gt 0 ]
	[[ $stderr =~ qwen-oneshot:\ [0-9]+\ requests?,\ [0-9.]+k?\ tokens\ in,\ [0-9.]+k?\ out ]]
	run --separate-stderr "$SQUAD" exec --json --worker qwen-oneshot --prompt "How many now?" <&-
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" > out.json
	validate_json "$SQUAD_SRC/grammar/exec.schema.json" out.json
	[ "$(jq -r '.tasks[0].usage.output_tokens' out.json)" -gt 0 ]
	[ "$(jq -r '.usage["qwen-oneshot"].requests' out.json)" -ge 1 ]
}

@test "qwen one-shot: the tool calls in its -o json reach the log, tool events, the manifest and exec" {
	script '{"rules": [{"match": "marker", "tool_call": "touch agent-was-here.txt", "then": "Created the marker."},
	  {"match": "canary", "tool_call": "touch canary.txt", "then": "Could not."}]}'
	cat > Squadfile <<Y
version: 1
workers:
  # the one-shot preset: yolo runs the command; its default approval mode
  # (headless: nothing may ask) refuses it
  qwen-oneshot:
    command: ["$QWEN_BIN", --approval-mode, yolo, --auth-type, openai, -o, json, "{prompt}"]
    env: { OPENAI_BASE_URL: "http://127.0.0.1:$PORT/v1", OPENAI_API_KEY: test, OPENAI_MODEL: mock }
    timeout: 90s
  careful:
    command: ["$QWEN_BIN", --approval-mode, default, --auth-type, openai, -o, json, "{prompt}"]
    output: qwen-json
    env: { OPENAI_BASE_URL: "http://127.0.0.1:$PORT/v1", OPENAI_API_KEY: test, OPENAI_MODEL: mock }
    timeout: 90s
tasks:
  act: { prompt: "create the marker file", worker: qwen-oneshot }
  refused: { prompt: "create the canary file", worker: careful }
  review: { skills: [code-review], prompt: "check what they did", needs: [act, refused] }
Y
	run --separate-stderr "$SQUAD" --json review
	[ "$status" -eq 3 ]
	printf '%s
' "$output" > events.ndjson
	events_valid events.ndjson
	[ -e agent-was-here.txt ]
	[ ! -e canary.txt ]
	# the call qwen made, as the ACP path reports one
	[ "$(jq -r 'select(.event == "tool" and .task == "act") | .kind' events.ndjson)" = execute ]
	[ "$(jq -r 'select(.event == "tool" and .task == "act") | .target' events.ndjson)" = "touch agent-was-here.txt" ]
	[ "$(jq -r 'select(.event == "tool" and .task == "act") | .title' events.ndjson)" = "touch agent-was-here.txt (scripted command)" ]
	[ "$(jq -r 'select(.event == "tool" and .task == "act") | .status' events.ndjson)" = completed ]
	[ "$(jq -r 'select(.event == "finish" and .task == "act") | .tools.calls[0].target' events.ndjson)" = "touch agent-was-here.txt" ]
	grep -q "tool execute touch agent-was-here.txt (scripted command): completed (touch agent-was-here.txt)" .squad/logs/act.log
	# the one qwen's approval mode refused: failed, with the refusal
	[ "$(jq -r 'select(.event == "tool" and .task == "refused") | .status' events.ndjson)" = failed ]
	[ "$(jq -r 'select(.event == "tool" and .task == "refused") | .decision' events.ndjson)" = "denied: qwen's approval mode refused it" ]
	grep -q "denied execute 'touch canary.txt': qwen's approval mode refused it" .squad/logs/refused.log
	# the manifest shows the tactician both
	validate_json "$SQUAD_SRC/grammar/handoff.schema.json" .squad/handoff.json
	[ "$(jq -r '.tasks[0].needs[] | select(.name == "act") | .tools.calls[0].status' .squad/handoff.json)" = completed ]
	[ "$(jq -r '.tasks[0].needs[] | select(.name == "refused") | .tools.calls[0].target' .squad/handoff.json)" = "touch canary.txt" ]
	rm agent-was-here.txt
	run --separate-stderr "$SQUAD" exec --json --worker qwen-oneshot --prompt "create the marker file again" <&-
	[ "$status" -eq 0 ]
	printf '%s
' "$output" > out.json
	validate_json "$SQUAD_SRC/grammar/exec.schema.json" out.json
	[ -e agent-was-here.txt ]
	[ "$(jq -r '.tasks[0].tools.calls[0].kind' out.json)" = execute ]
	[ "$(jq -r '.tasks[0].tools.calls[0].status' out.json)" = completed ]
}

@test "qwen acp: daily_tokens counts the tokens qwen reported; once spent, qwen is not asked" {
	script '{"rules": [{"match": "hello", "reply": "hi"}]}'
	squadfile_qwen '  first: { prompt: "hello one" }
  second: { prompt: "hello two", escalate: true }'
	sed -i 's/^    timeout: 90s$/    timeout: 90s\n    daily_tokens: 1/' Squadfile
	run "$SQUAD" first
	[ "$status" -eq 0 ]
	spent=$(jq -r '.qwen.tokens' "$XDG_STATE_HOME/squad/budget.json")
	[ "$spent" -gt 1 ]
	used=$(stat_of chat_requests)
	run "$SQUAD" second
	[ "$status" -eq 1 ]
	[[ $output == *"budget exhausted: worker 'qwen' has used $spent of its daily_tokens of 1 tokens today"* ]]
	[ "$(stat_of chat_requests)" -eq "$used" ]
	[ "$(jq -r '.tasks[0].kind' .squad/handoff.json)" = escalation ]
}
