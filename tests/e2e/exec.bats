#!/usr/bin/env bats
# squad exec: ad-hoc tasks from the command line or standard input, run
# on the normal pipeline in a state folder of their own (.squad/exec/ID).
load helpers
bats_require_minimum_version 1.5.0

# wait_both A B: a task's body that marks A, then waits (bounded) for B;
# two such tasks both succeed only when they run at the same time
wait_both() {
	echo "touch $1; for i in \$(seq 400); do [ -e $2 ] && exit 0; sleep 0.05; done; exit 1"
}

@test "exec: --run tasks from the command line, named by --name or by position" {
	run "$SQUAD" exec --name greet --run 'echo hello' --run 'echo second'
	[ "$status" -eq 0 ]
	[[ $output == *"squad exec result: 2 task(s): 2 ok"* ]]
	[[ $output == *"- task: greet"* ]]
	[[ $output == *"- task: 2"* ]]
	[[ $output == *"  summary: hello"* ]]
	log=$(ls .squad/exec/*/logs/greet.log)
	[ "$(cat "$log")" = hello ]
	[[ $output == *"  log: $PWD/.squad/exec/"*"/logs/greet.log"* ]]
	# no Squadfile, no main state: the run never touched .squad/state
	[ ! -e .squad/state ]
}

@test "exec: a failing task fails the run, with its exit code and reason" {
	run "$SQUAD" exec --name ok --run true --name bad --run 'echo broke; exit 3'
	[ "$status" -eq 1 ]
	[[ $output == *"- task: bad"*"  status: failed"*"  exit: 3"*"  reason: exited with 3"* ]]
	[[ $output == *"  summary: broke"* ]]
}

@test "exec: --name and --worker apply to the next task; misuse is a usage error" {
	run "$SQUAD" exec --run true --name dangling
	[ "$status" -eq 2 ]
	[[ $output == *"--name applies to the next --run or --prompt, and none follows"* ]]
	run "$SQUAD" exec --name a --name b --run true
	[ "$status" -eq 2 ]
	[[ $output == *"--name given twice for one task"* ]]
	run "$SQUAD" exec --worker nosuch --run true
	[ "$status" -eq 2 ]
	[[ $output == *"<command line>:1:"*"unknown worker 'nosuch' for task '1'"* ]]
	run "$SQUAD" --run true
	[ "$status" -eq 2 ]
	[[ $output == *"--run, --prompt and --name are for 'squad exec'"* ]]
	run "$SQUAD" exec sometask
	[ "$status" -eq 2 ]
	run "$SQUAD" exec --name 'has space' --run true
	[ "$status" -eq 2 ]
	[[ $output == *"task name 'has space' contains a space"* ]]
	[ ! -d .squad/exec ]
}

@test "exec: a YAML list on stdin, in the task grammar; needs are honoured" {
	run "$SQUAD" exec <<-'EOF'
	- name: make
	  run: echo built > made
	- name: check
	  needs: [make]
	  run: test -e made && echo checked
	- echo shorthand
	EOF
	[ "$status" -eq 0 ]
	[[ $output == *"- task: check"*"  status: ok"*"  summary: checked"* ]]
	[[ $output == *"- task: 3"*"  summary: shorthand"* ]]
	# make ran first: check found its file
	[ "$(cat made)" = built ]
}

@test "exec: a JSON list and a map of tasks on stdin" {
	run "$SQUAD" exec <<< '[{"name": "j", "run": "echo from json"}, {"run": "echo two", "timeout": "5s"}]'
	[ "$status" -eq 0 ]
	[[ $output == *"- task: j"*"  summary: from json"* ]]
	[[ $output == *"- task: 2"*"  summary: two"* ]]
	run "$SQUAD" exec <<-'EOF'
	first: echo one
	second:
	  needs: [first]
	  run: echo two
	EOF
	[ "$status" -eq 0 ]
	[[ $output == *"- task: first"*"- task: second"* ]]
}

@test "exec: errors in the list are <stdin>:LINE:COL, and nothing runs" {
	run "$SQUAD" exec <<-'EOF'
	- name: fine
	  run: touch canary
	- name: typo
	  runn: echo
	- {name: lost, needs: [nowhere], run: "true"}
	- name: fine
	  run: "true"
	EOF
	[ "$status" -eq 2 ]
	[[ $output == *"<stdin>:4:3: error: unknown key 'runn' in task 'typo'; did you mean 'run'?"* ]]
	[[ $output == *"<stdin>:5:24: error: task 'lost' needs unknown task 'nowhere'"* ]]
	[[ $output == *"<stdin>:6:9: error: duplicate task name 'fine' (first given on line 1)"* ]]
	[ ! -e canary ]
	[ ! -d .squad/exec ]
	run "$SQUAD" exec <<< 'just a string'
	[ "$status" -eq 2 ]
	[[ $output == *"<stdin>:1:1: error: the tasks must be a list or a map of tasks, not a string"* ]]
	run "$SQUAD" exec <<< '- {run: [unclosed'
	[ "$status" -eq 2 ]
	[[ $output == *"<stdin>:"* ]]
	run "$SQUAD" exec < /dev/null
	[ "$status" -eq 2 ]
	[[ $output == *"<stdin>:1:1: error: no tasks"* ]]
}

@test "exec: tasks run in parallel (each waits for the other's mark)" {
	run "$SQUAD" exec -j 2 --name a --run "$(wait_both a.ready b.ready)" \
		--name b --run "$(wait_both b.ready a.ready)"
	[ "$status" -eq 0 ]
	[[ $output == *"2 task(s): 2 ok"* ]]
}

@test "exec: a skill task goes to the manifest and is never run" {
	run "$SQUAD" exec <<-'EOF'
	- name: build
	  run: echo built
	- name: review
	  skills: [review]
	  run: touch canary
	  prompt: review the build
	EOF
	[ "$status" -eq 3 ]
	[ ! -e canary ]
	[[ $output == *"- task: review"*"  status: hand-off"*"  handoff: $PWD/.squad/exec/"*"/handoff.json"* ]]
	manifest=$(ls .squad/exec/*/handoff.json)
	[ "$(jq -r '.tasks[0].name' "$manifest")" = review ]
	# an ad-hoc task reports nothing back: no 'squad done' for it
	[ "$(jq -r '.tasks[0].done_command' "$manifest")" = "" ]
	[[ "$(jq -r '.tasks[0].instruction' "$manifest")" == *"nothing to report back"* ]]
	[ ! -e .squad/handoff.json ]
}

@test "exec --json: one document, valid against grammar/exec.schema.json" {
	run --separate-stderr "$SQUAD" exec --json <<-'EOF'
	- name: good
	  run: echo fine
	- name: bad
	  run: echo oops; exit 4
	- name: after
	  needs: [bad]
	  run: "true"
	- name: audit
	  skills: [review]
	  prompt: audit it
	EOF
	[ "$status" -eq 1 ]
	echo "$output" > out.json
	# one JSON document, nothing else on stdout
	[ "$(jq -s length out.json)" -eq 1 ]
	[ "$(jq -r '.exit_code' out.json)" -eq 1 ]
	[ "$(jq -r '.tasks[] | select(.name == "bad") | .exit_code' out.json)" -eq 4 ]
	[ "$(jq -r '.tasks[] | select(.name == "bad") | .summary' out.json)" = oops ]
	[ "$(jq -r '.tasks[] | select(.name == "bad") | .reason' out.json)" = "exited with 4" ]
	[ "$(jq -r '.tasks[] | select(.name == "after") | .reason' out.json)" = "not run: bad did not succeed" ]
	[ "$(jq -r '.tasks[] | select(.name == "good") | .reason' out.json)" = null ]
	[ -f "$(jq -r '.tasks[] | select(.name == "good") | .log' out.json)" ]
	[ "$(jq -r '.tasks[] | select(.name == "after") | .status' out.json)" = skipped ]
	[ "$(jq -r '.handoff[0].name' out.json)" = audit ]
	# the person's output went to stderr
	[[ $stderr == *"FAILED bad"* ]]
	validate_json "$SQUAD_SRC/grammar/exec.schema.json" out.json
}

@test "exec: the Squadfile lends workers and vars, not its tasks; -C is honoured" {
	mkdir proj
	cat > proj/Squadfile <<-'EOF'
	version: 1
	vars:
	  GREETING: hello-from-vars
	workers:
	  echoer:
	    command: [sh, -c, 'echo "agent said: $1"', sh, "{prompt}"]
	tasks:
	  own:
	    run: touch canary
	EOF
	run "$SQUAD" -C proj exec --run 'echo ${GREETING}' --worker echoer --name ask --prompt 'hi there'
	[ "$status" -eq 0 ]
	[[ $output == *"- task: 1"*"  summary: hello-from-vars"* ]]
	[[ $output == *"- task: ask"*"  summary: agent said: hi there"* ]]
	[ ! -e proj/canary ]
	[ -d proj/.squad/exec ]
	# with -f, the named file must exist
	run "$SQUAD" -f missing.yml exec --run true
	[ "$status" -eq 2 ]
	[[ $output == *"missing.yml"*"cannot open"* ]]
}

@test "exec: two exec runs beside a running squad that holds the lock" {
	squadfile <<-'EOF'
	version: 1
	tasks:
	  long:
	    run: touch long.started; for i in $(seq 400); do [ -e release ] && exit 0; sleep 0.05; done; exit 1
	default: [long]
	EOF
	"$SQUAD" > main.out 2>&1 &
	main=$!
	wait_for long.started
	# the main run holds .squad/lock; each exec runs at once, and the two
	# run together (each waits for the other's mark)
	"$SQUAD" exec --name one --run "$(wait_both one.ready two.ready)" > one.out 2>&1 &
	one=$!
	"$SQUAD" exec --name two --run "$(wait_both two.ready one.ready)" > two.out 2>&1 &
	two=$!
	wait "$one"
	wait "$two"
	# both ended while the main run still held its lock
	alive "$main"
	touch release
	wait "$main"
	grep -q "1 task(s): 1 ok" one.out
	grep -q "1 task(s): 1 ok" two.out
	[ "$(ls -d .squad/exec/* | wc -l)" -eq 2 ]
	# the main state has the main run's task, and nothing of exec's
	grep -q '"status":"ok".*"task":"long"' .squad/state
	! grep -q '"task":"one"' .squad/state || false
	! grep -q '"task":"two"' .squad/state || false
	# and it still reads: the next run plans from it
	run "$SQUAD" explain long
	[ "$status" -eq 0 ]
}

@test "exec: only the newest 20 exec folders are kept" {
	mkdir -p .squad/exec
	for i in $(seq 1 22); do
		mkdir .squad/exec/"100-$i"
		touch .squad/exec/"100-$i"/lock
	done
	run "$SQUAD" exec --run true
	[ "$status" -eq 0 ]
	[ "$(ls .squad/exec | wc -l)" -eq 20 ]
	[ ! -e .squad/exec/100-1 ]
	[ ! -e .squad/exec/100-3 ]
	[ -e .squad/exec/100-4 ]
}

@test "exec: a folder whose exec still runs is not pruned, locked either way" {
	mkdir -p .squad/exec
	for i in $(seq 1 22); do
		mkdir .squad/exec/"100-$i"
	done
	touch .squad/exec/100-2/lock
	# an exec of this squad holds its folder; one of an older squad, the
	# lock file in it
	local hold='touch "$0"; i=0; until [ -e release ] || [ $i -ge 1200 ]; do sleep 0.05; i=$((i + 1)); done'
	flock .squad/exec/100-1 sh -c "$hold" held1 &
	local one=$!
	flock .squad/exec/100-2/lock sh -c "$hold" held2 &
	local two=$!
	wait_for held1
	wait_for held2
	run "$SQUAD" exec --run true
	touch release
	wait "$one" "$two"
	[ "$status" -eq 0 ]
	[ -e .squad/exec/100-1 ]
	[ -e .squad/exec/100-2 ]
	[ ! -e .squad/exec/100-3 ]
	[ -e .squad/exec/100-4 ]
}

@test "exec: with tasks on stdin, --worker sends every skill-free task to that worker" {
	squadfile <<-'EOF2'
	version: 1
	workers:
	  echoer:
	    command: [sh, -c, 'echo "echoer got: $1"', sh, "{prompt}"]
	tasks: {}
	EOF2
	run "$SQUAD" exec --worker echoer <<< '[{"name": "p", "prompt": "the question"}]'
	[ "$status" -eq 0 ]
	[[ $output == *"- task: p"*"  summary: echoer got: the question"* ]]
	run "$SQUAD" exec --worker nosuch <<< '[{"run": "true"}]'
	[ "$status" -eq 2 ]
	[[ $output == *"unknown worker 'nosuch' for --worker"* ]]
}

@test "exec -n prints the plan and runs nothing" {
	run "$SQUAD" exec -n --name first --run 'touch canary'
	[ "$status" -eq 0 ]
	[[ $output == *"1  first  shell   touch canary"* ]]
	[ ! -e canary ]
	[ ! -d .squad/exec ]
	run "$SQUAD" exec -n --json --run true
	[ "$status" -eq 2 ]
}

@test "exec: a symlink planted as .squad/exec is refused, never followed" {
	mkdir -p .squad elsewhere
	ln -s "$PWD/elsewhere" .squad/exec
	run "$SQUAD" exec --run 'touch canary'
	[ "$status" -eq 1 ]
	[[ $output == *".squad/exec' is not a folder; squad will not follow it"* ]]
	[ -z "$(ls elsewhere)" ]
	[ ! -e canary ]
}

@test "exec: two exec runs at once share one request budget, counted once each" {
	squadfile <<-'EOF2'
	version: 1
	workers:
	  cheap:
	    command: [sh, -c, 'printf "first line\nanswer: %s\n" "$1"', sh, "{prompt}"]
	    daily_limit: 3
	tasks: {}
	EOF2
	export XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	"$SQUAD" exec --worker cheap --prompt a --worker cheap --prompt b > one.out 2>&1 &
	one=$!
	"$SQUAD" exec --worker cheap --prompt c --worker cheap --prompt d > two.out 2>&1 &
	two=$!
	wait "$one" || true
	wait "$two" || true
	# four prompts against a daily_limit of 3: three ran, one was refused
	[ "$(cat one.out two.out | grep -c '  status: ok')" -eq 3 ]
	[ "$(cat one.out two.out | grep -c 'reason: budget exhausted')" -eq 1 ]
	[ "$(jq '.cheap.requests' "$XDG_STATE_HOME/squad/budget.json")" = 3 ]
	# an agent's answer of several lines is a block under its task
	grep -qx '  answer: |' one.out two.out
	grep -qx '    first line' one.out two.out
}

@test "exec: an exec's folder is made bare; logs/ comes with the first log" {
	run "$SQUAD" exec --name plain --run true
	[ "$status" -eq 0 ]
	folder=$(ls -d .squad/exec/*)
	# the folder is its own lock, and the records stay in memory
	[ ! -e "$folder/lock" ]
	[ ! -e "$folder/state" ]
	[[ $output == *"- task: plain"*"  status: ok"* ]]
	[[ $output == *"logs: $PWD/$folder/logs/"* ]]
	[ ! -e "$folder/logs" ]
	[ ! -e "$folder/inputs" ]
	rm -r .squad/exec
	run "$SQUAD" exec --name plain --run true --name says --run 'echo said'
	[ "$status" -eq 0 ]
	folder=$(ls -d .squad/exec/*)
	[ "$(cat "$folder/logs/says.log")" = said ]
	[ ! -e "$folder/logs/plain.log" ]
}

@test "exec: a symlink a task puts in the place of logs/ is refused, not followed" {
	mkdir elsewhere
	run "$SQUAD" exec --name swap --run 'ln -s "$PWD/elsewhere" "$(ls -d "$PWD"/.squad/exec/*)/logs"; echo out'
	[ "$status" -eq 1 ]
	[[ $output == *"the output of 'swap' is lost"* ]]
	[ -z "$(ls elsewhere)" ]
}
