#!/usr/bin/env bats
# Faults: squad killed with -9, a full disk, workers that go wrong, and
# two squads at once in one folder.
bats_require_minimum_version 1.5.0
load helpers

teardown() {
	# what a test left running on purpose: a daemon, an orphaned task
	local pid
	for pid in $(cat "$BATS_TEST_TMPDIR"/*.pid 2>/dev/null); do
		kill "$pid" 2>/dev/null || true
	done
	cd "$BATS_TEST_TMPDIR" || return 1
	if mountpoint -q full 2>/dev/null; then
		umount full || umount -l full
	fi
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
	wait_for slow1.started && wait_for slow2.started
	kill -9 "$pid"
	wait "$pid" || true
	# the killed run's tasks live on in their own sessions: end them
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

# What squad cannot do after a SIGKILL: its tasks run in sessions of
# their own, so nothing kills them. One that stays quiet runs to its
# end; one that writes finds no reader on its output pipe and dies of
# SIGPIPE at its first write. (PR_SET_PDEATHSIG would end both.)
@test "a kill -9'd squad leaves its running tasks behind: quiet ones finish" {
	squadfile <<'Y'
version: 1
default: both
tasks:
  quiet: "echo $$ > quiet.pid; touch quiet.started; i=0; until [ -e go ] || [ $i -ge 400 ]; do sleep 0.05; i=$((i + 1)); done; touch quiet.finished"
  loud: "echo $$ > loud.pid; touch loud.started; i=0; until [ -e go ] || [ $i -ge 400 ]; do sleep 0.05; i=$((i + 1)); done; echo still here; touch loud.finished"
  both: { needs: [quiet, loud] }
Y
	"$SQUAD" -j2 >out 2>&1 &
	local pid=$!
	wait_for quiet.started && wait_for loud.started
	kill -9 "$pid"
	wait "$pid" || true
	# both outlive squad
	alive "$(cat quiet.pid)"
	alive "$(cat loud.pid)"
	touch go
	wait_for quiet.finished
	local i
	for ((i = 0; i < 100; i++)); do
		alive "$(cat loud.pid)" || break
		sleep 0.05
	done
	! alive "$(cat loud.pid)"
	[ ! -e loud.finished ]
	# neither was recorded: squad was not there to see them end
	[ -z "$(recorded ok)" ]
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
	[[ $output == *"its folder '$PWD/nowhere' is missing"* ]]
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
