#!/bin/sh
# Run the real qwen CLI against the mock server, with nothing else reachable.
#
#   QWEN_BIN=/path/to/qwen MOCK_PORT=NNNN SQUAD_QWEN_HOME=/some/dir \
#       tests/qwen/run-qwen.sh [qwen args...]
#
# QWEN_BIN   qwen binary (default: build-qwen-cache/bin/qwen, as install.sh
#            makes it, next to the repo root)
# MOCK_PORT  port of mock-server.js on 127.0.0.1 (or MOCK_PORT_FILE)
# SQUAD_QWEN_HOME  directory used as HOME; created if missing; a
#            settings.json that turns off usage statistics, telemetry and
#            update checks is written to $SQUAD_QWEN_HOME/.qwen/settings.json
#            unless one already exists. Default: a fresh mktemp -d (left
#            behind for inspection).
#            (Not QWEN_HOME: that is qwen's own variable, it replaces ~/.qwen;
#            it and the other QWEN_* variables below are unset here.)
#
# The flag `--auth-type openai` is always added, to be explicit. (Observed with
# 0.15.10: with OPENAI_API_KEY set the CLI also picks openai auth without the
# flag; with neither, it exits 1 at once with an is_error result "No auth
# type is selected" -- it does not hang on an OAuth prompt in headless mode.)
# Model, key and URL are passed as OPENAI_API_KEY=test,
# OPENAI_BASE_URL=http://127.0.0.1:$MOCK_PORT/v1, OPENAI_MODEL=mock (or
# $SQUAD_QWEN_MODEL); values from the caller's environment are overridden.
# Exit status is qwen's own (exec).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
QWEN_BIN=${QWEN_BIN:-$root/build-qwen-cache/bin/qwen}

if [ -z "${MOCK_PORT:-}" ] && [ -n "${MOCK_PORT_FILE:-}" ]; then
    MOCK_PORT=$(cat "$MOCK_PORT_FILE")
fi
if [ -z "${MOCK_PORT:-}" ]; then
    echo "run-qwen.sh: MOCK_PORT (or MOCK_PORT_FILE) is required" >&2
    exit 2
fi
if [ -z "${SQUAD_QWEN_HOME:-}" ]; then
    SQUAD_QWEN_HOME=$(mktemp -d "${TMPDIR:-/tmp}/qwen-home.XXXXXX")
fi

"$here/write-settings.sh" "$SQUAD_QWEN_HOME"

# qwen's own variables that would redirect config/state or change behaviour.
unset QWEN_HOME QWEN_RUNTIME_DIR QWEN_MODEL QWEN_DEFAULT_AUTH_TYPE \
      QWEN_SANDBOX QWEN_CODE_SIMPLE QWEN_CODE_NO_RELAUNCH \
      QWEN_CODE_SYSTEM_SETTINGS_PATH QWEN_CODE_SYSTEM_DEFAULTS_PATH \
      QWEN_CODE_TRUSTED_FOLDERS_PATH \
      GEMINI_API_KEY GOOGLE_API_KEY ANTHROPIC_API_KEY || true

# Only loopback: drop any proxy settings, never proxy loopback.
unset HTTP_PROXY HTTPS_PROXY ALL_PROXY http_proxy https_proxy all_proxy || true
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost

export HOME="$SQUAD_QWEN_HOME"
export OPENAI_API_KEY=test
export OPENAI_BASE_URL="http://127.0.0.1:$MOCK_PORT/v1"
export OPENAI_MODEL="${SQUAD_QWEN_MODEL:-mock}"
# Never let qwen retry 429s forever on its own.
unset QWEN_CODE_UNATTENDED_RETRY || true

exec "$QWEN_BIN" --auth-type openai "$@"
