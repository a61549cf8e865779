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

# shellcheck source=tests/npm-pin.sh
. "$(dirname "$0")/../npm-pin.sh"

[ $# -eq 2 ] || { echo "usage: install.sh sdk|claude DEST_DIR" >&2; exit 2; }
what=$1
dest=$2
npm_pin_open "$dest"

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

# (npm warns that Claude Code declares node >= 22 when npm runs on node
# 20: what is installed is a native binary, run without node)
npm_pin "$want" "$out" "$pkg"
