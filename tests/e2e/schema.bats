#!/usr/bin/env bats
# grammar/squadfile.schema.json (the editors' schema) checked with a real
# JSON Schema validator, ajv, and against squad's own parser: what the
# schema accepts, squad accepts, and what it rejects, squad rejects.
#
# ajv-cli comes from npm through helpers.bash's ensure_ajv. It reads .yaml
# data files itself (with js-yaml), so no YAML-to-JSON converter is
# needed. Without npm, or with the registry out of reach and nothing
# installed yet, every test skips and says why.
load helpers

SCHEMA=$SQUAD_SRC/grammar/squadfile.schema.json

setup_file() {
	ensure_ajv || export AJV_SKIP
}

# helpers.bash's setup, then the skip when there is no validator
eval "helpers_$(declare -f setup)"
setup() {
	helpers_setup
	[ -z "${AJV_SKIP:-}" ] || skip "$AJV_SKIP"
}

ajv() {
	"$AJV" "$@" --spec=draft2020 --strict=true --allow-union-types -s "$SCHEMA"
}

# validate FILE...: ajv on every FILE at once (node starts slowly); each
# gets a line "FILE valid" or "FILE invalid"
validate() {
	local f args=()

	for f in "$@"; do
		args+=(-d "$f")
	done
	run ajv validate "${args[@]}" --errors=text
}

# valid FILE...: the schema and squad both accept each FILE
valid() {
	local f

	validate "$@"
	[ "$status" -eq 0 ] || { echo "schema: $output"; return 1; }
	for f in "$@"; do
		run "$SQUAD" -f "$f" list
		[ "$status" -eq 0 ] || { echo "squad rejects $f: $output"; return 1; }
	done
}

# invalid FILE...: the schema and squad (exit 2, FILE:LINE:COL) both reject each FILE
invalid() {
	local f schema_output

	validate "$@"
	[ "$status" -eq 1 ] || { echo "schema: status $status: $output"; return 1; }
	schema_output=$output
	for f in "$@"; do
		grep -qxF "$f invalid" <<<"$schema_output" ||
			{ echo "schema accepts $f: $schema_output"; return 1; }
		run "$SQUAD" -f "$f" list
		[ "$status" -eq 2 ] && [[ $output == *"$f:"[0-9]*:[0-9]*": error: "* ]] ||
			{ echo "squad: status $status for $f: $output"; return 1; }
	done
}

# keys_in_parser ARRAY: the keys in squadfile.c's ARRAY[], sorted
keys_in_parser() {
	awk -v name="$1" 'index($0, "static const char *const " name "[] = {") { f = 1 }
		f { print } f && /};/ { exit }' "$SQUAD_SRC/src/model/squadfile.c" |
		grep -o '"[a-z_]*"' | tr -d '"' | LC_ALL=C sort
}

# keys_in_schema EXPR: the property names of schema EXPR, sorted
keys_in_schema() {
	node -e 'const s = require(process.argv[1]);
		console.log(Object.keys(eval("s" + process.argv[2])).join("\n"))' \
		"$SCHEMA" "$1" | LC_ALL=C sort
}

@test "schema: a valid draft 2020-12 schema, compiled in ajv's strict mode" {
	run ajv compile
	[ "$status" -eq 0 ]
	[[ $output == *"is valid"* ]]
	[[ $output != *"strict mode"* ]]
}

@test "schema: every property and definition has a description (editors show it)" {
	run node -e '
		const missing = [];
		const walk = (node, path, want) => {
			if (!node || typeof node !== "object") return;
			if (want && !node.description) missing.push(path);
			for (const k of ["properties", "$defs"])
				for (const [name, sub] of Object.entries(node[k] || {}))
					walk(sub, path + "/" + k + "/" + name, true);
			if (typeof node.additionalProperties === "object")
				walk(node.additionalProperties, path + "/additionalProperties", true);
			if (node.items) walk(node.items, path + "/items", true);
		};
		walk(require(process.argv[1]), "#", true);
		if (missing.length) { console.log(missing.join("\n")); process.exit(1); }' "$SCHEMA"
	[ "$status" -eq 0 ]
}

@test "schema: has exactly the keys the parser knows" {
	local pair array expr

	for pair in top_keys:.properties task_keys:.\$defs.taskMap.properties \
		    defaults_keys:.properties.defaults.properties \
		    worker_keys:.\$defs.worker.properties \
		    rule_keys:.properties.routing.items.properties \
		    cache_keys:.\$defs.cache.properties; do
		array=${pair%%:*} expr=${pair#*:}
		[ -n "$(keys_in_parser "$array")" ]
		[ "$(keys_in_parser "$array")" = "$(keys_in_schema "$expr")" ] ||
			{ echo "$array differs from $expr"; return 1; }
	done
}

@test "reference: the full example in grammar/squadfile.md is valid" {
	awk '/^## Full example/ { f = 1 } f && /^```yaml/ { p = 1; next }
		p && /^```/ { exit } p' "$SQUAD_SRC/grammar/squadfile.md" > full.yaml
	grep -q '^tasks:' full.yaml
	valid full.yaml
}

@test "Squadfile.example is valid" {
	cp "$SQUAD_SRC/Squadfile.example" example.yaml
	valid example.yaml
}

@test "valid: shorthand, scalars as one-item lists, argv runs, empty values" {
	cat > short.yaml <<'Y'
version: 1
default: test
tasks:
  lint: ruff check .
  noop: true
  db:migrate: { run: [alembic, upgrade, head], needs: lint, skills: database-migration }
  test: { needs: [noop, "db:migrate"], desc: }
Y
	cat > minimal.yaml <<'Y'
version: "1"
tasks:
Y
	valid short.yaml minimal.yaml
}

@test "valid: every key, scalars as text, workers overridden field by field" {
	cat > full.yaml <<'Y'
version: 1
vars: { PY: python3, N: 4, DEBUG: true, EMPTY: }
defaults: { worker: shell, timeout: 90, retries: "2", escalate: off, env: { A: 1, B: } }
skills_dir: .claude/skills
routing:
  - { match: '(?i)\bmigrat', skill: database-migration }
workers:
  shell: { slots: 8, timeout: 1h }
  qwen: { slots: 2, daily_limit: 2000, per_minute: "30", rate_limit_pattern: '429|quota' }
  agent:
    command: [agent, --model, "{model}", --in, "{dir}", "{{literal}", "{prompt}", "{changed}", 3]
    env: { TOKEN: "${AGENT_TOKEN_NOT_SET_AT_LOAD}" }
    output: text
    prompt_template: "In {dir} ({task}): run {run}"
    model: small
    timeout: 250ms
tasks:
  build:
    desc: build it
    run: ${PY} -m build --outdir "$${OUT}"
    dir: sub/dir
    env: { CI: yes, NAME: "${SQUAD_TASK}" }
    timeout: 1h30m
    retries: 100
    escalate: yes
    expect: '\d+ passed'
    inputs: "src/**/*.py"
    outputs: [dist/]
  ask: { prompt: "Summarise ${PY} use", worker: agent, needs: [build] }
  both: { run: make, prompt: "Run make", worker: qwen }
Y
	valid full.yaml
}

@test "invalid: unknown keys, at every level" {
	printf 'version: 1\ntask: {a: x}\ntasks: {a: x}\n' > top.yaml
	printf 'version: 1\ntasks:\n  a: {run: x, retry: 1}\n' > task.yaml
	printf 'version: 1\ndefaults: {timout: 5s}\ntasks: {a: x}\n' > defaults.yaml
	printf 'version: 1\nworkers:\n  qwen: {slot: 2}\ntasks: {a: x}\n' > worker.yaml
	printf 'version: 1\nrouting: [{match: x, skill: y, tag: z}]\ntasks: {a: x}\n' > rule.yaml
	invalid top.yaml task.yaml defaults.yaml worker.yaml rule.yaml
}

@test "invalid: wrong types" {
	printf 'version: 1\ntasks:\n  a: {run: x, needs: {b: c}}\n  b: x\n' > needs-map.yaml
	printf 'version: 1\ntasks:\n  a: {run: {x: 1}}\n' > run-map.yaml
	printf 'version: 1\ntasks:\n  a: {run: x, desc: [d]}\n' > desc-list.yaml
	printf 'version: 1\ntasks:\n  a: [x]\n' > task-list.yaml
	printf 'version: 1\ntasks: [a, b]\n' > tasks-list.yaml
	printf 'version: 1\nworkers:\n  ag: {command: "ag {prompt}"}\ntasks: {a: x}\n' > command-string.yaml
	printf 'version: 1\nworkers:\n  qwen: {slots: [2]}\ntasks: {a: x}\n' > slots-list.yaml
	printf 'version: 1\nvars: {A: [1]}\ntasks: {a: x}\n' > var-list.yaml
	printf 'version: 1\ntasks:\n  a: {run: x, env: {A: {b: 1}}}\n' > env-map.yaml
	invalid needs-map.yaml run-map.yaml desc-list.yaml task-list.yaml tasks-list.yaml \
		command-string.yaml slots-list.yaml var-list.yaml env-map.yaml
}

@test "invalid: bad durations" {
	local d i=0

	for d in '1h 30m' 5x 10m30 -5s 1.5 '""' 1d m 30_days; do
		printf 'version: 1\ntasks:\n  a: {run: x, timeout: %s}\n' "$d" > "d$((++i)).yaml"
	done
	printf 'version: 1\ndefaults: {timeout: 2h-}\ntasks: {a: x}\n' > "d$((++i)).yaml"
	printf 'version: 1\nworkers:\n  qwen: {timeout: soon}\ntasks: {a: x}\n' > "d$((++i)).yaml"
	invalid d*.yaml
	# and the forms the parser reads
	i=0
	for d in 90 '"90"' 250ms 1h30m 1m1s1ms 0 '"007"'; do
		printf 'version: 1\ntasks:\n  a: {run: x, timeout: %s}\n' "$d" > "ok$((++i)).yaml"
	done
	valid ok*.yaml
}

@test "invalid: numbers out of range, bad names, enums, placeholders, booleans" {
	printf 'version: 1\ntasks:\n  a: {run: x, retries: 101}\n' > retries-big.yaml
	printf 'version: 1\ntasks:\n  a: {run: x, retries: "+1"}\n' > retries-sign.yaml
	printf 'version: 1\ntasks:\n  a: {run: x, retries: -1}\n' > retries-neg.yaml
	printf 'version: 1\nworkers:\n  qwen: {slots: 4097}\ntasks: {a: x}\n' > slots-big.yaml
	printf 'version: 1\ntasks:\n  -a: x\n' > name-dash.yaml
	printf 'version: 1\ntasks:\n  "a b": x\n' > name-space.yaml
	printf 'version: 1\nworkers:\n  "my agent": {command: [x]}\ntasks: {a: x}\n' > worker-name.yaml
	printf 'version: 1\ntasks:\n  a: {run: x, skills: "db/migrate"}\n' > skill-slash.yaml
	printf 'version: 1\ntasks:\n  a: {run: x, env: {A-B: 1}}\n' > env-name.yaml
	printf 'version: 1\nvars: {1A: x}\ntasks: {a: x}\n' > var-name.yaml
	printf 'version: 1\nworkers:\n  qwen: {output: json}\ntasks: {a: x}\n' > output.yaml
	printf 'version: 1\nworkers:\n  ag: {command: [ag, "{promt}"]}\ntasks: {a: x}\n' > placeholder.yaml
	printf 'version: 1\nworkers:\n  ag: {command: [ag, "{{{x}"]}\ntasks: {a: x}\n' > placeholder-brace.yaml
	printf 'version: 1\nworkers:\n  ag: {command: [ag], prompt_template: "{bad}"}\ntasks: {a: x}\n' > template.yaml
	printf 'version: 1\ntasks:\n  a: {run: x, escalate: yES}\n' > bool.yaml
	invalid retries-big.yaml retries-sign.yaml retries-neg.yaml slots-big.yaml \
		name-dash.yaml name-space.yaml worker-name.yaml skill-slash.yaml \
		env-name.yaml var-name.yaml output.yaml placeholder.yaml \
		placeholder-brace.yaml template.yaml bool.yaml
}

@test "invalid: missing or meaningless parts" {
	printf 'tasks: {a: x}\n' > no-version.yaml
	printf 'version: 2\ntasks: {a: x}\n' > version-2.yaml
	printf 'version: 1\n' > no-tasks.yaml
	printf 'version: 1\nworkers:\n  ag: {slots: 2}\ntasks: {a: x}\n' > no-command.yaml
	printf 'version: 1\nworkers:\n  ag: {command: []}\ntasks: {a: x}\n' > empty-command.yaml
	printf 'version: 1\nworkers:\n  shell: {command: [sh]}\ntasks: {a: x}\n' > shell-command.yaml
	printf 'version: 1\nworkers:\n  ag:\ntasks: {a: x}\n' > null-worker.yaml
	printf 'version: 1\ntasks:\n  a:\n' > null-task.yaml
	printf 'version: 1\ntasks:\n  a: {desc: idle}\n' > nothing.yaml
	printf 'version: 1\ntasks:\n  a: {run: [], needs: []}\n' > empty-run.yaml
	printf 'version: 1\ntasks:\n  a: "  "\n' > blank-run.yaml
	printf 'version: 1\ntasks:\n  a: {prompt: hi, worker: shell}\n' > prompt-shell.yaml
	printf 'version: 1\nrouting: [{match: x}]\ntasks: {a: x}\n' > rule-half.yaml
	invalid no-version.yaml version-2.yaml no-tasks.yaml no-command.yaml \
		empty-command.yaml shell-command.yaml null-worker.yaml null-task.yaml \
		nothing.yaml empty-run.yaml blank-run.yaml prompt-shell.yaml rule-half.yaml
}
