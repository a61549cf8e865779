# shellcheck shell=sh
# npm-pin.sh: sourced by the tests' install.sh scripts (tests/*/install.sh),
# which each install one pinned npm package into a folder of the build
# tree and print the path to use. What they share is here, once.

die() {
    echo "install.sh: $*" >&2
    exit 1
}

# npm_pin_open DEST: npm and node on PATH, DEST made; sets dest to its
# absolute path and holds its lock on fd 9 until the script ends (bats
# files run side by side: one install at a time, the others wait).
npm_pin_open() {
    command -v npm >/dev/null 2>&1 || die "npm not found in PATH"
    command -v node >/dev/null 2>&1 || die "node not found in PATH"
    mkdir -p "$1" || die "cannot create $1"
    dest=$(cd "$1" && pwd)
    exec 9>"$dest/.install.lock" || die "cannot open $dest/.install.lock"
    flock 9 || die "cannot lock $dest/.install.lock"
}

# npm_pin_install PKG...: npm install of PKG... (name@version) into $dest;
# quiet, npm's own messages on stderr only when it fails.
npm_pin_install() {
    log=$(mktemp "${TMPDIR:-/tmp}/npm-install.XXXXXX")
    if ! npm install --prefix "$dest" --no-audit --no-fund --no-update-notifier \
            --save-exact "$@" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        die "npm install of $* into $dest failed"
    fi
    rm -f "$log"
}

# npm_pin WANT OUT PKG...: prints OUT once the caller's `have` (a function
# printing the installed version) prints WANT and OUT exists; installs
# PKG... first when they do not (cached: nothing is downloaded when the
# pinned version is there).
npm_pin() {
    want=$1
    out=$2
    shift 2
    if [ "$(have || true)" != "$want" ] || [ ! -e "$out" ]; then
        npm_pin_install "$@"
        got=$(have || true)
        [ "$got" = "$want" ] || die "after npm install of $*, the version is '$got', not $want"
        [ -e "$out" ] || die "npm install of $* succeeded but $out is missing"
    fi
    echo "$out"
}
