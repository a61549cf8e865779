#!/usr/bin/env bats
# squad ci github|gitlab: the workflow it writes, checked by the real
# programs: action-validator (npm @action-validator/cli: SchemaStore's
# workflow schema and job references) for GitHub, and gitlab-ci-local
# (npm, the 4.60 line) running the GitLab pipeline for real in its shell
# executor, each job in a copy of its own (--shell-isolation, as CI
# runners give each job a checkout). Both are installed into the build
# tree by tests/ci/install.sh; js-yaml (a dependency of gitlab-ci-local)
# reads the YAML back.
bats_require_minimum_version 1.5.0
load helpers

TOOLS=${SQUAD_BUILD:-$SQUAD_SRC/build}/test-tools

setup_file() {
	VALIDATOR=$("$SQUAD_SRC/tests/ci/install.sh" validator "$TOOLS/ci-validator" | tail -1)
	GITLAB=$("$SQUAD_SRC/tests/ci/install.sh" gitlab "$TOOLS/ci-gitlab" | tail -1)
	export VALIDATOR GITLAB
}

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	export NO_COLOR=1
	[ -x "$VALIDATOR" ] || { echo "action-validator could not be installed from npm" >&2; return 1; }
	[ -x "$GITLAB" ] || { echo "gitlab-ci-local could not be installed from npm" >&2; return 1; }
	unset SQUAD_CACHE SQUAD_CACHE_URL SQUAD_CACHE_TOKEN SQUAD_CACHE_TEAM SQUAD_CACHE_WRITE \
		SQUAD_CACHE_SIGNING_KEY SQUAD_CACHE_DIR
	JS_YAML=$TOOLS/ci-gitlab/node_modules/js-yaml
	# jobs run the squad under test, found in PATH (the workflow's
	# install step is skipped when squad is there)
	mkdir -p bin
	ln -sf "$SQUAD" bin/squad
	export PATH=$BATS_TEST_TMPDIR/bin:$PATH
}

teardown() {
	end_leftovers
}

# as_json FILE: the YAML document in FILE as JSON (js-yaml)
as_json() {
	node -e 'const y = require(process.argv[1]), fs = require("fs");
		process.stdout.write(JSON.stringify(y.load(fs.readFileSync(process.argv[2], "utf8"))))' \
		"$JS_YAML" "$1"
}

# hostile: a Squadfile whose task names hold what YAML, a shell or an
# engine would read as syntax (names may hold anything but blanks and
# control characters, and not start with '-')
hostile() {
	cat > Squadfile <<-'Y'
	version: 1
	default: all
	tasks:
	  build: { run: "echo \"$CI_JOB_NAME|build\" >> \"$LOG\"" }
	  "${{secrets.GITHUB_TOKEN}}": { run: "echo \"$CI_JOB_NAME|gh\" >> \"$LOG\"", needs: [build] }
	  "a'b\"c$(touch${IFS}pwned)`touch${IFS}pwned2`;#x": { run: "echo \"$CI_JOB_NAME|shell\" >> \"$LOG\"", needs: [build] }
	  "yes": { run: "echo \"$CI_JOB_NAME|yes\" >> \"$LOG\"" }
	  "1.5": { run: "echo \"$CI_JOB_NAME|num\" >> \"$LOG\"", needs: ["yes"] }
	  "[x]{y}&z*w!t%u@v|p>q?r#s": { run: "echo \"$CI_JOB_NAME|flow\" >> \"$LOG\"", needs: ["1.5"] }
	  "variables": { run: "echo \"$CI_JOB_NAME|keyword\" >> \"$LOG\"" }
	  "A:b": { run: "echo \"$CI_JOB_NAME|colon\" >> \"$LOG\"", needs: [variables] }
	  "a/b": { run: "echo \"$CI_JOB_NAME|slash\" >> \"$LOG\"", needs: ["A:b"] }
	  "a-b": { run: "echo \"$CI_JOB_NAME|dash\" >> \"$LOG\"", needs: ["a/b"] }
	  "ünï/cødé\\n": { run: "echo \"$CI_JOB_NAME|unicode\" >> \"$LOG\"", needs: ["${{secrets.GITHUB_TOKEN}}"] }
	  "$CI_JOB_NAME": { run: "echo \"$CI_JOB_NAME|var\" >> \"$LOG\"", needs: ["a'b\"c$(touch${IFS}pwned)`touch${IFS}pwned2`;#x"] }
	  all: { needs: ["[x]{y}&z*w!t%u@v|p>q?r#s", "a-b", "ünï/cødé\\n", "$CI_JOB_NAME"] }
	Y
}

# plain: a small DAG with a skill-tagged task (a hand-off)
plain() {
	cat > Squadfile <<-'Y'
	version: 1
	default: all
	tasks:
	  lint: { run: "echo \"$CI_JOB_NAME|lint\" >> \"$LOG\"" }
	  build: { run: "echo \"$CI_JOB_NAME|build\" >> \"$LOG\"" }
	  unit: { run: "echo \"$CI_JOB_NAME|unit\" >> \"$LOG\"", needs: [build] }
	  e2e: { run: "echo \"$CI_JOB_NAME|e2e\" >> \"$LOG\"", needs: [build, lint] }
	  review: { skills: [code-review], prompt: "review the diff", needs: [unit] }
	  docs: { run: "echo \"$CI_JOB_NAME|docs\" >> \"$LOG\"", needs: [review] }
	  all: { needs: [e2e, docs] }
	Y
}

# repo: the folder as a git repository with one commit (gitlab-ci-local
# copies the tracked files)
repo() {
	git init -q -b main
	git add -A
	git -c user.name=t -c user.email=t@example.com commit -q -m "the project"
}

# gitlab_run: gitlab-ci-local on ./.gitlab-ci.yml, its output in $output
gitlab_run() {
	run timeout 600 "$GITLAB" --shell-isolation --variable "LOG=$BATS_TEST_TMPDIR/log" \
		--no-artifacts-to-source
}

# before LOG A B: A's line is in LOG before B's
before() {
	local a b
	a=$(grep -n -F -x -- "$2" "$1" | head -1 | cut -d: -f1)
	b=$(grep -n -F -x -- "$3" "$1" | head -1 | cut -d: -f1)
	[ -n "$a" ] || return 1
	[ -n "$b" ] || return 1
	[ "$a" -lt "$b" ]
}

@test "github: a job per task passes action-validator; needs mirror the DAG" {
	plain
	run --separate-stderr "$SQUAD" ci github -o squad.yml
	[ "$status" -eq 0 ]
	run "$VALIDATOR" squad.yml
	echo "$output"
	[ "$status" -eq 0 ]
	as_json squad.yml > wf.json
	[ "$(jq -c '.jobs | keys' wf.json)" = '["all","build","docs","e2e","lint","review","unit"]' ]
	[ "$(jq -c '.jobs.e2e.needs' wf.json)" = '["build","lint"]' ]
	[ "$(jq -c '.jobs.all.needs' wf.json)" = '["e2e","docs"]' ]
	[ "$(jq -c '.jobs.lint.needs' wf.json)" = null ]
	# only the two actions squad's recipes use
	[ "$(jq -c '[.jobs[].steps[].uses // empty] | unique' wf.json)" = '["actions/checkout@v4","actions/upload-artifact@v4"]' ]
	# the cache from secrets and variables; written on pushes to the default branch
	[ "$(jq -r '.env.SQUAD_CACHE_TOKEN' wf.json)" = '${{ secrets.SQUAD_CACHE_TOKEN }}' ]
	[ "$(jq -r '.env.SQUAD_CACHE_URL' wf.json)" = '${{ vars.SQUAD_CACHE_URL }}' ]
	[[ $(jq -r '.env.SQUAD_CACHE_WRITE' wf.json) == *"github.event.repository.default_branch"* ]]
	# JUnit, logs and manifest kept, even after a failure
	[ "$(jq -r '.jobs.unit.steps[3].if' wf.json)" = 'always()' ]
	[[ $(jq -r '.jobs.unit.steps[3].with.path' wf.json) == *".squad/handoff.json"* ]]
	[[ $(jq -r '.jobs.unit.steps[2].run' wf.json) == *"squad run -k --color always --junit squad-junit.xml unit ||"* ]]
}

@test "github: hostile task names: a valid workflow, each job named and run as its task, nothing evaluated" {
	hostile
	"$SQUAD" list --names | sort > names
	run --separate-stderr "$SQUAD" ci github
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" > squad.yml
	run "$VALIDATOR" squad.yml
	echo "$output"
	[ "$status" -eq 0 ]
	as_json squad.yml > wf.json
	# GitHub evaluates ${{ ... }} anywhere: what it would make of each name
	# and command, with the escape squad writes for a literal '${{'
	jq -r '.jobs[].name' wf.json | sed "s/\${{ '\${{' }}/\${{/g" | sort > shown
	run diff names shown
	[ "$status" -eq 0 ]
	run grep -c '\${{ *secrets' <(jq -r '.jobs[] | .name, .steps[2].run' wf.json | sed "s/\${{ '\${{' }}//g")
	[ "$output" = 0 ]
	# the squad line of each job, run by bash with a squad that prints
	# its last argument: the task's name, as it is
	mkdir fake
	printf '#!/bin/sh\nfor a; do last=$a; done\nprintf "%%s\\n" "$last" >> "%s/ran"\n' "$PWD" > fake/squad
	chmod +x fake/squad
	jq -r '.jobs[].steps[2].run | split("\n")[1]' wf.json | sed "s/\${{ '\${{' }}/\${{/g" |
		while IFS= read -r line; do PATH=$PWD/fake:$PATH bash -c "$line"; done
	sort ran > ran.sorted
	run diff names ran.sorted
	[ "$status" -eq 0 ]
	[ ! -e pwned ]
	[ ! -e pwned2 ]
	# job ids: valid and distinct (the GitLab keyword is no matter here)
	run jq -r '.jobs | keys[]' wf.json
	[ "${#lines[@]}" -eq "$(wc -l < names)" ]
	run grep -v -E '^[a-z_][a-z0-9_-]*$' <(jq -r '.jobs | keys[]' wf.json)
	[ "$output" = "" ]
}

@test "github --shards N: a matrix of N shard jobs, valid; -f is kept" {
	plain
	mv Squadfile ci.squad
	run --separate-stderr "$SQUAD" -f ci.squad ci github --shards 3 all
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" > squad.yml
	run "$VALIDATOR" squad.yml
	echo "$output"
	[ "$status" -eq 0 ]
	as_json squad.yml > wf.json
	[ "$(jq -c '.jobs | keys' wf.json)" = '["squad"]' ]
	[ "$(jq -c '.jobs.squad.strategy.matrix.shard' wf.json)" = '[1,2,3]' ]
	[ "$(jq -c '.jobs.squad.strategy["fail-fast"]' wf.json)" = false ]
	[[ $(jq -r '.jobs.squad.steps[2].run' wf.json) == *'squad -f ci.squad -k --color always --junit squad-junit.xml --shard "${{ matrix.shard }}/3" all ||'* ]]
	[ "$(jq -r '.jobs.squad.steps[3].with.name' wf.json)" = 'squad-shard-${{ matrix.shard }}' ]
}

@test "gitlab: the pipeline runs under gitlab-ci-local, each job its task, in DAG order" {
	plain
	run --separate-stderr "$SQUAD" ci gitlab -o .gitlab-ci.yml
	[ "$status" -eq 0 ]
	repo
	gitlab_run
	echo "$output"
	[ "$status" -eq 0 ]
	as_json .gitlab-ci.yml > wf.json
	for task in lint build unit e2e; do
		grep -q -x "$task|$task" log
	done
	# a job starts after the jobs of its needs (each line: job|task)
	before log "build|build" "unit|unit"
	before log "build|build" "e2e|e2e"
	before log "lint|lint" "e2e|e2e"
	before log "unit|unit" "review|unit"
	# the skill task is handed off: its job and those behind it warn
	[[ $output == *"WARN  review"* ]]
	[[ $output == *"WARN  docs"* ]]
	[[ $output == *"PASS  unit"* ]]
	run grep -c -x "docs|docs" log
	[ "$output" = 0 ]
	# each job's JUnit report and manifest are its artifacts
	[ -s .gitlab-ci-local/artifacts/unit/squad-junit.xml ]
	[ "$(jq -r '.tasks[0].name' .gitlab-ci-local/artifacts/review/.squad/handoff.json)" = review ]
	[ "$(jq -c '.unit.artifacts.reports' wf.json)" = '{"junit":"squad-junit.xml"}' ]
	[ "$(jq -c '.e2e.needs' wf.json)" = '[{"job":"build","artifacts":false},{"job":"lint","artifacts":false}]' ]
}

@test "gitlab: the jobs run against a real cache server: each task runs once, the needs of the jobs behind are remote hits" {
	TURBO_BIN=$("$SQUAD_SRC/tests/cache/install.sh" "$TOOLS/turbo-cache" | tail -1)
	[ -x "$TURBO_BIN" ] || { echo "turborepo-remote-cache could not be installed from npm" >&2; false; }
	mkdir srv
	env TMPDIR="$BATS_TEST_TMPDIR/srv" PORT=0 HOST=127.0.0.1 TURBO_TOKEN=ci-token-never-shown \
		STORAGE_PROVIDER=local STORAGE_PATH=store LOG_LEVEL=info \
		TURBO_REMOTE_CACHE_SIGNATURE_KEY=ci-sign-never-shown "$TURBO_BIN" > server.log 2>&1 &
	echo $! > cache.pid
	for _ in $(seq 400); do
		grep -q 'listening at http://127.0.0.1:' server.log && break
		sleep 0.05
	done
	url=$(grep -o 'listening at http://127.0.0.1:[0-9]*' server.log | head -1 | sed 's/listening at //')
	[ -n "$url" ]
	mkdir proj
	cd proj
	# canary lines in $LOG, outside every job's copy: "job|task" each
	# time a task really runs
	cat > Squadfile <<-'Y'
	version: 1
	default: all
	tasks:
	  build: { run: "echo \"$CI_JOB_NAME|build\" >> \"$LOG\"; echo built > build.out", inputs: [src.txt], outputs: [build.out] }
	  unit: { run: "echo \"$CI_JOB_NAME|unit\" >> \"$LOG\"; cat build.out > unit.out", needs: [build], inputs: [src.txt], outputs: [unit.out] }
	  e2e: { run: "echo \"$CI_JOB_NAME|e2e\" >> \"$LOG\"; cat build.out unit.out > e2e.out", needs: [build, unit], inputs: [src.txt], outputs: [e2e.out] }
	  all: { needs: [e2e] }
	Y
	echo source > src.txt
	run --separate-stderr "$SQUAD" ci gitlab -o .gitlab-ci.yml
	[ "$status" -eq 0 ]
	repo
	# the CI/CD variables the exported pipeline names; write as on the
	# default branch; no local folder, so every hit is the server's
	run timeout 600 "$GITLAB" --shell-isolation --no-artifacts-to-source \
		--variable "LOG=$BATS_TEST_TMPDIR/log" --variable "SQUAD_CACHE_URL=$url" \
		--variable SQUAD_CACHE_TOKEN=ci-token-never-shown --variable SQUAD_CACHE_TEAM=ci \
		--variable SQUAD_CACHE_SIGNING_KEY=ci-sign-never-shown --variable SQUAD_CACHE_WRITE=1 \
		--variable SQUAD_CACHE_DIR=off
	echo "$output"
	[ "$status" -eq 0 ]
	# each task ran once in all, in its own job: the jobs behind took
	# their needs from the cache
	[ "$(grep -c . ../log)" -eq 3 ]
	grep -q -x "build|build" ../log
	grep -q -x "unit|unit" ../log
	grep -q -x "e2e|e2e" ../log
	[[ $output == *"cached (remote) build"* ]]
	[[ $output == *"cached (remote) unit"* ]]
	[[ $output != *"ci-token-never-shown"* ]]
	[[ $output != *"ci-sign-never-shown"* ]]
	[[ $output != *warning* ]]
	# the server was asked: the artifacts went up and came down
	[ "$(jq -r 'select(.message == "incoming request") | .req.method' ../server.log | grep -c -x GET)" -ge 3 ]
	[ -n "$(ls ../srv/store/ci)" ]
}

@test "gitlab: hostile task names run under gitlab-ci-local, each as itself, nothing injected" {
	hostile
	run --separate-stderr "$SQUAD" ci gitlab -o .gitlab-ci.yml
	[ "$status" -eq 0 ]
	repo
	gitlab_run
	echo "$output"
	[ "$status" -eq 0 ]
	as_json .gitlab-ci.yml > wf.json
	# every task ran in its own job, as the job's last task (its needs first)
	[ "$(jq -r 'keys[]' wf.json | grep -c -v -x -E 'variables|default')" -eq 13 ]
	run jq -r '.variables | keys[]' wf.json
	[ "$output" = "$(printf '%s\n' SQUAD_REF SQUAD_REPO)" ]
	for label in build gh shell yes num flow keyword colon slash dash unicode var; do
		[ "$(grep -c "|$label\$" log)" -ge 1 ]
	done
	[ "$(jq -r 'to_entries[] | select(.value.script? // [] | .[0] // "" | endswith("\n  variables\n")) | .key' wf.json)" = variables-2 ]
	before log "build|build" "$(jq -r 'to_entries[] | select(.value.script? // [] | .[0] // "" | contains("GITHUB")) | .key' wf.json)|gh"
	[ ! -e pwned ]
	[ ! -e pwned2 ]
	run find . -name pwned -o -name pwned2
	[ "$output" = "" ]
}

@test "gitlab --shards 3 under gitlab-ci-local: each task its shard's, the merged manifest the single run's" {
	mkdir proj
	cd proj
	plain
	run --separate-stderr "$SQUAD" ci gitlab --shards 3 -o .gitlab-ci.yml
	[ "$status" -eq 0 ]
	repo
	# the single run, in a copy of its own, for the manifest to compare with
	git clone -q . ../single
	(cd ../single && LOG=/dev/null "$SQUAD" -q -k 2>/dev/null) || true
	gitlab_run
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"PASS  squad-handoff"* ]]
	# every task with work ran, and as its own shard's (the line of a
	# shard job for its task: 'squad: [K/3]|task')
	for task in lint build unit e2e; do
		grep -q "|$task\$" ../log
	done
	merged=.gitlab-ci-local/artifacts/squad-handoff/.squad/handoff.json
	[ -f "$merged" ]
	# the same entries, blocks and instructions but for the folder
	[ "$(jq -c '[.tasks[] | {name, kind, blocks}]' "$merged")" = "$(jq -c '[.tasks[] | {name, kind, blocks}]' ../single/.squad/handoff.json)" ]
	[ "$(jq -c .targets "$merged")" = '["all"]' ]
	[ "$(jq -r '.shard' "$merged")" = null ]
	[[ $(jq -r .resume_command "$merged") != *"--shard"* ]]
}

@test "squad ci: usage errors, an unknown target, and -o written atomically" {
	plain
	run "$SQUAD" ci
	[ "$status" -eq 2 ]
	[[ $output == *"usage: squad ci github|gitlab"* ]]
	run "$SQUAD" ci circleci
	[ "$status" -eq 2 ]
	run "$SQUAD" ci github --shards 0
	[ "$status" -eq 2 ]
	[[ $output == *"--shards wants a number from 1 to 200"* ]]
	run "$SQUAD" ci gitlab --shards 201
	[ "$status" -eq 2 ]
	run "$SQUAD" -o out.yml
	[ "$status" -eq 2 ]
	[[ $output == *"-o and --shards are for 'squad ci'"* ]]
	run "$SQUAD" list --merge
	[ "$status" -eq 2 ]
	run "$SQUAD" ci github nosuchtask
	[ "$status" -eq 2 ]
	[[ $output == *"nosuchtask"* ]]
	ln -s elsewhere.yml link.yml
	run "$SQUAD" ci github -o link.yml
	[ "$status" -eq 1 ]
	[ ! -e elsewhere.yml ]
	run --separate-stderr "$SQUAD" ci gitlab -o out.yml
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	[ -s out.yml ]
	run ls
	[[ $output != *".tmp."* ]]
}

@test "the CI recipes are what 'squad ci --shards' writes, and pass action-validator" {
	plain
	run --separate-stderr "$SQUAD" ci github --shards 1
	[ "$output" = "$(cat "$SQUAD_SRC/recipes/github-actions/squad.yml")" ]
	run --separate-stderr "$SQUAD" ci github --shards 4
	[ "$output" = "$(cat "$SQUAD_SRC/recipes/github-actions/shards.yml")" ]
	run --separate-stderr "$SQUAD" ci gitlab --shards 1
	[ "$output" = "$(cat "$SQUAD_SRC/recipes/gitlab-ci/.gitlab-ci.yml")" ]
	run --separate-stderr "$SQUAD" ci gitlab --shards 4
	[ "$output" = "$(cat "$SQUAD_SRC/recipes/gitlab-ci/shards.gitlab-ci.yml")" ]
	run "$VALIDATOR" "$SQUAD_SRC/recipes/github-actions/squad.yml"
	[ "$status" -eq 0 ]
	run "$VALIDATOR" "$SQUAD_SRC/recipes/github-actions/shards.yml"
	[ "$status" -eq 0 ]
	# one shard is one job running the whole selection, no merge
	as_json "$SQUAD_SRC/recipes/gitlab-ci/.gitlab-ci.yml" > gl.json
	[ "$(jq -c 'keys' gl.json)" = '["default","squad","variables"]' ]
	[ "$(jq -r '.squad.script[0]' gl.json)" = "squad -k --junit squad-junit.xml" ]
}
