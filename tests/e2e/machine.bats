#!/usr/bin/env bats
# For machines: --json events and --junit reports.
bats_require_minimum_version 1.5.0
load helpers

project() {
	squadfile <<'Y'
version: 1
default: all
tasks:
  ok: "echo fine"
  flaky: { run: "echo try >> tries; [ $(wc -l < tries) -ge 2 ]", retries: 1 }
  bad: { run: 'echo "a <b> & ]]> c"; printf "\001\033[31m"; exit 2' }
  behind: { run: "true", needs: [bad] }
  review: { skills: [x], prompt: "review", needs: [ok] }
  after: { run: "true", needs: [review] }
  all: { needs: [flaky, behind, after] }
Y
}

@test "--json: one event per line, each valid against grammar/events.schema.json" {
	project
	run --separate-stderr "$SQUAD" -k --json=output
	[ "$status" -eq 1 ]
	printf '%s\n' "$output" > events.ndjson
	# human output went to stderr
	[[ $stderr == *"FAILED bad"* ]]
	mkdir ev && split -l1 -d -a3 --additional-suffix=.json events.ndjson ev/e
	for f in ev/*.json; do
		validate_json "$SQUAD_SRC/grammar/events.schema.json" "$f"
	done
	[ "$(jq -r .event ev/e000.json)" = plan ]
	[ "$(tail -1 events.ndjson | jq -r .event)" = summary ]
	[ "$(tail -1 events.ndjson | jq -r .exit_code)" = 1 ]
	[ "$(jq -r 'select(.event == "finish" and .task == "bad") | .exit_code' events.ndjson)" = 2 ]
	[ "$(jq -r 'select(.event == "retry") | .task' events.ndjson)" = flaky ]
	[ "$(jq -r 'select(.event == "finish" and .task == "behind") | .status' events.ndjson)" = skipped ]
	[ "$(jq -r 'select(.event == "output" and .task == "ok") | .text' events.ndjson)" = fine ]
	[ "$(jq -r 'select(.event == "handoff") | .entries' events.ndjson)" = 1 ]
	# every event has a time with milliseconds
	[ "$(jq -r '.time' events.ndjson | grep -cvE '^[0-9-]{10}T[0-9:]{8}\.[0-9]{3}Z$')" -eq 0 ]
	# the validator does reject a wrong event
	echo '{"event":"finish","time":"x"}' > wrong.json
	! validate_json "$SQUAD_SRC/grammar/events.schema.json" wrong.json || false
}

@test "--json without =output has no output events; -n --json is the plan alone" {
	project
	run --separate-stderr "$SQUAD" -k --json
	[ "$(printf '%s\n' "$output" | jq -r .event | grep -c '^output$')" -eq 0 ]
	rm tries
	run --separate-stderr "$SQUAD" -n --json
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ]
	[ "$(printf '%s\n' "$output" | jq -r .event)" = plan ]
	[ ! -e tries ]
}

@test "--junit: a report that the JUnit XSD accepts, with failures and skips" {
	project
	run "$SQUAD" -k --junit report.xml
	[ "$status" -eq 1 ]
	xmllint --noout --schema "$SQUAD_SRC/tests/junit/junit.xsd" report.xml
	[ "$(xmllint --xpath 'string(//testsuite/@tests)' report.xml)" = 7 ]
	[ "$(xmllint --xpath 'string(//testsuite/@failures)' report.xml)" = 1 ]
	xmllint --xpath '//testcase[@name="bad"]/failure' report.xml | grep -q 'a &lt;b&gt; &amp; ]]&gt; c'
	xmllint --xpath '//testcase[@name="review"]/skipped/@message' report.xml | grep -q tactician
	xmllint --xpath '//testcase[@name="behind"]/skipped' report.xml >/dev/null
	# the schema check is real: a count that is not a number is refused
	sed 's/tests="7"/tests="seven"/' report.xml > broken.xml
	! xmllint --noout --schema "$SQUAD_SRC/tests/junit/junit.xsd" broken.xml 2>/dev/null || false
}

@test "a reader that goes away does not kill squad or orphan its tasks" {
	squadfile <<'Y'
version: 1
default: all
tasks:
  first: "true"
  slow: { run: "sleep 1; touch slow.done", needs: [first] }
  all: { needs: [slow] }
Y
	"$SQUAD" --json | head -c 1 > /dev/null
	# squad went on after the pipe closed, and finished its work
	wait_for slow.done 10
	grep -q '"status":"ok"' .squad/state
}
