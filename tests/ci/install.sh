#!/bin/sh
# install.sh validator|gitlab DEST_DIR
# Installs, with npm, into DEST_DIR (a folder of the build tree; see
# tests/e2e/ci.bats) one of the real programs that check what 'squad ci'
# writes, and prints the path of its command:
#   validator  action-validator (@action-validator/cli): a GitHub Actions
#              workflow against SchemaStore's schema, and its job needs
#   gitlab     gitlab-ci-local: runs a .gitlab-ci.yml for real, here (the
#              4.60 line: the newest needs node 22, Debian's is 20; it
#              needs rsync, in .ci/packages)
# Cached: when what was installed is there at the pinned version, nothing
# is downloaded. Override the pins with ACTION_VALIDATOR_VERSION /
# GITLAB_CI_LOCAL_VERSION at your own risk.
set -eu

ACTION_VALIDATOR_VERSION=${ACTION_VALIDATOR_VERSION:-0.6.0}
GITLAB_CI_LOCAL_VERSION=${GITLAB_CI_LOCAL_VERSION:-4.60.1}

# shellcheck source=tests/npm-pin.sh
. "$(dirname "$0")/../npm-pin.sh"

[ $# -eq 2 ] || { echo "usage: install.sh validator|gitlab DEST_DIR" >&2; exit 2; }
what=$1
dest=$2
npm_pin_open "$dest"

case $what in
validator)
    # the CLI loads its WebAssembly core from @action-validator/core
    pkgs="@action-validator/cli@$ACTION_VALIDATOR_VERSION @action-validator/core@$ACTION_VALIDATOR_VERSION"
    have() {
        node -p "require('$dest/node_modules/@action-validator/cli/package.json').version" \
            2>/dev/null
    }
    want=$ACTION_VALIDATOR_VERSION
    out=$dest/node_modules/.bin/action-validator
    ;;
gitlab)
    command -v rsync >/dev/null 2>&1 || die "gitlab-ci-local needs rsync (Debian's rsync)"
    pkgs=gitlab-ci-local@$GITLAB_CI_LOCAL_VERSION
    have() {
        node -p "require('$dest/node_modules/gitlab-ci-local/package.json').version" \
            2>/dev/null
    }
    want=$GITLAB_CI_LOCAL_VERSION
    out=$dest/node_modules/.bin/gitlab-ci-local
    ;;
*)
    die "what to install: validator or gitlab, not '$what'"
    ;;
esac

# shellcheck disable=SC2086 # two package names for the validator
npm_pin "$want" "$out" $pkgs
