#!/usr/bin/env bats
# The real Claude Code CLI (npm @anthropic-ai/claude-code, installed into
# the build tree by tests/mcp/install.sh) in the loop: run headless
# against a scripted Anthropic Messages server on 127.0.0.1
# (tests/mcp/anthropic-server.js), whose replies make it call squad's MCP
# tools, configured from the recipe recipes/claude/mcp.json.
load helpers
bats_require_minimum_version 1.5.0

CLAUDE_DIR=${SQUAD_BUILD:-$SQUAD_SRC/build}/test-tools/claude-code

setup_file() {
	CLAUDE_BIN=$("$SQUAD_SRC/tests/mcp/install.sh" claude "$CLAUDE_DIR" | tail -1)
	export CLAUDE_BIN
}

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	export NO_COLOR=1
	[ -x "$CLAUDE_BIN" ] || { echo "Claude Code could not be installed from npm" >&2; return 1; }
	export HOME=$BATS_TEST_TMPDIR/home
	mkdir -p "$HOME"
	unset ANTHROPIC_AUTH_TOKEN CLAUDE_CODE_USE_BEDROCK CLAUDE_CODE_USE_VERTEX \
		HTTP_PROXY HTTPS_PROXY http_proxy https_proxy
	export NO_PROXY=127.0.0.1,localhost
	squadfile <<-'EOF2'
	version: 1
	tasks:
	  lint:   { run: echo lint clean }
	  review: { skills: [code-review], needs: [lint], prompt: "review the diff" }
	  test:   { needs: [review] }
	EOF2
	# the recipe, with this build's squad for 'squad'
	jq --arg s "$SQUAD" '.mcpServers.squad.command = $s' \
		"$SQUAD_SRC/recipes/claude/mcp.json" > .mcp.json
}

teardown() {
	if [ -n "${SERVER:-}" ]; then
		kill "$SERVER" 2>/dev/null || true
		wait "$SERVER" 2>/dev/null || true
	fi
	end_leftovers
}

# start_model SCRIPT_JSON: the scripted model server, its port in $PORT
start_model() {
	printf '%s\n' "$1" > script.json
	node "$SQUAD_SRC/tests/mcp/anthropic-server.js" --port-file port \
		--script script.json --log requests.log > server.out 2>&1 &
	SERVER=$!
	wait_for port
	PORT=$(cat port)
}

# claude PROMPT ARG...: Claude Code, headless, against the scripted model;
# its JSON result in $output. MCP tools are offered up front (no tool
# search), so the scripted replies can call them on the first turn.
claude() {
	run --separate-stderr env ANTHROPIC_BASE_URL="http://127.0.0.1:$PORT" \
		ANTHROPIC_API_KEY=sk-ant-x CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 \
		ENABLE_TOOL_SEARCH=false \
		timeout 300 "$CLAUDE_BIN" -p "$1" --output-format json "${@:2}"
}

@test "claude: Claude Code reads the hand-off over MCP, marks the task done, and the run resumes" {
	run "$SQUAD" test
	[ "$status" -eq 3 ]
	start_model '[
	  {"tool": "mcp__squad__handoff", "input": {}},
	  {"tool": "mcp__squad__done", "input": {"task": "review", "note": "reviewed by claude"}},
	  {"tool": "mcp__squad__run", "input": {"targets": ["test"]}},
	  {"text": "all done"}]'
	claude "act on squad's hand-off" --mcp-config .mcp.json --strict-mcp-config \
		--allowedTools mcp__squad__handoff,mcp__squad__done,mcp__squad__run
	[ "$status" -eq 0 ]
	[ "$(jq -r .result <<< "$output")" = "all done" ]
	[ "$(jq -r .num_turns <<< "$output")" = 4 ]
	# Claude Code offered squad's tools to the model, with their names
	[ "$(jq -s -r '.[0].tools | map(select(startswith("mcp__squad__"))) | sort | join(" ")' requests.log)" = \
		"mcp__squad__done mcp__squad__exec mcp__squad__explain mcp__squad__graph mcp__squad__handoff mcp__squad__list mcp__squad__run mcp__squad__status" ]
	# the hand-off came back to the model as the tool's result
	[[ $(jq -s -c '.[1].last' requests.log) == *"review the diff"* ]]
	# and the resumed run's result after the mark
	[[ $(jq -s -c '.[3].last' requests.log) == *'exit_code'*0* ]]
	# the mark is squad's: explain says so, and a run goes through
	run "$SQUAD" explain review
	[[ $output == *"reviewed by claude"* ]]
	run "$SQUAD" test
	[ "$status" -eq 0 ]
}
