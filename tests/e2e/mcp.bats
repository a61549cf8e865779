#!/usr/bin/env bats
# squad mcp: the Model Context Protocol server, driven by the official
# TypeScript SDK client (npm @modelcontextprotocol/sdk, installed into the
# build tree by tests/mcp/install.sh) through tests/mcp/client.js, and by
# raw JSON-RPC lines for what no SDK would send.
load helpers
bats_require_minimum_version 1.5.0

SDK_DIR=${SQUAD_BUILD:-$SQUAD_SRC/build}/test-tools/mcp-sdk
CLIENT=$SQUAD_SRC/tests/mcp/client.js

setup_file() {
	NODE_PATH=$("$SQUAD_SRC/tests/mcp/install.sh" sdk "$SDK_DIR" | tail -1)
	export NODE_PATH
}

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	export SQUAD_CACHE=off XDG_CACHE_HOME=$BATS_TEST_TMPDIR/.xdg-cache # see helpers.bash
	export NO_COLOR=1 SQUAD
	[ -d "$NODE_PATH/@modelcontextprotocol/sdk" ] ||
		{ echo "the MCP SDK could not be installed from npm" >&2; return 1; }
	squadfile <<-'EOF'
	version: 1
	tasks:
	  lint:   { run: echo lint clean, desc: "the linter" }
	  unit:   { run: "echo 3 passed", needs: [lint], expect: 'passed' }
	  review: { skills: [code-review], needs: [unit], prompt: "review the diff" }
	  test:   { needs: [review], desc: "everything before a merge" }
	  slow:   { run: "echo $$ > slow.pid; exec sleep 300", needs: [lint] }
	default: [unit]
	EOF
}

teardown() {
	end_leftovers
}

# client SCENARIO ARG...: the SDK client's JSON document in $output
client() {
	run --separate-stderr timeout 120 node "$CLIENT" "$@"
}

# raw LINE...: send these lines to 'squad mcp' and close its stdin; its
# answers (one per line) in $output
raw() {
	run --separate-stderr timeout 60 "$SQUAD" mcp < <(printf '%s\n' "$@")
}

# raw_call LINE: send LINE (a request with id 1) to a 'squad mcp' that
# stays open until its answer to id 1 came; everything it said before
# and with that answer in $output
raw_call() {
	local line answers="" pid

	coproc MCP { exec "$SQUAD" mcp; }
	pid=$MCP_PID # (bash unsets MCP_PID once the server has ended)
	printf '%s\n' "$1" >&"${MCP[1]}"
	while IFS= read -r -t 60 line <&"${MCP[0]}"; do
		answers+="$line"$'\n'
		[ "$(jq -r '.id // empty' <<< "$line")" = 1 ] && break
	done
	exec {MCP[1]}>&-
	wait "$pid"
	output=${answers%$'\n'}
}

init_line() {
	printf '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"%s","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}' "$1"
}

@test "mcp: initialize and tools/list through the SDK: every tool with a schema" {
	client session
	[ "$status" -eq 0 ]
	[ "$(jq -r .protocolVersion <<< "$output")" = 2025-11-25 ]
	[ "$(jq -r .server.name <<< "$output")" = squad ]
	[ "$(jq -r .capabilities.tools.listChanged <<< "$output")" = false ]
	[[ $(jq -r .instructions <<< "$output") == *"handoff"* ]]
	[ "$(jq -r '[.tools[].name] | join(" ")' <<< "$output")" = "list graph explain run exec handoff done status" ]
	# every input schema is an object schema Ajv compiles
	[ "$(jq -r '[.tools[] | select(.type != "object")] | length' <<< "$output")" = 0 ]
	[ "$(jq -r '.tools[] | select(.name == "exec") | .required | join(",")' <<< "$output")" = tasks ]
	[ "$(jq -r '.tools[] | select(.name == "done") | .acceptsEmpty' <<< "$output")" = false ]
	[ "$(jq -r '.tools[] | select(.name == "run") | .acceptsEmpty' <<< "$output")" = true ]
	[ "$(jq -r '.tools[] | select(.name == "handoff") | .readOnly' <<< "$output")" = true ]
	[ "$(jq -r '.tools[] | select(.name == "run") | .readOnly' <<< "$output")" = false ]
}

@test "mcp: the protocol version is the client's when squad knows it, else squad's newest" {
	raw "$(init_line 2024-11-05)"
	[ "$status" -eq 0 ]
	[ "$(jq -r .result.protocolVersion <<< "$output")" = 2024-11-05 ]
	raw "$(init_line 2025-06-18)"
	[ "$(jq -r .result.protocolVersion <<< "$output")" = 2025-06-18 ]
	raw "$(init_line 1999-01-01)"
	[ "$(jq -r .result.protocolVersion <<< "$output")" = 2025-11-25 ]
}

@test "mcp: malformed requests get JSON-RPC errors and the server keeps serving" {
	raw "$(init_line 2025-11-25)" \
		'this is not json' \
		'{"jsonrpc":"2.0","id":"x","method":42}' \
		'[{"jsonrpc":"2.0","id":1,"method":"ping"}]' \
		'{"jsonrpc":"2.0","id":2,"method":"resources/list"}' \
		'{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"nosuch"}}' \
		'{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"explain","arguments":[]}}' \
		'{"jsonrpc":"2.0","id":5,"method":"ping"}'
	[ "$status" -eq 0 ]
	[ "$(wc -l <<< "$output")" -eq 8 ]
	[ "$(sed -n 2p <<< "$output" | jq -c '[.id, .error.code]')" = '[null,-32700]' ]
	[ "$(sed -n 3p <<< "$output" | jq -c '[.id, .error.code]')" = '["x",-32600]' ]
	[ "$(sed -n 4p <<< "$output" | jq -c '[.id, .error.code]')" = '[null,-32600]' ]
	[ "$(sed -n 5p <<< "$output" | jq -c '[.id, .error.code]')" = '[2,-32601]' ]
	[ "$(sed -n 6p <<< "$output" | jq -c '[.id, .error.code]')" = '[3,-32602]' ]
	[[ $(sed -n 6p <<< "$output" | jq -r .error.message) == *"unknown tool 'nosuch'"* ]]
	# a wrong argument is the tool's error, for the model to correct
	[ "$(sed -n 7p <<< "$output" | jq -c '[.id, .result.isError]')" = '[4,true]' ]
	[ "$(sed -n 8p <<< "$output" | jq -c '[.id, .result]')" = '[5,{}]' ]
}

@test "mcp: list, graph and explain" {
	client call list '{}'
	[ "$status" -eq 0 ]
	[ "$(jq -r '[.result.structuredContent.tasks[].name] | join(" ")' <<< "$output")" = "lint unit review test slow" ]
	[ "$(jq -r '.result.structuredContent.tasks[] | select(.name == "review") | .kind' <<< "$output")" = hand-off ]
	[ "$(jq -r '.result.isError // false' <<< "$output")" = false ]
	# the text content is the same JSON, for clients that read only text
	[ "$(jq -r '.result.content[0].text | fromjson | .tasks | length' <<< "$output")" = 5 ]
	client call graph '{"targets": ["unit"]}'
	[ "$status" -eq 0 ]
	[[ $(jq -r .result.structuredContent.output <<< "$output") == "flowchart LR"*'"lint"'* ]]
	client call graph '{"format": "dot"}'
	[[ $(jq -r .result.structuredContent.output <<< "$output") == *"digraph"* ]]
	client call explain '{"task": "test"}'
	[ "$status" -eq 0 ]
	[[ $(jq -r .result.structuredContent.output <<< "$output") == *"needs: review (waits for the tactician)"* ]]
}

@test "mcp: a tool error: an unknown task is isError with squad's message" {
	client call explain '{"task": "nosuch"}'
	[ "$status" -eq 0 ]
	[ "$(jq -r .result.isError <<< "$output")" = true ]
	[ "$(jq -r .result.structuredContent.exit_code <<< "$output")" = 2 ]
	[[ $(jq -r .result.structuredContent.error <<< "$output") == *"unknown target 'nosuch'"* ]]
	client call run '{"targets": ["-B"]}'
	[ "$(jq -r .result.isError <<< "$output")" = true ]
	[[ $(jq -r .result.structuredContent.error <<< "$output") == *"starts with '-'"* ]]
	client call run '{"targets": ["nosuch"]}'
	[ "$(jq -r .result.isError <<< "$output")" = true ]
	[[ $(jq -r .result.structuredContent.error <<< "$output") == *"nosuch"* ]]
}

@test "mcp: run reports progress per task and ends with the hand-off" {
	client call run '{"targets": ["test"]}'
	[ "$status" -eq 0 ]
	[ "$(jq -r .result.structuredContent.exit_code <<< "$output")" = 3 ]
	[ "$(jq -r .result.structuredContent.handoff_entries <<< "$output")" = 1 ]
	[ "$(jq -r .result.structuredContent.manifest <<< "$output")" = "$PWD/.squad/handoff.json" ]
	[ "$(jq -r '.result.structuredContent.counts.ok' <<< "$output")" = 2 ]
	# what needs the tactician comes first
	[ "$(jq -r '.result.structuredContent.tasks[0].task' <<< "$output")" = review ]
	[ "$(jq -r '.result.structuredContent.tasks[] | select(.task == "unit") | .log' <<< "$output")" = "$PWD/.squad/logs/unit.log" ]
	[ "$(jq -c '[.progress[].progress]' <<< "$output")" = '[1,2,3,4]' ]
	[ "$(jq -c '[.progress[].total] | unique' <<< "$output")" = '[4]' ]
	[ "$(jq -r '.progress[0].message' <<< "$output")" = "ok lint" ]
	[[ $(jq -r .result.structuredContent.next <<< "$output") == *"handoff"* ]]
	# no target: the Squadfile's default
	client call run '{}'
	[ "$(jq -r '.result.structuredContent.targets | join(",")' <<< "$output")" = unit ]
	[ "$(jq -r .result.structuredContent.exit_code <<< "$output")" = 0 ]
	# dry_run: the plan, nothing run
	client call run '{"targets": ["test"], "dry_run": true, "force": true}'
	[ "$(jq -r '[.result.structuredContent.plan[].task] | join(" ")' <<< "$output")" = "lint unit review test" ]
}

@test "mcp: handoff, done and the resumed run" {
	client call handoff '{}'
	[ "$(jq -r '.result.structuredContent.tasks | length' <<< "$output")" = 0 ]
	client call run '{"targets": ["test"]}'
	[ "$(jq -r .result.structuredContent.exit_code <<< "$output")" = 3 ]
	client call handoff '{}'
	[ "$status" -eq 0 ]
	[ "$(jq -r '.result.structuredContent.tasks[0].name' <<< "$output")" = review ]
	[ "$(jq -r '.result.structuredContent.tasks[0].prompt' <<< "$output")" = "review the diff" ]
	[ "$(jq -r '.result.structuredContent.tasks[0].needs[0].summary' <<< "$output")" = passed ]
	[ "$(jq -r '.result.structuredContent.tasks[0].blocks | join(",")' <<< "$output")" = test ]
	client call done '{"task": "review", "note": "two nits, fixed"}'
	[ "$status" -eq 0 ]
	[ "$(jq -r .result.structuredContent.exit_code <<< "$output")" = 0 ]
	[[ $(jq -r .result.structuredContent.output <<< "$output") == *"recorded review as done"* ]]
	client call run '{"targets": ["test"]}'
	[ "$(jq -r .result.structuredContent.exit_code <<< "$output")" = 0 ]
	[ "$(jq -r '.result.structuredContent.tasks[] | select(.task == "review") | .status' <<< "$output")" = done ]
	[ "$(jq -r '.result.structuredContent.counts["up to date"] + .result.structuredContent.counts.ok' <<< "$output")" = 3 ]
	client call done '{"task": "review", "undo": true, "note": "x"}'
	[ "$(jq -r .result.isError <<< "$output")" = true ]
	client call done '{"task": "nosuch"}'
	[ "$(jq -r .result.isError <<< "$output")" = true ]
	[[ $(jq -r .result.structuredContent.error <<< "$output") == *"no task 'nosuch'"* ]]
}

@test "mcp: exec dispatches ad-hoc tasks, with progress; a task list error is the tool's" {
	client call exec '{"tasks": [{"name": "a", "run": "echo alpha"}, {"name": "b", "run": "echo beta; exit 4", "needs": ["a"]}, {"name": "s", "skills": ["triage"], "prompt": "look"}]}'
	[ "$status" -eq 0 ]
	[ "$(jq -r .result.structuredContent.exit_code <<< "$output")" = 1 ]
	[ "$(jq -r '.result.structuredContent.tasks[] | select(.name == "a") | .summary' <<< "$output")" = alpha ]
	[ "$(jq -r '.result.structuredContent.tasks[] | select(.name == "b") | .exit_code' <<< "$output")" = 4 ]
	[ "$(jq -r '.result.structuredContent.handoff[0].name' <<< "$output")" = s ]
	log=$(jq -r '.result.structuredContent.tasks[] | select(.name == "a") | .log' <<< "$output")
	[ "$(cat "$log")" = alpha ]
	# (the SDK may drop the last one: it handles a notification after the
	# response that came in the same read; the raw test sees them all)
	[ "$(jq -r '.progress[0].progress' <<< "$output")" = 1 ]
	[ "$(jq -r '.progress[0].total' <<< "$output")" = 3 ]
	# the main run's state was not touched
	[ ! -e .squad/state ]
	client call exec '{"tasks": [{"name": "t", "runn": "true"}]}'
	[ "$(jq -r .result.isError <<< "$output")" = true ]
	[[ $(jq -r .result.structuredContent.error <<< "$output") == *"<stdin>:2:"*"unknown key 'runn'"*"did you mean 'run'?"* ]]
	client call exec '{"tasks": []}'
	[ "$(jq -r .result.isError <<< "$output")" = true ]
}

@test "mcp: exec's progress: one notification per task, in order, before the result" {
	raw_call '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"exec","arguments":{"tasks":[{"name":"a","run":"echo alpha"},{"name":"b","run":"exit 4","needs":["a"]}]},"_meta":{"progressToken":"tok"}}}'
	[ "$(wc -l <<< "$output")" -eq 3 ]
	[ "$(sed -n 1p <<< "$output" | jq -c '.params | [.progressToken, .progress, .total]')" = '["tok",1,2]' ]
	[[ $(sed -n 1p <<< "$output" | jq -r .params.message) == "ok a ("* ]]
	[ "$(sed -n 2p <<< "$output" | jq -c '.params | [.progress, .total]')" = '[2,2]' ]
	[[ $(sed -n 2p <<< "$output" | jq -r .params.message) == "FAILED b"*"exit 4"* ]]
	[ "$(sed -n 3p <<< "$output" | jq -r .result.structuredContent.exit_code)" = 1 ]
}

@test "mcp: two calls at once run at the same time" {
	a=$(jq -cn --arg r "touch a; for i in \$(seq 400); do [ -e b ] && exit 0; sleep 0.05; done; exit 1" '{tasks: [{name: "one", run: $r}]}')
	b=$(jq -cn --arg r "touch b; for i in \$(seq 400); do [ -e a ] && exit 0; sleep 0.05; done; exit 1" '{tasks: [{name: "two", run: $r}]}')
	client parallel "$a" "$b"
	[ "$status" -eq 0 ]
	[ "$(jq -r .first.structuredContent.tasks[0].status <<< "$output")" = ok ]
	[ "$(jq -r .second.structuredContent.tasks[0].status <<< "$output")" = ok ]
}

@test "mcp: a big result is bounded; the tasks that need attention stay" {
	jq -n '{tasks: ([range(700) | {name: "t\(.)", run: "true"}] + [{name: "bad", run: "exit 9"}]), keep_going: true}' > args.json
	client call exec "$(cat args.json)"
	[ "$status" -eq 0 ]
	[ "$(jq -r '.result.content[0].text | length' <<< "$output")" -le 98304 ]
	[ "$(jq -r .result.structuredContent.tasks_omitted <<< "$output")" -gt 0 ]
	[ "$(jq -r '.result.structuredContent.tasks[] | select(.name == "bad") | .exit_code' <<< "$output")" = 9 ]
	[ "$(jq -r .result.structuredContent.exit_code <<< "$output")" = 1 ]
}

@test "mcp: a cancelled run stops its tasks; the server goes on" {
	client cancel '{"targets": ["slow"]}' slow.pid
	[ "$status" -eq 0 ]
	[[ $(jq -r .error <<< "$output") == *"cancel"* ]]
	[ "$(jq -r '.progress[0].message' <<< "$output")" = "ok lint" ]
	[ "$(jq -r '.status.calls | length' <<< "$output")" = 0 ]
	[ "$(jq -r .tasks[0] <<< "$output")" = lint ]
	pid=$(cat slow.pid)
	for _ in $(seq 200); do alive "$pid" || break; sleep 0.05; done
	run alive "$pid"
	[ "$status" -eq 1 ]
	# squad stopped as after Ctrl-C: the lock is free, the task interrupted
	run "$SQUAD" --no-wait run lint
	[ "$status" -eq 0 ]
}

@test "mcp: a client that disappears leaves no server and no task behind" {
	client vanish '{"targets": ["slow"]}' slow.pid
	[ "$status" -eq 0 ]
	server=$(jq -r .server_pid <<< "$output")
	echo "$server" > server.pid
	pid=$(cat slow.pid)
	for _ in $(seq 400); do alive "$pid" || alive "$server" || break; sleep 0.05; done
	run alive "$pid"
	[ "$status" -eq 1 ]
	run alive "$server"
	[ "$status" -eq 1 ]
}

@test "mcp: a line over 4 MiB is an error without an id; the server reads on" {
	raw "$(printf '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"%s"}}' "$(head -c 5000000 /dev/zero | tr '\0' a)")" \
		'{"jsonrpc":"2.0","id":2,"method":"ping"}'
	[ "$status" -eq 0 ]
	[ "$(wc -l <<< "$output")" -eq 2 ]
	[ "$(sed -n 1p <<< "$output" | jq -c '[.id, .error.code, .error.message]')" = '[null,-32600,"message too long"]' ]
	[ "$(sed -n 2p <<< "$output" | jq -c '[.id, .result]')" = '[2,{}]' ]
}

@test "mcp: a failed task is a result, not a tool error; a squad killed mid-call is one" {
	raw_call '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"exec","arguments":{"tasks":[{"name":"bad","run":"echo oops; exit 5"}]}}}'
	[ "$(jq -r '.result.isError // false' <<< "$output")" = false ]
	[ "$(jq -r .result.structuredContent.exit_code <<< "$output")" = 1 ]
	[ "$(jq -r '.result.structuredContent.tasks[0] | [.status, .exit_code, .summary] | join(" ")' <<< "$output")" = "failed 5 oops" ]
	[ "$(cat "$(jq -r '.result.structuredContent.tasks[0].log' <<< "$output")")" = oops ]
	# the squad child itself dies (its task kills it): squad could not say
	raw_call '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"exec","arguments":{"tasks":[{"name":"k","run":"kill -9 $PPID"}]}}}'
	[ "$(jq -r .result.isError <<< "$output")" = true ]
	[ "$(jq -r .result.structuredContent.error <<< "$output")" = "squad was killed by signal 9" ]
}

@test "mcp: a long answer is cut in the result, saying so; the log has it whole" {
	cat >> Squadfile <<-'EOF'
	workers:
	  long: { command: [sh, -c, 'head -c 10000 /dev/zero | tr "\0" y', "{prompt}"], output: text }
	EOF
	raw_call '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"exec","arguments":{"tasks":[{"name":"k","worker":"long","prompt":"say a lot"}]}}}'
	[ "$(jq -r .result.structuredContent.tasks[0].status <<< "$output")" = ok ]
	answer=$(jq -r .result.structuredContent.tasks[0].answer <<< "$output")
	[ "${#answer}" -lt 4100 ]
	[[ $answer == *"[... cut by squad mcp: 10000 bytes in all; the log has the rest]" ]]
	[ "$(tr -cd y < "$(jq -r .result.structuredContent.tasks[0].log <<< "$output")" | wc -c)" -eq 10000 ]
}

@test "mcp: SIGTERM to the server stops its calls' tasks, and it exits" {
	coproc MCP { exec "$SQUAD" mcp; }
	server=$MCP_PID # (bash unsets MCP_PID when it ends)
	echo "$server" > server.pid
	printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"run","arguments":{"targets":["slow"]}}}' >&"${MCP[1]}"
	wait_for slow.pid 60
	pid=$(cat slow.pid)
	kill -TERM "$server"
	# (its stdin is still open: it must not wait for the client to close it)
	for _ in $(seq 400); do alive "$server" || break; sleep 0.05; done
	run alive "$server"
	[ "$status" -eq 1 ]
	rc=0
	wait "$server" || rc=$?
	[ "$rc" -eq 0 ]
	for _ in $(seq 400); do alive "$pid" || break; sleep 0.05; done
	run alive "$pid"
	[ "$status" -eq 1 ]
	# the run was stopped as after Ctrl-C: the lock is free
	run "$SQUAD" --no-wait run lint
	[ "$status" -eq 0 ]
}

@test "mcp: a broken Squadfile is the tool's error, with squad's FILE:LINE:COL" {
	printf 'version: 1\ntasks:\n  lint: { runn: true }\n' > Squadfile
	raw_call '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"run","arguments":{"targets":["lint"]}}}'
	[ "$(jq -r .result.isError <<< "$output")" = true ]
	[[ $(jq -r .result.structuredContent.error <<< "$output") == *"Squadfile:3:"*"unknown key 'runn'"* ]]
	[ "$(jq -r .result.structuredContent.exit_code <<< "$output")" = 2 ]
}
