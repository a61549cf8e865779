#!/usr/bin/env bats
# Running tasks: parallelism, order, failures, timeouts, retries, signals.
load helpers

@test "two tasks that wait for each other finish together under -j2" {
	squadfile <<'Y'
version: 1
default: both
tasks:
  a: { run: "touch a.mark; while [ ! -e b.mark ]; do sleep 0.01; done", timeout: 20s }
  b: { run: "touch b.mark; while [ ! -e a.mark ]; do sleep 0.01; done", timeout: 20s }
  both: { needs: [a, b] }
Y
	run "$SQUAD" -j2
	[ "$status" -eq 0 ]
	[[ $output == *"ok a"* ]]
	[[ $output == *"ok b"* ]]
}

@test "the same pair cannot both run under -j1: one times out, nothing hangs" {
	squadfile <<'Y'
version: 1
default: both
tasks:
  a: { run: "touch a.mark; while [ ! -e b.mark ]; do sleep 0.01; done", timeout: 1s }
  b: { run: "touch b.mark; while [ ! -e a.mark ]; do sleep 0.01; done", timeout: 1s }
  both: { needs: [a, b] }
Y
	run "$SQUAD" -j1
	[ "$status" -eq 1 ]
	[[ $output == *"TIMED OUT"* ]]
	# only one of them ever started
	[ "$(ls *.mark | wc -l)" -eq 1 ]
}

@test "dependencies run before the tasks that need them" {
	squadfile <<'Y'
version: 1
default: top
tasks:
  a: "echo a >> order"
  b: { run: "echo b >> order", needs: [a] }
  c: { run: "echo c >> order", needs: [a] }
  d: { run: "echo d >> order", needs: [b, c] }
  top: { needs: [d] }
Y
	run "$SQUAD" -j4
	[ "$status" -eq 0 ]
	[ "$(head -1 order)" = a ]
	[ "$(tail -1 order)" = d ]
	[ "$(wc -l < order)" -eq 4 ]
}

@test "several targets run as one graph: a shared dependency runs once" {
	squadfile <<'Y'
version: 1
tasks:
  shared: "echo x >> count"
  t1: { run: "true", needs: [shared] }
  t2: { run: "true", needs: [shared] }
Y
	run "$SQUAD" t1 t2
	[ "$status" -eq 0 ]
	[ "$(wc -l < count)" -eq 1 ]
}

@test "ready tasks start in critical-path order" {
	squadfile <<'Y'
version: 1
default: all
tasks:
  lone: "echo lone >> order"
  c1: "echo c1 >> order"
  c2: { run: "echo c2 >> order", needs: [c1] }
  c3: { run: "echo c3 >> order", needs: [c2] }
  all: { needs: [lone, c3] }
Y
	run "$SQUAD" -j1
	[ "$status" -eq 0 ]
	# c1 heads the longest chain, so it goes first though listed later
	[ "$(head -1 order)" = c1 ]
}

@test "fail-fast: after a failure no new task starts" {
	squadfile <<'Y'
version: 1
default: all
tasks:
  bad: "false"
  x: { run: "true", needs: [bad] }
  y: { run: "true", needs: [x] }
  other: "touch other.ran"
  all: { needs: [y, other] }
Y
	run "$SQUAD" -j1
	[ "$status" -eq 1 ]
	[[ $output == *"FAILED bad"* ]]
	[[ $output == *"skipped x (needs bad)"* ]]
	[[ $output == *"not started other"* ]]
	[ ! -e other.ran ]
}

@test "-k goes on with every task not behind the failure" {
	squadfile <<'Y'
version: 1
default: all
tasks:
  bad: "false"
  x: { run: "touch x.ran", needs: [bad] }
  y: { run: "true", needs: [x] }
  other: "touch other.ran"
  all: { needs: [y, other] }
Y
	run "$SQUAD" -j1 -k
	[ "$status" -eq 1 ]
	[ -e other.ran ]
	[ ! -e x.ran ]
	[[ $output == *"skipped y (needs bad)"* ]]
	[[ $output == *"1 failed"* ]]
}

@test "a timeout kills the whole process group, grandchildren included" {
	squadfile <<'Y'
version: 1
default: slow
tasks:
  slow: { run: "sleep 300 & echo $! > grandchild.pid; wait", timeout: 1s }
Y
	run "$SQUAD"
	[ "$status" -eq 1 ]
	[[ $output == *"TIMED OUT slow"* ]]
	pid=$(cat grandchild.pid)
	! alive "$pid" || false
}

@test "a task that ignores SIGTERM is killed after the grace period" {
	squadfile <<'Y'
version: 1
default: stubborn
tasks:
  stubborn: { run: "trap '' TERM; echo $$ > pid; while :; do sleep 0.1; done", timeout: 1s }
Y
	run "$SQUAD"
	[ "$status" -eq 1 ]
	[[ $output == *"TIMED OUT"* ]]
	! alive "$(cat pid)" || false
}

@test "what a task leaves behind in its group goes when it exits" {
	squadfile <<'Y'
version: 1
default: leaky
tasks:
  leaky: "sleep 300 & echo $! > left.pid"
Y
	run "$SQUAD"
	[ "$status" -eq 0 ]
	! alive "$(cat left.pid)" || false
}

@test "retries re-run a failed task and log each attempt" {
	squadfile <<'Y'
version: 1
default: flaky
tasks:
  flaky: { run: "echo try >> tries; [ $(wc -l < tries) -ge 3 ]", retries: 2 }
Y
	run "$SQUAD"
	[ "$status" -eq 0 ]
	[ "$(wc -l < tries)" -eq 3 ]
	[[ $output == *"ok flaky"*"3 attempts"* ]]
	grep -q "attempt 3 of 3" .squad/logs/flaky.log
}

@test "retries run out: the task fails after retries + 1 attempts" {
	squadfile <<'Y'
version: 1
default: broken
tasks:
  broken: { run: "echo try >> tries; exit 3", retries: 1 }
Y
	run "$SQUAD"
	[ "$status" -eq 1 ]
	[ "$(wc -l < tries)" -eq 2 ]
	[[ $output == *"exit 3"* ]]
}

@test "SIGINT stops squad with 130 and leaves no child behind" {
	squadfile <<'Y'
version: 1
default: all
tasks:
  s1: "echo $$ > s1.pid; sleep 300"
  s2: "echo $$ > s2.pid; sleep 300"
  later: { run: "touch later.ran", needs: [s1] }
  all: { needs: [s2, later] }
Y
	"$SQUAD" -j2 > out 2>&1 &
	squad_pid=$!
	wait_for s1.pid
	wait_for s2.pid
	kill -INT "$squad_pid"
	status=0
	wait "$squad_pid" || status=$?
	[ "$status" -eq 130 ]
	! alive "$(cat s1.pid)" || false
	! alive "$(cat s2.pid)" || false
	[ ! -e later.ran ]
	grep -q "interrupted" out
	# no process of this test's tasks is left, not even an orphan sleep
	! pgrep -f "sleep 300" -s "$(cat s1.pid)" >/dev/null || false
}

@test "grouped output: a task's lines are never interleaved with another's" {
	squadfile <<'Y'
version: 1
default: all
tasks:
  a: "for i in $(seq 1 40); do echo A$i; sleep 0.005; done"
  b: "for i in $(seq 1 40); do echo B$i; sleep 0.005; done"
  all: { needs: [a, b] }
Y
	run "$SQUAD" -j2
	[ "$status" -eq 0 ]
	# the A lines form one contiguous block, and so do the B lines
	letters=$(printf '%s\n' "$output" | grep -E '^[AB][0-9]+$' | cut -c1 | uniq | tr -d '\n')
	[[ $letters == AB || $letters == BA ]]
	# and each block is in order
	printf '%s\n' "$output" | grep -E '^A[0-9]+$' | tr -d A | sort -nc
}

@test "stdout and stderr reach the log in order" {
	squadfile <<'Y'
version: 1
default: mix
tasks:
  mix: "echo one; echo two >&2; echo three"
Y
	run "$SQUAD"
	[ "$status" -eq 0 ]
	[ "$(cat .squad/logs/mix.log)" = "$(printf 'one\ntwo\nthree')" ]
}

@test "a command without shell syntax is exec'd directly, an argv list as is" {
	squadfile <<'Y'
version: 1
default: all
tasks:
  plain: "printf %s-%s x y"
  argv: { run: [printf, "%s|", "$HOME", "a b", "*"] }
  all: { needs: [plain, argv] }
Y
	run "$SQUAD" -v
	[ "$status" -eq 0 ]
	[[ $output == *"start plain: printf %s-%s x y"* ]]
	[ "$(cat .squad/logs/plain.log)" = "x-y" ]
	# no shell saw the argv list: $HOME and * stay literal
	[ "$(cat .squad/logs/argv.log)" = '$HOME|a b|*|' ]
}

@test "dir, env and vars reach the command" {
	mkdir sub
	squadfile <<'Y'
version: 1
default: t
vars: { WHO: world, GREETING: "hello ${WHO}" }
defaults: { env: { LEVEL: base } }
tasks:
  t: { run: "pwd > here; echo $GREETING-$LEVEL-$EXTRA > said", dir: sub,
       env: { GREETING: "${GREETING}", EXTRA: "${SQUAD_TASK}" } }
Y
	run "$SQUAD"
	[ "$status" -eq 0 ]
	[ "$(cat sub/here)" = "$PWD/sub" ]
	[ "$(cat sub/said)" = "hello world-base-t" ]
}

@test "a missing command is a clear failure" {
	squadfile <<'Y'
version: 1
default: t
tasks:
  t: "no-such-program-anywhere --flag"
Y
	run "$SQUAD"
	[ "$status" -eq 1 ]
	[[ $output == *"command not found: no-such-program-anywhere"* ]]
}

@test "skill-tagged tasks are never run; what is behind them waits; exit 3" {
	squadfile <<'Y'
version: 1
default: all
tasks:
  before: "touch before.ran"
  audit: { skills: [review], run: "touch audit.ran", needs: [before] }
  after: { run: "touch after.ran", needs: [audit] }
  all: { needs: [after] }
Y
	for opts in "" "-k" "-j1" "--worker shell" "-v"; do
		run "$SQUAD" $opts
		[ "$status" -eq 3 ]
	done
	[ -e before.ran ]
	[ ! -e audit.ran ]
	[ ! -e after.ran ]
	[[ $output == *"hand-off audit"* ]]
	[[ $output == *"waiting after (behind hand-off audit)"* ]]
}

@test "exit codes: 0 done, 1 failed, 2 usage and Squadfile errors" {
	squadfile <<'Y'
version: 1
tasks:
  good: "true"
  bad: "false"
Y
	run "$SQUAD" good
	[ "$status" -eq 0 ]
	run "$SQUAD" bad
	[ "$status" -eq 1 ]
	run "$SQUAD" nosuch
	[ "$status" -eq 2 ]
	[[ $output == *"unknown target 'nosuch'"* ]]
	run "$SQUAD" goood
	[ "$status" -eq 2 ]
	[[ $output == *"did you mean 'good'?"* ]]
	run "$SQUAD"
	[ "$status" -eq 2 ]
	[[ $output == *"no target given"* ]]
	run "$SQUAD" --no-such-option
	[ "$status" -eq 2 ]
	run "$SQUAD" -j0 good
	[ "$status" -eq 2 ]
	run "$SQUAD" -f missing.yaml good
	[ "$status" -eq 2 ]
	[[ $output == *"missing.yaml: error: cannot open"* ]]
}

@test "the state folder hides itself from git" {
	squadfile <<'Y'
version: 1
default: t
tasks:
  t: "true"
Y
	run "$SQUAD"
	[ "$status" -eq 0 ]
	[ "$(cat .squad/.gitignore)" = "*" ]
	git init -q .
	[ -z "$(git status --porcelain -- .squad)" ]
}

@test "a task named like a subcommand runs with 'squad run NAME'" {
	squadfile <<'Y'
version: 1
tasks:
  list: "touch list.ran"
Y
	run "$SQUAD" run list
	[ "$status" -eq 0 ]
	[ -e list.ran ]
}

@test "-C and -f find the Squadfile; tasks run in its folder" {
	mkdir -p proj
	cat > proj/tasks.yaml <<'Y'
version: 1
default: t
tasks:
  t: "touch ran-here"
Y
	run "$SQUAD" -C proj -f tasks.yaml
	[ "$status" -eq 0 ]
	[ -e proj/ran-here ]
	run "$SQUAD" -f proj/tasks.yaml
	[ "$status" -eq 0 ]
}
