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

# generated_dag SEED NR: NR tasks t1..tNR, each needing up to three
# earlier ones (a fixed generator: the same DAG everywhere); every fourth
# is skill-tagged (handed off, never run), so the manifest has entries
# and tasks wait behind them; a group over the lot is the default.
generated_dag() {
	local seed=$1 nr=$2 i j k needs
	{
		echo "version: 1"
		echo "default: all"
		echo "tasks:"
		for ((i = 1; i <= nr; i++)); do
			needs=""
			for ((k = 0; k < 3 && i > 1; k++)); do
				seed=$(((seed * 1103515245 + 12345) % 2147483648))
				((seed % 3 == 0)) && continue
				j=$((seed / 7 % (i - 1) + 1))
				[[ ",$needs," == *",t$j,"* ]] || needs+="${needs:+,}t$j"
			done
			if ((i % 4 == 0)); then
				echo "  t$i: { skills: [review], prompt: \"review t$i\", needs: [$needs] }"
			else
				echo "  t$i: { run: \"echo t$i >> \$LOG\", needs: [$needs] }"
			fi
		done
		printf '  all: { needs: ['
		for ((i = 1; i <= nr; i++)); do
			printf 't%s%s' "$i" "$([ "$i" -lt "$nr" ] && echo ', ')"
		done
		echo '] }'
	} > Squadfile
}

# fresh_run LOG ARGS...: squad -k ARGS in a fresh ./proj (always the same
# path, as on CI machines: the manifest names absolute paths); its
# manifest, if any, left in proj/.squad/handoff.json
fresh_run() {
	local log=$1
	shift
	rm -rf proj && mkdir proj && cp Squadfile proj/
	(cd proj && LOG=$log "$SQUAD" -q -k "$@" 2>/dev/null)
}

# comparable FILE: the manifest without what differs from run to run
comparable() {
	jq -S 'del(.created) | del(.tasks[].needs[].duration_ms)' "$1"
}

@test "handoff --merge: the shards' merged manifest is the single run's, for N in 1..5 over generated DAGs" {
	for seed in 7 42; do
		generated_dag "$seed" 14
		run fresh_run "$BATS_TEST_TMPDIR/single.txt" all
		[ "$status" -eq 3 ]
		cp proj/.squad/handoff.json single.json
		[ "$(jq '.tasks | length' single.json)" -ge 2 ]
		[ "$(jq '[.tasks[].blocks[]] | length' single.json)" -ge 1 ]
		for n in 1 2 3 4 5; do
			rm -f shard*.json ./*.log owned
			for ((k = 1; k <= n; k++)); do
				# what the shard owns, asked before its run (as the split)
				fresh_run /dev/null -n --shard "$k/$n" |
					sed -n '1s/^squad: shard [0-9/]* owns \([^(]*\) (.*/\1/p' |
					tr ',' '\n' | tr -d ' ' | grep -v '^notask$' >> owned || true
				run fresh_run "$BATS_TEST_TMPDIR/shard$k.log" --shard "$k/$n"
				[ "$status" -eq 0 ] || [ "$status" -eq 3 ]
				if [ -f proj/.squad/handoff.json ]; then
					cp proj/.squad/handoff.json "shard$k.json"
				fi
			done
			# every task that does something is exactly one shard's own
			run sort owned
			[ "$output" = "$(grep -o '^  t[0-9]*' Squadfile | tr -d ' ' | sort)" ]
			# what ran across the shards is what the single run ran
			run sort -u shard*.log
			[ "$output" = "$(sort -u single.txt)" ]
			# merged, it is the single run's manifest
			run --separate-stderr "$SQUAD" -C proj handoff --merge --json "$PWD"/shard*.json
			[ "$status" -eq 0 ]
			echo "$output" > merged.json
			[ "$(comparable merged.json)" = "$(comparable single.json)" ]
		done
	done
}

@test "handoff --merge writes .squad/handoff.json, which 'squad done' then uses" {
	generated_dag 42 8
	for k in 1 2; do
		fresh_run /dev/null --shard "$k/2" || true
		if [ -f proj/.squad/handoff.json ]; then
			cp proj/.squad/handoff.json "shard$k.json"
		fi
	done
	# a shard's manifest: the run's targets, its shard, as the schema says
	[ "$(jq -c '[.targets, .shard]' shard2.json)" = '[["all"],{"index":2,"count":2}]' ]
	validate_json "$SQUAD_SRC/grammar/handoff.schema.json" shard2.json
	rm -rf proj && mkdir proj && cp Squadfile proj/
	run --separate-stderr "$SQUAD" -C proj handoff --merge "$PWD"/shard*.json
	[ "$status" -eq 0 ]
	[[ $output == "squad: merged "*" manifest"*" for the tactician"* ]]
	run jq -r '.tasks[].name' proj/.squad/handoff.json
	[ "${lines[0]}" = t4 ]
	[ "$(jq -r .resume_command proj/.squad/handoff.json)" = "$SQUAD -f $PWD/proj/Squadfile all" ]
	run "$SQUAD" -C proj done t4 --note "looked"
	[ "$status" -eq 0 ]
	run jq -r '.tasks[].name' proj/.squad/handoff.json
	[ "${lines[0]}" != t4 ]
}

@test "handoff --merge refuses manifests of different runs, a shard twice, and no file" {
	generated_dag 42 8
	fresh_run /dev/null --shard 2/2 || true
	cp proj/.squad/handoff.json one.json
	fresh_run /dev/null --shard 2/3 || true
	cp proj/.squad/handoff.json other.json
	fresh_run /dev/null all || true
	cp proj/.squad/handoff.json single.json
	run "$SQUAD" -C proj handoff --merge ../one.json ../one.json
	[ "$status" -eq 1 ]
	[[ $output == *"are both shard 2/2"* ]]
	run "$SQUAD" -C proj handoff --merge ../one.json ../other.json
	[ "$status" -eq 1 ]
	[[ $output == *"not shards of one split"* ]]
	run "$SQUAD" -C proj handoff --merge ../one.json ../single.json
	[ "$status" -eq 1 ]
	[[ $output == *"one is no shard's"* ]]
	run "$SQUAD" -C proj handoff --merge ../missing.json
	[ "$status" -eq 1 ]
	[[ $output == *"cannot read '../missing.json'"* ]]
	run "$SQUAD" -C proj handoff --merge
	[ "$status" -eq 2 ]
	# a manifest of a run without --shard merges alone, to itself
	run --separate-stderr "$SQUAD" -C proj handoff --merge --json ../single.json
	[ "$status" -eq 0 ]
	[ "$(jq -S 'del(.created)' <<< "$output")" = "$(jq -S 'del(.created)' single.json)" ]
}

@test "handoff --merge: shards that ran in other folders (a CI job each) are told as if they had run here" {
	generated_dag 42 8
	mkdir here
	cp Squadfile here/
	for k in 1 2; do
		mkdir "job$k"
		cp Squadfile "job$k/"
		(cd "job$k" && LOG=/dev/null "$SQUAD" -q -k --shard "$k/2" 2>/dev/null) || true
	done
	(cd here && LOG=/dev/null "$SQUAD" -q -k 2>/dev/null) || true
	mv here/.squad/handoff.json single.json
	run --separate-stderr "$SQUAD" -C here handoff --merge --json "$PWD"/job*/.squad/handoff.json
	[ "$status" -eq 0 ]
	echo "$output" > merged.json
	[ "$(comparable merged.json)" = "$(comparable single.json)" ]
	run grep -c "job[12]" merged.json
	[ "$output" = 0 ]
}
