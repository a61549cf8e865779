#!/usr/bin/env bats
# Hostile and odd input: names that try to leave .squad/ or reach the
# terminal, floods of output, huge graphs, corrupt files squad reads back,
# and symlinks put in the place of .squad/ and its files.
bats_require_minimum_version 1.5.0
load helpers

# A 4096-byte name, the longest a name may be.
LONG=$(printf 'L%.0s' {1..4096})

# names.txt: one hostile task name per line (none holds a newline).
write_names() {
	cat > names.txt <<'N'
../../x
/abs
a/b/c
..
.
ünï/cödé
日本語🚀
$(touch${IFS}pwned)`touch${IFS}pwned2`;rm${IFS}-rf${IFS}..|'"&>out
N
	echo "$LONG" >> names.txt
}

# A Squadfile with a task per line of names.txt: each prints its name and
# lists an input, so it gets a log, an inputs file and a state record.
names_squadfile() {
	local name
	{
		echo 'version: 1'
		echo 'tasks:'
		while IFS= read -r name; do
			# a single-quoted YAML key: quote doubled, explicit key for 4 KB
			printf '  ? '"'"'%s'"'"'\n' "${name//\'/\'\'}"
			printf '  : { run: '"'"'printf "%%s\\n" "$SQUAD_TASK"'"'"', inputs: [in.txt] }\n'
		done < names.txt
		printf '  all: { needs: ['
		local sep=
		while IFS= read -r name; do
			printf '%s'"'"'%s'"'"'' "$sep" "${name//\'/\'\'}"
			sep=', '
		done < names.txt
		printf '] }\n'
	} > Squadfile
}

@test "names that try to escape keep logs, inputs and state inside .squad/" {
	mkdir -p a/b/proj
	cd a/b/proj
	write_names
	names_squadfile
	echo data > in.txt
	(cd "$BATS_TEST_TMPDIR" && find . | sort) > ../../../before.txt
	run "$SQUAD" all
	[ "$status" -eq 0 ]
	# every new path is squad's own, under .squad/
	(cd "$BATS_TEST_TMPDIR" && find . | sort) > ../../../after.txt
	comm -13 ../../../before.txt ../../../after.txt |
		grep -vE '^\./a/b/proj/\.squad(/(state|lock|files|\.gitignore|logs|inputs)|/logs/[^/]+\.log|/inputs/[^/]+\.txt)?$' |
		grep -vE '^\./(before|after)\.txt$' > strays.txt || true
	[ ! -s strays.txt ] || { cat strays.txt >&2; return 1; }
	[ ! -e /abs.log ]
	[ ! -e /abs ]
	[ ! -e "$BATS_TEST_TMPDIR/a/x.log" ]
	# no name was ever read by a shell as code
	[ -z "$(find "$BATS_TEST_TMPDIR" -name 'pwned*')" ]
	# one log and one inputs file per task, each holding its own task's words
	[ "$(ls .squad/logs | wc -l)" -eq "$(wc -l < names.txt)" ]
	[ "$(ls .squad/inputs | wc -l)" -eq "$(wc -l < names.txt)" ]
	sort names.txt > want.txt
	cat .squad/logs/* | sort > got.txt
	diff want.txt got.txt
	# every file name is short enough for any file system
	for f in .squad/logs/* .squad/inputs/*; do
		[ "${#f}" -lt 200 ]
	done
	# the state has a record per task, names intact
	grep -v '^#' .squad/state | cut -d' ' -f2- | jq -r .task | grep -vx all | sort > state.txt
	diff want.txt state.txt
	# and reads them back: nothing changed, so everything is up to date
	run "$SQUAD" all
	[ "$status" -eq 0 ]
	[[ $output == *"squad: 1 ok, $(wc -l < names.txt) up to date"* ]]
	run "$SQUAD" explain ../../x
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "../../x: up to date" ]]
}

@test "a name longer than 4096 bytes is an error" {
	{
		echo 'version: 1'
		echo 'tasks:'
		echo "  ? ${LONG}M"
		echo '  : "true"'
	} > Squadfile
	run "$SQUAD" -n "${LONG}M"
	[ "$status" -eq 2 ]
	[[ $output == *"longer than 4096 bytes"* ]]
}

# assert_no_escape: $output holds no raw ESC, BEL, C1 control or other
# control character but newlines
assert_no_escape() {
	if LC_ALL=C grep -qP '[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]' <<<"$output"; then
		printf '%s\n' "$output" | od -c | head -20 >&2
		return 1
	fi
}

@test "a control character in a name is rejected, and shown escaped" {
	local case
	# YAML escapes put ESC, BEL, C1 CSI, DEL and a newline into names
	for case in \
		'tasks: { "a\e[31mred": "true" }' \
		'tasks: { "a\x9b31mred": "true" }' \
		'tasks: { "a\nb": "true" }' \
		'tasks: { "a\x7fb": "true" }' \
		'tasks: { t: { run: "true", worker: w } }
workers: { "w\e]0;pwned\a": { command: [x] } }' \
		'tasks: { t: { run: "true", skills: ["s\e[2J"] } }' \
		'tasks: { t: { run: "true", needs: ["n\e[31m"] } }' \
		'default: "d\e[31m"
tasks: { t: "true" }' \
		'routing: [ { match: x, skill: "r\e[5m" } ]
tasks: { t: "true" }'; do
		printf 'version: 1\n%s\n' "$case" > Squadfile
		run "$SQUAD" -n
		[ "$status" -eq 2 ] || { echo "accepted: $case" >&2; return 1; }
		[[ $output == *"error:"* ]]
		assert_no_escape
		[[ $output == *'\x'* || $output == *'\n'* || $output == *'\u009b'* ]]
	done
	# a target typed on the command line is echoed escaped too
	printf 'version: 1\ntasks: { t: "true" }\n' > Squadfile
	run "$SQUAD" $'\e[31mevil'
	[ "$status" -eq 2 ]
	assert_no_escape
	[[ $output == *"unknown target '\\x1b[31mevil'"* ]]
}

@test "a skill name cannot leave skills_dir" {
	local skill
	for skill in .. . a/b ../x /abs; do
		printf 'version: 1\ntasks: { t: { skills: ["%s"] } }\n' "$skill" > Squadfile
		run "$SQUAD" -n t
		[ "$status" -eq 2 ] || { echo "accepted skill: $skill" >&2; return 1; }
		[[ $output == *"skill name '$skill'"* ]]
	done
}

# --- floods of output ------------------------------------------------

# peak_kb CMD...: run CMD under /usr/bin/time, its stdout in $output
# (NUL bytes dropped) and its peak resident memory in KB in $peak
peak_kb() {
	[ -x /usr/bin/time ] || skip "no /usr/bin/time (apt-get install time)"
	run --separate-stderr /usr/bin/time -f '%M' -o peak.txt "$@"
	peak=$(tail -1 peak.txt)
	echo "peak ${peak} KB: $*" >&3
}

@test "a task that prints 2 GB: squad's memory stays bounded, the terminal gets the end" {
	squadfile <<'Y'
version: 1
tasks:
  flood: "head -c 2G /dev/zero; echo; echo the-end"
Y
	peak_kb "$SQUAD" flood
	[ "$status" -eq 0 ]
	[ "$peak" -lt 65536 ]
	# the whole output in the log; a pointer to it on the terminal
	[ "$(stat -c %s .squad/logs/flood.log)" -eq $((2 * 1024 * 1024 * 1024 + 9)) ]
	[[ $output == *"bytes cut; the whole output is in $PWD/.squad/logs/flood.log"* ]]
	[[ $output == *"the-end"* ]]
	[ "${#output}" -lt $((1024 * 1024)) ]
	rm -f .squad/logs/flood.log
}

@test "one 100 MB line and binary garbage: bounded memory, a cut terminal, a valid state" {
	head -c 3M /dev/urandom > garbage.bin
	squadfile <<'Y'
version: 1
tasks:
  line: "head -c 100M /dev/zero | tr '\\0' y"
  garbage: "cat garbage.bin; printf '\\033[2J\\377\\376\\n'"
Y
	peak_kb "$SQUAD" line garbage
	[ "$status" -eq 0 ]
	[ "$peak" -lt 65536 ]
	[ "$(stat -c %s .squad/logs/line.log)" -eq $((100 * 1024 * 1024)) ]
	cmp <(head -c 3M .squad/logs/garbage.log) garbage.bin
	[[ $output == *"bytes cut; the whole output is in $PWD/.squad/logs/line.log"* ]]
	[[ $output == *"bytes cut; the whole output is in $PWD/.squad/logs/garbage.log"* ]]
	[ "${#output}" -lt $((1024 * 1024)) ]
	# the summary line is cut short, and the state stays one JSON per line
	grep -v '^#' .squad/state | cut -d' ' -f2- | jq -e . >/dev/null
	[ "$(grep -c . .squad/state)" -eq 3 ]
	[ "$(wc -c < .squad/state)" -lt 4096 ]
	# streamed as it comes (its head and end; hostile_output.bats has the
	# terminal's side), the long line still costs no memory
	/usr/bin/time -f '%M' -o peak.txt "$SQUAD" --output prefixed line >/dev/null
	echo "peak $(tail -1 peak.txt) KB: --output prefixed" >&3
	[ "$(tail -1 peak.txt)" -lt 65536 ]
	rm -f .squad/logs/line.log
}

# --- huge graphs -----------------------------------------------------

# chain N FILE: tasks t0 .. t(N-1), each needing the one before
chain() {
	awk -v n="$1" 'BEGIN {
		print "version: 1"; printf "default: t%d\n", n - 1; print "tasks:"
		print "  t0: \"true\""
		for (i = 1; i < n; i++) printf "  t%d: { run: \"true\", needs: [t%d] }\n", i, i - 1
	}' > "$2"
}

@test "a 10,000-deep chain of tasks runs to its end" {
	chain 10000 Squadfile
	run "$SQUAD" -q
	[ "$status" -eq 0 ]
	[[ ${lines[-1]} == "squad: 10000 ok in"* ]]
	[ "$(grep -c '"status":"ok"' .squad/state)" -eq 10000 ]
}

# How the time grows with the number of tasks is measured by the
# benchmarks (tests/bench), not asserted here: a test does not depend on
# timing. This one holds that 100,000 tasks are handled at all: planned,
# explained, listed and graphed (every task a target), with no crash and
# no recursion limit.
@test "a 100,000-task Squadfile plans, lists, explains and graphs" {
	chain 100000 S100k
	[ "$("$SQUAD" -f S100k -n | wc -l)" -eq 100001 ] # + the limits line
	"$SQUAD" -f S100k explain t99999 | grep -q 'needs: t99998'
	[ "$("$SQUAD" -f S100k list --names | wc -l)" -eq 100000 ]
	[ "$("$SQUAD" -f S100k graph | grep -c -- '->')" -eq 99999 ]
}

# --- corrupt files read back -----------------------------------------

@test "a truncated, corrupt or non-UTF-8 Squadfile is an error with its place, never a crash" {
	local i
	printf 'version: 1\ntasks:\n  t: { run: "tr' > f1                 # truncated
	printf 'version: 1\ntasks:\n  t: "echo \xe9t\xe9"\n' > f2          # Latin-1
	printf '\x00\x01\x02\x03' > f3                                     # binary
	printf 'version: 2\ntasks: { t: "true" }\n' > f4                   # a future format
	printf 'version: 1\ntasks: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n' > f5 # unbalanced
	printf '\xef\xbb\xbfversion: 1\ntasks: {t: "true"}\n\xff' > f6     # BOM, stray byte
	head -c 65536 /dev/urandom > f7                                    # noise
	awk 'BEGIN { printf "version: 1\ntasks:\n  t: "; for (i = 0; i < 20000; i++) printf "["; print "" }' > f8
	: > f9                                                             # empty
	# deep but well-formed: 20,000 nested lists where a command goes
	awk 'BEGIN { printf "version: 1\ntasks:\n  t: "; for (i = 0; i < 20000; i++) printf "[";
		for (i = 0; i < 20000; i++) printf "]"; print "" }' > f10
	for i in 1 2 3 4 5 6 7 8 9 10; do
		run "$SQUAD" -f f$i -n
		[ "$status" -eq 2 ] || { echo "f$i: status $status: $output" >&2; return 1; }
		[[ $output == *"f$i:"*"error:"* ]]
	done
	[[ $(run "$SQUAD" -f f4 -n; echo "$output") == *"unsupported version '2'"* ]]
}

# A project with a task t that has inputs, run once: t is up to date.
ran_once() {
	squadfile <<'Y'
version: 1
default: [a, b]
tasks:
  a: { run: "echo a >> ran", inputs: [in.txt] }
  b: { run: "echo b >> ran", inputs: [in.txt] }
Y
	echo data > in.txt
	"$SQUAD" >/dev/null
	rm ran
	run "$SQUAD"
	[[ $output == *"2 up to date"* ]]
}

@test "a corrupt line in the state never makes a task up to date" {
	ran_once
	cp .squad/state good
	# a flipped bit in a's record: its checksum no longer holds
	sed -i '/"task":"a"/ s/"status":"ok"/"status":"ol"/' .squad/state
	run "$SQUAD"
	[ "$status" -eq 0 ]
	[ "$(cat ran)" = a ]
	rm ran
	# a checksum of the right form but the wrong value
	cp good .squad/state
	sed -i '/"task":"b"/ s/^......../00000000/' .squad/state
	run "$SQUAD"
	[ "$status" -eq 0 ]
	[ "$(cat ran)" = b ]
	rm ran
	# a record that checks but belongs to another version of the task
	cp good .squad/state
	perl -MCompress::Zlib -i -pe 'if (/"task":"a"/) { s/^\S+ //; s/"fingerprint":"[0-9a-f]+"/"fingerprint":"0000"/; chomp; $_ = sprintf("%08x %s\n", crc32($_), $_) }' .squad/state
	run "$SQUAD"
	[ "$status" -eq 0 ]
	[ "$(cat ran)" = a ]
}

@test "a truncated state keeps the whole lines before the cut" {
	local first last
	ran_once
	first=$(sed -n 2p .squad/state | cut -d' ' -f2- | jq -r .task)
	last=$(tail -1 .squad/state | cut -d' ' -f2- | jq -r .task)
	# cut in the middle of the last record
	head -c $(($(wc -c < .squad/state) - 20)) .squad/state > cut
	cp cut .squad/state
	run "$SQUAD"
	[ "$status" -eq 0 ]
	[ "$(cat ran)" = "$last" ]
	[[ $output == *"up to date $first"* ]]
	# compacted: whole lines again, one per task
	[ "$(grep -c '"status":"ok"' .squad/state)" -eq 2 ]
}

@test "a state of garbage or invalid UTF-8 is rebuilt cleanly" {
	ran_once
	printf '\xff\xfe\x00garbage\n\x80\x81\x82\n%s\n' "$(head -c 300 /dev/urandom | base64 -w0)" > .squad/state
	run "$SQUAD"
	[ "$status" -eq 0 ]
	[ "$(sort ran | tr '\n' ' ')" = "a b " ]
	[ "$(head -1 .squad/state)" = "# squad state 1" ]
	[ "$(grep -vc '^#' .squad/state)" -eq 2 ]
	grep -v '^#' .squad/state | cut -d' ' -f2- | jq -e . >/dev/null
}

@test "a state from a newer squad is a clear error, and is left as it is" {
	ran_once
	sed -i '1s/.*/# squad state 2/' .squad/state
	cp .squad/state newer
	run "$SQUAD"
	[ "$status" -eq 1 ]
	[[ $output == *"was written by a newer squad (squad state 2)"* ]]
	[ ! -e ran ]
	cmp newer .squad/state
	run "$SQUAD" done a
	[ "$status" -ne 0 ]
	cmp newer .squad/state
}

# A project whose run leaves one task, h, for the tactician.
with_manifest() {
	squadfile <<'Y'
version: 1
default: h
tasks:
  t: "echo t"
  h: { skills: [review], needs: [t], prompt: "look" }
Y
	run "$SQUAD"
	[ "$status" -eq 3 ]
	[ -s .squad/handoff.json ]
	cp .squad/handoff.json good.json
}

@test "a truncated, corrupt, newer or non-UTF-8 manifest: a clear error, never a crash" {
	local bad
	with_manifest
	head -c 100 good.json > m.truncated
	sed 's/"version": 1/"version": 7/' good.json > m.newer
	printf '{"version": 1, "tasks": [{"name": "h\xff"}]}' > m.utf8
	echo '[1, 2]' > m.array
	echo '{"version": 1, "tasks": {"h": 1}}' > m.tasks
	head -c 4096 /dev/urandom > m.noise
	for bad in m.*; do
		cp "$bad" .squad/handoff.json
		run "$SQUAD" handoff
		[ "$status" -eq 1 ] || { echo "$bad: handoff status $status" >&2; return 1; }
		[[ $output == *"handoff.json"* ]]
		run "$SQUAD" done h
		[ "$status" -eq 1 ] || { echo "$bad: done status $status" >&2; return 1; }
		[[ $output == *"handoff.json"* ]]
		# no done mark was recorded from it
		! grep -q '"status":"done"' .squad/state || false
	done
	cp m.newer .squad/handoff.json
	run "$SQUAD" handoff
	[[ $output == *"written by a newer squad (manifest version 7)"* ]]
	# a run writes a fresh one
	run "$SQUAD"
	[ "$status" -eq 3 ]
	jq -e '.tasks[0].name == "h"' .squad/handoff.json
}

@test "a hand-edited manifest: fields of the wrong type and escapes are shown safely" {
	with_manifest
	printf '%s\n' '{"version": 1, "tasks": [1, "x", null,' \
		'{"name": 5, "kind": [], "skills": 7, "blocks": "z"},' \
		'{"name": "e\u001b[31m", "kind": "skill\u009b2J", "skills": [{"name": "s\u0007", "resolved": true, "path": 3}],' \
		' "blocks": ["b\u001b]0;x\u0007"], "instruction": "line1\n\u001b[2Jline2"}]}' > .squad/handoff.json
	run "$SQUAD" handoff
	[ "$status" -eq 0 ]
	assert_no_escape
	[[ $output != *"(null)"* ]]
	[[ $output == *'e\x1b[31m (skill\u009b2J)'* ]]
	[[ $output == *'  | \x1b[2Jline2'* ]]
	# a name that is no task of the Squadfile gets no mark
	run "$SQUAD" done 'e'$'\e''[31m'
	[ "$status" -eq 2 ]
	assert_no_escape
	[[ $output == *"no task 'e\\x1b[31m'"* ]]
	! grep -q '"status":"done"' .squad/state || false
}

# --- symlinks in the place of squad's files ---------------------------

# outside/: what a symlink points at; every file's checksum, size and
# time, before and after
snapshot_outside() {
	(cd outside && find . -type f -exec sha1sum {} + | sort &&
		find . -printf '%y %p %s %T@\n' | sort)
}

setup_outside() {
	mkdir -p outside/dir
	echo precious > outside/file
	echo '{"version": 1, "tasks": [{"name": "h", "fingerprint": "x"}]}' > outside/manifest.json
	snapshot_outside > outside.before
}

outside_untouched() {
	snapshot_outside > outside.after
	diff outside.before outside.after
}

@test "a symlinked .squad, state or lock is refused; what it points at is untouched" {
	local what
	with_manifest
	setup_outside
	for what in .squad .squad/state .squad/lock .squad/logs .squad/inputs; do
		rm -rf .squad
		run "$SQUAD" t
		[ "$status" -eq 0 ]
		rm -rf "$what"
		case $what in
		.squad | */logs | */inputs) ln -s "$PWD/outside/dir" "$what" ;;
		*) ln -s "$PWD/outside/file" "$what" ;;
		esac
		run "$SQUAD" t
		[ "$status" -eq 1 ] || { echo "$what: status $status" >&2; return 1; }
		[[ $output == *"'$PWD/$what' is a symlink"*"squad will not follow it"* ]]
		[[ $output != *"ok t"* ]]
		run "$SQUAD" done h
		[ "$status" -eq 1 ]
		outside_untouched
	done
}

@test "a symlinked log is not written through: the run says so and exits 1" {
	squadfile <<'Y'
version: 1
tasks:
  t: { run: "echo secret-output", inputs: [in.txt] }
Y
	echo data > in.txt
	setup_outside
	"$SQUAD" t >/dev/null
	ln -sf "$PWD/outside/file" .squad/logs/t.log
	run "$SQUAD" -B t
	[ "$status" -eq 1 ]
	[[ $output == *"'$PWD/.squad/logs/t.log' is a symlink; squad will not write through it"* ]]
	outside_untouched
	# the inputs record, written at each success, is not followed either
	rm -f .squad/logs/t.log
	ln -sf "$PWD/outside/file" .squad/inputs/t.txt
	run "$SQUAD" -B t
	[ "$status" -eq 1 ]
	[[ $output == *"inputs/t.txt' is a symlink; squad will not write through it"* ]]
	outside_untouched
}

@test "a symlinked handoff.json is neither read, written nor followed" {
	with_manifest
	setup_outside
	ln -sf "$PWD/outside/manifest.json" .squad/handoff.json
	run "$SQUAD" handoff
	[ "$status" -eq 1 ]
	[[ $output == *"handoff.json' is a symlink; squad will not follow it"* ]]
	run "$SQUAD" done h
	[ "$status" -eq 1 ]
	! grep -q '"status":"done"' .squad/state || false
	# a run cannot write its manifest: it says so, and does not claim success
	run "$SQUAD"
	[ "$status" -eq 1 ]
	[[ $output == *"handoff.json' is a symlink; squad will not write through it"* ]]
	outside_untouched
}
