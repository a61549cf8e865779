#!/usr/bin/env bats
# squad's own files under .squad/ in odd conditions: the temp files
# (NAME.tmp.PID, see file_write()) that a squad killed mid-write
# leaves behind (a task's input list's too: its temp file is in .squad/),
# which the next squad to take the lock removes when their process is
# gone; a journal or manifest too large to be squad's.
bats_require_minimum_version 1.5.0
load helpers

# A PID no process can have: above the kernel's largest (pid_max is at
# most 2^22), so the test never depends on which PIDs are in use.
DEAD_PID=2147483646

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	export SQUAD_CACHE=off XDG_CACHE_HOME=$BATS_TEST_TMPDIR/.xdg-cache # see helpers.bash
	export NO_COLOR=1
	squadfile <<'Y'
version: 1
default: all
tasks:
  a: "echo a"
  review: { skills: [review], needs: [a], prompt: "look" }
  all: { needs: [review] }
Y
	# a first run: a state, and a manifest for the tactician
	run "$SQUAD"
	[ "$status" -eq 3 ]
	[ -s .squad/state ]
	[ -s .squad/handoff.json ]
}

# status_of TASK: the status .squad/state records for TASK last
status_of() {
	grep -v '^#' .squad/state | cut -d' ' -f2- | jq -r "select(.task == \"$1\") | .status" | tail -n 1
}

# leave_temps: what kill -9 during compaction and during the manifest's
# rewrite leaves: half-written copies beside the real files
leave_temps() {
	head -c 10 .squad/state >".squad/state.tmp.$DEAD_PID"
	head -c 10 .squad/handoff.json >".squad/handoff.json.tmp.$DEAD_PID"
}

@test "a run removes the temp files of a dead squad, keeps the state and the manifest" {
	leave_temps
	cp .squad/state state.before
	run "$SQUAD"
	[ "$status" -eq 3 ]
	[ ! -e ".squad/state.tmp.$DEAD_PID" ]
	[ ! -e ".squad/handoff.json.tmp.$DEAD_PID" ]
	[ -z "$(find .squad -maxdepth 1 -name '*.tmp.*')" ]
	# the records are still there: 'a' succeeded, the review waits
	[ "$(status_of a)" = ok ]
	jq -e '.tasks[0].name == "review"' .squad/handoff.json
}

@test "squad done removes them too (it holds the lock)" {
	leave_temps
	run "$SQUAD" done review --note "looked"
	[ "$status" -eq 0 ]
	[ -z "$(find .squad -maxdepth 1 -name '*.tmp.*')" ]
	[ "$(status_of review)" = done ]
}

@test "the temp file of a live process is kept" {
	# this shell is alive: its file may be in the middle of a write
	head -c 10 .squad/state >".squad/state.tmp.$$"
	leave_temps
	run "$SQUAD"
	[ "$status" -eq 3 ]
	[ -e ".squad/state.tmp.$$" ]
	[ ! -e ".squad/state.tmp.$DEAD_PID" ]
}

@test "a task's input list is written by way of .squad/, so a dead squad's copy is removed too" {
	mkdir src && echo 'int x;' >src/x.c
	squadfile <<'Y'
version: 1
default: x.tmp.5
tasks:
  x.tmp.5: { run: "true", inputs: [src/*.c] }
Y
	run "$SQUAD"
	[ "$status" -eq 0 ]
	[ -s .squad/inputs/x.tmp.5.txt ]
	# what kill -9 while the list was written leaves; the task's own
	# ".tmp." must not hide the PID at the end
	cp .squad/inputs/x.tmp.5.txt ".squad/inputs.x.tmp.5.txt.tmp.$DEAD_PID"
	echo 'int y;' >src/x.c
	run "$SQUAD"
	[ "$status" -eq 0 ]
	[ ! -e ".squad/inputs.x.tmp.5.txt.tmp.$DEAD_PID" ]
	grep -q '^src/x.c' .squad/inputs/x.tmp.5.txt
}

@test "commands that do not take the lock leave them alone" {
	leave_temps
	run "$SQUAD" handoff
	[ "$status" -eq 0 ]
	[ -e ".squad/state.tmp.$DEAD_PID" ]
	[ -e ".squad/handoff.json.tmp.$DEAD_PID" ]
}

@test "a state or a manifest larger than squad ever writes is refused, not read" {
	# sparse: 2 GiB that take no room, and that squad must not allocate
	truncate -s 2G .squad/handoff.json
	run "$SQUAD" handoff
	[ "$status" -eq 1 ]
	[[ $output == *"cannot read '$PWD/.squad/handoff.json': File too large"* ]]
	rm .squad/handoff.json
	truncate -s 2G .squad/state
	run "$SQUAD"
	[ "$status" -eq 1 ]
	[[ $output == *"cannot read '$PWD/.squad/state': File too large"* ]]
	# left as it was, for a person to look at
	[ "$(stat -c %s .squad/state)" -eq $((2 << 30)) ]
}
