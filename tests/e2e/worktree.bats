#!/usr/bin/env bats
# Isolated tasks (isolate: worktree, changes: apply|review|discard), in
# real git repositories made with the git CLI: formatters that rewrite
# files in parallel, each in a worktree of its own, their changes handed
# back as patches; a user's staged, unstaged and untracked edits never
# lost, byte for byte, also after kill -9 of squad; binary files, renames,
# deletions and modes; conflicts, named with both tasks; squad diff,
# squad apply, squad done --failed; and an agent (the real Qwen Code CLI
# over ACP, against the scripted model server on 127.0.0.1) whose tool
# call writes a file in its worktree.
bats_require_minimum_version 1.5.0
load helpers
load qwen_helpers

git() { command git -c user.email=t@example.com -c user.name=t -c init.defaultBranch=main "$@"; }

# Plain tests need no model server: qwen_helpers' setup() is for the
# agent test only.
setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	export NO_COLOR=1
	mkdir -p repo
	cd repo || return 1
}

teardown() {
	end_leftovers
	if [ -n "${SERVER:-}" ]; then
		kill "$SERVER" 2>/dev/null || true
		wait "$SERVER" 2>/dev/null || true
	fi
}

# repo_with_files: a repository with a few committed files and the
# Squadfile from stdin committed too
repo_with_files() {
	git init -q .
	printf 'one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\n' > a.txt
	printf 'x=1\ny=2\n' > b.py
	printf 'staged base\n' > c.txt
	printf 'e\n' > e.txt
	printf 'f\n' > f.txt
	cat > Squadfile
	git add -A
	git commit -qm base
}

# user_state FILE: what the user has, to compare byte for byte: the
# unstaged and staged diffs, the status, and every file's hash
user_state() {
	{
		git diff --binary
		echo '=== staged'
		git diff --cached --binary
		echo '=== status'
		git status --porcelain=v1 -uall
		echo '=== files'
		find . -path ./.git -prune -o -path ./.squad -prune -o -type f -print0 |
			sort -z | xargs -0 sha256sum
	} > "$1"
}

# validate_events TEXT: each line of TEXT (squad --json's events) follows
# grammar/events.schema.json
validate_events() {
	local f
	mkdir -p "$BATS_TEST_TMPDIR/ev"
	split -l1 -d -a3 --additional-suffix=.json - "$BATS_TEST_TMPDIR/ev/e" <<<"$1"
	for f in "$BATS_TEST_TMPDIR"/ev/*.json; do
		validate_json "$SQUAD_SRC/grammar/events.schema.json" "$f" || return 1
	done
}

# no_worktrees: nothing is left under .squad/worktrees/
no_worktrees() {
	local left
	left=$(ls -A .squad/worktrees 2>/dev/null)
	[ -z "$left" ] || { echo "left in .squad/worktrees: $left"; return 1; }
}

# barrier NAME OTHER: mark NAME started, then wait (at most 20 s, a hang
# guard) until OTHER started too: both tasks run at the same time
barrier_cmd() {
	echo "touch '$BATS_TEST_TMPDIR/$1.started'; for i in \$(seq 400); do [ -e '$BATS_TEST_TMPDIR/$2.started' ] && break; sleep 0.05; done"
}

@test "two formatters in parallel on disjoint files: both applied, the user's edits kept, the index untouched" {
	repo_with_files <<Y
version: 1
defaults: { isolate: worktree }
tasks:
  fmt-txt: "$(barrier_cmd txt py); sed -i 's/^two\$/TWO/' a.txt"
  fmt-py: "$(barrier_cmd py txt); python3 -c \"import re,pathlib; p=pathlib.Path('b.py'); p.write_text(re.sub(r'(\\\\w)=(\\\\w)', r'\\\\1 = \\\\2', p.read_text()))\""
  after: { run: "cat a.txt b.py > seen.out", needs: [fmt-txt, fmt-py], isolate: none }
Y
	echo seen.out > .git/info/exclude
	run "$SQUAD" -n after
	[ "$status" -eq 0 ]
	[[ $output == *"fmt-txt"*"(in a worktree; changes: apply)"* ]]
	[[ $output != *"cat a.txt b.py > seen.out  (in a worktree"* ]]
	# the user: an unstaged edit to a line of a.txt the formatter leaves,
	# a staged edit, an untracked file
	sed -i 's/^seven$/seven (mine)/' a.txt
	echo 'staged edit' >> c.txt
	git add c.txt
	echo untracked > mine.txt
	git diff --cached --binary > staged.before
	run "$SQUAD" -j2 after
	[ "$status" -eq 0 ]
	[ -e "$BATS_TEST_TMPDIR/txt.started" ]
	[ -e "$BATS_TEST_TMPDIR/py.started" ]
	[ "$(cat a.txt)" = "$(printf 'one\nTWO\nthree\nfour\nfive\nsix\nseven (mine)\neight')" ]
	[ "$(cat b.py)" = "$(printf 'x = 1\ny = 2')" ]
	[ "$(cat mine.txt)" = untracked ]
	git diff --cached --binary > staged.after
	cmp staged.before staged.after
	# the task behind them saw both changes
	grep -qx TWO seen.out
	grep -qx 'x = 1' seen.out
	grep -q "its change is applied to your tree: 1 file" .squad/logs/fmt-txt.log
	no_worktrees
	# applied changes wait for no one
	[ ! -e .squad/handoff.json ]
}

@test "two formatters on the same lines: one applies, the other is a conflict naming both tasks, neither half-applied" {
	repo_with_files <<Y
version: 1
defaults: { isolate: worktree }
tasks:
  left: "$(barrier_cmd left right); sed -i 's/^two\$/LEFT/' a.txt; echo left >> e.txt"
  right: "$(barrier_cmd right left); sed -i 's/^two\$/RIGHT/' a.txt; echo right >> f.txt"
Y
	run --separate-stderr "$SQUAD" -j2 --json left right
	# the loser's change waits for review: not green, not a failure
	[ "$status" -eq 3 ]
	# whichever finished first is applied whole, the other not at all
	if grep -qx LEFT a.txt; then won=left lost=right; else won=right lost=left; fi
	grep -qx "$(echo "$won" | tr a-z A-Z)" a.txt
	[ "$(grep -c -e LEFT -e RIGHT a.txt)" -eq 1 ]
	if [ "$won" = left ]; then
		[ "$(cat e.txt)" = "$(printf 'e\nleft')" ]
		[ "$(cat f.txt)" = f ]
	else
		[ "$(cat f.txt)" = "$(printf 'f\nright')" ]
		[ "$(cat e.txt)" = e ]
	fi
	# the loser names the path and the winner, and waits for review
	grep -q "'a.txt' was changed by task '$won'" ".squad/logs/$lost.log"
	# --json says what became of each change
	validate_events "$output"
	[ "$(jq -r "select(.event == \"finish\" and .task == \"$won\") | .change.fate" <<<"$output")" = applied ]
	[ "$(jq -r "select(.event == \"finish\" and .task == \"$lost\") | .change.fate" <<<"$output")" = conflict ]
	[ "$(jq -r "select(.event == \"finish\" and .task == \"$lost\") | .change.conflict_with" <<<"$output")" = "$won" ]
	[ "$(jq -r "select(.event == \"finish\" and .task == \"$lost\") | .change.patch" <<<"$output")" = "$PWD/.squad/changes/$lost.patch" ]
	[ "$(jq -r 'select(.event == "summary") | .changes | "\(.applied) \(.conflict) \(.review)"' <<<"$output")" = "1 1 0" ]
	run "$SQUAD" handoff --json
	[ "$status" -eq 0 ]
	[ "$(jq -r '.tasks[0].name' <<<"$output")" = "$lost" ]
	[ "$(jq -r '.tasks[0].kind' <<<"$output")" = review ]
	[[ $(jq -r '.tasks[0].change.reason' <<<"$output") == *"changed by task '$won'"* ]]
	validate_json "$SQUAD_SRC/grammar/handoff.schema.json" .squad/handoff.json
	# and its patch still holds both of its files
	run "$SQUAD" diff "$lost"
	[ "$status" -eq 0 ]
	[[ $output == *"diff --git a/a.txt b/a.txt"* ]]
	[[ $output == *"+$(echo "$lost" | tr a-z A-Z)"* ]]
	no_worktrees
}

@test "a user's staged, unstaged and untracked edits survive kill -9 of squad mid-task; the next run sweeps the worktree" {
	repo_with_files <<Y
version: 1
tasks:
  slow: { run: "sed -i 's/^one\$/ONE/' a.txt; touch '$BATS_TEST_TMPDIR/slow.started'; sleep 60", isolate: worktree }
  quick: { run: "true", isolate: worktree }
Y
	sed -i 's/^three$/three (mine)/' a.txt
	echo 'staged edit' >> c.txt
	git add c.txt
	echo 'then unstaged' >> c.txt
	printf '\000\001binary mine' > mine.bin
	user_state ../before
	"$SQUAD" slow > ../squad.out 2>&1 &
	echo $! > "$BATS_TEST_TMPDIR/squad.pid"
	wait_for "$BATS_TEST_TMPDIR/slow.started"
	# the task works in its worktree, not in the user's tree
	[ -n "$(ls -A .squad/worktrees)" ]
	kill -9 "$(cat "$BATS_TEST_TMPDIR/squad.pid")"
	wait "$(cat "$BATS_TEST_TMPDIR/squad.pid")" || true
	user_state ../after.kill
	diff ../before ../after.kill
	# the next run (another task) removes the dead squad's worktree
	run "$SQUAD" quick
	[ "$status" -eq 0 ]
	no_worktrees
	user_state ../after.next
	diff ../before ../after.next
}

@test "binary files, renames, deletions, new files and modes come back in the patch, and apply as git would" {
	repo_with_files <<'Y'
version: 1
tasks:
  change: { run: ./change.sh, isolate: worktree }
  review: { run: ./change.sh, isolate: worktree, changes: review }
Y
	printf '\000\001\002 old binary\377' > data.bin
	printf 'to be renamed\nline 2\nline 3\nline 4\n' > old-name.txt
	printf 'to be deleted\n' > gone.txt
	printf '#!/bin/sh\necho hi\n' > tool.sh
	cat > change.sh <<'S'
#!/bin/sh
printf '\000\003 new binary\376\000' > data.bin
mv old-name.txt new-name.txt
rm gone.txt
chmod +x tool.sh
mkdir -p sub && printf 'fresh\n' > sub/new.txt
S
	chmod +x change.sh
	git add -A
	git commit -qm files
	# what the change makes, done by hand in a copy
	cp -a . "$BATS_TEST_TMPDIR/ref"
	(cd "$BATS_TEST_TMPDIR/ref" && ./change.sh)
	run "$SQUAD" change
	[ "$status" -eq 0 ]
	diff -r --exclude=.git --exclude=.squad "$BATS_TEST_TMPDIR/ref" .
	[ -x tool.sh ]
	[ ! -e gone.txt ]
	[ ! -e old-name.txt ]
	# the kept patch is git's own: binary, a rename, a mode change
	run "$SQUAD" diff change
	[ "$status" -eq 0 ]
	[[ $output == *"GIT binary patch"* ]]
	[[ $output == *"rename from old-name.txt"* ]]
	[[ $output == *"old mode 100644"*"new mode 100755"* ]]
	[[ $output == *"deleted file mode 100644"* ]]
	# the same, kept for review, then applied by squad apply
	git reset -q --hard
	git clean -qfd
	run "$SQUAD" review
	[ "$status" -eq 3 ]
	cmp data.bin <(git show HEAD:data.bin)
	run "$SQUAD" apply review
	[ "$status" -eq 0 ]
	diff -r --exclude=.git --exclude=.squad "$BATS_TEST_TMPDIR/ref" .
	# and git itself takes the patch squad kept
	git reset -q --hard
	git clean -qfd
	"$SQUAD" diff review > review.patch
	git apply --check review.patch
}

# change_repo: a repository whose task `review` changes six paths the
# ways a patch can (binary, rename, deletion, mode, a new file in a new
# folder), kept for review; `none` does nothing. The user has an
# unstaged, a staged and an untracked edit besides.
change_repo() {
	repo_with_files <<'Y'
version: 1
tasks:
  review: { run: ./change.sh, isolate: worktree, changes: review }
  none: "true"
Y
	printf '\000\001\002 old binary\377' > data.bin
	printf 'to be renamed\nline 2\nline 3\nline 4\n' > old-name.txt
	printf 'to be deleted\n' > gone.txt
	printf '#!/bin/sh\necho hi\n' > tool.sh
	cat > change.sh <<'S'
#!/bin/sh
printf '\000\003 new binary\376\000' > data.bin
mv old-name.txt new-name.txt
rm gone.txt
chmod +x tool.sh
mkdir -p sub && printf 'fresh\n' > sub/new.txt
S
	chmod +x change.sh
	git add -A
	git commit -qm files
	sed -i 's/^three$/three (mine)/' a.txt
	echo 'staged edit' >> c.txt
	git add c.txt
	printf '\000\001binary mine' > mine.bin
}

# tree_state FILE: user_state, and every file's mode, temp files of an
# apply included (they must not be left)
tree_state() {
	user_state "$1"
	find . -path ./.git -prune -o -path ./.squad -prune -o -printf '%p %M\n' | sort >> "$1"
}

# files_whole DIR: each file of the tree here is as it was (DIR/before)
# or as the change makes it (DIR/after), never half written; temp files
# of the apply aside
files_whole() {
	local f sum
	while IFS= read -r -d '' f; do
		case $f in *.squad-apply-*) continue ;; esac
		sum=$(sha256sum "$f")
		grep -qxF "$sum" "$1/before.sums" || grep -qxF "$sum" "$1/after.sums" ||
			{ echo "half written: $f"; return 1; }
	done < <(find . -path ./.git -prune -o -path ./.squad -prune -o -type f -print0)
}

# wait_stopped PID: until PID stops itself (SIGSTOP: 0) or ends (1); a
# 20 s hang guard
wait_stopped() {
	local i state
	for ((i = 0; i < 400; i++)); do
		state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
		[ "$state" = T ] && return 0
		[ -z "$state" ] || [ "$state" = Z ] && return 1
		sleep 0.05
	done
	return 1
}

@test "kill -9 at each step of a multi-file squad apply: the next squad leaves the tree exactly before or exactly after, no temp file" {
	change_repo
	run "$SQUAD" review
	[ -s .squad/changes/review.patch ]
	cd ..
	cp -a repo pristine
	# what the change makes, applied whole
	cp -a pristine ref
	(cd ref && "$SQUAD" apply review >/dev/null && tree_state ../after &&
		find . -path ./.git -prune -o -path ./.squad -prune -o -type f -exec sha256sum {} + > ../after.sums)
	(cd pristine && tree_state ../before &&
		find . -path ./.git -prune -o -path ./.squad -prune -o -type f -exec sha256sum {} + > ../before.sums)
	! cmp -s before after || false
	local n=0 stopped=1 got
	while [ "$stopped" = 1 ]; do
		n=$((n + 1))
		rm -rf work
		cp -a pristine work
		cd work
		SQUAD_TEST_FAULT=apply-stop:$n "$SQUAD" apply review > ../apply.out 2>&1 &
		echo $! > "$BATS_TEST_TMPDIR/squad.pid"
		if wait_stopped "$(cat "$BATS_TEST_TMPDIR/squad.pid")"; then
			kill -9 "$(cat "$BATS_TEST_TMPDIR/squad.pid")"
			wait "$(cat "$BATS_TEST_TMPDIR/squad.pid")" || true
			# killed: every file whole, the journal there
			files_whole ..
			[ -n "$(ls -A .squad/applying)" ]
			# the next squad (a run of another task) finishes or undoes it;
			# the review entry of the change still waits (exit 3)
			run "$SQUAD" none
			[ "$status" -eq 3 ]
			tree_state ../recovered
			got=after
			cmp -s ../recovered ../after || got=before
			echo "step $n: $got; $output"
			diff "../$got" ../recovered
			# up to the mark (1 journal + 4 temp files + the mark = step 6)
			# nothing of the user's was replaced: undone; from it on, finished
			[ "$got" = "$( ((n < 6)) && echo before || echo after)" ]
			[[ $output == *"squad: "*"the change of task 'review' ('squad apply'; if its review entry still waits, 'squad done review' clears it)"*"killed squad"* ]]
			[ -z "$(ls -A .squad/applying)" ]
			[ -z "$(find . -name '*.squad-apply-*')" ]
		else
			wait "$(cat "$BATS_TEST_TMPDIR/squad.pid")"
			stopped=0
			tree_state ../done
			diff ../after ../done
		fi
		cd ..
	done
	# journal, 4 temp files, mark, 4 renames, 2 removals, all done: 13
	[ "$n" -eq 14 ]
}

@test "kill -9 while a run applies a task's change (changes: apply): the next run finishes it, naming the task" {
	change_repo
	cat >> Squadfile <<'Y'
  fmt: { run: ./change.sh, isolate: worktree }
Y
	git add Squadfile
	git commit -qm fmt
	cd ..
	cp -a repo ref
	(cd ref && "$SQUAD" fmt >/dev/null && tree_state ../after)
	cd repo
	# stopped after two of its four renames: half of the files written
	SQUAD_TEST_FAULT=apply-stop:8 "$SQUAD" fmt > ../run.out 2>&1 &
	echo $! > "$BATS_TEST_TMPDIR/squad.pid"
	wait_stopped "$(cat "$BATS_TEST_TMPDIR/squad.pid")"
	kill -9 "$(cat "$BATS_TEST_TMPDIR/squad.pid")"
	wait "$(cat "$BATS_TEST_TMPDIR/squad.pid")" || true
	run "$SQUAD" none
	[ "$status" -eq 0 ]
	[[ $output == *"finished the change of task 'fmt', which a killed squad was applying"*"4 of its 6 paths written now"* ]]
	tree_state ../recovered
	diff ../after ../recovered
	[ -z "$(ls -A .squad/applying)" ]
}

@test "a failure at any step of squad apply (a full disk) leaves the tree exactly as it was" {
	change_repo
	run "$SQUAD" review
	[ -s .squad/changes/review.patch ]
	tree_state ../before
	for n in 1 2 5 6 7 9 11 12 13; do
		run env SQUAD_TEST_FAULT=apply-fail:$n "$SQUAD" apply review
		echo "step $n: $output"
		[ "$status" -eq 1 ]
		[[ $output == *"failed on purpose"* ]]
		tree_state ../failed
		diff ../before ../failed
		[ -z "$(ls -A .squad/applying)" ]
	done
	# and the patch is still there to apply
	run "$SQUAD" apply review
	[ "$status" -eq 0 ]
}

@test "a killed apply that had written every file is finished by the next squad, but a file the user changed since is left as it is" {
	change_repo
	run "$SQUAD" review
	# stopped at the mark: every temp file written, nothing renamed yet
	SQUAD_TEST_FAULT=apply-stop:6 "$SQUAD" apply review > ../apply.out 2>&1 &
	echo $! > "$BATS_TEST_TMPDIR/squad.pid"
	wait_stopped "$(cat "$BATS_TEST_TMPDIR/squad.pid")"
	kill -9 "$(cat "$BATS_TEST_TMPDIR/squad.pid")"
	wait "$(cat "$BATS_TEST_TMPDIR/squad.pid")" || true
	# the user edits one of its files before squad runs again
	echo 'my own edit' >> tool.sh
	cp tool.sh ../tool.mine
	run "$SQUAD" none
	[ "$status" -eq 3 ]
	[[ $output == *"left 'tool.sh' as it is"* ]]
	cmp tool.sh ../tool.mine
	[ ! -x tool.sh ]
	# the rest is the change
	[ -e new-name.txt ]
	[ ! -e old-name.txt ]
	[ "$(cat sub/new.txt)" = fresh ]
	[ -z "$(find . -name '*.squad-apply-*')" ]
}

@test "squad diff, squad apply and squad done --failed on a change kept for review" {
	repo_with_files <<'Y'
version: 1
tasks:
  fix: { run: "sed -i 's/^four$/FOUR/' a.txt", isolate: worktree, changes: review }
  other: { run: "sed -i 's/^f$/F/' f.txt", isolate: worktree, changes: review }
  none: "true"
Y
	run "$SQUAD" fix other
	# two changes wait for review: not green (exit 3), nothing failed
	[ "$status" -eq 3 ]
	# nothing in the user's tree yet
	grep -qx four a.txt
	run "$SQUAD" handoff --json
	[ "$status" -eq 0 ]
	[ "$(jq -r '[.tasks[].name] | join(",")' <<<"$output")" = fix,other ]
	[ "$(jq -r '.tasks[0].change.files' <<<"$output")" = 1 ]
	[[ $(jq -r '.tasks[0].change.diffstat' <<<"$output") == *"a.txt"* ]]
	run "$SQUAD" diff fix
	[ "$status" -eq 0 ]
	[[ $output == *"-four"*"+FOUR"* ]]
	# an edit of the user's on those very lines: refused, nothing written
	sed -i 's/^four$/four (mine)/' a.txt
	sha256sum a.txt > a.sum
	run "$SQUAD" apply fix
	[ "$status" -eq 1 ]
	[[ $output == *"nothing was written"*"a.txt"* ]]
	sha256sum -c a.sum
	git checkout -q a.txt
	run "$SQUAD" apply fix
	[ "$status" -eq 0 ]
	grep -qx FOUR a.txt
	[ "$(jq -r '[.tasks[].name] | join(",")' .squad/handoff.json)" = other ]
	# done --failed discards the other one: patch and entry
	run "$SQUAD" done other --failed
	[ "$status" -eq 0 ]
	[[ $output == *"discarded the change of other"* ]]
	[ ! -e .squad/handoff.json ]
	grep -qx f f.txt
	run "$SQUAD" diff other
	[ "$status" -eq 1 ]
	[[ $output == *"no kept change"* ]]
	# a later run that finds the task up to date leaves no entry behind
	run "$SQUAD" none
	[ "$status" -eq 0 ]
	[ ! -e .squad/handoff.json ]
	run "$SQUAD" diff none
	[ "$status" -eq 1 ]
}

@test "a review entry stays in the manifest across runs of other tasks until it is dealt with" {
	repo_with_files <<'Y'
version: 1
tasks:
  fix: { run: "sed -i 's/^four$/FOUR/' a.txt", isolate: worktree, changes: review }
  none: "true"
Y
	run "$SQUAD" fix
	[ "$status" -eq 3 ]
	# a run of another task is not green either while it waits
	run "$SQUAD" none
	[ "$status" -eq 3 ]
	[ "$(jq -r '.tasks[0].name' .squad/handoff.json)" = fix ]
	run "$SQUAD" done fix
	[ "$status" -eq 0 ]
	[[ $output == *"cleared the review of fix"* ]]
	[ ! -e .squad/handoff.json ]
	# the patch stays for squad diff
	run "$SQUAD" diff fix
	[ "$status" -eq 0 ]
}

@test "the pre-commit hook fails while a change waits for review, and passes once it is applied" {
	repo_with_files <<'Y'
version: 1
tasks:
  fix: { run: "sed -i 's/^four$/FOUR/' a.txt", isolate: worktree, changes: review, inputs: [a.txt] }
Y
	"$SQUAD" hook install --target fix
	echo 'nine' >> a.txt
	git add a.txt
	run git commit -qm nine
	# the change waits for the tactician: the hook exits 3, git commits nothing
	[ "$status" -eq 1 ]
	[[ $output == *"the commit waits for the tactician"*"'squad apply'"* ]]
	[ "$(git log --oneline | wc -l)" -eq 1 ]
	[ "$(jq -r '.tasks[0].kind' .squad/handoff.json)" = review ]
	run "$SQUAD" apply fix
	[ "$status" -eq 0 ]
	grep -qx FOUR a.txt
	git add a.txt
	run git commit -qm nine
	[ "$status" -eq 0 ]
	[ "$(git log --oneline | wc -l)" -eq 2 ]
	[ "$(git show HEAD:a.txt | sed -n 4p)" = FOUR ]
}

@test "squad exec: an isolated task's change is in --json and the result, and the command printed applies it (squad apply --exec ID)" {
	repo_with_files <<'Y'
version: 1
Y
	run --separate-stderr "$SQUAD" exec --json <<'T'
- { name: fix, run: "sed -i 's/^four$/FOUR/' a.txt", isolate: worktree, changes: review }
- { name: fmt, run: "sed -i 's/^y=2$/y = 2/' b.py", isolate: worktree }
- { name: check, run: "echo made > scratch.txt", isolate: worktree, changes: discard }
T
	# fix waits for review: exit 3
	[ "$status" -eq 3 ]
	echo "$output" > ../exec.json
	validate_json "$SQUAD_SRC/grammar/exec.schema.json" ../exec.json
	[ "$(jq -r '.tasks[] | "\(.name)=\(.change.fate)"' <<<"$output" | paste -sd' ')" = "fix=review fmt=applied check=discarded" ]
	[ "$(jq -r '.tasks[1].change.apply_command' <<<"$output")" = null ]
	cmd=$(jq -r '.tasks[0].change.apply_command' <<<"$output")
	id=$(basename "$(jq -r .folder <<<"$output")")
	[ "$cmd" = "$SQUAD -C $PWD apply --exec $id fix" ]
	[ "$(jq -r '.tasks[0].change.patch' <<<"$output")" = "$PWD/.squad/exec/$id/changes/fix.patch" ]
	# the manifest's review entry names the same command
	[ "$(jq -r '.handoff[0].change.apply_command' <<<"$output")" = "$cmd" ]
	grep -qx 'y = 2' b.py
	grep -qx four a.txt
	[ ! -e scratch.txt ]
	# squad diff --exec shows it, from anywhere with -C; a run's own
	# Squadfile is not needed
	cd ..
	run "$SQUAD" -C repo diff --exec "$id" fix
	[ "$status" -eq 0 ]
	[[ $output == *"-four"*"+FOUR"* ]]
	# the printed command applies it (from another folder), and clears
	# the entry of that exec's manifest
	run bash -c "$cmd"
	[ "$status" -eq 0 ]
	[[ $output == *"applied the change of fix"*"a.txt"* ]]
	grep -qx FOUR repo/a.txt
	[ ! -e "repo/.squad/exec/$id/handoff.json" ]
	# an ID that is not an exec run's is refused, never a path
	run "$SQUAD" -C repo apply --exec ../.. fix
	[ "$status" -eq 2 ]
	run "$SQUAD" -C repo apply --exec 12-34 fix
	[ "$status" -eq 2 ]
	[[ $output == *"no squad exec run '12-34' here"* ]]
	run "$SQUAD" -C repo list --exec "$id"
	[ "$status" -eq 2 ]
}

@test "squad exec: the result block names the change and the command that applies it" {
	repo_with_files <<'Y'
version: 1
Y
	run "$SQUAD" exec <<'T'
- { name: fix, run: "sed -i 's/^four$/FOUR/' a.txt", isolate: worktree, changes: review }
T
	[ "$status" -eq 3 ]
	[[ $output == *"change: review (1 file)"* ]]
	[[ $output == *"apply: $SQUAD -C $PWD apply --exec "*" fix"* ]]
	cmd=$(sed -n 's/^  apply: //p' <<<"$output")
	run bash -c "$cmd"
	[ "$status" -eq 0 ]
	grep -qx FOUR a.txt
}

@test "changes: discard throws the edits away; a failed task's change is kept, not applied" {
	repo_with_files <<'Y'
version: 1
tasks:
  check: { run: "sed -i 's/^one$/ONE/' a.txt", isolate: worktree, changes: discard }
  broken: { run: "sed -i 's/^two$/TWO/' a.txt; exit 3", isolate: worktree }
Y
	run "$SQUAD" -k check broken
	[ "$status" -eq 1 ]
	[ "$(git status --porcelain)" = "" ]
	run "$SQUAD" diff check
	[ "$status" -eq 1 ]
	grep -q "kept, not applied, as the task did not succeed" .squad/logs/broken.log
	run "$SQUAD" diff broken
	[ "$status" -eq 0 ]
	[[ $output == *"+TWO"* ]]
	[ ! -e .squad/handoff.json ]
	run "$SQUAD" apply broken
	[ "$status" -eq 0 ]
	grep -qx TWO a.txt
	no_worktrees
}

@test "a task's dir is the same folder inside its worktree; SQUAD_ROOT points into it" {
	repo_with_files <<'Y'
version: 1
tasks:
  sub: { run: "pwd > where.txt; echo \"$SQUAD_ROOT\" >> where.txt", dir: pkg, isolate: worktree }
Y
	mkdir pkg && echo keep > pkg/.keep
	git add -A && git commit -qm pkg
	run "$SQUAD" sub
	[ "$status" -eq 0 ]
	# made in the worktree, at pkg/, then applied here
	[ -e pkg/where.txt ]
	[[ $(sed -n 1p pkg/where.txt) == "$PWD/.squad/worktrees/"*/pkg ]]
	[[ $(sed -n 2p pkg/where.txt) == "$PWD/.squad/worktrees/"* ]]
}

@test "the outputs of its needs that git ignores are in the worktree too" {
	repo_with_files <<'Y'
version: 1
tasks:
  build: { run: "mkdir -p dist && echo built > dist/app.txt", outputs: [dist] }
  use: { run: "cat dist/app.txt > used.txt", needs: build, isolate: worktree }
Y
	echo dist/ > .gitignore
	git add .gitignore && git commit -qm ignore
	run "$SQUAD" use
	[ "$status" -eq 0 ]
	[ "$(cat used.txt)" = built ]
	# the copy is no change of the task's: only used.txt is in its patch
	run "$SQUAD" diff use
	[ "$status" -eq 0 ]
	[ "$(grep -c '^diff --git' <<<"$output")" -eq 1 ]
	[[ $output == *"b/used.txt"* ]]
}

@test "outside a git repository an isolated task fails at once, saying why" {
	rm -rf .git
	squadfile <<'Y'
version: 1
tasks:
  fmt: { run: "true", isolate: worktree, retries: 2 }
Y
	run "$SQUAD" fmt
	[ "$status" -eq 1 ]
	grep -q "cannot run isolated: .* is not in a git repository" .squad/logs/fmt.log
	[ "$(grep -c 'attempt' .squad/logs/fmt.log)" -eq 0 ]
}

@test "an interrupted isolated task: worktree removed, its change kept, not applied" {
	repo_with_files <<Y
version: 1
tasks:
  slow: { run: "sed -i 's/^one\$/ONE/' a.txt; touch '$BATS_TEST_TMPDIR/slow.started'; sleep 60", isolate: worktree }
Y
	"$SQUAD" slow > ../squad.out 2>&1 &
	echo $! > "$BATS_TEST_TMPDIR/squad.pid"
	wait_for "$BATS_TEST_TMPDIR/slow.started"
	kill -TERM "$(cat "$BATS_TEST_TMPDIR/squad.pid")"
	rc=0
	wait "$(cat "$BATS_TEST_TMPDIR/squad.pid")" || rc=$?
	[ "$rc" -eq 130 ]
	no_worktrees
	grep -qx one a.txt
	run "$SQUAD" diff slow
	[ "$status" -eq 0 ]
	[[ $output == *"+ONE"* ]]
}

@test "bad isolate and changes values are refused at their line and column" {
	squadfile <<'Y'
version: 1
tasks:
  a: { run: "true", isolate: yes }
  b: { run: "true", changes: review }
Y
	run "$SQUAD" -n
	[ "$status" -eq 2 ]
	[[ $output == *"Squadfile:3:30: error: isolate must be 'worktree'"* ]]
	[[ $output == *"Squadfile:4:30: error: task 'b' sets changes: but does not run isolated"*"add 'isolate: worktree'"* ]]
}

# --- agents -------------------------------------------------------------------

@test "acp (fake agent): an isolated agent writes inside its worktree only, never in the user's tree" {
	repo_with_files <<Y
version: 1
workers:
  fake: { command: [python3, "$SQUAD_SRC/tests/e2e/fake-acp-agent.py"], protocol: acp, timeout: 30s }
defaults: { worker: fake, isolate: worktree }
tasks:
  in: { prompt: "write made.txt" }
  out: { prompt: "write $PWD/escaped.txt" }
  peek: { prompt: "read $PWD/a.txt" }
Y
	run "$SQUAD" -k in out peek
	# in's change waits for review
	[ "$status" -eq 3 ]
	# a relative path is the session's: written in the worktree, so
	# it is in the patch, not in the user's tree
	[ ! -e made.txt ]
	[ ! -e escaped.txt ]
	grep -q "allowed fs/write_text_file '$PWD/.squad/worktrees/[0-9]*-[0-9]*/made.txt'" .squad/logs/in.log
	grep -q "denied fs/write_text_file '$PWD/escaped.txt': outside the project" .squad/logs/out.log
	grep -q "denied fs/read_text_file '$PWD/a.txt': outside the project" .squad/logs/peek.log
	run "$SQUAD" diff in
	[ "$status" -eq 0 ]
	[[ $output == *"b/made.txt"*"+agent"* ]]
	run "$SQUAD" apply in
	[ "$status" -eq 0 ]
	[ "$(cat made.txt)" = agent ]
}

# --- an agent: the real Qwen Code CLI over ACP --------------------------------

@test "qwen acp: an isolated agent's tool call writes in its worktree; its patch is a review entry, and squad apply applies it" {
	QWEN_BIN=$("$SQUAD_SRC/tests/qwen/install.sh" "$QWEN_DIR" | tail -1)
	[ -x "$QWEN_BIN" ]
	export HOME=$BATS_TEST_TMPDIR/home XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
	mkdir -p "$TMPDIR"
	"$SQUAD_SRC/tests/qwen/write-settings.sh" "$HOME"
	unset QWEN_HOME QWEN_CODE_UNATTENDED_RETRY HTTP_PROXY HTTPS_PROXY http_proxy https_proxy \
		OPENAI_API_KEY OPENAI_BASE_URL OPENAI_MODEL
	export NO_PROXY=127.0.0.1,localhost
	echo '{"rules": [{"match": "marker", "tool_call": "touch agent-was-here.txt", "then": "Created the marker."}]}' > ../script.json
	node "$SQUAD_SRC/tests/qwen/mock-server.js" --port-file ../port --script ../script.json \
		--log ../requests.log > ../server.out 2>&1 &
	SERVER=$!
	wait_for ../port
	repo_with_files <<Y
version: 1
workers:
  qwen:
    command: ["$QWEN_BIN", --acp, --auth-type, openai]
    protocol: acp
    env: { OPENAI_BASE_URL: "http://127.0.0.1:$(cat ../port)/v1", OPENAI_API_KEY: test, OPENAI_MODEL: mock }
    timeout: 90s
tasks:
  act: { prompt: "create the marker file", allow_commands: [touch], isolate: worktree }
Y
	run "$SQUAD" act
	[ "$status" -eq 3 ]
	grep -q "allowed execute 'touch agent-was-here.txt'" .squad/logs/act.log
	# written in the worktree, not in the user's tree
	[ ! -e agent-was-here.txt ]
	no_worktrees
	run "$SQUAD" handoff --json
	[ "$status" -eq 0 ]
	[ "$(jq -r '.tasks[0].kind' <<<"$output")" = review ]
	[ "$(jq -r '.tasks[0].worker' <<<"$output")" = qwen ]
	[ "$(jq -r '.tasks[0].change.answer' <<<"$output")" = "Created the marker." ]
	[[ $(jq -r '.tasks[0].change.diffstat' <<<"$output") == *"agent-was-here.txt"* ]]
	validate_json "$SQUAD_SRC/grammar/handoff.schema.json" .squad/handoff.json
	run "$SQUAD" apply act
	[ "$status" -eq 0 ]
	[ -e agent-was-here.txt ]
	[ ! -e .squad/handoff.json ]
}
