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

die() {
    echo "install.sh: $*" >&2
    exit 1
}

[ $# -eq 2 ] || { echo "usage: install.sh validator|gitlab DEST_DIR" >&2; exit 2; }
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

if [ "$(have || true)" = "$want" ] && [ -x "$out" ]; then
    echo "$out"
    exit 0
fi
log=$(mktemp "${TMPDIR:-/tmp}/ci-install.XXXXXX")
# shellcheck disable=SC2086 # two package names for the validator
if ! npm install --prefix "$dest" --no-audit --no-fund --no-update-notifier \
        --save-exact $pkgs >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    die "npm install of $pkgs into $dest failed"
fi
rm -f "$log"
got=$(have || true)
[ "$got" = "$want" ] || die "after npm install, $what reports version '$got'"
echo "$out"
