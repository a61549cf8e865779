#!/usr/bin/env bats
# The pre-commit hook checks exactly what will be committed (squad --stash):
# unstaged changes and untracked files are set aside and put back byte for
# byte, after a failure, a signal or a kill -9 at any step; and the hook
# finds squad without PATH. Every repository is real, made with the git CLI.
bats_require_minimum_version 1.5.0
load helpers

git() { command git -c user.email=t@example.com -c user.name=t -c init.defaultBranch=main "$@"; }

# Every path of the working tree but .git and .squad: type, mode, mtime
# and content hash (a symlink's target), one line each.
tree_state() {
	find . \( -path ./.git -o -path ./.squad \) -prune -o -mindepth 1 -print0 |
		LC_ALL=C sort -z |
		while IFS= read -r -d '' f; do
			if [ -L "$f" ]; then
				printf 'l %s -> %s\n' "$f" "$(readlink "$f")"
			elif [ -d "$f" ]; then
				printf 'd %s %s\n' "$(stat -c %a "$f")" "$f"
			else
				printf 'f %s %s %s %s\n' "$(stat -c '%a %y' "$f")" \
					"$(sha256sum < "$f" | cut -c1-64)" "$f"
			fi
		done
}

# same_tree BEFORE: the tree is as tree_state printed it (the difference
# shown when not)
same_tree() {
	diff -u <(printf '%s\n' "$1") <(tree_state)
}

# What git sees: the index and both diffs, binary included.
git_state() {
	git ls-files -s --debug | sha256sum
	git diff --binary | sha256sum
	git diff --cached --binary | sha256sum
	git status --porcelain=v1 --untracked-files=all
}

# The task `check` copies what it sees of src/ to $SEEN, then fails when
# any file there holds BAD (with $MARK set, it first touches $MARK and
# sleeps); `fmt` writes over files, as a formatter would; `noop` does
# nothing. Committed: a text file, a binary, a script, a file in a folder
# of its own, a symlink.
project() {
	mkdir repo
	cd repo || return 1
	git init -q .
	squadfile <<'Y'
version: 1
default: check
tasks:
  check:
    run: '[ -z "$MARK" ] || { touch "$MARK"; sleep 60; }; rm -rf "$SEEN" && cp -a src "$SEEN" && ! grep -rq BAD src'
    inputs: ["src/**"]
  fmt: { run: "echo formatted > src/blob.bin; echo made > src/untracked.txt" }
  noop: { run: "true" }
  ignored: { run: "test -e ignored.log && test -e .squad/state" }
Y
	mkdir -p src/lone
	printf 'line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8\n' > src/a.txt
	head -c 3000 /dev/urandom > src/blob.bin
	printf '#!/bin/sh\necho hi\n' > src/run.sh
	echo 'alone' > src/lone/only.txt
	ln -s a.txt src/link
	git add -A
	git commit -qm init
	export SEEN=$BATS_TEST_TMPDIR/seen
}

# Unstaged changes of every kind, and untracked files (a binary among them).
mess_up() {
	echo 'staged' >> src/a.txt
	git add src/a.txt
	echo 'not staged' >> src/a.txt
	head -c 2000 /dev/urandom > src/blob.bin
	chmod +x src/run.sh
	rm -r src/lone
	ln -sf run.sh src/link
	echo 'new' > src/untracked.txt
	printf 'odd\n' > "src/a name with
a newline, 'quotes' and \$"
	mkdir -p src/newdir/deep
	head -c 1000 /dev/urandom > src/newdir/deep/raw.bin
	chmod 600 src/newdir/deep/raw.bin
	chmod 700 src/newdir/deep
	echo 'intent' > src/ita.txt
	git add -N src/ita.txt
}

# A broken line staged, then taken out of the working tree only: the
# commit fails, commits nothing, and leaves the tree as it was.
stage_broken_commit_fails() {
	echo 'BAD' >> src/a.txt
	git add src/a.txt
	sed -i '$d' src/a.txt
	before=$(tree_state)
	run git commit -qm broken
	[ "$status" -ne 0 ]
	[[ $output == *"FAILED check"* ]]
	[ "$(git log --oneline | wc -l)" -eq 1 ]
	grep -q BAD "$SEEN/a.txt"
	same_tree "$before"
}

@test "a broken file staged and fixed only in the working tree: git commit fails and commits nothing" {
	project
	"$SQUAD" hook install
	stage_broken_commit_fails
	[ "$(git show :src/a.txt | tail -1)" = BAD ]
}

@test "a staged fix with a broken working tree passes and commits the fix" {
	project
	"$SQUAD" hook install
	echo 'fixed' >> src/a.txt
	git add src/a.txt
	echo 'BAD' >> src/a.txt
	before=$(tree_state)
	run git commit -qm fix
	[ "$status" -eq 0 ]
	[ "$(git log --oneline | wc -l)" -eq 2 ]
	[ "$(git show HEAD:src/a.txt | tail -1)" = fixed ]
	same_tree "$before"
	[ "$(tail -1 src/a.txt)" = BAD ]
}

@test "a partially staged file: the task sees the staged hunk only; both diffs are kept" {
	project
	"$SQUAD" hook install
	sed -i 's/^line 1$/line one/; s/^line 8$/line BAD/' src/a.txt
	# stage the first hunk alone, as git add -p would
	git diff -U0 src/a.txt | awk '/^@@/ { n++ } n < 2' | git apply --cached --unidiff-zero -
	[ "$(git show :src/a.txt | head -1)" = "line one" ]
	[ "$(git show :src/a.txt | tail -1)" = "line 8" ]
	before=$(tree_state)
	unstaged=$(git diff --binary)
	run git commit -qm "first hunk"
	[ "$status" -eq 0 ]
	cmp "$SEEN/a.txt" <(git show HEAD:src/a.txt)
	[ "$(git show HEAD:src/a.txt | tail -1)" = "line 8" ]
	same_tree "$before"
	[ "$(git diff src/a.txt | grep -c '^[-+]line')" -eq 2 ]
	[ "$(git status --porcelain=v1 src/a.txt)" = " M src/a.txt" ]
	[ "$(git diff --binary)" = "$unstaged" ]
}

@test "untracked, binary, deleted, mode and symlink changes: set aside for the task, all back byte for byte" {
	project
	mess_up
	before=$(tree_state)
	gitbefore=$(git_state)
	run "$SQUAD" --staged --stash
	[ "$status" -eq 0 ]
	# the task saw the index's tree
	[ ! -e "$SEEN/untracked.txt" ]
	[ ! -e "$SEEN/newdir" ]
	[ ! -e "$SEEN/ita.txt" ]
	cmp "$SEEN/blob.bin" <(git show :src/blob.bin)
	cmp "$SEEN/a.txt" <(git show :src/a.txt)
	[ "$(cat "$SEEN/lone/only.txt")" = alone ]
	[ ! -x "$SEEN/run.sh" ]
	[ "$(readlink "$SEEN/link")" = a.txt ]
	# and everything is back
	same_tree "$before"
	[ "$(git_state)" = "$gitbefore" ]
	[ ! -e src/lone ]
	[ ! -e .squad/stash ]
}

@test "ignored files, files inside .squad and a clean tree are left alone" {
	project
	echo 'ignored.log' > .gitignore
	git add .gitignore
	git commit -qm ignore
	echo 'log' > ignored.log
	before=$(tree_state)
	run "$SQUAD" --staged --stash
	[ "$status" -eq 0 ]
	[ ! -e .squad/stash ]
	# .squad/ is squad's even where git does not ignore it
	rm .squad/.gitignore
	[[ $(git status --porcelain --untracked-files=all) == *".squad/state"* ]]
	run "$SQUAD" --stash ignored
	[ "$status" -eq 0 ]
	[ "$(cat ignored.log)" = log ]
	same_tree "$before"
}

@test "a failing task, SIGINT and SIGTERM: everything is put back" {
	project
	mess_up
	before=$(tree_state)
	echo 'BAD' > src/bad.txt
	git add src/bad.txt
	before=$(tree_state)
	run "$SQUAD" --staged --stash
	[ "$status" -eq 1 ]
	same_tree "$before"
	git rm -q --cached src/bad.txt
	rm src/bad.txt
	before=$(tree_state)
	for sig in INT TERM; do
		export MARK=$BATS_TEST_TMPDIR/mark.$sig
		"$SQUAD" --stash check 2>"$BATS_TEST_TMPDIR/err.$sig" &
		pid=$!
		wait_for "$MARK"
		# the task runs on the staged tree
		[ ! -e src/untracked.txt ]
		kill -s "$sig" "$pid"
		rc=0
		wait "$pid" || rc=$?
		[ "$rc" -eq 130 ]
		same_tree "$before"
		[ ! -e .squad/stash ]
	done
}

@test "Ctrl-C while files move waits for them: all put back, exit 130" {
	project
	mess_up
	before=$(tree_state)
	for step in save-moved save-done restore-one; do
		run env SQUAD_TEST_FAULT="sigint:$step" "$SQUAD" --stash noop
		echo "step $step: status $status"
		[ "$status" -eq 130 ]
		same_tree "$before"
		[ ! -e .squad/stash ]
	done
}

# The steps of stash.h, and whether a manifest is left for the next run.
STEPS_WITH_MANIFEST="save-moved save-aside save-done restore restore-one restore-manifest"
STEPS_WITHOUT="save-manifest restore-cleanup"

@test "kill -9 at every step: the next squad puts everything back byte for byte and says so" {
	project
	mess_up
	before=$(tree_state)
	gitbefore=$(git_state)
	for step in $STEPS_WITH_MANIFEST $STEPS_WITHOUT; do
		run env SQUAD_TEST_FAULT="$step" "$SQUAD" --staged --stash
		echo "step $step: status $status"
		[ "$status" -eq 137 ]
		case " $STEPS_WITH_MANIFEST " in
		*" $step "*)
			[ -e .squad/stash/manifest ]
			;;
		*)
			[ ! -e .squad/stash/manifest ]
			;;
		esac
		if [ "$step" = save-done ] || [ "$step" = restore ]; then
			# killed with the tree set aside: the untracked files are away
			[ ! -e src/untracked.txt ]
			[ "$(tree_state)" != "$before" ]
		fi
		run "$SQUAD" check
		[ "$status" -eq 0 ]
		case " $STEPS_WITH_MANIFEST " in
		*" $step "*)
			[[ $output == *"put back "*" that an interrupted 'squad --stash' had set aside"* ]]
			;;
		*)
			[[ $output != *"put back"* ]]
			;;
		esac
		same_tree "$before"
		[ "$(git_state)" = "$gitbefore" ]
		[ ! -e .squad/stash ]
		[ ! -e .squad/kept ]
	done
}

@test "kill -9 of squad from outside, and of the hook under git commit: the next run restores" {
	project
	mess_up
	before=$(tree_state)
	export MARK=$BATS_TEST_TMPDIR/mark
	"$SQUAD" --stash check 2>/dev/null &
	pid=$!
	wait_for "$MARK"
	kill -9 "$pid"
	wait "$pid" || true
	[ ! -e src/untracked.txt ]
	run "$SQUAD" -n
	[[ $output == *"warning: files are set aside in $PWD/.squad/stash (a 'squad --stash' runs, or was cut short: then the next run, not -n, puts them back)"* ]]
	[ ! -e src/untracked.txt ]
	unset MARK
	run "$SQUAD" noop
	[ "$status" -eq 0 ]
	[[ $output == *"put back "* ]]
	same_tree "$before"
	"$SQUAD" hook install
	run env SQUAD_TEST_FAULT=save-done git commit -qm killed
	[ "$status" -ne 0 ]
	[ "$(git log --oneline | wc -l)" -eq 1 ]
	[ ! -e src/untracked.txt ]
	run "$SQUAD" noop
	[[ $output == *"put back "* ]]
	same_tree "$before"
}

@test "a file changed while set aside is kept in .squad/kept, never overwritten" {
	project
	mess_up
	before=$(tree_state)
	# a task that writes over set-aside files, as a formatter would
	run "$SQUAD" --stash fmt
	[ "$status" -eq 0 ]
	[[ $output == *"'src/blob.bin' changed while it was set aside; that version is kept as '"* ]]
	[[ $output == *"'src/untracked.txt' changed while it was set aside"* ]]
	same_tree "$before"
	[ "$(cat .squad/kept/*-blob.bin)" = formatted ]
	[ "$(cat .squad/kept/*-untracked.txt)" = made ]
	# after a kill, the user writes a set-aside path before the next run
	rm -r .squad/kept
	run env SQUAD_TEST_FAULT=save-done "$SQUAD" --stash noop
	[ "$status" -eq 137 ]
	echo 'mine' > src/untracked.txt
	run "$SQUAD" noop
	[[ $output == *"'src/untracked.txt' changed while it was set aside"* ]]
	same_tree "$before"
	[ "$(cat .squad/kept/*-untracked.txt)" = mine ]
}

@test "git commit -a and git commit PATH check the index git commits" {
	project
	"$SQUAD" hook install
	echo 'BAD' >> src/a.txt
	echo 'untracked BAD' > src/new.txt
	run git commit -qam all
	[ "$status" -ne 0 ]
	[[ $output == *"FAILED check"* ]]
	[ "$(git log --oneline | wc -l)" -eq 1 ]
	[ ! -e "$SEEN/new.txt" ]
	run git commit -qm path src/a.txt
	[ "$status" -ne 0 ]
	[ "$(git log --oneline | wc -l)" -eq 1 ]
	rm src/new.txt
	sed -i '$d' src/a.txt
	echo 'fine' >> src/a.txt
	run git commit -qam all
	[ "$status" -eq 0 ]
	[ "$(git log --oneline | wc -l)" -eq 2 ]
}

@test "in a linked worktree: the shared hook checks that worktree's index" {
	project
	git worktree add -q ../side -b side
	cd ../side
	run "$SQUAD" hook install
	[ "$status" -eq 0 ]
	[[ $output == *"repo/.git/hooks/pre-commit"* ]]
	echo 'untracked' > src/u.txt
	stage_broken_commit_fails
	[ ! -e "$SEEN/u.txt" ]
}

@test "--stash outside a repository says why; -n sets nothing aside" {
	mkdir plain && cd plain
	squadfile <<'Y'
version: 1
default: t
tasks:
  t: { run: "true" }
Y
	run "$SQUAD" --stash
	[ "$status" -eq 1 ]
	[[ $output == *"is not in a git repository: --stash sets aside what git has not staged"* ]]
	cd ..
	project
	mess_up
	before=$(tree_state)
	run "$SQUAD" -n --stash check
	[ "$status" -eq 0 ]
	[ ! -e .squad/stash ]
	same_tree "$before"
}

@test "a step that fails while setting aside or putting back loses nothing" {
	project
	mess_up
	before=$(tree_state)
	run env SQUAD_TEST_FAULT=save-error "$SQUAD" --stash noop
	[ "$status" -eq 1 ]
	[[ $output == *"squad: save-error: failed on purpose (SQUAD_TEST_FAULT)"* ]]
	same_tree "$before"
	[ ! -e .squad/stash ]
	run env SQUAD_TEST_FAULT=restore-error "$SQUAD" --stash noop
	[ "$status" -eq 1 ]
	[[ $output == *"restore-error: failed on purpose (SQUAD_TEST_FAULT); the next squad run here puts the rest back"* ]]
	[ -e .squad/stash/manifest ]
	run "$SQUAD" noop
	[ "$status" -eq 0 ]
	[[ $output == *"put back "* ]]
	same_tree "$before"
	[ ! -e .squad/stash ]
}

@test "a stash manifest squad did not write stops the run and touches nothing" {
	project
	mess_up
	before=$(tree_state)
	run env SQUAD_TEST_FAULT=save-done "$SQUAD" --stash noop
	[ "$status" -eq 137 ]
	aside=$(tree_state)
	printf 'not a manifest' > .squad/stash/manifest
	run "$SQUAD" --stash noop
	[ "$status" -eq 1 ]
	[[ $output == *"/.squad/stash/manifest' is not a manifest squad wrote; the files it lists are in that folder"* ]]
	same_tree "$aside"
	[ "$(ls .squad/stash | wc -l)" -gt 2 ]
	# well formed, but naming a path outside the tree, or in .git
	oid=$(printf '%040d' 0)
	for bad in ../evil src/../../evil .git/config src//a.txt; do
		printf 'squad-stash 1\0%s/\0f 644 %s\0- -\0\0%s\0' "$PWD" "$oid" "$bad" \
			> .squad/stash/manifest
		run "$SQUAD" noop
		[ "$status" -eq 1 ]
		[[ $output == *"is not a manifest squad wrote"* ]]
	done
	same_tree "$aside"
}

@test "a symlink planted at .squad/stash or .squad/kept leads nothing astray" {
	project
	mess_up
	before=$(tree_state)
	mkdir -p "$BATS_TEST_TMPDIR/elsewhere" .squad
	# the stash folder: refused before anything moves
	ln -s "$BATS_TEST_TMPDIR/elsewhere" .squad/stash
	run "$SQUAD" --stash noop
	[ "$status" -eq 1 ]
	[[ $output == *"/.squad/stash' is a symlink, not a folder; squad will not follow it"* ]]
	same_tree "$before"
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/elsewhere")" ]
	rm .squad/stash
	# the kept folder: a file changed while set aside is not moved there
	ln -s "$BATS_TEST_TMPDIR/elsewhere" .squad/kept
	run "$SQUAD" --stash fmt
	[ "$status" -eq 1 ]
	[[ $output == *"/.squad/kept' is a symlink, not a folder; squad will not follow it"* ]]
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/elsewhere")" ]
	# the stash stays for the next run, which puts everything back
	rm .squad/kept
	run "$SQUAD" noop
	[ "$status" -eq 0 ]
	[ "$(cat .squad/kept/*-blob.bin)" = formatted ]
	same_tree "$before"
}

@test "a repository moved after a kill: squad says where the files are and moves nothing" {
	project
	mess_up
	run env SQUAD_TEST_FAULT=save-done "$SQUAD" --stash noop
	[ "$status" -eq 137 ]
	cd ..
	mv repo moved
	cd moved
	aside=$(tree_state)
	run "$SQUAD" noop
	[ "$status" -eq 1 ]
	[[ $output == *"the working tree was at '$BATS_TEST_TMPDIR/repo/' when its files were set aside in '$PWD/.squad/stash'; move them back by hand"* ]]
	same_tree "$aside"
	[ ! -e "$BATS_TEST_TMPDIR/repo" ]
}

@test "the hook calls the squad that installed it by absolute path, even without it on PATH" {
	project
	bin="$BATS_TEST_TMPDIR/it's a \"bin\" \$dir"
	mkdir -p "$bin"
	cp "$SQUAD" "$bin/squad"
	# installed by a bare 'squad' found on PATH
	PATH="$bin:$PATH" run squad hook install
	[ "$status" -eq 0 ]
	sh -n .git/hooks/pre-commit
	eval "$(grep '^squad=' .git/hooks/pre-commit)"
	[ "$squad" = "$bin/squad" ]
	echo 'BAD' >> src/a.txt
	git add src/a.txt
	PATH=/usr/bin:/bin run git commit -qm broken
	[ "$status" -ne 0 ]
	[[ $output == *"FAILED check"* ]]
	[ "$(git log --oneline | wc -l)" -eq 1 ]
	git reset -q --hard
	echo 'fine' >> src/a.txt
	git add src/a.txt
	PATH=/usr/bin:/bin run git commit -qm fine
	[ "$status" -eq 0 ]
	[ "$(git log --oneline | wc -l)" -eq 2 ]
}

@test "after squad moved: the hook takes squad from PATH, else says what to do in one line" {
	project
	bin=$BATS_TEST_TMPDIR/old
	mkdir -p "$bin" "$BATS_TEST_TMPDIR/onpath"
	cp "$SQUAD" "$bin/squad"
	"$bin/squad" hook install
	mv "$bin" "$BATS_TEST_TMPDIR/moved"
	echo 'BAD' >> src/a.txt
	git add src/a.txt
	PATH=/usr/bin:/bin run --separate-stderr git commit -qm broken
	[ "$status" -ne 0 ]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	[[ $stderr == "squad: the pre-commit hook cannot find squad ('$bin/squad' is gone and none is on PATH): install it, then run 'squad hook install' again" ]]
	[ "$(git log --oneline | wc -l)" -eq 1 ]
	# the one on PATH is used
	ln -s "$SQUAD" "$BATS_TEST_TMPDIR/onpath/squad"
	PATH="$BATS_TEST_TMPDIR/onpath:/usr/bin:/bin" run git commit -qm broken
	[ "$status" -ne 0 ]
	[[ $output == *"FAILED check"* ]]
	sed -i '$d' src/a.txt
	git add src/a.txt
	PATH="$BATS_TEST_TMPDIR/onpath:/usr/bin:/bin" run git commit --allow-empty -qm ok
	[ "$status" -eq 0 ]
}
