#!/bin/sh
# install.sh DEST_DIR
# Installs the real opencode (npm package opencode-ai, pinned; it ships
# its own binary) into DEST_DIR with npm and prints the path of the
# `opencode` program. Cached: if it already reports the pinned version,
# nothing is downloaded. One install at a time (test files run side by
# side). OPENCODE_VERSION=x.y.z overrides the pin.
set -eu

OPENCODE_VERSION=${OPENCODE_VERSION:-1.18.33}

# shellcheck source=tests/npm-pin.sh
. "$(dirname "$0")/../npm-pin.sh"

[ $# -eq 1 ] || { echo "usage: install.sh DEST_DIR" >&2; exit 2; }
npm_pin_open "$1"
have() {
    HOME=$dest "$dest/node_modules/.bin/opencode" --version 2>/dev/null | tail -n 1
}

npm_pin "$OPENCODE_VERSION" "$dest/node_modules/.bin/opencode" "opencode-ai@$OPENCODE_VERSION"
