#!/usr/bin/env bash
# Set up, build and run squad on Squadfile.example.
#
#   ./build.sh            install the Debian packages (as root), build into
#                         build/, then run squad on Squadfile.example
#   ./build.sh --no-run   the same without the run
#
# Exit status: squad's own, but 3 is 0 here. 3 means only "nothing failed,
# and skill tasks wait for the tactician": what the example's default target
# is meant to end with (its review is a skill task). A failed task, escalated
# or not, is 1, and so is build.sh.
set -euo pipefail
cd "$(dirname "$0")"

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	grep -v '^#' .ci/packages | xargs apt-get install -y -qq --no-install-recommends >/dev/null
	# node and npm (the tests install the qwen CLI and ajv with them): the
	# machine's own when it has them (NodeSource's node bundles an npm that
	# Debian's npm package conflicts with), else Debian's
	if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
		apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
	fi
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build

[ "${1:-}" = --no-run ] && exit 0
status=0
build/squad -f Squadfile.example || status=$?
if [ "$status" -eq 3 ]; then
	echo "build.sh: squad exited 3: nothing failed; the skill task waits for the tactician (see above)"
	exit 0
fi
exit "$status"
