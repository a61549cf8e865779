#!/bin/sh
# install.sh sdk|claude DEST_DIR
# Installs, with npm, into DEST_DIR (a folder of the build tree; see
# tests/e2e/mcp.bats) one of the real programs squad's MCP tests drive,
# and prints the path to use:
#   sdk     the official MCP TypeScript SDK (@modelcontextprotocol/sdk):
#           prints DEST_DIR/node_modules, for NODE_PATH
#   claude  the Claude Code CLI (@anthropic-ai/claude-code, a native
#           binary of about 400 MB): prints DEST_DIR/node_modules/.bin/claude
# Cached: when what was installed is there at the pinned version, nothing
# is downloaded. Override the pins with MCP_SDK_VERSION / CLAUDE_VERSION
# at your own risk.
set -eu

MCP_SDK_VERSION=${MCP_SDK_VERSION:-1.32.2}
CLAUDE_VERSION=${CLAUDE_VERSION:-2.1.332}

die() {
    echo "install.sh: $*" >&2
    exit 1
}

[ $# -eq 2 ] || { echo "usage: install.sh sdk|claude DEST_DIR" >&2; exit 2; }
what=$1
dest=$2
command -v npm >/dev/null 2>&1 || die "npm not found in PATH"
command -v node >/dev/null 2>&1 || die "node not found in PATH"
mkdir -p "$dest" || die "cannot create $dest"
dest=$(cd "$dest" && pwd)

# bats files run side by side: one install at a time, the others wait
exec 9>"$dest/.install.lock" || die "cannot open $dest/.install.lock"
flock 9 || die "cannot lock $dest/.install.lock"

case $what in
sdk)
    pkg=@modelcontextprotocol/sdk@$MCP_SDK_VERSION
    have() {
        node -p "require('$dest/node_modules/@modelcontextprotocol/sdk/package.json').version" \
            2>/dev/null
    }
    want=$MCP_SDK_VERSION
    out=$dest/node_modules
    ;;
claude)
    pkg=@anthropic-ai/claude-code@$CLAUDE_VERSION
    have() {
        HOME=$dest "$dest/node_modules/.bin/claude" --version 2>/dev/null | cut -d' ' -f1
    }
    want=$CLAUDE_VERSION
    out=$dest/node_modules/.bin/claude
    ;;
*)
    die "what to install: sdk or claude, not '$what'"
    ;;
esac

if [ "$(have || true)" = "$want" ]; then
    echo "$out"
    exit 0
fi
log=$(mktemp "${TMPDIR:-/tmp}/mcp-install.XXXXXX")
# (npm warns that Claude Code declares node >= 22 when npm runs on node
# 20: what is installed is a native binary, run without node)
if ! npm install --prefix "$dest" --no-audit --no-fund --no-update-notifier \
        --save-exact "$pkg" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    die "npm install of $pkg into $dest failed"
fi
rm -f "$log"
got=$(have || true)
[ "$got" = "$want" ] || die "after npm install, $pkg reports version '$got'"
echo "$out"
