# Shared set-up for squad's bats tests: each test runs in its own folder.
SQUAD=${SQUAD:-$BATS_TEST_DIRNAME/../../build/squad}
SQUAD_SRC=${SQUAD_SRC:-$BATS_TEST_DIRNAME/../..}
# tests cd into their own folders: make the paths absolute first
SQUAD=$(realpath "$SQUAD")
SQUAD_SRC=$(realpath "$SQUAD_SRC")

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	export NO_COLOR=1
	# the result cache (on by default) is cache.bats' subject: elsewhere a
	# task that must run again (a state made corrupt, -B) would be a hit.
	# Its local folder is the test's own all the same.
	export SQUAD_CACHE=off XDG_CACHE_HOME=$BATS_TEST_TMPDIR/.xdg-cache
}

# end_leftovers: in a test's teardown, kill what it left running on
# purpose (the PIDs in $BATS_TEST_TMPDIR/*.pid) and unmount its ./full
end_leftovers() {
	local pid
	for pid in $(cat "$BATS_TEST_TMPDIR"/*.pid 2>/dev/null); do
		kill "$pid" 2>/dev/null || true
	done
	cd "$BATS_TEST_TMPDIR" || return 1
	if mountpoint -q full 2>/dev/null; then
		umount full || umount -l full
	fi
}

# squadfile TEXT: write ./Squadfile
squadfile() {
	cat > Squadfile
}

# alive PID: is that process still there (and not a zombie)?
alive() {
	local state
	state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[[ $state != Z* ]]
}

# wait_for FILE [SECONDS]: until FILE exists (a bound, not a timing assumption)
wait_for() {
	local i
	for ((i = 0; i < ${2:-20} * 20; i++)); do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# ajv (a JSON Schema validator) from npm, installed once per build tree
# into $SQUAD_BUILD/test-tools/ajv. ensure_ajv sets AJV, or AJV_SKIP with
# the reason it could not be had.
AJV_DIR=${SQUAD_BUILD:-$SQUAD_SRC/build}/test-tools/ajv-cli5-formats2
AJV=$AJV_DIR/node_modules/.bin/ajv

ensure_ajv() {
	local tmp

	[ -x "$AJV" ] && return 0
	if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
		AJV_SKIP="npm and node are needed to install the ajv validator"
		return 1
	fi
	mkdir -p "$(dirname "$AJV_DIR")"
	tmp=$(mktemp -d "$AJV_DIR.XXXXXX")
	# into a folder of its own, then renamed: a run cut short leaves no
	# half-installed validator, and concurrent installs do not mix
	if npm install --prefix "$tmp" --no-audit --no-fund --prefer-offline \
		--fetch-retries=1 --fetch-timeout=60000 ajv-cli@5 ajv-formats@2 >"$tmp.log" 2>&1; then
		mv -T "$tmp" "$AJV_DIR" 2>/dev/null || rm -rf "$tmp" # another run won
		rm -f "$tmp.log"
	else
		rm -rf "$tmp"
		AJV_SKIP="npm could not install ajv-cli (registry unreachable?); see $tmp.log"
		return 1
	fi
}

# validate_json SCHEMA FILE: FILE (JSON or YAML) follows SCHEMA (draft 2020-12).
validate_json() {
	ensure_ajv || { echo "$AJV_SKIP" >&2; return 1; }
	"$AJV" validate --spec=draft2020 --strict=true --allow-union-types -c ajv-formats \
		-s "$1" -d "$2" --errors=text
}
