#!/usr/bin/env bats
# Hand-off to the tactician: routing, the manifest, squad done, escalation.
bats_require_minimum_version 1.5.0
load helpers

manifest=.squad/handoff.json

# A project with one skill task between shell tasks, a SKILL.md for it,
# and a routing rule that tags migrations.
project() {
	mkdir -p .claude/skills/compliance
	cat > .claude/skills/compliance/SKILL.md <<'M'
---
name: regulatory-compliance
description: Checks rules against the regulations
---
Read the findings and judge them.
M
	squadfile <<'Y'
version: 1
default: test
vars: { AREA: backend }
routing:
  - match: '(?i)\bmigration\b'
    skill: database-migration
tasks:
  unit: { run: "echo '3 passed'", expect: '(\d+ passed)' }
  explore: "echo found 2 uses in ${AREA}"
  audit: { skills: [compliance], needs: [explore, unit],
           prompt: "Assess ${AREA} coverage with token ${SECRET_TOKEN}" }
  migrate: { run: "touch migrated; echo run the migration", needs: [unit] }
  report: { run: "touch reported", needs: [audit] }
  test: { needs: [report, migrate] }
Y
}

@test "skill tasks and routed tasks wait; their dependencies run; exit 3" {
	project
	SECRET_TOKEN=s3cr3t-value run "$SQUAD"
	[ "$status" -eq 3 ]
	[[ $output == *"hand-off audit"* ]]
	[[ $output == *"hand-off migrate"*"database-migration"* ]]
	[[ $output == *"waiting report (behind hand-off audit)"* ]]
	[ ! -e migrated ]
	[ ! -e reported ]
	[ -f "$manifest" ]
}

@test "a skill task is never executed, under any option or target" {
	project
	for args in "" "-k" "-j1" "-v" "--worker shell" "audit" "run audit" "migrate" "-q test"; do
		SECRET_TOKEN=x run "$SQUAD" $args
		[ "$status" -eq 3 ]
	done
	[ ! -e migrated ]
	run "$SQUAD" -n migrate
	[[ $output =~ migrate\ +hand-off\ \(skills:\ database-migration\) ]]
	[ ! -e migrated ]
}

@test "the manifest carries what the tactician needs, and no secret" {
	project
	git init -q . && git add Squadfile && git -c user.email=t@t -c user.name=t commit -qm init
	echo change >> Squadfile.notes
	SECRET_TOKEN=s3cr3t-value run "$SQUAD"
	[ "$status" -eq 3 ]
	# entries come in the order the tasks became ready
	run jq -r '.tasks | map(.name) | sort | join(",")' "$manifest"
	[ "$output" = "audit,migrate" ]
	a='.tasks[] | select(.name == "audit")'
	m='.tasks[] | select(.name == "migrate")' 
	# the skill resolved, with its description
	[ "$(jq -r "$a.skills[0].resolved" $manifest)" = true ]
	[ "$(jq -r "$a.skills[0].path" $manifest)" = "$PWD/.claude/skills/compliance/SKILL.md" ]
	[ "$(jq -r "$a.skills[0].description" $manifest)" = "Checks rules against the regulations" ]
	# an unknown skill is marked, not fatal
	[ "$(jq -r "$m.skills[0].resolved" $manifest)" = false ]
	# needs: status, exit code, log, summary (the expect group)
	[ "$(jq -r "$a.needs[1].name" $manifest)" = unit ]
	[ "$(jq -r "$a.needs[1].status" $manifest)" = ok ]
	[ "$(jq -r "$a.needs[1].exit_code" $manifest)" = 0 ]
	[ "$(jq -r "$a.needs[1].summary" $manifest)" = "3 passed" ]
	[ "$(jq -r "$a.needs[0].summary" $manifest)" = "found 2 uses in backend" ]
	[ -f "$(jq -r "$a.needs[1].log" $manifest)" ]
	[ "$(jq -r "$a.blocks | join(\",\")" $manifest)" = "report,test" ]
	# vars expanded, the environment not: the secret stays a reference
	[ "$(jq -r "$a.prompt" $manifest)" = 'Assess backend coverage with token ${SECRET_TOKEN}' ]
	! grep -q s3cr3t-value "$manifest" || false
	# the instruction stands on its own
	instruction=$(jq -r "$a.instruction" $manifest)
	[[ $instruction == *"$PWD/.claude/skills/compliance/SKILL.md"* ]]
	# the front matter's own name, which Claude Code knows the skill by
	[[ $instruction == *"its front matter names it 'regulatory-compliance'"* ]]
	[[ $instruction == *"done audit --note"* ]]
	[[ $instruction == *"unit: ok"* ]]
	# git context
	[ "$(jq -r '.git.head' $manifest)" = "$(git rev-parse HEAD)" ]
	[ "$(jq -r '.git.branch' $manifest)" = "$(git rev-parse --abbrev-ref HEAD)" ]
	jq -e '.git.dirty | index("Squadfile.notes")' "$manifest"
	[ "$(jq -r .version $manifest)" = 1 ]
	[[ "$(jq -r .created $manifest)" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]]
}

@test "outside a git repository the manifest has no git section" {
	project
	SECRET_TOKEN=x run "$SQUAD"
	[ "$status" -eq 3 ]
	[ "$(jq -r 'has("git")' $manifest)" = false ]
}

@test "the manifest follows grammar/handoff.schema.json" {
	project
	SECRET_TOKEN=x run "$SQUAD" -k
	[ "$status" -eq 3 ]
	validate_json "$SQUAD_SRC/grammar/handoff.schema.json" "$manifest"
	# the validator does fail: an entry without its instruction is refused
	jq 'del(.tasks[0].instruction)' "$manifest" > broken.json
	! validate_json "$SQUAD_SRC/grammar/handoff.schema.json" broken.json || false
	# an escalation entry too
	squadfile <<'Y'
version: 1
default: t
tasks:
  t: { run: "echo bad; exit 4", escalate: true }
Y
	run "$SQUAD"
	[ "$status" -eq 1 ]
	validate_json "$SQUAD_SRC/grammar/handoff.schema.json" "$manifest"
}

@test "squad done, then the next run continues behind the task" {
	project
	SECRET_TOKEN=x run "$SQUAD"
	[ "$status" -eq 3 ]
	run "$SQUAD" done audit --note "coverage is complete"
	[ "$status" -eq 0 ]
	run "$SQUAD" done migrate --note "migrated by hand"
	[ "$status" -eq 0 ]
	[ ! -e "$manifest" ]
	SECRET_TOKEN=x run "$SQUAD"
	[ "$status" -eq 0 ]
	[ -e reported ]
	[[ $output == *"done audit (reported by the tactician: coverage is complete)"* ]]
	[ ! -e migrated ]
	# nothing is left for the tactician: the manifest is gone
	[ ! -e "$manifest" ]
}

@test "after done, the next run runs exactly the tasks that were blocked" {
	git init -q . && mkdir src && echo 1 > src/a.c
	squadfile <<'Y'
version: 1
default: all
tasks:
  build: { run: "echo build >> ran", inputs: ["src/*"] }
  review: { skills: [x], prompt: "review", needs: [build] }
  after1: { run: "echo after1 >> ran", needs: [review] }
  after2: { run: "echo after2 >> ran", needs: [after1], inputs: ["src/*"] }
  all: { needs: [after2] }
Y
	run "$SQUAD"
	[ "$status" -eq 3 ]
	[ "$(cat ran)" = build ]
	rm ran
	run "$SQUAD" done review
	run "$SQUAD"
	[ "$status" -eq 0 ]
	# build is up to date; only what waited behind the review ran
	[ "$(tr '\n' ' ' < ran)" = "after1 after2 " ]
	[[ $output == *"up to date build"* ]]
}

@test "the tactician's note is the answer seen by the tasks behind" {
	squadfile <<'Y'
version: 1
default: b
tasks:
  a: { skills: [x], prompt: "decide" }
  b: { skills: [y], prompt: "act", needs: [a] }
Y
	run "$SQUAD"
	[ "$status" -eq 3 ]
	echo "use plan B" > note.txt
	run "$SQUAD" done a --note-file note.txt
	[ "$status" -eq 0 ]
	run "$SQUAD"
	[ "$status" -eq 3 ]
	[ "$(jq -r '.tasks[0].name' $manifest)" = b ]
	[ "$(jq -r '.tasks[0].needs[0].answer' $manifest)" = "use plan B" ]
	[ "$(jq -r '.tasks[0].needs[0].status' $manifest)" = done ]
}

@test "a done mark goes stale when the task's definition changes" {
	squadfile <<'Y'
version: 1
default: b
tasks:
  a: { skills: [x], prompt: "first question" }
  b: { run: "touch b.ran", needs: [a] }
Y
	run "$SQUAD"
	[ "$status" -eq 3 ]
	run "$SQUAD" done a
	[ "$status" -eq 0 ]
	sed -i 's/first question/second question/' Squadfile
	run "$SQUAD"
	[ "$status" -eq 3 ]
	[ ! -e b.ran ]
	[ "$(jq -r '.tasks[0].name' $manifest)" = a ]
}

@test "a done mark goes stale when a dependency's definition changes" {
	squadfile <<'Y'
version: 1
default: b
tasks:
  dep: "echo v1"
  a: { skills: [x], prompt: "judge", needs: [dep] }
  b: { run: "touch b.ran", needs: [a] }
Y
	run "$SQUAD"
	run "$SQUAD" done a
	[ "$status" -eq 0 ]
	sed -i 's/echo v1/echo v2/' Squadfile
	run "$SQUAD"
	[ "$status" -eq 3 ]
	[ ! -e b.ran ]
}

@test "done --failed fails the task for the next run" {
	squadfile <<'Y'
version: 1
default: b
tasks:
  a: { skills: [x], prompt: "judge" }
  b: { run: "touch b.ran", needs: [a] }
Y
	run "$SQUAD"
	run "$SQUAD" done a --failed --note "does not hold"
	[ "$status" -eq 0 ]
	run "$SQUAD"
	[ "$status" -eq 1 ]
	[[ $output == *"FAILED a"*"reported failed by the tactician"* ]]
	[[ $output == *"skipped b (needs a)"* ]]
	[ ! -e b.ran ]
}

@test "done for a task that does not wait is an error listing those that do" {
	project
	SECRET_TOKEN=x run "$SQUAD"
	run "$SQUAD" done unit
	[ "$status" -eq 2 ]
	[[ $output == *"'unit' is not waiting"*"waiting: migrate audit"* ]]
	run "$SQUAD" done nosuchtask
	[ "$status" -eq 2 ]
	rm -f "$manifest"
	run "$SQUAD" done audit
	[ "$status" -eq 2 ]
	[[ $output == *"no task waits"* ]]
}

@test "escalation: a task failing after its retries goes to the tactician" {
	squadfile <<'Y'
version: 1
default: all
defaults: { escalate: true }
tasks:
  flaky: { run: "echo attempt >> tries; test -e unlocked || { echo 'E: database locked'; exit 7; }", retries: 1 }
  after: { run: "touch after.ran", needs: [flaky] }
  fine: "true"
  all: { needs: [after, fine] }
Y
	run "$SQUAD"
	# a failure, escalated or not: exit 1, not 3
	[ "$status" -eq 1 ]
	[ "$(wc -l < tries)" -eq 2 ]
	[[ $output == *"escalated flaky"* ]]
	[[ $output == *"waiting after (behind hand-off flaky)"* ]]
	[ "$(jq -r '.tasks[0].kind' $manifest)" = escalation ]
	[ "$(jq -r '.tasks[0].failure.exit_code' $manifest)" = 7 ]
	[ "$(jq -r '.tasks[0].failure.attempts' $manifest)" = 2 ]
	[[ "$(jq -r '.tasks[0].failure.log_tail' $manifest)" == *"E: database locked"* ]]
	[[ "$(jq -r ".tasks[0].instruction" $manifest)" == *"Take it over"* ]]
	# reported done: "fixed, check again"; the next run runs it again,
	# and only its real result counts
	run "$SQUAD" done flaky --note "unlocked the database"
	[ "$status" -eq 0 ]
	[[ $output == *"runs it again"* ]]
	run "$SQUAD"
	[ "$status" -eq 1 ]
	[ "$(wc -l < tries)" -eq 4 ]
	[ ! -e after.ran ]
	[ "$(jq -r '.tasks[0].name' $manifest)" = flaky ]
	# really fixed: it passes, and what is behind it runs
	run "$SQUAD" done flaky --note "unlocked the database, this time for real"
	touch unlocked
	run "$SQUAD"
	[ "$status" -eq 0 ]
	[ "$(wc -l < tries)" -eq 5 ]
	[ -e after.ran ]
}

@test "escalation gives exit 3 only if nothing else failed" {
	squadfile <<'Y'
version: 1
default: all
tasks:
  esc: { run: "false", escalate: true }
  bad: "false"
  all: { needs: [esc, bad] }
Y
	run "$SQUAD" -k
	[ "$status" -eq 1 ]
	[ "$(jq -r '.tasks[0].name' $manifest)" = esc ]
}

@test "the log tail in an escalation is bounded" {
	squadfile <<'Y'
version: 1
default: loud
tasks:
  loud: { run: "seq 1 5000; exit 1", escalate: true }
Y
	run "$SQUAD" -q
	[ "$status" -eq 1 ]
	[ "$(jq -r '.tasks[0].failure.log_tail' $manifest | wc -l)" -le 40 ]
	[[ "$(jq -r '.tasks[0].failure.log_tail' $manifest)" == *5000* ]]
}

@test "squad handoff lists the entries for a person and as JSON" {
	project
	SECRET_TOKEN=x run "$SQUAD"
	run --separate-stderr "$SQUAD" handoff
	[ "$status" -eq 0 ]
	[[ $output == *"2 tasks wait for the tactician"* ]]
	[[ $output == *"audit (skill)"*"skill: compliance -> "*"blocks: report test"* ]]
	[[ $output == *"migrate (skill)"*"database-migration (unresolved)"* ]]
	run --separate-stderr "$SQUAD" handoff --json
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | jq -r '.tasks | length')" = 2 ]
	rm "$manifest"
	run --separate-stderr "$SQUAD" handoff
	[ "$output" = "nothing waits for the tactician" ]
}

@test "--strict-skills makes a missing SKILL.md an error" {
	project
	run "$SQUAD" --strict-skills -n
	[ "$status" -eq 2 ]
	[[ $output == *"Squadfile:5:12: error: skill 'database-migration' not found"* ]]
	run "$SQUAD" -n
	[ "$status" -eq 0 ]
	[[ $output == *"Squadfile:5:12: warning: skill 'database-migration' not found"* ]]
}

@test "concurrent squad done calls do not lose a mark" {
	squadfile <<'Y'
version: 1
default: all
tasks:
  s1: { skills: [x], prompt: p }
  s2: { skills: [x], prompt: p }
  s3: { skills: [x], prompt: p }
  s4: { skills: [x], prompt: p }
  all: { run: "touch all.ran", needs: [s1, s2, s3, s4] }
Y
	run "$SQUAD"
	[ "$status" -eq 3 ]
	for t in s1 s2 s3 s4; do "$SQUAD" done "$t" --note "$t ok" 2>/dev/null & done
	wait
	[ ! -e "$manifest" ]
	run "$SQUAD"
	[ "$status" -eq 0 ]
	[ -e all.ran ]
}

@test "a manifest is never seen half-written" {
	squadfile <<'Y'
version: 1
default: all
tasks:
  big: "seq 1 200"
  a: { skills: [x], prompt: "a long prompt that makes the manifest bigger", needs: [big] }
  b: { skills: [y], prompt: "another", needs: [big] }
  all: { needs: [a, b] }
Y
	touch reading
	(
		while [ -e reading ]; do
			if cat "$manifest" > snap 2>/dev/null && [ -s snap ]; then
				jq -e '.tasks | length == 2' snap >/dev/null || { cp snap torn; break; }
				echo >> reads
			fi
		done
	) &
	reader=$!
	for i in $(seq 1 30); do "$SQUAD" -q >/dev/null 2>&1 || true; done
	rm reading
	wait "$reader"
	[ ! -e torn ]
	[ "$(wc -l < reads)" -gt 0 ]
}
