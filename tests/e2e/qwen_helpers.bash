# Shared set-up for the bats files that run the real Qwen Code CLI (npm
# @qwen-code/qwen-code, tests/qwen/install.sh) against the scripted model
# server on 127.0.0.1 (tests/qwen/mock-server.js). Only loopback is ever
# contacted: HOME is a fresh folder whose qwen settings turn off usage
# statistics, telemetry and update checks. Load after helpers.
QWEN_DIR=${SQUAD_BUILD:-$SQUAD_SRC/build}/test-tools/qwen

setup_file() {
	# installed once per build tree, then reused
	QWEN_BIN=$("$SQUAD_SRC/tests/qwen/install.sh" "$QWEN_DIR" | tail -1)
	export QWEN_BIN
}

# Each test: its own folder, HOME, TMPDIR, budget and model server
# (request log in requests.log, request bodies in dumps/).
setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	export NO_COLOR=1
	[ -x "$QWEN_BIN" ] || { echo "the qwen CLI could not be installed from npm" >&2; return 1; }
	export HOME=$BATS_TEST_TMPDIR/home XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	# squad's request-log folders (and qwen's temporary files) in the
	# test's own folder: what a test finds there is its own
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
	mkdir -p "$TMPDIR"
	"$SQUAD_SRC/tests/qwen/write-settings.sh" "$HOME"
	unset QWEN_HOME QWEN_CODE_UNATTENDED_RETRY HTTP_PROXY HTTPS_PROXY http_proxy https_proxy \
		OPENAI_API_KEY OPENAI_BASE_URL OPENAI_MODEL
	export NO_PROXY=127.0.0.1,localhost
	echo '{"rules": []}' > script.json
	node "$SQUAD_SRC/tests/qwen/mock-server.js" --port-file port --script script.json \
		--log requests.log --dump-dir dumps > server.out 2>&1 &
	SERVER=$!
	wait_for port
	PORT=$(cat port)
}

teardown() {
	kill "$SERVER" 2>/dev/null || true
	wait "$SERVER" 2>/dev/null || true
}

# script JSON: what the model server answers from now on
script() {
	printf '%s\n' "$1" > script.json
}

# stat_of FIELD: what the model server has seen (GET /stats)
stat_of() {
	curl -s "http://127.0.0.1:$PORT/stats" | jq -r ".$1"
}
