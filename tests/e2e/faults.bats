#!/usr/bin/env bats
# Faults: squad killed with -9, a full disk, workers that go wrong, and
# two squads at once in one folder.
bats_require_minimum_version 1.5.0
load helpers

teardown() {
	# what a test left running on purpose: a daemon, a waiting task
	touch "$BATS_TEST_TMPDIR/go"
	end_leftovers
}

# state_lines_whole: every record of .squad/state has a checksum that
# holds (a kill may tear only the last line, which readers drop)
state_lines_whole() {
	perl -MCompress::Zlib -ne '
		next if /^#/;
		if (!/\n\z/) { print STDERR "torn last line (allowed): $_\n"; next }
		chomp;
		my ($crc, $json) = /^([0-9a-f]{8}) (.*)\z/ or die "malformed line $.: $_\n";
		hex($crc) == crc32($json) or die "bad checksum on line $.: $_\n";
	' .squad/state
}

# recorded STATUS: the tasks the state records with STATUS, sorted
recorded() {
	grep -v '^#' .squad/state | cut -d' ' -f2- | jq -r "select(.status == \"$1\") | .task" | sort -u
}

@test "kill -9 mid-run: whole state lines, no unfinished task recorded, the lock free" {
	squadfile <<'Y'
version: 1
default: all
tasks:
  a: "echo a"
  slow1: { run: "touch slow1.started; i=0; until [ -e go ] || [ $i -ge 400 ]; do sleep 0.05; i=$((i + 1)); done", needs: [a] }
  slow2: { run: "touch slow2.started; i=0; until [ -e go ] || [ $i -ge 400 ]; do sleep 0.05; i=$((i + 1)); done", needs: [a] }
  review: { skills: [review], needs: [a], prompt: "look" }
  all: { needs: [slow1, slow2, review] }
Y
	# a first run leaves a manifest
	run "$SQUAD" review
	[ "$status" -eq 3 ]
	cp .squad/handoff.json manifest.before
	"$SQUAD" -j4 >out 2>&1 &
	local pid=$!
	wait_for slow1.started
	wait_for slow2.started
	kill -9 "$pid"
	wait "$pid" || true
	# its guard ends the killed run's tasks; the next run's need not wait
	touch go
	state_lines_whole
	# the manifest is the old one, whole
	cmp manifest.before .squad/handoff.json
	# nothing is recorded that did not finish: slow1 and slow2 never did
	[ "$(recorded ok)" = a ]
	# the lock died with its holder: a new run takes it at once
	run "$SQUAD" -j4 --no-wait
	[ "$status" -eq 3 ]
	[[ $output != *"waiting for another squad"* ]]
	[ "$(recorded ok | tr '\n' ' ')" = "a slow1 slow2 " ]
	state_lines_whole
	jq -e '.tasks[0].name == "review"' .squad/handoff.json
}

@test "kill -9 at random moments: every record is whole and names a finished task" {
	local i
	# 300 tasks that each say they finished, as their last act
	{
		echo 'version: 1'
		echo 'default: all'
		echo 'tasks:'
		for i in $(seq 300); do
			echo "  t$i: 'echo out; echo t$i >> finished'"
		done
		printf '  all: { needs: [%s] }\n' "$(seq -s, -f 't%g' 300)"
	} > Squadfile
	for i in $(seq 8); do
		# from nothing each time, so that each record is this run's
		rm -f .squad/state finished
		touch finished
		"$SQUAD" -j4 -q >/dev/null 2>&1 &
		local pid=$!
		sleep "0.$((RANDOM % 4))$((RANDOM % 10))"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" || true
		[ -e .squad/state ] || continue
		echo "killed after $(recorded ok | wc -l) of 300 records" >&3
		state_lines_whole
		# each task recorded ok has finished (its last act was done)
		recorded ok | grep -vx all > ok.txt || true
		sort -u finished > finished.txt
		[ -z "$(comm -23 ok.txt finished.txt)" ] || {
			echo "recorded, never finished: $(comm -23 ok.txt finished.txt)" >&2
			return 1
		}
	done
	# and then a whole run goes through
	run "$SQUAD" -B -j4 -q
	[ "$status" -eq 0 ]
	state_lines_whole
	[ "$(recorded ok | wc -l)" -eq 300 ]
}

# waiting_task: writes ./task.sh NAME [quiet|loud|stubborn], a task that
# says it started (NAME.pid, NAME.started; its squad's guard in
# NAME.guard, the guard's open fds in NAME.guard-fds), waits for ./go
# (10 min at most), then says it finished. A loud one writes a line as
# it waits; a stubborn one ignores SIGTERM, and so does its sleep.
waiting_task() {
	cat > task.sh <<'SH'
#!/bin/sh
[ "$2" = stubborn ] && trap '' TERM
echo $$ > "$1.pid"
# squad is this task's parent; the guard is squad's child
ps -o pid=,args= --ppid "$PPID" | awk '$2 == "squad" && $3 == "__guard" { print $1 }' > "$1.guard"
ls "/proc/$(cat "$1.guard")/fd" | sort -n | tr '\n' ' ' > "$1.guard-fds"
touch "$1.started"
i=0
until [ -e go ] || [ $i -ge 12000 ]; do
	[ "$2" = loud ] && echo "$1 waits"
	sleep 0.05
	i=$((i + 1))
done
# before any output, which squad's death could end with SIGPIPE
touch "$1.finished"
echo "$1 finished"
SH
}

# dead PID: is that process gone? (A test fails on it wherever it
# stands; bash's set -e passes over a `! alive` that is not the last line.)
dead() {
	! alive "$1" || false
}

# gone PID...: wait until none of them is alive (400 looks, 0.05 s apart)
gone() {
	local i pid left
	for ((i = 0; i < 400; i++)); do
		left=0
		for pid in "$@"; do
			alive "$pid" && left=1
		done
		[ "$left" -eq 0 ] && return 0
		sleep 0.05
	done
	return 1
}

# Tasks run in sessions of their own, and no process can clean up after
# its own SIGKILL: squad's guard (src/job/guard.c) ends them instead, SIGTERM
# to each task's group, SIGKILL 5 s later to a group still there. (A
# loud task would die of SIGPIPE anyway; a quiet one would not.)
@test "a kill -9'd squad leaves no task behind: its guard ends them" {
	waiting_task
	squadfile <<'Y'
version: 1
default: all
tasks:
  quiet: "sh task.sh quiet quiet"
  loud: "sh task.sh loud loud"
  stubborn: "sh task.sh stubborn stubborn"
  all: { needs: [quiet, loud, stubborn] }
  other: "echo other"
Y
	"$SQUAD" -j3 >out 2>&1 &
	local pid=$!
	wait_for quiet.started
	wait_for loud.started
	wait_for stubborn.started
	local guard
	guard=$(cat quiet.guard)
	[ -n "$guard" ]
	alive "$guard"
	kill -9 "$pid"
	wait "$pid" || true
	# the lock died with squad (the guard never held it): a new run
	# takes it at once, while the guard may still be at work
	run "$SQUAD" --no-wait other
	[ "$status" -eq 0 ]
	[[ $output != *"waiting for another squad"* ]]
	# every task is gone, the stubborn one too, and then the guard
	gone "$(cat quiet.pid)" "$(cat loud.pid)" "$(cat stubborn.pid)" "$guard"
	# ended, not finished, and none recorded: squad never saw them end
	[ ! -e quiet.finished ]
	[ ! -e loud.finished ]
	[ ! -e stubborn.finished ]
	[ "$(recorded ok)" = other ]
	[ -z "$(recorded failed)" ]
}

@test "a run's guard holds none of its files and is gone when the run ends, Ctrl-C or not" {
	waiting_task
	squadfile <<'Y'
version: 1
default: t
tasks:
  t: "sh task.sh t"
  u: "sh task.sh u"
Y
	touch go
	run "$SQUAD" t
	[ "$status" -eq 0 ]
	[ -e t.finished ]
	local guard
	guard=$(cat t.guard)
	[ -n "$guard" ]
	# stdin (squad's pipe), stdout and stderr (/dev/null): not the lock,
	# not squad's output
	[ "$(cat t.guard-fds)" = "0 1 2 " ]
	dead "$guard"
	# a Ctrl-C: squad ends its tasks itself, then its guard
	rm go
	"$SQUAD" u >out 2>&1 &
	local pid=$!
	wait_for u.started
	guard=$(cat u.guard)
	[ -n "$guard" ]
	alive "$guard"
	kill -INT "$pid"
	local status=0
	wait "$pid" || status=$?
	[ "$status" -eq 130 ]
	dead "$(cat u.pid)"
	dead "$guard"
}

# --- a full disk -----------------------------------------------------

# A 1 MB tmpfs at ./full (root only), holding the project.
small_disk() {
	mkdir full
	mount -t tmpfs -o size=1m tmpfs full 2>/dev/null ||
		skip "cannot mount a tmpfs here (needs root)"
	cd full
}

@test "a full disk while writing a log: a clear error, exit 1, the state intact" {
	small_disk
	squadfile <<'Y'
version: 1
tasks:
  small: "echo small"
  big: "head -c 2M /dev/zero"
Y
	run "$SQUAD" small
	[ "$status" -eq 0 ]
	cp .squad/state ../state.before
	run "$SQUAD" big
	[ "$status" -eq 1 ]
	[[ $output == *"cannot write '$PWD/.squad/logs/big.log': No space left on device; the output of 'big' is incomplete"* ]]
	# what was there is there, every line whole
	cmp -n "$(stat -c %s ../state.before)" ../state.before .squad/state
	state_lines_whole
	recorded ok | grep -qx small
}

@test "a full disk when the manifest and the state are rewritten: exit 1, the old ones intact" {
	small_disk
	squadfile <<'Y'
version: 1
default: h
tasks:
  t: "true"
  h: { skills: [review], needs: [t], prompt: "look" }
Y
	run "$SQUAD"
	[ "$status" -eq 3 ]
	cp .squad/handoff.json ../manifest.before
	cp .squad/state ../state.before
	# fill the disk beside .squad, then ask for a fresh manifest
	head -c 2M /dev/zero > filler 2>/dev/null || true
	run "$SQUAD"
	[ "$status" -eq 1 ]
	[[ $output == *"cannot write '$PWD/.squad/handoff.json.tmp."*"': No space left on device"* ]]
	cmp ../manifest.before .squad/handoff.json
	cmp -n "$(stat -c %s ../state.before)" ../state.before .squad/state
	state_lines_whole
	# no temp file is left behind
	[ -z "$(ls .squad | grep tmp)" ]
	# room again: all is well
	rm filler
	run "$SQUAD"
	[ "$status" -eq 3 ]
}

# --- workers that go wrong -------------------------------------------

@test "a missing, non-executable or crashing program is reported clearly" {
	printf '#!/bin/sh\necho hi\n' > noexec.sh
	squadfile <<'Y'
version: 1
tasks:
  missing: "no-such-program-xyz --flag"
  noexec: "./noexec.sh"
  segv: "echo before; kill -SEGV $$"
  nodir: { run: "true", dir: nowhere }
Y
	run "$SQUAD" missing
	[ "$status" -eq 1 ]
	[[ $output == *"FAILED missing"*"command not found: no-such-program-xyz"* ]]
	run "$SQUAD" noexec
	[ "$status" -eq 1 ]
	[[ $output == *"FAILED noexec"*"permission denied: ./noexec.sh"* ]]
	run "$SQUAD" segv
	[ "$status" -eq 1 ]
	[[ $output == *"FAILED segv"*"killed by signal 11 (Segmentation fault)"* ]]
	[[ $output == *before* ]]
	run "$SQUAD" nodir
	[ "$status" -eq 1 ]
	[[ $output == *"FAILED nodir"*"cannot enter the task's folder '$PWD/nowhere': No such file or directory"* ]]
	# all of it on the record, for the next run's plan
	[ "$(recorded failed | tr '\n' ' ')" = "missing nodir noexec segv " ]
}

@test "a task that closes its output early is still waited for" {
	squadfile <<'Y'
version: 1
tasks:
  closer: "echo early; exec >&- 2>&-; sleep 1; touch closer.finished"
  failer: "exec >&- 2>&-; sleep 0.5; exit 7"
Y
	run "$SQUAD" closer
	[ "$status" -eq 0 ]
	[ -e closer.finished ]
	[[ $output == *"ok closer"* ]]
	[[ $output == *early* ]]
	run "$SQUAD" failer
	[ "$status" -eq 1 ]
	[[ $output == *"FAILED failer"*"exit 7"* ]]
}

@test "a daemon that keeps the output open: squad stops reading 2 s after the exit" {
	squadfile <<'Y'
version: 1
tasks:
  daemon: "setsid sh -c 'echo $$ > daemon.pid; exec sleep 60' & while [ ! -s daemon.pid ]; do sleep 0.01; done; echo started"
Y
	# a bound, not a stopwatch: squad must return long before the daemon
	# (60 s) does, which the daemon being alive afterwards shows too
	run timeout 45 "$SQUAD" daemon
	[ "$status" -eq 0 ]
	[[ $output == *"ok daemon"* ]]
	grep -q "something it started still holds its output open; squad stopped reading it" \
		.squad/logs/daemon.log
	# it is the daemon's own business now: squad did not wait for it
	alive "$(cat daemon.pid)"
}

# --- two squads at once ----------------------------------------------

two_squads() {
	squadfile <<'Y'
version: 1
tasks:
  slow: { run: "touch slow.started; i=0; until [ -e go ] || [ $i -ge 400 ]; do sleep 0.05; i=$((i + 1)); done; echo slow", inputs: [in.txt] }
  other: { run: "echo other", inputs: [in.txt] }
Y
	echo data > in.txt
	"$SQUAD" slow >first.out 2>&1 &
	first=$!
	wait_for slow.started
}

@test "two runs at once: the second waits for the lock, and neither corrupts the state" {
	two_squads
	"$SQUAD" other >second.out 2>&1 &
	local second=$!
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q "waiting for another squad in $PWD to finish" second.out && break
		sleep 0.05
	done
	grep -q "waiting for another squad in $PWD to finish" second.out
	# it waits: other has not run while slow holds the lock
	[ ! -e .squad/logs/other.log ]
	alive "$second"
	touch go
	wait "$first"
	wait "$second"
	grep -q "ok other" second.out
	state_lines_whole
	[ "$(recorded ok | tr '\n' ' ')" = "other slow " ]
	# both records hold: the next run finds both up to date
	run "$SQUAD" slow other
	[[ $output == *"2 up to date"* ]]
}

@test "--no-wait: fail at once with a clear message, exit 1, the state untouched" {
	two_squads
	cp .squad/state state.before
	run "$SQUAD" --no-wait other
	[ "$status" -eq 1 ]
	[[ $output == *"another squad is running in $PWD (it holds $PWD/.squad/lock); not waiting for it (--no-wait)"* ]]
	[[ $output != *"waiting for another squad"*"to finish"* ]]
	[ ! -e .squad/logs/other.log ]
	# squad done too
	run "$SQUAD" --no-wait done other
	[ "$status" -eq 1 ]
	[[ $output == *"not waiting for it (--no-wait)"* ]]
	cmp state.before .squad/state
	touch go
	wait "$first"
	"$SQUAD" --help | grep -q -- '--no-wait'
}
