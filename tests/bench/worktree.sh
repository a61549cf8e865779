#!/bin/sh
# worktree.sh - an isolated task's worktree on a 10,000-file repository:
# squad's (isolate.h: snapshot of HEAD + staged + unstaged + untracked,
# checkout, then the patch of one changed file, then removal, then the
# patch applied to the user's tree) against
# git's own commands doing the same in the same run:
#   git stash create (the snapshot: tracked changes only, git has no
#   stash of untracked files without touching the tree) + git worktree
#   add --detach,
#   then git add -A + git diff --binary HEAD, then git worktree remove,
#   then git apply of that patch.
# Best of RUNS (default 5) each; prints both and the ratio squad/git
# (goal: <= 1). Not part of the test suite.
# Usage: tests/bench/worktree.sh [RUNS]   (needs build/tests/bench_isolate:
#   cmake --build build --target bench_isolate)
set -eu
RUNS=${1:-5}
HERE=$(cd "$(dirname "$0")/../.." && pwd)
BENCH=${BENCH_ISOLATE:-$HERE/build/tests/bench_isolate}
[ -x "$BENCH" ] || { echo "worktree.sh: build it first: cmake --build build --target bench_isolate" >&2; exit 2; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/squad-wtbench-XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
REPO=$TMP/repo
mkdir -p "$REPO"
cd "$REPO"
git init -q -b main
python3 - <<'PY'
import os
for d in range(100):
    os.makedirs(f"d{d:03}", exist_ok=True)
    for f in range(100):
        with open(f"d{d:03}/f{f:03}.txt", "w") as fh:
            fh.write(f"file {d} {f}\n" * 20)
PY
printf '.squad/\n' > .gitignore
git add -A
git -c user.name=b -c user.email=b@b commit -qm init
# the user's own edits: staged, unstaged, untracked
echo staged >> d000/f000.txt; git add d000/f000.txt
echo unstaged >> d001/f001.txt
echo untracked > new.txt
mkdir -p .squad

ours=$("$BENCH" "$REPO" "$REPO/.squad" "$RUNS")

best_git=
for i in $(seq "$RUNS"); do
	t0=$(date +%s%N)
	snap=$(git stash create)
	ta=$(date +%s%N)
	git worktree add -q --detach "$TMP/wt" "${snap:-HEAD}"
	t1=$(date +%s%N)
	echo changed > "$TMP/wt/changed.txt"
	t1b=$(date +%s%N)
	git -C "$TMP/wt" add -A
	git -C "$TMP/wt" diff --binary --cached HEAD > "$TMP/patch"
	t2=$(date +%s%N)
	git worktree remove --force "$TMP/wt"
	t3=$(date +%s%N)
	git apply "$TMP/patch"
	t4=$(date +%s%N)
	rm changed.txt
	total=$(( (t1 - t0) + (t2 - t1b) + (t4 - t2) ))
	if [ -z "$best_git" ] || [ "$total" -lt "$best_git" ]; then
		best_git=$total; g_create=$(( (t1 - t0) / 1000000 )); g_add=$(( (t1 - ta) / 1000000 )); g_change=$(( (t2 - t1b) / 1000000 )); g_remove=$(( (t3 - t2) / 1000000 )); g_apply=$(( (t4 - t3) / 1000000 ))
	fi
done
echo "files: $(git ls-files | wc -l), runs: $RUNS (best of)"
echo "squad: $ours (ms)"
echo "git:   create $g_create (of which worktree add alone $g_add) change $g_change remove $g_remove apply $g_apply (ms)"
echo "$ours" | python3 -c '
import sys
v = sys.stdin.read().split()
ours = float(v[1]) + float(v[3]) + float(v[5]) + float(v[7])
git = float(sys.argv[1]) / 1e6
print(f"total: squad {ours:.1f} ms, git {git:.1f} ms, ratio squad/git {ours / git:.2f}")
' "$best_git"
