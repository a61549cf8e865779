#!/usr/bin/env bats
# Runs sized to the fd limit: `ulimit -n` low and -j high neither fails a
# task with "Too many open files" nor loses its output.
#
#   SQUAD=build/squad bats tests/e2e/limits.bats

bats_require_minimum_version 1.5.0
load helpers

# forty: a Squadfile of 40 tasks that each print one known line, all of
# them running at once if they may (the sleep keeps them overlapping).
forty() {
	local i
	{
		printf 'version: 1\ndefault: all\ntasks:\n'
		for i in $(seq 1 40); do
			printf '  t%s: "sleep 0.2; echo line-of-t%s"\n' "$i" "$i"
		done
		printf '  all: { needs: ['
		for i in $(seq 1 39); do
			printf 't%s, ' "$i"
		done
		printf 't40] }\n'
	} > Squadfile
}

@test "ulimit -n 32 (hard too) and -j16: every task ok, every log whole" {
	local i bad=0

	forty
	run --separate-stderr bash -c 'ulimit -n 32 && exec "$0" -j16 -k --junit junit.xml' "$SQUAD"
	[ "$status" -eq 0 ]
	[[ $stderr != *"Too many open files"* ]]
	[[ $output != *"Too many open files"* ]]
	[[ $output == *"squad: 41 ok in "* ]]
	for i in $(seq 1 40); do
		if [ "$(cat ".squad/logs/t$i.log")" != "line-of-t$i" ]; then
			echo "t$i.log: $(cat ".squad/logs/t$i.log")"
			bad=$((bad + 1))
		fi
	done
	[ "$bad" -eq 0 ]
	[ "$(grep -c '<testcase ' junit.xml)" -eq 41 ]
	[ "$(grep -c '<failure' junit.xml)" -eq 0 ]
}

@test "a soft fd limit below what -j needs is raised towards the hard one" {
	squadfile <<'Y'
version: 1
tasks:
  limit: "ulimit -n"
Y
	run --separate-stderr bash -c 'ulimit -Sn 32 && ulimit -Hn 4096 && exec "$0" -j16 limit' "$SQUAD"
	[ "$status" -eq 0 ]
	[ "$(cat .squad/logs/limit.log)" -gt 32 ]
	[ "$(cat .squad/logs/limit.log)" -le 4096 ]
}

@test "a soft fd limit with room to spare is left as it is" {
	squadfile <<'Y'
version: 1
tasks:
  limit: "ulimit -n"
Y
	run --separate-stderr bash -c 'ulimit -Sn 1000 && ulimit -Hn 4096 && exec "$0" -j4 limit' "$SQUAD"
	[ "$status" -eq 0 ]
	[ "$(cat .squad/logs/limit.log)" -eq 1000 ]
}
