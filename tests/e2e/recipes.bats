#!/usr/bin/env bats
# recipes/: every ready-made Squadfile loads, and the CI files say what they must.
bats_require_minimum_version 1.5.0
load helpers

RECIPES=(python node fullstack precommit ollama agents)

@test "every recipe Squadfile loads: list and -n exit 0, without an error" {
	local r
	for r in "${RECIPES[@]}"; do
		run --separate-stderr "$SQUAD" -f "$SQUAD_SRC/recipes/$r/Squadfile" list
		[ "$status" -eq 0 ] || { echo "$r: list: $stderr" >&2; return 1; }
		[[ $stderr != *error* ]]
		run --separate-stderr "$SQUAD" -f "$SQUAD_SRC/recipes/$r/Squadfile" -n
		[ "$status" -eq 0 ] || { echo "$r: -n: $stderr" >&2; return 1; }
		[[ $stderr != *error* ]]
	done
}

@test "every recipe Squadfile is listed in recipes/README.md, and is tested here" {
	local f r
	for f in "$SQUAD_SRC"/recipes/*/Squadfile; do
		r=$(basename "$(dirname "$f")")
		grep -qF "($r/Squadfile)" "$SQUAD_SRC/recipes/README.md"
		[[ " ${RECIPES[*]} " == *" $r "* ]] || { echo "not tested: $r" >&2; return 1; }
	done
	grep -qF "(github-actions/squad.yml)" "$SQUAD_SRC/recipes/README.md"
	grep -qF "(gitlab-ci/.gitlab-ci.yml)" "$SQUAD_SRC/recipes/README.md"
}

@test "the recipes say what they promise" {
	cd "$SQUAD_SRC/recipes"
	# fullstack: explorations on qwen feed a skill-tagged review
	run "$SQUAD" -f fullstack/Squadfile -n
	[[ $output == *"explore-endpoints  qwen"* ]]
	[[ $output == *"review "*"hand-off (skills: security-review)"* ]]
	run "$SQUAD" -f fullstack/Squadfile list
	[[ $output == *"review "*"needs: "*"explore-endpoints"*"skills: security-review"* ]]
	# precommit: the target the hook runs, and tasks with inputs
	run "$SQUAD" -f precommit/Squadfile list
	[[ $output == *"precommit "*"(default)"* ]]
	grep -q 'inputs:' precommit/Squadfile
	# ollama: a qwen worker pointed at the local server
	grep -qF 'OPENAI_BASE_URL: "${OLLAMA_URL:-http://localhost:11434/v1}"' ollama/Squadfile
	grep -qF 'OPENAI_API_KEY:' ollama/Squadfile
	grep -qF 'OPENAI_MODEL:' ollama/Squadfile
	grep -qF -- '--auth-type, openai' ollama/Squadfile
	run "$SQUAD" -f ollama/Squadfile -n
	[[ $output == *"explore-todos "*"qwen"* ]]
}

@test "the CI recipes are YAML that runs squad with --junit and keeps the report" {
	grep -qF -- '--junit squad-junit.xml' "$SQUAD_SRC/recipes/github-actions/squad.yml"
	grep -qF 'actions/upload-artifact' "$SQUAD_SRC/recipes/github-actions/squad.yml"
	grep -qF -- '--junit squad-junit.xml' "$SQUAD_SRC/recipes/gitlab-ci/.gitlab-ci.yml"
	python3 -c 'import yaml' 2>/dev/null || skip "no python3 yaml module to parse them"
	python3 - "$SQUAD_SRC/recipes" <<'P'
import sys, yaml
root = sys.argv[1]
gh = yaml.safe_load(open(root + "/github-actions/squad.yml"))
steps = gh["jobs"]["squad"]["steps"]
assert any("--junit" in s.get("run", "") for s in steps), "no squad --junit step"
upload = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact")]
assert upload and "squad-junit.xml" in upload[0]["with"]["path"], "the report is not uploaded"
assert upload[0]["if"] == "always()"
gl = yaml.safe_load(open(root + "/gitlab-ci/.gitlab-ci.yml"))
job = gl["squad"]
assert any("--junit" in line for line in job["script"])
assert job["artifacts"]["reports"]["junit"] == "squad-junit.xml"
assert job["artifacts"]["when"] == "always"
assert job["allow_failure"]["exit_codes"] == [3]
P
}
