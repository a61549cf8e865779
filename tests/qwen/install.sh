#!/bin/sh
# install.sh DEST_DIR
# Installs the real Qwen Code CLI (npm package @qwen-code/qwen-code, pinned)
# into DEST_DIR with npm and prints the path of the qwen binary.
# Cached: if DEST_DIR/node_modules/.bin/qwen already runs `--version` and
# reports the pinned version, nothing is downloaded.
#
# Pinned to 0.15.10: the newest release that still declares node >=20
# (0.23.x/0.24.x declare node >=22; this machine has node 20).
# Override with QWEN_VERSION=x.y.z at your own risk.
set -eu

QWEN_VERSION=${QWEN_VERSION:-0.15.10}

die() {
    echo "install.sh: $*" >&2
    exit 1
}

[ $# -eq 1 ] || { echo "usage: install.sh DEST_DIR" >&2; exit 2; }
dest=$1

command -v node >/dev/null 2>&1 || die "node not found in PATH (need node >= 20)"
command -v npm >/dev/null 2>&1 || die "npm not found in PATH"
node_major=$(node -p 'process.versions.node.split(".")[0]') ||
    die "cannot run node"
[ "$node_major" -ge 20 ] || die "node $node_major is too old (need >= 20)"

mkdir -p "$dest" || die "cannot create $dest"
dest=$(cd "$dest" && pwd)
bin=$dest/node_modules/.bin/qwen

if [ -x "$bin" ]; then
    have=$("$bin" --version 2>/dev/null | tail -n 1 || true)
    if [ "$have" = "$QWEN_VERSION" ]; then
        echo "$bin"
        exit 0
    fi
fi

# Quiet install; npm's own messages go to stderr only on failure.
log=$(mktemp "${TMPDIR:-/tmp}/qwen-install.XXXXXX")
if ! npm install --prefix "$dest" --no-audit --no-fund --no-update-notifier \
        --save-exact "@qwen-code/qwen-code@$QWEN_VERSION" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    die "npm install of @qwen-code/qwen-code@$QWEN_VERSION into $dest failed"
fi
rm -f "$log"

[ -x "$bin" ] || die "npm succeeded but $bin is missing"
have=$("$bin" --version 2>/dev/null | tail -n 1 || true)
[ "$have" = "$QWEN_VERSION" ] ||
    die "$bin --version printed '$have', expected $QWEN_VERSION"
echo "$bin"
