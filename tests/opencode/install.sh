#!/bin/sh
# install.sh DEST_DIR
# Installs the real opencode (npm package opencode-ai, pinned; it ships
# its own binary) into DEST_DIR with npm and prints the path of the
# `opencode` program. Cached: if it already reports the pinned version,
# nothing is downloaded. One install at a time (test files run side by
# side). OPENCODE_VERSION=x.y.z overrides the pin.
set -eu

OPENCODE_VERSION=${OPENCODE_VERSION:-1.18.33}

die() {
    echo "install.sh: $*" >&2
    exit 1
}

[ $# -eq 1 ] || { echo "usage: install.sh DEST_DIR" >&2; exit 2; }
command -v npm >/dev/null 2>&1 || die "npm not found in PATH"
mkdir -p "$1" || die "cannot create $1"
dest=$(cd "$1" && pwd)
bin=$dest/node_modules/.bin/opencode

exec 9>"$dest/.install.lock" || die "cannot open $dest/.install.lock"
flock 9 || die "cannot lock $dest/.install.lock"

if [ -x "$bin" ]; then
    have=$(HOME=$dest "$bin" --version 2>/dev/null | tail -n 1 || true)
    if [ "$have" = "$OPENCODE_VERSION" ]; then
        echo "$bin"
        exit 0
    fi
fi
log=$(mktemp "${TMPDIR:-/tmp}/opencode-install.XXXXXX")
if ! npm install --prefix "$dest" --no-audit --no-fund --no-update-notifier \
        --save-exact "opencode-ai@$OPENCODE_VERSION" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    die "npm install of opencode-ai@$OPENCODE_VERSION into $dest failed"
fi
rm -f "$log"
[ -x "$bin" ] || die "npm succeeded but $bin is missing"
have=$(HOME=$dest "$bin" --version 2>/dev/null | tail -n 1 || true)
[ "$have" = "$OPENCODE_VERSION" ] ||
    die "$bin --version printed '$have', expected $OPENCODE_VERSION"
echo "$bin"
