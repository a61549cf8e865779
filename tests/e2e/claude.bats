#!/usr/bin/env bats
# The real Claude Code CLI (npm @anthropic-ai/claude-code, installed into
# the build tree by tests/mcp/install.sh) in the loop: run headless
# against a scripted Anthropic Messages server on 127.0.0.1
# (tests/mcp/anthropic-server.js), whose replies make it call squad's MCP
# tools, configured from the recipe recipes/claude/mcp.json; or, the shell
# way, load the skill recipes/claude/SKILL.md and run squad with its Bash
# tool, allowed by the recipe recipes/claude/settings.json.
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

@test "claude: Claude Code follows the skill through its Bash tool: hand-off, squad done, and the resumed run" {
	rm .mcp.json # the shell way only: no MCP server
	squadfile <<-'EOF2'
	version: 1
	tasks:
	  lint:   { run: echo lint clean }
	  review: { skills: [code-review], needs: [lint], prompt: "review the diff" }
	  test:   { needs: [review], run: echo unit tests pass > tested }
	EOF2
	# the recipes where Claude Code finds them: the skill as a project
	# skill, the permissions (squad's commands allowed) as project settings
	mkdir -p .claude/skills/squad bin
	cp "$SQUAD_SRC/recipes/claude/SKILL.md" .claude/skills/squad/SKILL.md
	cp "$SQUAD_SRC/recipes/claude/settings.json" .claude/settings.json
	ln -s "$SQUAD" bin/squad
	# Claude Code honours a project's permissions once the folder is
	# trusted (its first interactive run asks): as if that was answered
	jq -n --arg p "$(pwd -P)" '{projects: {($p): {hasTrustDialogAccepted: true}}}' \
		> "$HOME/.claude.json"
	run "$SQUAD" test
	[ "$status" -eq 3 ]
	[ ! -e tested ]
	# each reply is given only when the request shows what it acts on:
	# the skill offered, its text loaded, the manifest, the mark, the run
	start_model '[
	  {"expect": "squad: Run the project'\''s squad targets",
	   "tool": "Skill", "input": {"skill": "squad"}},
	  {"expect": "squad handoff --json",
	   "tool": "Bash", "input": {"command": "squad handoff --json", "description": "Show the tasks squad hands off"}},
	  {"expect": "done review --note",
	   "tool": "Bash", "input": {"command": "squad done review --note '\''reviewed by claude via the skill'\''", "description": "Report the review as done"}},
	  {"expect": "recorded review as done",
	   "tool": "Bash", "input": {"command": "squad test", "description": "Run the tests again"}},
	  {"expect": "1 done by the tactician",
	   "text": "all done"}]'
	PATH=$PWD/bin:$PATH claude "run the tests and act on squad's hand-off"
	[ "$status" -eq 0 ]
	[ "$(jq -r .result <<< "$output")" = "all done" ]
	# (Claude Code counts the skill's loading as a turn of its own, so
	# num_turns is 6 for the 5 replies: the requests are counted instead)
	[ "$(jq -s 'map(select(.ours)) | length' requests.log)" = 5 ]
	[ "$(jq -r '.permission_denials | length' <<< "$output")" = 0 ]
	# no MCP tools were offered: this was the Bash tool
	[ "$(jq -s -r '.[0].tools | map(select(startswith("mcp__"))) | length' requests.log)" = 0 ]
	# the skill was listed to the model, and its text came back from the Skill tool
	[[ $(jq -s -r '.[0] | .system + (.last | tostring)' requests.log) == *"squad: Run the project's squad targets"* ]]
	[[ $(jq -s -c '.[1].last' requests.log) == *"squad handoff --json"* ]]
	# the manifest came back from Bash, with the task and its done command
	[[ $(jq -s -c '.[2].last' requests.log) == *'review the diff'* ]]
	[[ $(jq -s -c '.[2].last' requests.log) == *'done review --note'* ]]
	# every scripted reply found what it expected
	[ "$(jq -s '[.[] | select(.ours and .met != null) | .met] | all' requests.log)" = true ]
	# the mark is squad's, and the resumed run (Claude's) ran the task behind it
	run "$SQUAD" explain review
	[[ $output == *"reviewed by claude via the skill"* ]]
	[ "$(cat tested)" = "unit tests pass" ]
	[[ $(jq -s -c '.[4].last' requests.log) == *'ok test'* ]]
}
