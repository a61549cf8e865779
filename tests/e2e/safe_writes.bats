#!/usr/bin/env bats
# Nothing squad writes harms what it touches (issue 16): a device, a FIFO
# or a socket at a path the user names is never replaced; a failed write
# of a requested report is an error; notes are bounded; -f FIFO does not
# hang; .squad/ swapped for a symlink mid-run redirects nothing; a log
# cut short by a full disk marks its result.
#
# Device nodes are made with mknod inside each test's own folder, never
# in the machine's /dev: char 1,3 reads and writes as /dev/null does,
# char 1,7 as /dev/full (every write fails with ENOSPC).
bats_require_minimum_version 1.5.0
load helpers

teardown() {
	end_leftovers
}

# nodes: ./null and ./full, copies of /dev/null and /dev/full (root only)
nodes() {
	mknod null c 1 3 2>/dev/null && mknod full c 1 7 ||
		skip "cannot make device nodes here (needs root)"
}

one_task() {
	squadfile <<'Y'
version: 1
default: a
tasks:
  a: "echo hello"
Y
}

# --- reports on paths the user names ----------------------------------

@test "--junit to a null device writes through it: exit 0, still the device" {
	nodes
	one_task
	run --separate-stderr "$SQUAD" --junit null
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ -c null ]
	[ "$(stat -c %t:%T null)" = "1:3" ]
	# nothing was left beside it
	[ -z "$(ls -A | grep tmp)" ]
}

@test "--junit to a full device: exit 1, one line on stderr, still the device" {
	nodes
	one_task
	run --separate-stderr "$SQUAD" --junit full
	[ "$status" -eq 1 ]
	[ "$stderr" = "squad: cannot write 'full': No space left on device" ]
	[ -c full ]
	[ "$(stat -c %t:%T full)" = "1:7" ]
	[ -z "$(ls -A | grep tmp)" ]
}

@test "--junit to a FIFO writes through it to its reader; the FIFO stays" {
	one_task
	mkfifo report
	timeout 20 cat report > got.xml &
	echo $! > reader.pid
	run "$SQUAD" --junit report
	[ "$status" -eq 0 ]
	wait "$(cat reader.pid)"
	[ -p report ]
	grep -q '<testsuites name="squad" tests="1"' got.xml
}

@test "--junit to a socket or a folder is refused: exit 1, it stays what it was" {
	one_task
	perl -MIO::Socket::UNIX -e 'IO::Socket::UNIX->new(Local => "sock", Listen => 1) or die "$!"'
	[ -S sock ]
	run --separate-stderr "$SQUAD" --junit sock
	[ "$status" -eq 1 ]
	[ "$stderr" = "squad: 'sock' is a socket; squad will not replace it" ]
	[ -S sock ]
	mkdir folder
	run --separate-stderr "$SQUAD" --junit folder
	[ "$status" -eq 1 ]
	[ "$stderr" = "squad: 'folder' is a folder; squad will not replace it" ]
	[ -d folder ]
	[ -z "$(ls -A folder)" ]
}

@test "--junit to a symlink is refused: its target is neither replaced nor written" {
	one_task
	echo precious > target
	ln -s target link
	run --separate-stderr "$SQUAD" --junit link
	[ "$status" -eq 1 ]
	[ "$stderr" = "squad: 'link' is a symlink; squad will not write through it" ]
	[ -L link ]
	[ "$(cat target)" = precious ]
}

@test "--junit to a regular file replaces it atomically (a new inode)" {
	one_task
	echo old > report.xml
	old=$(stat -c %i report.xml)
	run "$SQUAD" --junit report.xml
	[ "$status" -eq 0 ]
	[ -f report.xml ]
	[ "$(stat -c %i report.xml)" != "$old" ]
	grep -q '<testsuites' report.xml
}

@test "squad init never replaces a device or a FIFO in the place of the Squadfile" {
	nodes
	mv null Squadfile
	run --separate-stderr timeout 20 "$SQUAD" init
	[ "$status" -eq 1 ]
	[ "$stderr" = "squad: 'Squadfile' already exists; squad init leaves it as it is" ]
	[ -c Squadfile ]
	rm Squadfile
	mkfifo Squadfile
	run --separate-stderr timeout 20 "$SQUAD" init
	[ "$status" -eq 1 ]
	[ "$stderr" = "squad: 'Squadfile' already exists; squad init leaves it as it is" ]
	[ -p Squadfile ]
	[ -z "$(ls -A | grep -F .Squadfile.init.)" ]
}

# --- stdout ------------------------------------------------------------

@test "--json into a full device: exit 1, the error once on stderr" {
	nodes
	one_task
	run --separate-stderr "$SQUAD" --json
	[ "$status" -eq 0 ]
	run --separate-stderr bash -c '"$0" --json > full' "$SQUAD"
	[ "$status" -eq 1 ]
	# with --json the person's report is on stderr; the error is its last line
	[ "$(printf '%s\n' "$stderr" | grep -c 'cannot write to standard output')" -eq 1 ]
	[ "$(printf '%s\n' "$stderr" | tail -n 1)" = "squad: cannot write to standard output" ]
	[ -c full ]
}

@test "a plain run, list, graph and handoff --json into a full stdout: exit 1, one line" {
	nodes
	one_task
	for cmd in "a" "list" "list --json" "list --names" "graph" "handoff --json"; do
		run --separate-stderr bash -c '"$0" $1 > full' "$SQUAD" "$cmd"
		echo "$cmd: $status: $stderr"
		[ "$status" -eq 1 ]
		# the errno when the last flush failed; a report that flushed
		# each line left none to tell
		[[ $stderr =~ ^"squad: cannot write to standard output"(": No space left on device")?$ ]]
	done
	[ -c full ]
}

@test "a reader that stops reading (EPIPE) is not an error" {
	one_task
	run bash -c 'set -o pipefail; "$0" list | true' "$SQUAD"
	[ "$status" -eq 0 ]
}

# --- bounded input -------------------------------------------------------

handoff_task() {
	squadfile <<'Y'
version: 1
default: r
tasks:
  r: { skills: [review], prompt: "look" }
Y
	run "$SQUAD"
	[ "$status" -eq 3 ]
}

@test "done --note-file /dev/zero ends at once: exit 2, a clear error, nothing recorded" {
	handoff_task
	nodes
	mknod zero c 1 5
	run --separate-stderr timeout 20 "$SQUAD" done r --note-file zero
	[ "$status" -eq 2 ]
	[[ $stderr == *"squad: 'zero' is longer than 65536 bytes, the most squad keeps of a note"* ]]
	[ -c zero ]
	# still waiting: nothing was marked
	[ -s .squad/handoff.json ]
	run "$SQUAD"
	[ "$status" -eq 3 ]
}

@test "a note of 64 KiB is kept; one byte more is refused, by --note and by --note-file" {
	handoff_task
	head -c 65537 /dev/zero | tr '\0' n > big
	run --separate-stderr "$SQUAD" done r --note-file big
	[ "$status" -eq 2 ]
	[[ $stderr == *"'big' is longer than 65536 bytes"* ]]
	run --separate-stderr "$SQUAD" done r --note "$(cat big)"
	[ "$status" -eq 2 ]
	[[ $stderr == *"the note is longer than 65536 bytes, the most squad keeps"* ]]
	head -c 65536 big > fits
	run "$SQUAD" done r --note-file fits
	[ "$status" -eq 0 ]
	grep -v '^#' .squad/state | cut -d' ' -f2- | jq -se '[.[] | select(.task == "r")] | .[-1].note | length == 65536'
}

@test "an agent's answer is kept cut to 64 KiB in the state and the manifest, the whole in its log" {
	squadfile <<'Y'
version: 1
default: r
workers:
  talker:
    command: [sh, -c, "head -c 200000 /dev/zero | tr '\\0' a"]
    output: text
tasks:
  t: { prompt: "say a lot", worker: talker }
  r: { skills: [review], prompt: "look", needs: [t] }
Y
	run "$SQUAD"
	[ "$status" -eq 3 ]
	answer=$(grep -v '^#' .squad/state | cut -d' ' -f2- | jq -r 'select(.task == "t") | .answer')
	[ "${#answer}" -le 65536 ]
	[[ $answer == *"[cut: squad keeps 64 KiB of a text; the whole is in the task's log]" ]]
	answer=$(jq -r '.tasks[0].needs[0].answer' .squad/handoff.json)
	[ "${#answer}" -le 65536 ]
	[[ $answer == *"[cut: squad keeps 64 KiB of a text; the whole is in the task's log]" ]]
	[ "$(tr -cd a < .squad/logs/t.log | wc -c)" -ge 200000 ]
}

# --- -f ----------------------------------------------------------------

@test "-f FIFO is refused at once, without waiting for a writer: exit 2" {
	mkfifo pipe
	run --separate-stderr timeout 20 "$SQUAD" -f pipe
	[ "$status" -eq 2 ]
	[ "$stderr" = "pipe: error: not a regular file" ]
}

@test "-f a device or a folder is refused: exit 2" {
	nodes
	run --separate-stderr timeout 20 "$SQUAD" -f null
	[ "$status" -eq 2 ]
	[ "$stderr" = "null: error: not a regular file" ]
	mkdir dir
	run --separate-stderr "$SQUAD" -f dir
	[ "$status" -eq 2 ]
	[ "$stderr" = "dir: error: not a regular file" ]
}

# --- .squad/ swapped during a run -------------------------------------

@test ".squad/logs swapped for a symlink by a task: later logs stay in the project" {
	mkdir outside
	squadfile <<'Y'
version: 1
default: all
tasks:
  swap: "mv .squad/logs logs.away && ln -s ../outside .squad/logs && echo swapped"
  later: { run: "echo later-output", needs: [swap] }
  agent: { prompt: "hi", worker: echoer, needs: [swap] }
  all: { needs: [later, agent] }
workers:
  echoer: { command: [echo, "{prompt}"], output: text }
Y
	run "$SQUAD" -j1
	[ "$status" -eq 0 ]
	[ -L .squad/logs ]
	[ -z "$(ls -A outside)" ]
	grep -qx later-output logs.away/later.log
	[ -e logs.away/agent.out ]
}

@test ".squad swapped for a symlink by a task: later logs, the state and the manifest stay" {
	mkdir outside
	squadfile <<'Y'
version: 1
default: all
tasks:
  swap: "mv .squad squad.away && ln -s outside .squad && echo swapped"
  later: { run: "echo later-output", needs: [swap] }
  review: { skills: [review], prompt: "look", needs: [later] }
  all: { needs: [review] }
Y
	run "$SQUAD" -j1
	[ "$status" -eq 3 ]
	[ -L .squad ]
	[ -z "$(ls -A outside)" ]
	grep -qx later-output squad.away/logs/later.log
	jq -e '.tasks[0].name == "review"' squad.away/handoff.json
	grep -q '"task":"later"' squad.away/state
}

# --- a full disk -----------------------------------------------------

@test "a log cut short by a full disk marks the result: summary, JSON, state; exit 1; it runs again" {
	mkdir full
	mount -t tmpfs -o size=1m tmpfs full 2>/dev/null ||
		skip "cannot mount a tmpfs here (needs root)"
	cd full
	echo in > in.txt
	echo 2M > size
	squadfile <<'Y'
version: 1
default: big
tasks:
  big: { run: "echo first-line; head -c $(cat size) /dev/zero | tr '\\0' x", inputs: [in.txt] }
Y
	run --separate-stderr "$SQUAD" --json
	[ "$status" -eq 1 ]
	[[ $stderr == *"the output of 'big' is incomplete"* ]]
	[[ $stderr == *"[1/1] ok big ("*") [log cut short: squad could not write all of its output]"* ]]
	[[ $stderr == *"big "*"ok "*"[log cut short]"* ]]
	printf '%s\n' "$output" | jq -se '[.[] | select(.event == "finish")] | length == 1 and .[0].log_cut == true'
	grep -v '^#' .squad/state | cut -d' ' -f2- | jq -se '[.[] | select(.task == "big")] | .[-1].log_cut == true'
	# a result whose log is not whole is not trusted: the next run runs
	# it again (size is no input, so only the cut log can make it run)
	run "$SQUAD" explain big
	[[ $output == *"why: its last log was cut short"* ]]
	echo 10 > size
	run "$SQUAD"
	[ "$status" -eq 0 ]
	[[ $output == *"ok big"* ]]
	[[ $output != *"log cut short"* ]]
	[ "$(wc -c < .squad/logs/big.log)" -eq 21 ]
}

@test "a whole log: log_cut is false in the JSON and absent from the state" {
	one_task
	run --separate-stderr "$SQUAD" --json
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | jq -se '[.[] | select(.event == "finish")] | length == 1 and .[0].log_cut == false'
	run grep -c log_cut .squad/state
	[ "$output" = 0 ]
}

# --- FIFOs in the place of squad's own files ----------------------------

# as_fifo NAME [ARG...]: .squad/NAME made a FIFO, then `squad ARG...` run
as_fifo() {
	local name=$1
	shift
	rm -f ".squad/$name"
	mkfifo ".squad/$name"
	run --separate-stderr timeout 20 "$SQUAD" "$@"
}

@test "a FIFO in the place of .squad/state, files or handoff.json: no wait, never replaced" {
	echo x > in.txt
	squadfile <<'Y'
version: 1
default: r
tasks:
  t: { run: "echo t", inputs: [in.txt] }
  r: { skills: [review], prompt: "look", needs: [t] }
Y
	run "$SQUAD"
	[ "$status" -eq 3 ]
	# the cache: a warning, the run goes on
	as_fifo files
	[ "$status" -eq 3 ]
	[[ $stderr == *"squad: warning: '$PWD/.squad/files' is a FIFO; squad will not replace it"* ]]
	[ -p .squad/files ]
	rm .squad/files
	# the manifest: read and written, refused
	as_fifo handoff.json handoff
	[ "$status" -eq 1 ]
	[[ $stderr == *"cannot read '$PWD/.squad/handoff.json': not a regular file"* ]]
	run --separate-stderr timeout 20 "$SQUAD"
	[ "$status" -eq 1 ]
	[[ $stderr == *"'$PWD/.squad/handoff.json' is a FIFO; squad will not replace it"* ]]
	[ -p .squad/handoff.json ]
	rm .squad/handoff.json
	# the journal
	as_fifo state
	[ "$status" -eq 1 ]
	[[ $stderr == *"'$PWD/.squad/state' is not a regular file; squad will not write to it"* ]]
	[ -p .squad/state ]
}
