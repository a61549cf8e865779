#!/usr/bin/env bats
# A value from the environment (a secret) never reaches what squad writes
# itself: spawn errors, -v, the state, logs, the hand-off, JUnit, JSON
# events and the terminal name what the Squadfile author wrote.
#
#   SQUAD=build/squad bats tests/e2e/secrets.bats

bats_require_minimum_version 1.5.0
load helpers

CANARY=AKIAQZCANARY7731SQUAD

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	export SQUAD_CACHE=off XDG_CACHE_HOME=$BATS_TEST_TMPDIR/.xdg-cache # see helpers.bash
	export NO_COLOR=1
	export SECRET=$CANARY
	export SECRET_TOOL=no-such-cmd-$CANARY
	export SECRET_DIR=/nonexistent-$CANARY
}

# leaks: every file under . and the files given hold no canary; prints
# each line that does.
no_leak() {
	local hits

	hits=$(grep -rnaF "$CANARY" . --exclude="noexec-$CANARY" || true)
	if [ -n "$hits" ]; then
		printf 'the canary leaked:\n%s\n' "$hits"
		return 1
	fi
}

@test "a failed spawn names the program, folder and arguments as written, in every file and stream" {
	printf '#!/bin/sh\necho hi\n' > "noexec-$CANARY"
	squadfile <<'Y'
version: 1
default: all
vars: { TOOLV: "${SECRET_TOOL}", PLAIN: no-such-plain-cmd }
workers:
  agent: { command: ["${SECRET_TOOL}", "-p", "{prompt}"] }
tasks:
  prog: { run: "${SECRET_TOOL} --flag", escalate: true }
  viavar: { run: ["${TOOLV}", x] }
  plainvar: "${PLAIN} ${SECRET}"
  folder: { run: "true", dir: "${SECRET_DIR}" }
  arg: { run: [no-such-prog-x, "${SECRET}"] }
  noexec: "./noexec-${SECRET}"
  asked: { prompt: "say ${SECRET}", worker: agent }
  skilled: { prompt: "use ${SECRET}", skills: [review] }
  all: { needs: [prog, viavar, plainvar, folder, arg, noexec, asked, skilled] }
Y
	run --separate-stderr "$SQUAD" -v -k --junit junit.xml
	[ "$status" -eq 1 ]
	printf '%s\n%s\n' "$output" "$stderr" > run.out
	[[ $output == *"escalated prog ("*"command not found: \${SECRET_TOOL}"* ]]
	[[ $output == *"FAILED viavar ("*"command not found: \${TOOLV}"* ]]
	# a var that owes nothing to the environment is shown with its value
	[[ $output == *"FAILED plainvar ("*"command not found: no-such-plain-cmd"* ]]
	[[ $output == *"FAILED folder ("*"cannot enter the task's folder '\${SECRET_DIR}': No such file or directory"* ]]
	[[ $output == *"FAILED arg ("*"command not found: no-such-prog-x"* ]]
	[[ $output == *"FAILED noexec ("*"permission denied: ./noexec-\${SECRET}"* ]]
	[[ $output == *"FAILED asked ("*"'\${SECRET_TOOL}' is not on PATH: worker 'agent' cannot start"* ]]
	run --separate-stderr "$SQUAD" -k --json=output
	printf '%s\n%s\n' "$output" "$stderr" > json.out
	run --separate-stderr "$SQUAD" handoff
	printf '%s\n%s\n' "$output" "$stderr" > handoff.out
	run --separate-stderr "$SQUAD" handoff --json
	printf '%s\n%s\n' "$output" "$stderr" > handoff-json.out
	run --separate-stderr "$SQUAD" explain prog
	printf '%s\n%s\n' "$output" "$stderr" > explain.out
	run --separate-stderr "$SQUAD" -k --replay
	printf '%s\n%s\n' "$output" "$stderr" > replay.out
	# what shows a task without running it
	for task in prog viavar plainvar folder arg noexec asked skilled; do
		"$SQUAD" explain "$task" >> explain-all.out 2>&1 || true
	done
	"$SQUAD" -n > dry-run.out 2>&1 || true
	"$SQUAD" list > list.out 2>&1
	"$SQUAD" list --json > list-json.out 2>&1
	"$SQUAD" graph > graph.out 2>&1
	grep -qF '${SECRET_TOOL} --flag' dry-run.out
	grep -qF 'folder: will run' explain-all.out
	[ -s graph.out ]
	# what was looked at is there to look at
	[ -s .squad/state ]
	[ -s .squad/handoff.json ]
	[ -s .squad/logs/folder.log ]
	[ -s junit.xml ]
	grep -qF 'command not found: ${SECRET_TOOL}' .squad/handoff.json
	grep -qF 'command not found: ${SECRET_TOOL}' .squad/state
	grep -qF 'command not found: ${SECRET_TOOL}' junit.xml
	grep -qF 'command not found: ${SECRET_TOOL}' json.out
	no_leak
}

@test "-v prints commands as written: vars of the Squadfile expanded, the environment's not" {
	squadfile <<'Y'
version: 1
default: all
vars: { WHO: world, KEY: "${SECRET}" }
tasks:
  direct: "true ${WHO} ${SECRET}"
  listed: { run: ["true", "${KEY}", "${WHO}"] }
  piped: "echo ${WHO} ${KEY} | cat >/dev/null"
  all: { needs: [direct, listed, piped] }
Y
	run --separate-stderr "$SQUAD" -v
	[ "$status" -eq 0 ]
	[[ $output == *'start direct: true world ${SECRET}'* ]]
	[[ $output == *'start listed: true ${KEY} world'* ]]
	[[ $output == *'start piped: echo world ${KEY} | cat >/dev/null'* ]]
	printf '%s\n%s\n' "$output" "$stderr" > run.out
	no_leak
}

@test "the canary check itself sees a leak" {
	echo "$CANARY" > leaked
	run no_leak
	[ "$status" -eq 1 ]
	[[ $output == *"leaked:1:$CANARY"* ]]
}
