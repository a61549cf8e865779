#!/usr/bin/env bats
# Hostile input, continued: floods of output in --output=prefixed, names
# that would reorder or hide text on the terminal (bidirectional and
# invisible formatting characters, "Trojan Source"), and a budget file
# edited by hand with numbers past any integer type.
bats_require_minimum_version 1.5.0
load helpers

# --- floods of output, streamed ----------------------------------------

@test "--output=prefixed: a flood of lines and a 100 MB line are cut on the terminal, the log has all" {
	squadfile <<'Y'
version: 1
tasks:
  lines: "seq 1 300000; echo the-end"
  line: "head -c 100M /dev/zero | tr '\\0' y; echo; echo after-the-line"
  small: "printf 'one\\ntwo\\nthree'"
Y
	run "$SQUAD" --output prefixed lines line small
	[ "$status" -eq 0 ]
	[[ $output == *"squad: 3 ok"* ]]
	# the terminal got a bounded part of the 102 MB ...
	[ "${#output}" -lt $((1024 * 1024)) ]
	# ... and the log all of it
	[ "$(wc -l < .squad/logs/lines.log)" -eq 300001 ]
	[ "$(stat -c %s .squad/logs/line.log)" -eq $((100 * 1024 * 1024 + 16)) ]

	# lines: its first 1,000 lines as they came, one line saying what was
	# cut and where the whole is, then its last 1,000 lines
	grep '^lines | ' <<<"$output" > lines.txt
	{ seq 1 1000; echo "... CUT"; seq 299002 300000; echo the-end; } > want.txt
	local cut=$(($(head -n 299001 .squad/logs/lines.log | wc -c) - $(head -n 1000 .squad/logs/lines.log | wc -c)))
	sed 's/^lines | //; s/^\.\.\. [0-9]* bytes cut; the whole output is in .*/... CUT/' lines.txt > got.txt
	diff want.txt got.txt
	grep -qxF "lines | ... $cut bytes cut; the whole output is in $PWD/.squad/logs/lines.log" lines.txt

	# line: two pieces of the line, the cut, the last line
	grep -c '^line | yyyy' <<<"$output" > pieces.txt
	[ "$(cat pieces.txt)" -ge 2 ]
	[ "$(cat pieces.txt)" -le 3 ]
	[[ $output == *"line | ... "*" bytes cut; the whole output is in $PWD/.squad/logs/line.log"* ]]
	[ "$(grep '^line | ' <<<"$output" | tail -1)" = "line | after-the-line" ]

	# a small task's output is whole, and not cut
	[ "$(grep '^small | ' <<<"$output")" = "$(printf 'small | one\nsmall | two\nsmall | three')" ]
	[[ $output != *"small | ... "* ]]
	rm -f .squad/logs/line.log
}

@test "--output=prefixed: output just past the bound loses nothing, and lines stay whole" {
	# 1,500 lines: 1,000 stream, the other 500 are the end; nothing is cut
	# 100 lines of 999 bytes: they straddle the 64 KiB reads, and each
	# still reaches the terminal as one line
	squadfile <<'Y'
version: 1
tasks:
  over: "seq 1 1500"
  wide: "yes \"$(printf '%0999d' 7)\" | head -n 100"
Y
	run "$SQUAD" --output prefixed over wide
	[ "$status" -eq 0 ]
	[[ $output != *"bytes cut"* ]]
	diff <(seq 1 1500) <(grep '^over | ' <<<"$output" | sed 's/^over | //')
	[ "$(grep -c '^wide | ' <<<"$output")" -eq 100 ]
	[ "$(grep '^wide | ' <<<"$output" | sort -u)" = "wide | $(printf '%0999d' 7)" ]
}

# --- names that would reorder or hide text ------------------------------

# assert_no_bidi: $output holds no raw bidirectional control or invisible
# formatting character (U+061C, U+200B, U+200E/F, U+2028-U+202E,
# U+2060-U+206F, U+FEFF), nor a control character but newlines
assert_no_bidi() {
	if LC_ALL=C grep -qP '\xd8\x9c|\xe2\x80[\x8b\x8e\x8f\xa8-\xae]|\xe2\x81[\xa0-\xaf]|\xef\xbb\xbf|[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]' <<<"$output"; then
		printf '%s\n' "$output" | LC_ALL=C grep -naP '\xd8\x9c|\xe2\x80[\x8b\x8e\x8f\xa8-\xae]|\xe2\x81[\xa0-\xaf]|\xef\xbb\xbf' | od -c | head -20 >&2
		return 1
	fi
}

# A Squadfile whose task, skill, worker names and description carry
# bidi controls: "user<RLO><LRI>nimda<PDI><LRI>" reads as an admin check
bidi_squadfile() {
	squadfile <<'Y'
version: 1
default: all
workers:
  "agent\u202e": { command: [sh, -c, "echo answer", "{prompt}"] }
tasks:
  "user\u202e\u2066nimda\u2069\u2066": { run: "echo hi; exit 1", desc: "d\u200fesc" }
  "ok\u2067": "echo fine"
  "ask\u061c": { prompt: "p\u202ex", worker: "agent\u202e" }
  "review\u200e": { skills: ["sec\u202eurity"], needs: ["ok\u2067"] }
  "z\u200bw\ufeff": "true"
  all: { needs: ["user\u202e\u2066nimda\u2069\u2066", "ok\u2067", "review\u200e", "ask\u061c", "z\u200bw\ufeff"] }
Y
}

@test "bidi and invisible characters in names reach the terminal escaped, never raw" {
	local args name
	bidi_squadfile
	for args in "-k" "-k --output prefixed" "-k -v" "-k --output failed" "-n" "list" "graph" \
		"graph --format=mermaid" "handoff"; do
		run "$SQUAD" $args
		assert_no_bidi || { echo "raw in: squad $args" >&2; return 1; }
	done
	for name in $'user\xe2\x80\xae\xe2\x81\xa6nimda\xe2\x81\xa9\xe2\x81\xa6' \
		$'review\xe2\x80\x8e' $'ask\xd8\x9c'; do
		run "$SQUAD" explain "$name"
		[ "$status" -eq 0 ]
		assert_no_bidi || { echo "raw in: squad explain" >&2; return 1; }
	done
	[[ $output == *'ask\u061c: '*'route: worker agent\u202e'* ]]
	run "$SQUAD" explain $'review\xe2\x80\x8e'
	[[ $output == *'review\u200e: '*'skill sec\u202eurity'*'needs: ok\u2067'* ]]
	# squad done, of a task that waits and of one that does not
	run "$SQUAD" done $'ok\xe2\x81\xa7'
	[ "$status" -eq 2 ]
	assert_no_bidi
	[[ $output == *"task 'ok\u2067' is not waiting"*'waiting: review\u200e'* ]]
	# what they read as instead
	run "$SQUAD" -k
	[ "$status" -eq 1 ]
	[[ $output == *'FAILED user\u202e\u2066nimda\u2069\u2066'* ]]
	[[ $output == *'hand-off review\u200e (for the tactician; skills: sec\u202eurity)'* ]]
	[[ $output == *'ok ask\u061c'* ]]
	[[ $output == *'ok z\u200bw\ufeff'* ]]
	[[ $output =~ ask\\u061c\ +ok\ +agent\\u202e\ +[0-9.]+s\ +answer ]]
	run "$SQUAD" -n
	[[ $output == *'ask\u061c'*'agent\u202e  prompt: p\u202ex'* ]]
	run "$SQUAD" list
	[[ $output == *'user\u202e\u2066nimda\u2069\u2066  d\u200fesc'* ]]
	[[ $output == *'needs: ok\u2067  skills: sec\u202eurity'* ]]
	run "$SQUAD" -k --output prefixed
	[[ $output == *'user\u202e\u2066nimda\u2069\u2066 | hi'* ]]
	# the names themselves are kept as written: in the state and the manifest
	grep -v '^#' .squad/state | cut -d' ' -f2- | jq -r .task | grep -qxF $'ok\xe2\x81\xa7'
	[ "$(jq -r '.tasks[0].name' .squad/handoff.json)" = $'review\xe2\x80\x8e' ]
	run "$SQUAD" done $'review\xe2\x80\x8e'
	[ "$status" -eq 0 ]
	assert_no_bidi
	[[ $output == *'recorded review\u200e as done'* ]]
}

# --- a budget file edited by hand ---------------------------------------

# A project whose prompt task goes to an agent worker with a daily_limit,
# and a budget file of $1 (raw JSON for the worker's request count).
budget_project() {
	export XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	squadfile <<'Y'
version: 1
workers:
  agent: { command: [sh, -c, "touch called; echo answer", "{prompt}"], daily_limit: 100 }
tasks:
  ask: { prompt: "anything", worker: agent }
Y
	mkdir -p "$XDG_STATE_HOME/squad"
	printf '{"agent": {"day": "%s", "requests": %s, "recent": []}}\n' "$(date +%F)" "$1" \
		> "$XDG_STATE_HOME/squad/budget.json"
}

# A count past any integer type is the budget spent (the largest count a
# long holds), never a wrap to a fresh budget: the agent is not called.
@test "a hand-edited budget count of 1e300 or 2^63 exhausts the budget, no overflow" {
	local count
	for count in 1e300 9223372036854775808 99999999999999999999999999; do
		budget_project "$count"
		run "$SQUAD" ask
		[ "$status" -eq 1 ] || { echo "count $count: status $status: $output" >&2; return 1; }
		[[ $output == *"budget exhausted: worker 'agent' has used 9223372036854775807 of its daily_limit of 100 requests today"* ]]
		[ ! -e called ]
	done
	# at the very top with no daily_limit, a call leaves the count there
	budget_project 9223372036854775807
	sed -i 's/, daily_limit: 100/, per_minute: 1000/' Squadfile
	run "$SQUAD" ask
	[ "$status" -eq 0 ]
	[ -e called ]
	# (jq reads numbers as doubles: the text is what counts)
	grep -q '"requests": 9223372036854775807$' "$XDG_STATE_HOME/squad/budget.json"
}

# A file that is no budget at all (1e400 is past a double) is a clear
# error, and is left for the person to fix: a silent fresh start would
# give back a spent budget.
@test "a budget file that does not parse fails the agent's tasks clearly and is kept" {
	budget_project 1e400
	cp "$XDG_STATE_HOME/squad/budget.json" before.json
	run "$SQUAD" ask
	[ "$status" -eq 1 ]
	[[ $output == *"FAILED ask"*"'$XDG_STATE_HOME/squad/budget.json' is not a budget file ("*"): fix or remove it"* ]]
	[ ! -e called ]
	cmp before.json "$XDG_STATE_HOME/squad/budget.json"
	# removed, it starts over
	rm "$XDG_STATE_HOME/squad/budget.json"
	run "$SQUAD" ask
	[ "$status" -eq 0 ]
	[ -e called ]
	[ "$(jq -r .agent.requests "$XDG_STATE_HOME/squad/budget.json")" = 1 ]
}
