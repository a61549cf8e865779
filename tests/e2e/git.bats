#!/usr/bin/env bats
# Git-aware runs: --staged/--changed selection, up-to-date checks, replay,
# the pre-commit hook. Every repository is real, made with the git CLI.
bats_require_minimum_version 1.5.0
load helpers

git() { command git -c user.email=t@example.com -c user.name=t -c init.defaultBranch=main "$@"; }

repo() {
	git init -q .
	mkdir -p src/a src/b docs
	echo 'int a;' > src/a/one.c
	echo 'int b;' > src/b/two.c
	echo '# doc' > docs/index.md
	echo 'notes' > notes.txt
}

# top needs low; each reads its own folder of src/ and appends to ./ran
low_top() {
	squadfile <<'Y'
version: 1
default: top
tasks:
  low: { run: "echo low >> ran", inputs: ["src/a/*"] }
  top: { run: "echo top >> ran", inputs: ["src/b/*"], needs: [low] }
Y
}

commit_all() {
	git add -A && git commit -qm "${1:-commit}"
}

@test "--staged and --changed see what git diff and git ls-files see" {
	repo
	squadfile <<'Y'
version: 1
default: list
tasks:
  list: "tr '\\0' '\\n' < \"$SQUAD_CHANGED\" | sort > changed.out"
Y
	echo changed.out > .gitignore
	commit_all
	# a mix: modified, staged, deleted, renamed, untracked, ignored
	echo 'int a2;' >> src/a/one.c
	git add src/a/one.c
	echo 'int b2;' >> src/b/two.c
	git rm -q docs/index.md
	git mv notes.txt NOTES.txt
	mkdir -p new && echo fresh > new/file.txt
	echo junk > ignored.log && echo '*.log' >> .gitignore
	run "$SQUAD" --staged
	[ "$status" -eq 0 ]
	diff <(git diff --name-only --no-renames --cached | sort) changed.out
	run "$SQUAD" --changed
	[ "$status" -eq 0 ]
	diff <( (git diff --name-only --no-renames HEAD; git ls-files -o --exclude-standard) | sort -u) changed.out
	# against another revision
	commit_all second
	echo more >> src/b/two.c
	run "$SQUAD" --changed=HEAD~1
	[ "$status" -eq 0 ]
	diff <( (git diff --name-only --no-renames HEAD~1; git ls-files -o --exclude-standard) | sort -u) changed.out
	# renames count as both paths
	grep -qx notes.txt changed.out
	grep -qx NOTES.txt changed.out
}

@test "selection runs the tasks whose inputs changed, and what they need" {
	repo
	squadfile <<'Y'
version: 1
default: all
tasks:
  prep: { run: "echo prep >> ran", inputs: ["docs/**"] }
  a: { run: "echo a >> ran", inputs: ["src/a/*.c"], needs: [prep] }
  b: { run: "echo b >> ran", inputs: ["src/b/*.c"] }
  always: "echo always >> ran"
  all: { needs: [a, b, always] }
Y
	echo ran > .gitignore
	commit_all
	echo 'int x;' >> src/b/two.c
	git add src/b/two.c
	run "$SQUAD" --staged
	[ "$status" -eq 0 ]
	[ "$(sort ran | tr '\n' ' ')" = "always b " ]
	rm ran
	echo 'int y;' >> src/a/one.c
	run "$SQUAD" --changed
	[ "$status" -eq 0 ]
	# a changed; prep is what a needs; b still differs from HEAD, but its
	# inputs are as at its last success: it is up to date
	[ "$(sort ran | tr '\n' ' ')" = "a always prep " ]
	[[ $output == *"up to date b"* ]]
}

@test "an unchanged task with inputs is up to date; an input edit runs it again" {
	repo
	squadfile <<'Y'
version: 1
default: build
tasks:
  build: { run: "echo built >> count; echo 'built ok'", inputs: ["src/**/*.c"] }
Y
	commit_all
	run "$SQUAD"
	[ "$status" -eq 0 ]
	run "$SQUAD"
	[ "$status" -eq 0 ]
	[[ $output == *"up to date build (last"* ]]
	[ "$(wc -l < count)" -eq 1 ]
	# an untracked-but-matching new file, then an edit of a tracked one
	echo 'int z;' > src/a/three.c
	run "$SQUAD"
	[ "$(wc -l < count)" -eq 2 ]
	run "$SQUAD"
	[ "$(wc -l < count)" -eq 2 ]
	echo 'int a3;' >> src/a/one.c
	run "$SQUAD"
	[ "$(wc -l < count)" -eq 3 ]
	# a change to the definition counts too
	sed -i 's/built ok/built fine/' Squadfile
	run "$SQUAD"
	[ "$(wc -l < count)" -eq 4 ]
}

@test "inputs follow git's ignore rules and index as they change, run after run" {
	repo
	squadfile <<'Y'
version: 1
default: build
tasks:
  build: { run: "echo built >> count", inputs: ["src/**"] }
Y
	printf '%s\n' '*.gen' count > .gitignore
	echo one > src/a/x.gen
	commit_all
	# the later runs may take git's decisions from .squad/git (no
	# libgit2); what they list must be what libgit2 would
	for i in 1 2 3; do run "$SQUAD"; [ "$status" -eq 0 ]; done
	[ "$(wc -l < count)" -eq 1 ]
	echo two > src/a/x.gen # ignored: not an input
	run "$SQUAD"
	[[ $output == *"up to date build"* ]]
	# the rule gone from .gitignore: x.gen is an input now
	printf '%s\n' count > .gitignore
	run "$SQUAD"
	[ "$(wc -l < count)" -eq 2 ]
	run "$SQUAD"
	[ "$(wc -l < count)" -eq 2 ]
	# ignored again, by .git/info/exclude: the input set changed again
	echo '*.gen' >> .git/info/exclude
	run "$SQUAD"
	[ "$(wc -l < count)" -eq 3 ]
	echo three > src/a/x.gen
	run "$SQUAD"
	[ "$(wc -l < count)" -eq 3 ]
	# tracked by force: an input whatever the rules say
	git add -f src/a/x.gen
	run "$SQUAD"
	[ "$(wc -l < count)" -eq 4 ]
	echo four > src/a/x.gen
	run "$SQUAD"
	[ "$(wc -l < count)" -eq 5 ]
}

@test "a dependency's change invalidates the tasks behind it" {
	repo
	low_top
	commit_all
	run "$SQUAD"
	run "$SQUAD"
	[ "$(wc -l < ran)" -eq 2 ]
	echo 'int a4;' >> src/a/one.c
	run "$SQUAD"
	[ "$(tail -2 ran | tr '\n' ' ')" = "low top " ]
}

@test "-n reads the state: it shows what is up to date, and writes nothing" {
	repo
	low_top
	commit_all
	run "$SQUAD" -n
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == *"low   shell   echo low >> ran" ]]
	[[ ${lines[1]} == *"top   shell   echo top >> ran" ]]
	[ ! -e .squad ]
	run "$SQUAD"
	run "$SQUAD" -n
	[[ ${lines[0]} == *"low   up to date" ]]
	[[ ${lines[1]} == *"top   up to date" ]]
	echo 'int b2;' >> src/b/two.c
	run "$SQUAD" -n
	[[ ${lines[0]} == *"low   up to date" ]]
	[[ ${lines[1]} == *"top   shell   echo top >> ran" ]]
	[ "$(wc -l < ran)" -eq 2 ]
}

@test "-B runs everything; a missing output makes a task run" {
	repo
	squadfile <<'Y'
version: 1
default: gen
tasks:
  gen: { run: "mkdir -p out && echo x > out/gen.txt && echo gen >> ran",
         inputs: ["src/**"], outputs: ["out/*.txt"] }
Y
	echo out > .gitignore
	commit_all
	run "$SQUAD"
	run "$SQUAD"
	[ "$(wc -l < ran)" -eq 1 ]
	run "$SQUAD" -B
	[ "$(wc -l < ran)" -eq 2 ]
	rm out/gen.txt
	run "$SQUAD"
	[ "$(wc -l < ran)" -eq 3 ]
	run "$SQUAD"
	[ "$(wc -l < ran)" -eq 3 ]
}

@test "--replay prints an up-to-date task's last output" {
	repo
	squadfile <<'Y'
version: 1
default: t
tasks:
  t: { run: "echo the-output-line", inputs: ["src/**"] }
Y
	commit_all
	run "$SQUAD"
	run "$SQUAD"
	[[ $output == *"up to date t"* ]]
	# the log itself is not printed (the summary table quotes its last line)
	! printf '%s\n' "$output" | grep -qx the-output-line || false
	run "$SQUAD" --replay
	[[ $output == *"up to date t"* ]]
	printf '%s\n' "$output" | grep -qx the-output-line
}

@test "outside a git repository inputs are hashed from the files; selection fails clearly" {
	mkdir -p src && echo 1 > src/x.c
	squadfile <<'Y'
version: 1
default: t
tasks:
  t: { run: "echo t >> ran", inputs: ["src/*.c"] }
Y
	run "$SQUAD"
	run "$SQUAD"
	[ "$(wc -l < ran)" -eq 1 ]
	echo 2 > src/x.c
	run "$SQUAD"
	[ "$(wc -l < ran)" -eq 2 ]
	run "$SQUAD" --staged
	[ "$status" -eq 2 ]
	[[ $output == *"not in a git repository"* ]]
}

@test "{changed} gives a worker one argv element per changed path" {
	repo
	squadfile <<'Y'
version: 1
default: t
workers:
  lister: { command: [printf, "<%s>\n", "{changed}"], output: text }
tasks:
  t: { worker: lister, prompt: "list", inputs: ["src/**", "*.txt"] }
Y
	commit_all
	echo 'x' >> src/a/one.c
	echo 'y' > "with space.txt"
	echo 'z' >> docs/index.md
	run "$SQUAD" --changed
	[ "$status" -eq 0 ]
	grep -qx '<src/a/one.c>' .squad/logs/t.log
	grep -qx '<with space.txt>' .squad/logs/t.log
	! grep -q 'docs/index.md' .squad/logs/t.log || false
}

@test "the manifest names the changed paths that matched each entry" {
	repo
	squadfile <<'Y'
version: 1
default: review
tasks:
  review: { skills: [x], prompt: "review", inputs: ["src/**"] }
Y
	commit_all
	echo 'q' >> src/b/two.c
	run "$SQUAD" --changed
	[ "$status" -eq 3 ]
	[ "$(jq -r '.tasks[0].changed | join(",")' .squad/handoff.json)" = src/b/two.c ]
}

hook_project() {
	repo
	squadfile <<'Y'
version: 1
default: precommit
tasks:
  lint-a: { run: "! grep -q BAD src/a/*.c", inputs: ["src/a/**"] }
  lint-b: { run: "true", inputs: ["src/b/**"] }
  precommit: { needs: [lint-a, lint-b] }
Y
	commit_all
}

@test "the pre-commit hook blocks a failing commit and lets a clean one through" {
	hook_project
	run "$SQUAD" hook install
	[ "$status" -eq 0 ]
	[ -x .git/hooks/pre-commit ]
	echo 'BAD' >> src/a/one.c
	echo 'int ok;' >> src/b/two.c
	git add src/b/two.c
	# the failing file is not staged: its task is not selected
	run git commit -qm "b only"
	[ "$status" -eq 0 ]
	git add src/a/one.c
	run git commit -qm "with BAD"
	[ "$status" -ne 0 ]
	[[ $output == *"FAILED lint-a"* ]]
	[ "$(git log --oneline | wc -l)" -eq 2 ]
}

@test "a hand-off blocks the commit with a message that names squad handoff" {
	repo
	squadfile <<'Y'
version: 1
default: review
tasks:
  review: { skills: [x], prompt: "review", inputs: ["src/**"] }
Y
	commit_all
	"$SQUAD" hook install
	echo 'int r;' >> src/a/one.c
	git add src/a/one.c
	run git commit -qm "needs review"
	[ "$status" -ne 0 ]
	[[ $output == *"the commit waits for the tactician: 'squad handoff'"* ]]
	[ "$(git log --oneline | wc -l)" -eq 1 ]
}

@test "hook install keeps a foreign hook unless --force; uninstall removes only squad's" {
	hook_project
	printf '#!/bin/sh\nexit 0\n' > .git/hooks/pre-commit
	chmod +x .git/hooks/pre-commit
	run "$SQUAD" hook install
	[ "$status" -eq 1 ]
	[[ $output == *"not written by squad"* ]]
	[ "$(cat .git/hooks/pre-commit | wc -l)" -eq 2 ]
	run "$SQUAD" hook uninstall
	[ "$status" -eq 0 ]
	[ -e .git/hooks/pre-commit ]
	run "$SQUAD" hook install --force
	[ "$status" -eq 0 ]
	grep -q squad-hook .git/hooks/pre-commit
	run "$SQUAD" hook uninstall
	[ "$status" -eq 0 ]
	[ ! -e .git/hooks/pre-commit ]
}

@test "hook install honours core.hooksPath and --target" {
	hook_project
	git config core.hooksPath .githooks
	run "$SQUAD" hook install --target lint-b
	[ "$status" -eq 0 ]
	[ -x .githooks/pre-commit ]
	grep -qE "run '?lint-b'?$" .githooks/pre-commit
	echo BAD >> src/a/one.c
	git add -A
	# lint-b does not look at src/a: the commit passes
	run git commit -qm "through lint-b only"
	[ "$status" -eq 0 ]
}

@test "submodules and a detached HEAD do not trouble squad" {
	mkdir "$BATS_TEST_TMPDIR/subsrc" && (cd "$BATS_TEST_TMPDIR/subsrc" && repo && commit_all)
	mkdir top && cd top
	repo
	squadfile <<'Y'
version: 1
default: t
tasks:
  t: { run: "true", inputs: ["**"] }
  r: { skills: [x], prompt: p, needs: [t] }
Y
	commit_all
	git -c protocol.file.allow=always submodule add -q "$BATS_TEST_TMPDIR/subsrc" sub
	commit_all with-sub
	git checkout -q --detach HEAD
	run "$SQUAD" --changed
	[ "$status" -eq 0 ]
	run "$SQUAD" r
	[ "$status" -eq 3 ]
	[ "$(jq -r .git.branch .squad/handoff.json)" = null ]
	[ "$(jq -r .git.head .squad/handoff.json)" = "$(git rev-parse HEAD)" ]
}

@test "the pre-commit framework finds squad's hook definition" {
	run cat "$SQUAD_SRC/.pre-commit-hooks.yaml"
	[[ $output == *"id: squad"* ]]
	[[ $output == *"--staged"* ]]
}

# without_libgit2 CMD...: CMD where libgit2's file reads as empty (a
# mount namespace of its own, with /dev/null bound over the library), as
# on a machine where it is missing or broken. squad opens libgit2 with
# dlopen() only when a command needs git (src/files/gitlib.h).
without_libgit2() {
	local lib
	lib=$(ldconfig -p | awk '/libgit2\.so\.[0-9]/ { print $NF; exit }')
	unshare -m sh -c 'mount --bind /dev/null "$0" && exec "$@"' "$(realpath "$lib")" "$@"
}

@test "without libgit2, a command that needs git fails with why (exit 2); the rest run" {
	unshare -m true 2>/dev/null || skip "cannot make a mount namespace here (needs root)"
	mkdir top && cd top
	repo
	squadfile <<'Y'
version: 1
default: t
tasks:
  t: { run: "echo ran", inputs: ["*.c"] }
Y
	echo 'int x;' > a.c
	commit_all
	run without_libgit2 "$SQUAD" --changed
	[ "$status" -eq 2 ]
	[[ $output == *"cannot load libgit2 (libgit2.so."*"): "* ]]
	# a walk of inputs in a repository asks git what it leaves out
	run without_libgit2 "$SQUAD" t
	[ "$status" -eq 2 ]
	[[ $output == *"cannot load libgit2"* ]]
	# nothing of git: list, exec, and a run outside a repository
	run without_libgit2 "$SQUAD" list --names
	[ "$status" -eq 0 ]
	[ "$output" = t ]
	run without_libgit2 "$SQUAD" exec --run 'echo adhoc'
	[ "$status" -eq 0 ]
	[[ $output == *"summary: adhoc"* ]]
	mkdir ../plain && cd ../plain
	cp ../top/Squadfile ../top/a.c .
	run without_libgit2 "$SQUAD" t
	[ "$status" -eq 0 ]
	[[ $output == *"ran"* ]]
}
