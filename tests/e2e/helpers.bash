# Shared set-up for squad's bats tests: each test runs in its own folder.
SQUAD=${SQUAD:-$BATS_TEST_DIRNAME/../../build/squad}
SQUAD_SRC=${SQUAD_SRC:-$BATS_TEST_DIRNAME/../..}
# tests cd into their own folders: make the paths absolute first
SQUAD=$(realpath "$SQUAD")
SQUAD_SRC=$(realpath "$SQUAD_SRC")

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	export NO_COLOR=1
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
