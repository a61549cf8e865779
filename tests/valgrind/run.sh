#!/bin/sh
# tests/valgrind/run.sh [SQUAD]: a representative squad session under
# valgrind's memcheck (a run with output, retries, expect, a failure and
# a hand-off; handoff; done; explain; the resumed run). Fails on any
# memcheck error or definite/indirect leak (exit code 99 marks them).
set -u
here=$(cd "$(dirname "$0")" && pwd)
squad=${1:-$here/../../build/squad}
# absolute: the session runs in a folder of its own
squad=$(cd "$(dirname "$squad")" && pwd)/$(basename "$squad")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/Squadfile" "$work/"
cd "$work" || exit 1

failed=0
vg() {
	expected=$1
	shift
	valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--error-exitcode=99 -q "$squad" "$@" >/dev/null 2>vg.err
	status=$?
	if [ "$status" -eq 99 ] || [ "$status" -ne "$expected" ]; then
		echo "valgrind: 'squad $*' exited $status (wanted $expected):" >&2
		cat vg.err >&2
		failed=1
	else
		echo "valgrind: squad $*: clean"
	fi
}

vg 1 -k -j2                 # broken fails; review waits
vg 0 handoff
vg 0 handoff --json
vg 0 explain count
vg 0 done review --note "reviewed under valgrind"
vg 1 -k -j2                 # resumes behind review; broken still fails
vg 0 list --json
vg 0 graph
exit "$failed"
