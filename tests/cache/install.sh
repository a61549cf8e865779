#!/bin/sh
# install.sh DEST_DIR
# Installs, with npm, the real Turborepo Remote Cache server (npm
# turborepo-remote-cache, the self-hosted server teams run) into DEST_DIR
# (a folder of the build tree; see tests/e2e/cache.bats) and prints the
# path of its program: DEST_DIR/node_modules/.bin/turborepo-remote-cache.
# Cached: when the pinned version is there, nothing is downloaded.
# Override the pin with TURBO_CACHE_VERSION at your own risk.
set -eu

TURBO_CACHE_VERSION=${TURBO_CACHE_VERSION:-2.12.0}

die() {
    echo "install.sh: $*" >&2
    exit 1
}

[ $# -eq 1 ] || { echo "usage: install.sh DEST_DIR" >&2; exit 2; }
dest=$1
command -v npm >/dev/null 2>&1 || die "npm not found in PATH"
command -v node >/dev/null 2>&1 || die "node not found in PATH"
mkdir -p "$dest" || die "cannot create $dest"
dest=$(cd "$dest" && pwd)

# bats files run side by side: one install at a time, the others wait
exec 9>"$dest/.install.lock" || die "cannot open $dest/.install.lock"
flock 9 || die "cannot lock $dest/.install.lock"

pkg=turborepo-remote-cache@$TURBO_CACHE_VERSION
out=$dest/node_modules/.bin/turborepo-remote-cache
have() {
    node -p "require('$dest/node_modules/turborepo-remote-cache/package.json').version" 2>/dev/null
}

if [ "$(have || true)" = "$TURBO_CACHE_VERSION" ] && [ -x "$out" ]; then
    echo "$out"
    exit 0
fi
log=$(mktemp "${TMPDIR:-/tmp}/cache-install.XXXXXX")
if ! npm install --prefix "$dest" --no-audit --no-fund --no-update-notifier \
        --save-exact "$pkg" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    die "npm install of $pkg into $dest failed"
fi
rm -f "$log"
got=$(have || true)
[ "$got" = "$TURBO_CACHE_VERSION" ] || die "after npm install, $pkg reports version '$got'"
echo "$out"
