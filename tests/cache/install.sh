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

# shellcheck source=tests/npm-pin.sh
. "$(dirname "$0")/../npm-pin.sh"

[ $# -eq 1 ] || { echo "usage: install.sh DEST_DIR" >&2; exit 2; }
npm_pin_open "$1"

pkg=turborepo-remote-cache@$TURBO_CACHE_VERSION
out=$dest/node_modules/.bin/turborepo-remote-cache
have() {
    node -p "require('$dest/node_modules/turborepo-remote-cache/package.json').version" 2>/dev/null
}

npm_pin "$TURBO_CACHE_VERSION" "$out" "$pkg"
