#!/usr/bin/env bats
# --shard K/N: every task with work is one shard's own, whatever N; each
# shard runs its own tasks and what they need. Each shard runs in a fresh
# copy of the project, as CI machines do (the split follows recorded
# durations, so shards must see the same state).
bats_require_minimum_version 1.5.0
load helpers

# independent NR: NR tasks without needs, each appending its name to
# $LOG (outside the project copies)
independent() {
	{
		echo "version: 1"
		echo "default: all"
		echo "tasks:"
		for ((i = 1; i <= $1; i++)); do
			echo "  t$i: { run: \"echo t$i >> \$LOG\" }"
		done
		printf '  all: { needs: ['
		for ((i = 1; i <= $1; i++)); do
			printf 't%s%s' "$i" "$([ "$i" -lt "$1" ] && echo ', ')"
		done
		echo '] }'
	} > Squadfile
}

# run_shards N: run --shard 1/N..N/N, each in a fresh copy of ./Squadfile
run_shards() {
	local k
	for ((k = 1; k <= $1; k++)); do
		rm -rf "copy$k" && mkdir "copy$k" && cp Squadfile "copy$k/"
		(cd "copy$k" && "$SQUAD" -q --shard "$k/$1") || return 1
	done
}

@test "independent tasks: each runs exactly once across shards, for N in 1..5" {
	independent 7
	export LOG=$BATS_TEST_TMPDIR/log
	for n in 1 2 3 4 5; do
		rm -f "$LOG"
		run_shards "$n"
		run sort "$LOG"
		[ "$output" = "$(printf 't%s\n' 1 2 3 4 5 6 7 | sort)" ]
	done
}

@test "a DAG: the shards' own tasks partition it, and a shard runs its needs first" {
	squadfile <<'Y'
version: 1
default: all
tasks:
  a: { run: "echo a >> $LOG" }
  b: { run: "echo b >> $LOG", needs: [a] }
  c: { run: "echo c >> $LOG" }
  d: { run: "echo d >> $LOG", needs: [b, c] }
  e: { run: "echo e >> $LOG", needs: [a] }
  all: { needs: [d, e] }
Y
	export LOG=$BATS_TEST_TMPDIR/log
	for n in 1 2 3 4 5; do
		: > owned
		for ((k = 1; k <= n; k++)); do
			run "$SQUAD" -n --shard "$k/$n"
			[ "$status" -eq 0 ]
			[[ ${lines[0]} == "squad: shard $k/$n owns"* ]]
			sed -n '1s/^squad: shard [0-9/]* owns \([^(]*\) (.*/\1/p' <<< "$output" |
				tr ',' '\n' | tr -d ' ' | grep -v '^notask$' >> owned || true
		done
		run sort owned
		[ "$output" = "$(printf '%s\n' a b c d e)" ]
	done
	# real runs, a log per shard: each own task ran, after what it needs
	for ((k = 1; k <= 3; k++)); do
		rm -rf "copy$k" && mkdir "copy$k" && cp Squadfile "copy$k/"
		# asked before the run: its durations then weigh the split
		own=$(cd "copy$k" && "$SQUAD" -n --shard "$k/3" | sed -n '1s/^squad: shard [0-9/]* owns \([^(]*\) (.*/\1/p' | tr -d ',')
		(cd "copy$k" && LOG=$BATS_TEST_TMPDIR/log$k "$SQUAD" -q -j1 --shard "$k/3")
		for task in $own; do
			grep -qx "$task" "log$k"
			case $task in
			b) before "a" b "log$k" ;;
			d) before "a b c" d "log$k" ;;
			e) before "a" e "log$k" ;;
			esac
		done
	done
}

# before NEEDS TASK LOG: every one of NEEDS is in LOG before TASK
before() {
	local need at
	at=$(grep -nx "$2" "$3" | cut -d: -f1)
	for need in $1; do
		[ "$(grep -nx "$need" "$3" | cut -d: -f1)" -lt "$at" ] || return 1
	done
}

@test "-n shows a shard that owns nothing; a bad --shard is a usage error" {
	independent 2
	run "$SQUAD" -n --shard 5/5
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "squad: shard 5/5 owns no task (0 of 2)" ]
	[ "${lines[1]}" = "squad: nothing to do" ]
	run "$SQUAD" --shard 6/5
	[ "$status" -eq 2 ]
	[[ $output == *"--shard wants K/N"* ]]
	run "$SQUAD" --shard 0/5
	[ "$status" -eq 2 ]
	run "$SQUAD" --shard 1/x
	[ "$status" -eq 2 ]
	run "$SQUAD" exec --shard 1/2 --run true
	[ "$status" -eq 2 ]
	[[ $output == *"--shard are for a run"* ]]
}
