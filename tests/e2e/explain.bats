#!/usr/bin/env bats
# squad explain: the verdict, the route, the needs and the reason.
bats_require_minimum_version 1.5.0
load helpers

git() { command git -c user.email=t@example.com -c user.name=t "$@"; }

project() {
	git init -q .
	mkdir -p src && echo a > src/a.c && echo b > src/b.c
	squadfile <<'Y'
version: 1
default: test
routing:
  - { match: '(?i)migration', skill: db-migration }
workers:
  helper: { command: [echo, "{prompt}"], output: text }
tasks:
  build: { run: "echo built", inputs: ["src/*.c"], desc: "compile" }
  unit: { run: "echo 3 passed", needs: [build] }
  migrate: { run: "echo run the migration", needs: [build] }
  ask: { prompt: "summarise", worker: helper }
  review: { skills: [review], prompt: "review", needs: [unit] }
  test: { needs: [unit, migrate] }
Y
	git add -A && git commit -qm init
}

@test "explain: routes, needs, and reasons from first run to up to date" {
	project
	run --separate-stderr "$SQUAD" explain build
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "build: will run" ]
	[[ $output == *"route: worker shell"* ]]
	[[ $output == *"why: it has not run before"* ]]
	run "$SQUAD" -q build
	run --separate-stderr "$SQUAD" explain build
	[ "${lines[0]}" = "build: up to date" ]
	[[ $output == *"inputs: src/*.c (2 files now)"* ]]
	[[ $output == *"why: its definition and its inputs are as at its last success"* ]]
	run --separate-stderr "$SQUAD" explain unit
	[[ $output == *"needs: build (up to date)"* ]]
	[[ $output == *"it has no inputs, so it runs every time"* ]]
	run --separate-stderr "$SQUAD" explain ask
	[[ $output == *"route: worker helper (given on the task)"* ]]
}

@test "explain names the input files that changed" {
	project
	run "$SQUAD" -q build
	echo more >> src/a.c
	rm src/b.c
	echo c > src/c.c
	run --separate-stderr "$SQUAD" explain build
	[ "${lines[0]}" = "build: will run" ]
	[[ $output =~ modified\ +src/a.c ]]
	[[ $output =~ removed\ +src/b.c ]]
	[[ $output =~ new\ +src/c.c ]]
	# the definition changed, not the files
	run "$SQUAD" -q build
	sed -i 's/echo built/echo rebuilt/' Squadfile
	run --separate-stderr "$SQUAD" explain build
	[[ $output == *"its definition, its worker or a task it needs changed"* ]]
}

@test "explain shows a hand-off's skills and the routing rule that added one" {
	project
	run --separate-stderr "$SQUAD" explain migrate
	[ "${lines[0]}" = "migrate: waits for the tactician" ]
	[[ $output == *"skill db-migration, from routing rule 1 (Squadfile:4:14: '(?i)migration')"* ]]
	run --separate-stderr "$SQUAD" explain review
	[[ $output == *"skill review, written on the task"* ]]
}

@test "explain with --staged says why a task is left out" {
	project
	run --separate-stderr "$SQUAD" --staged explain build
	[ "${lines[0]}" = "build: not selected" ]
	[[ $output == *"none of its inputs match a changed path"* ]]
	echo x >> src/a.c && git add src/a.c
	run --separate-stderr "$SQUAD" --staged explain build
	[ "${lines[0]}" = "build: will run" ]
	[[ $output == *"selected by changed paths: src/a.c"* ]]
}

@test "explain of an unknown task is a usage error with a suggestion" {
	project
	run "$SQUAD" explain biuld
	[ "$status" -eq 2 ]
	[[ $output == *"did you mean 'build'?"* ]]
}
