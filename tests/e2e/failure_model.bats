#!/usr/bin/env bats
# The failure model (README, "When things fail"), one kind of failure at a
# time on the shell worker and on a fake agent: for each, the exit code,
# the JUnit element, the JSON summary, the manifest entry and the number of
# attempts. Nothing here waits on a clock: a timeout is the task's own, and
# every wait is bounded.
bats_require_minimum_version 1.5.0
load helpers

manifest=.squad/handoff.json

# fm [ARGS...]: a run with every channel on: events in events.ndjson,
# JUnit in report.xml, the human output in $output
fm() {
	run --separate-stderr "$SQUAD" --json --junit report.xml "$@"
	printf '%s\n' "$output" > events.ndjson
	output=$stderr
}

# summary FIELD: a field of the last (summary) event
summary() {
	jq -r "select(.event == \"summary\") | $1" events.ndjson
}

# finish TASK FIELD: a field of TASK's finish event
finish() {
	jq -r "select(.event == \"finish\" and .task == \"$1\") | $2" events.ndjson
}

# junit XPATH: what the XPath finds in report.xml
junit() {
	xmllint --xpath "$1" report.xml
}

# entry TASK FIELD: a field of TASK's manifest entry
entry() {
	jq -r ".tasks[] | select(.name == \"$1\") | $2" "$manifest"
}

# the report validates against the project's XSD, and carries nothing
# junit-10.xsd (Jenkins' xUnit plugin) refuses on its root
junit_valid() {
	xmllint --noout --schema "$SQUAD_SRC/tests/junit/junit.xsd" report.xml
	[ "$(junit 'count(/testsuites/@skipped)')" = 0 ]
	[ "$(junit 'count(/testsuites/@*[not(contains(" name time tests failures errors ", concat(" ", name(), " ")))])')" = 0 ]
}

@test "non-zero exit: retried, then a failure in every channel" {
	squadfile <<'Y'
version: 1
default: t
tasks:
  t: { run: "echo try >> tries; echo 'E: it broke'; exit 3", retries: 2 }
Y
	fm
	[ "$status" -eq 1 ]
	[ "$(wc -l < tries)" -eq 3 ]
	[ "$(finish t .attempts)" = 3 ]
	[ "$(finish t .status)" = failed ]
	[ "$(finish t .exit_code)" = 3 ]
	[ "$(summary .failed)" = 1 ]
	[ "$(summary .exit_code)" = 1 ]
	[[ "$(junit 'string(//testcase[@name="t"]/failure/@message)')" == "exit code 3 (after 3 attempts)" ]]
	[[ "$(junit 'string(//testcase[@name="t"]/failure)')" == *"E: it broke"* ]]
	junit_valid
	# no escalate: nothing for the tactician
	[ ! -e "$manifest" ]
}

@test "non-zero exit with escalate: still exit 1 and <failure>, and a manifest entry" {
	squadfile <<'Y'
version: 1
default: all
tasks:
  t: { run: "echo try >> tries; echo 'E: it broke'; exit 3", retries: 1, escalate: true }
  behind: { run: "touch behind.ran", needs: [t] }
  other: "touch other.ran"
  all: { needs: [behind, other] }
Y
	fm
	# a red never turns green: failures win over a pending hand-off
	[ "$status" -eq 1 ]
	[ "$(wc -l < tries)" -eq 2 ]
	[ "$(finish t .status)" = escalated ]
	[ "$(finish behind .status)" = waiting ]
	[ -e other.ran ]
	[ ! -e behind.ran ]
	[ "$(summary .failed)" = 1 ]
	[ "$(summary '.counts.escalated')" = 1 ]
	[ "$(summary .exit_code)" = 1 ]
	[ "$(junit 'string(//testcase[@name="t"]/failure/@type)')" = escalated ]
	[[ "$(junit 'string(//testcase[@name="t"]/failure)')" == *"E: it broke"* ]]
	[ "$(junit 'count(//testcase[@name="t"]/skipped)')" = 0 ]
	junit_valid
	[ "$(entry t .kind)" = escalation ]
	[ "$(entry t .failure.exit_code)" = 3 ]
	[ "$(entry t .failure.attempts)" = 2 ]
	[[ "$(entry t .failure.log_tail)" == *"E: it broke"* ]]
	[[ "$(entry t .instruction)" == *'"fixed, check again": the next run runs it again'* ]]
}

@test "exit 3 only when nothing failed and a skill task waits" {
	squadfile <<'Y'
version: 1
default: all
tasks:
  ok: "true"
  review: { skills: [review], prompt: "look", needs: [ok] }
  all: { needs: [review] }
Y
	fm
	[ "$status" -eq 3 ]
	[ "$(summary .failed)" = 0 ]
	[ "$(summary .exit_code)" = 3 ]
	[ "$(junit 'count(//failure)')" = 0 ]
	[ "$(entry review .kind)" = skill ]
	junit_valid
}

@test "a signal: retried, reason names it" {
	squadfile <<'Y'
version: 1
default: t
tasks:
  t: { run: "echo try >> tries; kill -KILL $$", retries: 1, escalate: true }
Y
	fm
	[ "$status" -eq 1 ]
	[ "$(wc -l < tries)" -eq 2 ]
	[ "$(finish t .signal)" = 9 ]
	[ "$(finish t .exit_code)" = null ]
	[[ "$(finish t .reason)" == "killed by signal 9"* ]]
	[ "$(summary .failed)" = 1 ]
	[[ "$(junit 'string(//testcase[@name="t"]/failure/@message)')" == "killed by signal 9"* ]]
	junit_valid
	[[ "$(entry t .failure.reason)" == "killed by signal 9"* ]]
	[ "$(entry t .failure.attempts)" = 2 ]
}

@test "a timeout: the task's own bound, retried, reason says so" {
	squadfile <<'Y'
version: 1
default: t
tasks:
  t: { run: "echo try >> tries; exec sleep 300", timeout: 1s, retries: 1, escalate: true }
Y
	fm
	[ "$status" -eq 1 ]
	[ "$(wc -l < tries)" -eq 2 ]
	[ "$(finish t .status)" = escalated ]
	[ "$(finish t .reason)" = "timed out after 1.0s" ]
	[ "$(summary .failed)" = 1 ]
	[[ "$(junit 'string(//testcase[@name="t"]/failure/@message)')" == "timed out after 1.0s"* ]]
	junit_valid
	[ "$(entry t .failure.reason)" = "timed out after 1.0s" ]
	[ "$(entry t .failure.attempts)" = 2 ]
}

@test "an expect mismatch is retried, and a later match succeeds" {
	squadfile <<'Y'
version: 1
default: all
tasks:
  never: { run: "echo try >> never.tries; echo '2 failed'", expect: '(\d+) passed', retries: 2, escalate: true }
  later: { run: "echo try >> later.tries; [ $(wc -l < later.tries) -ge 2 ] && echo '5 passed' || echo '0 run'", expect: '(\d+ passed)', retries: 2 }
  all: { needs: [never, later] }
Y
	fm -k
	[ "$status" -eq 1 ]
	[ "$(wc -l < never.tries)" -eq 3 ]
	[ "$(finish never .attempts)" = 3 ]
	[ "$(finish never .reason)" = "the output does not match 'expect'" ]
	[ "$(wc -l < later.tries)" -eq 2 ]
	[ "$(finish later .status)" = ok ]
	[ "$(finish later .summary)" = "5 passed" ]
	[ "$(summary .failed)" = 1 ]
	[[ "$(junit 'string(//testcase[@name="never"]/failure/@message)')" == "the output does not match 'expect'"* ]]
	[ "$(junit 'count(//testcase[@name="later"]/*)')" = 0 ]
	junit_valid
	[ "$(entry never .failure.reason)" = "the output does not match 'expect'" ]
	[ "$(entry never .failure.attempts)" = 3 ]
}

@test "a retry is judged on its own output: an earlier attempt's pass never matches expect" {
	squadfile <<'Y'
version: 1
default: t
tasks:
  t: { run: "if [ -e tried ]; then echo 'collection error'; else touch tried; echo '12 passed'; exit 1; fi", expect: '\d+ passed', retries: 1 }
Y
	fm
	[ "$status" -eq 1 ]
	[ "$(finish t .attempts)" = 2 ]
	[ "$(finish t .status)" = failed ]
	[ "$(finish t .reason)" = "the output does not match 'expect'" ]
	[ "$(summary .failed)" = 1 ]
	[ "$(junit 'count(//testcase[@name="t"]/failure)')" = 1 ]
}

@test "program not found: never retried, escalated with the reason" {
	squadfile <<'Y'
version: 1
default: t
tasks:
  t: { run: [no-such-program-for-squad, x], retries: 3, escalate: true }
Y
	fm
	[ "$status" -eq 1 ]
	[ "$(finish t .attempts)" = 1 ]
	[ "$(finish t .reason)" = "command not found: no-such-program-for-squad" ]
	[ "$(summary .failed)" = 1 ]
	[[ "$(junit 'string(//testcase[@name="t"]/failure/@message)')" == "command not found: no-such-program-for-squad"* ]]
	junit_valid
	[ "$(entry t .failure.reason)" = "command not found: no-such-program-for-squad" ]
	[ "$(entry t .failure.exit_code)" = null ]
	[ "$(entry t .failure.attempts)" = 1 ]
}

@test "an agent that is rate limited backs off, then fails as rate limited, never looping" {
	cat > agent.sh <<'S'
echo try >> tries
echo "Quota exceeded for today"
S
	squadfile <<'Y'
version: 1
default: t
workers:
  fake: { command: [sh, ./agent.sh, "{prompt}"], output: text }
tasks:
  t: { worker: fake, prompt: "answer", timeout: 2s, retries: 3, escalate: true }
Y
	fm
	[ "$status" -eq 1 ]
	# a wait of 1 s fits in the 2 s timeout; the next, of 2 s, would not:
	# at most two tries, and retries do not start it again
	[ "$(wc -l < tries)" -le 2 ]
	[ "$(finish t .attempts)" = "$(wc -l < tries)" ]
	[[ "$(finish t .reason)" == "rate limited: "* ]]
	[ "$(summary .failed)" = 1 ]
	[[ "$(junit 'string(//testcase[@name="t"]/failure/@message)')" == "rate limited: "* ]]
	junit_valid
	[[ "$(entry t .failure.reason)" == "rate limited: "* ]]
}

@test "an interrupted run keeps the escalation it had decided, and exits 130" {
	squadfile <<'Y'
version: 1
default: all
tasks:
  bad: { run: "echo 'E: bad'; exit 4", escalate: true }
  slow: "echo $$ > slow.pid; exec sleep 300"
  all: { needs: [bad, slow] }
Y
	"$SQUAD" -j2 --json --junit report.xml > events.ndjson 2> human.out &
	squad_pid=$!
	wait_for slow.pid
	# bounded: until the escalation has been decided (its finish event)
	for ((i = 0; i < 400; i++)); do
		[ "$(finish bad .status 2>/dev/null)" = escalated ] && break
		sleep 0.05
	done
	[ "$(finish bad .status)" = escalated ]
	kill -INT "$squad_pid"
	status=0
	wait "$squad_pid" || status=$?
	[ "$status" -eq 130 ]
	[ "$(finish slow .status)" = interrupted ]
	[ "$(summary .interrupted)" = true ]
	[ "$(summary .exit_code)" = 130 ]
	[ "$(summary .failed)" = 1 ]
	[ "$(jq -r 'select(.event == "handoff") | .entries' events.ndjson)" = 1 ]
	[ "$(entry bad .kind)" = escalation ]
	[[ "$(entry bad .failure.log_tail)" == *"E: bad"* ]]
	[ "$(entry bad .failure.attempts)" = 1 ]
	[ "$(junit 'string(//testcase[@name="bad"]/failure/@type)')" = escalated ]
	[ "$(junit 'string(//testcase[@name="slow"]/error/@type)')" = interrupted ]
	junit_valid
	# and its state: the next run knows bad failed
	grep -q '"task": *"bad"' .squad/state
}

@test "done on an escalated command means: check again; only its real result counts" {
	squadfile <<'Y'
version: 1
default: t
tasks:
  t: { run: "echo try >> tries; test -e fixed", escalate: true }
Y
	fm
	[ "$status" -eq 1 ]
	run "$SQUAD" done t --note "looked at it"
	[ "$status" -eq 0 ]
	[[ $output == *"runs it again"* ]]
	[ ! -e "$manifest" ]
	run "$SQUAD" explain t
	[[ $output == *"done mark: the tactician reported it done"*"it runs again"* ]]
	# so does a dry run, in words and in the plan event
	run "$SQUAD" -n
	[ "$status" -eq 0 ]
	[[ $output == *"test -e fixed  (done mark: runs again to check)"* ]]
	run --separate-stderr "$SQUAD" -n --json
	[ "$(jq -r '.tasks[] | select(.task == "t") | .recheck' <<< "$output")" = true ]
	[ "$(jq -r '.tasks[] | select(.task == "t") | .action' <<< "$output")" = run ]
	# the next run runs it again: still broken, still a failure
	fm
	[ "$status" -eq 1 ]
	[ "$(wc -l < tries)" -eq 2 ]
	[ "$(finish t .status)" = escalated ]
	[ "$(finish t .attempts)" = 1 ]
	[ "$(summary .failed)" = 1 ]
	[ "$(junit 'string(//testcase[@name="t"]/failure/@type)')" = escalated ]
	[ "$(entry t .kind)" = escalation ]
	# -B too
	run "$SQUAD" done t --note "looked again"
	fm -B
	[ "$status" -eq 1 ]
	[ "$(wc -l < tries)" -eq 3 ]
	# really fixed: the real result counts, the note shows in the summary
	run "$SQUAD" done t --note "fixed the config"
	touch fixed
	fm
	[ "$status" -eq 0 ]
	[ "$(wc -l < tries)" -eq 4 ]
	[ "$(finish t .status)" = ok ]
	[[ $output == *"tactician: fixed the config"* ]]
	[ "$(finish t .note)" = "fixed the config" ]
	[ "$(summary .failed)" = 0 ]
	[ ! -e "$manifest" ]
}

@test "done on a prompt: the note stands in only when it meets expect" {
	cat > agent.sh <<'S'
echo try >> tries
echo "I could not work it out"
S
	squadfile <<'Y'
version: 1
default: after
workers:
  fake: { command: [sh, ./agent.sh, "{prompt}"], output: text }
tasks:
  ask: { worker: fake, prompt: "the answer?", expect: 'ANSWER: \d+', escalate: true }
  after: { run: "echo got it > after.ran", needs: [ask] }
Y
	fm
	[ "$status" -eq 1 ]
	[ "$(entry ask .kind)" = escalation ]
	[ "$(wc -l < tries)" -eq 1 ]
	# a note that does not meet expect: the prompt runs again
	run "$SQUAD" done ask --note "no idea either"
	[ "$status" -eq 0 ]
	fm
	[ "$status" -eq 1 ]
	[ "$(wc -l < tries)" -eq 2 ]
	[ ! -e after.ran ]
	# one that does: it is the answer, the agent is not asked again
	run "$SQUAD" done ask --note "ANSWER: 42"
	fm
	[ "$status" -eq 0 ]
	[ "$(wc -l < tries)" -eq 2 ]
	[ "$(finish ask .status)" = done ]
	[ "$(finish ask .answer)" = "ANSWER: 42" ]
	[ "$(finish ask .note)" = "ANSWER: 42" ]
	[ "$(finish after .note)" = null ]
	[[ $output == *"done ask (reported by the tactician: ANSWER: 42)"* ]]
	[ -e after.ran ]
	[ "$(junit 'count(//testcase[@name="ask"]/*)')" = 0 ]
}

@test "done --undo takes a mark back; the task waits again" {
	squadfile <<'Y'
version: 1
default: after
tasks:
  review: { skills: [review], prompt: "look" }
  after: { run: "touch after.ran", needs: [review] }
Y
	fm
	[ "$status" -eq 3 ]
	run "$SQUAD" done review --failed --note "oops, wrong task"
	[ "$status" -eq 0 ]
	fm
	[ "$status" -eq 1 ]
	[ "$(finish review .status)" = failed ]
	run "$SQUAD" done review --undo
	[ "$status" -eq 0 ]
	[[ $output == *"took back the mark on review"* ]]
	fm
	[ "$status" -eq 3 ]
	[ "$(finish review .status)" = hand-off ]
	[ "$(entry review .kind)" = skill ]
	[ ! -e after.ran ]
	# nothing to take back: an error that says so
	run "$SQUAD" done review --undo
	[ "$status" -eq 2 ]
	[[ $output == *"no done mark to take back"* ]]
	run "$SQUAD" done review --undo --note x
	[ "$status" -eq 2 ]
}

@test "agent slots are their own limit: slots: 4 runs 4 agents under -j1" {
	# a fake agent that answers how many agents had started when it
	# looked; it waits (bounded) for 4: run one or two at a time, the
	# first would see fewer and fail its expect
	cat > agent.sh <<'S'
touch "started.$$"
i=0
while [ "$(ls started.* | wc -l)" -lt 4 ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
echo "saw $(ls started.* | wc -l)"
S
	squadfile <<'Y'
version: 1
default: all
workers:
  fake: { command: [sh, ./agent.sh, "{prompt}"], output: text, slots: 4 }
tasks:
  a1: { worker: fake, prompt: "1", expect: 'saw 4' }
  a2: { worker: fake, prompt: "2", expect: 'saw 4' }
  a3: { worker: fake, prompt: "3", expect: 'saw 4' }
  a4: { worker: fake, prompt: "4", expect: 'saw 4' }
  all: { needs: [a1, a2, a3, a4] }
Y
	run "$SQUAD" -j1 -n
	[[ $output == *"limits: -j 1 local processes at once; fake: 4 at once (its slots, apart from -j)"* ]]
	run "$SQUAD" -j1 explain a1
	[[ $output == *"limit: at most 4 of worker fake's tasks at once (its slots;"* ]]
	fm -j1
	[ "$status" -eq 0 ]
	[ "$(summary '.counts.ok')" = 5 ]
	[ "$(finish a1 .summary)" = "saw 4" ]
	[ "$(finish a4 .summary)" = "saw 4" ]
	[ "$(ls started.* | wc -l)" -eq 4 ]
	junit_valid
}

@test "a shell worker stays bounded by -j" {
	squadfile <<'Y'
version: 1
default: t
workers:
  shell: { slots: 8 }
tasks:
  t: "true"
Y
	run "$SQUAD" -j2 -n
	[[ $output == *"limits: -j 2 local processes at once; shell: 2 at once (within -j)"* ]]
}

@test "an agent's is_error: retried, escalated with its reason and its words in the log" {
	cat > agent.sh <<'S'
echo try >> tries
echo '[{"type": "result", "is_error": true, "error": {"message": "API Error: 500 upstream exploded"}}]'
S
	squadfile <<'Y'
version: 1
default: t
workers:
  fake: { command: [sh, ./agent.sh, "{prompt}"], output: qwen-json }
tasks:
  t: { worker: fake, prompt: "answer", retries: 1, escalate: true }
Y
	fm
	[ "$status" -eq 1 ]
	[ "$(wc -l < tries)" -eq 2 ]
	[ "$(finish t .attempts)" = 2 ]
	[ "$(finish t .reason)" = "API Error: 500 upstream exploded" ]
	[ "$(summary .failed)" = 1 ]
	[[ "$(junit 'string(//testcase[@name="t"]/failure/@message)')" == "API Error: 500 upstream exploded"* ]]
	junit_valid
	[ "$(entry t .failure.reason)" = "API Error: 500 upstream exploded" ]
	[[ "$(entry t .failure.log_tail)" == *"API Error: 500 upstream exploded"* ]]
	[ "$(entry t .failure.log)" != null ]
}
