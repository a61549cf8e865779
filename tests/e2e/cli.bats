#!/usr/bin/env bats
# The command line around a run: list, graph, -n, --help, --version.
bats_require_minimum_version 1.5.0
load helpers

example() {
	squadfile <<'Y'
version: 1
default: test
tasks:
  lint: { run: "ruff check .", desc: "static checks" }
  unit: { run: "pytest -q", needs: [lint], desc: "unit tests" }
  audit: { skills: [compliance], needs: [unit], prompt: "Assess coverage" }
  test: { needs: [unit, audit], desc: "everything before a merge" }
Y
}

@test "list: aligned columns with descriptions, needs and skills" {
	example
	run --separate-stderr "$SQUAD" list
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 4 ]
	[[ ${lines[0]} == "lint "*"static checks"* ]]
	[[ ${lines[2]} == *"needs: unit"*"skills: compliance"* ]]
	[[ ${lines[3]} == *"(default)"* ]]
	# the description column starts at the same place on every line
	[ "$(printf '%s\n' "${lines[0]}" | grep -bo 'static' | cut -d: -f1)" = \
	  "$(printf '%s\n' "${lines[1]}" | grep -bo 'unit tests' | cut -d: -f1)" ]
}

@test "graph: DOT that dot accepts, skill tasks drawn apart" {
	example
	run "$SQUAD" graph
	[ "$status" -eq 0 ]
	[[ $output == *'"lint" -> "unit"'* ]]
	[[ $output == *'"audit" [shape=doubleoctagon'* ]]
	"$SQUAD" graph | dot -Tsvg > graph.svg
	grep -q '<svg' graph.svg
	run "$SQUAD" graph lint
	[[ $output != *unit* ]]
}

@test "-n prints the order and the worker, and runs nothing" {
	squadfile <<'Y'
version: 1
default: b
tasks:
  a: "touch a.ran"
  b: { run: "touch b.ran", needs: [a] }
Y
	run "$SQUAD" -n
	[ "$status" -eq 0 ]
	[[ ${lines[0]} =~ ^\ *1\ +a\ +shell\ +touch\ a\.ran$ ]]
	[[ ${lines[1]} =~ ^\ *2\ +b\ +shell\ +touch\ b\.ran$ ]]
	[ ! -e a.ran ]
	[ ! -e .squad ]
}

@test "--help documents options and exit codes; --version prints one" {
	run "$SQUAD" --help
	[ "$status" -eq 0 ]
	for word in --file --jobs --keep-going --dry-run --quiet --verbose "exit codes" 130; do
		[[ $output == *"$word"* ]]
	done
	run "$SQUAD" --version
	[ "$status" -eq 0 ]
	[[ $output =~ ^squad\ [0-9]+\.[0-9]+ ]]
}

@test "-q prints failures and the summary only" {
	squadfile <<'Y'
version: 1
default: all
tasks:
  quiet_ok: "echo visible-ok"
  loud_fail: { run: "echo visible-fail; false", needs: [quiet_ok] }
  all: { needs: [loud_fail] }
Y
	run "$SQUAD" -q
	[ "$status" -eq 1 ]
	[[ $output != *visible-ok* ]]
	[[ $output == *visible-fail* ]]
	[[ $output == *"1 ok, 1 failed, 1 skipped"* ]]
}

@test "list --json: one array of tasks for programs" {
	example
	run --separate-stderr "$SQUAD" list --json
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | jq length)" -eq 4 ]
	[ "$(printf '%s' "$output" | jq -r '.[1].needs[0]')" = lint ]
	[ "$(printf '%s' "$output" | jq -r '.[2].kind')" = hand-off ]
	[ "$(printf '%s' "$output" | jq -r '.[2].skills[0]')" = compliance ]
	[ "$(printf '%s' "$output" | jq -r '.[3].default')" = true ]
	[ "$(printf '%s' "$output" | jq -r '.[0].worker')" = shell ]
}

@test "graph --format=mermaid: a flowchart with every edge, hand-offs as hexagons" {
	example
	run --separate-stderr "$SQUAD" graph --format=mermaid
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "flowchart LR" ]
	[[ $output == *'t2{{"audit"}}'* ]]
	[[ $output == *"t0 --> t1"* ]]
	[ "$(printf '%s\n' "$output" | grep -c -- '-->')" -eq 4 ]
	run "$SQUAD" graph --format=svg
	[ "$status" -eq 2 ]
}
