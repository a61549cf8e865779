#!/usr/bin/env bats
# squad init: a starter Squadfile from what a folder holds, that always loads.
bats_require_minimum_version 1.5.0
load helpers

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	export SQUAD_CACHE=off XDG_CACHE_HOME=$BATS_TEST_TMPDIR/.xdg-cache # see helpers.bash
	export NO_COLOR=1
	# until main.c runs 'squad init', tests/unit/test_init.c covers init_squadfile()
	"$SQUAD" --help | grep -q 'squad init' ||
		skip "'squad init' is not wired into main.c yet (see tests/unit/test_init.c)"
}

# loads: the Squadfile here passes 'squad list' and 'squad -n', without a warning
loads() {
	run --separate-stderr "$SQUAD" list
	[ "$status" -eq 0 ] || { echo "list: $status: $stderr" >&2; cat Squadfile >&2; return 1; }
	[ -z "$stderr" ] || { echo "list warned: $stderr" >&2; return 1; }
	run --separate-stderr "$SQUAD" -n
	[ "$status" -eq 0 ] || { echo "-n: $status: $stderr" >&2; return 1; }
}

@test "init: a node project gets a task per script and a default grouping the checks" {
	mkdir src
	cat > package.json <<'J'
{ "name": "app", "scripts": { "build": "tsc -p .", "test": "jest", "lint": "eslint src",
  "start": "node dist/index.js", "pretest": "npm run build" } }
J
	run "$SQUAD" init
	[ "$status" -eq 0 ]
	[[ $output == *"package.json: "* ]]
	[[ $output == *"start"* ]] # left out, and said so
	loads
	run "$SQUAD" list
	[[ $output == *"build "* && $output == *"test "* && $output == *"lint "* ]]
	[[ $output == *"check "*"(default)"*"needs: test, lint"* ]]
	[[ $output != *"start "* && $output != *pretest* ]]
	run "$SQUAD" -n
	[[ $output == *"npm run test"* && $output == *"npm run lint"* ]]
	[[ $output != *"npm run build"* ]]
	grep -q '"src/\*\*", "package.json"' Squadfile
}

@test "init: a python project gets pytest with expect, and ruff" {
	mkdir tests
	printf '[project]\nname = "x"\n[tool.ruff]\nline-length = 100\n' > pyproject.toml
	printf 'def test_one():\n    assert True\n' > tests/test_one.py
	run "$SQUAD" init
	[ "$status" -eq 0 ]
	[[ $output == *"pytest"* && $output == *"ruff"* ]]
	loads
	grep -qF "run: python3 -m pytest -q" Squadfile
	grep -qF "expect: '(\\d+ passed)'" Squadfile
	grep -qF "run: ruff check ." Squadfile
}

@test "init: a Makefile's plain targets, run for real" {
	printf '.PHONY: all test lint clean\nall:\n\t@echo built\ntest: all\n\t@echo tested\nlint:\n\t@echo linted\nclean:\n\t@echo cleaned\n%%.o: %%.c\n\tcc -c $<\n' > Makefile
	run "$SQUAD" init
	[ "$status" -eq 0 ]
	[[ $output == *"left out: clean"* ]]
	loads
	run "$SQUAD" list
	[[ $output == *"test "*"needs: all"* ]]
	[[ $output != *clean* ]]
	command -v make >/dev/null || skip "no make to run the tasks with"
	run "$SQUAD"
	[ "$status" -eq 0 ]
	[[ $output == *built* && $output == *tested* && $output == *linted* ]]
	[[ $output != *cleaned* ]]
}

@test "init: cargo and go projects" {
	mkdir rust go
	printf '[package]\nname = "x"\nversion = "0.1.0"\n' > rust/Cargo.toml
	printf 'module example.com/m\n' > go/go.mod
	run "$SQUAD" -C rust init
	[ "$status" -eq 0 ]
	[ -f rust/Squadfile ]
	run "$SQUAD" -C go init
	[ "$status" -eq 0 ]
	cd rust
	loads
	run "$SQUAD" -n
	[[ $output == *"cargo test"* ]]
	cd ../go
	loads
	run "$SQUAD" -n
	[[ $output == *"go test ./..."* ]]
}

@test "init: an empty folder gets an example that runs" {
	run "$SQUAD" init
	[ "$status" -eq 0 ]
	loads
	grep -q '^  # review:' Squadfile # the commented skill example
	run "$SQUAD"
	[ "$status" -eq 0 ]
	[[ $output == *"hello from squad"* ]]
}

@test "init: skills under .claude/skills appear in a commented example" {
	mkdir -p .claude/skills/api-review
	printf -- '---\nname: api-review\n---\n' > .claude/skills/api-review/SKILL.md
	printf 'module m\n' > go.mod
	run "$SQUAD" init
	[ "$status" -eq 0 ]
	[[ $output == *"api-review"* ]]
	grep -q '#   skills: \[api-review\]' Squadfile
	loads
}

@test "init: an existing Squadfile is never replaced" {
	printf 'version: 1\ntasks:\n  mine: "true"\n' > Squadfile
	cp Squadfile before
	printf 'module m\n' > go.mod
	run "$SQUAD" init
	[ "$status" -ne 0 ]
	[[ $output == *"already exists"* ]]
	cmp Squadfile before
	[ "$(ls -A | sort | tr '\n' ' ')" = "Squadfile before go.mod " ]
}

@test "init leaves out a ruff task when ruff is not on PATH, says so on stderr, and what it wrote passes" {
	mkdir bin
	for tool in sh make cat echo; do ln -s "$(command -v $tool)" bin/$tool; done
	printf '[project]\nname = "x"\n\n[tool.ruff]\nline-length = 100\n' > pyproject.toml
	printf 'all:\n\techo built > out.txt\n' > Makefile
	run --separate-stderr env PATH="$PWD/bin" "$SQUAD" init
	[ "$status" -eq 0 ]
	[[ $stderr == *"squad: left out: a ruff lint task: ruff is configured here but not on PATH; install it"* ]]
	[[ $output != *"left out"* ]]
	# named in a comment (how to add it), never as a task
	grep -q '^#.*ruff check' Squadfile
	[ "$(grep -v '^ *#' Squadfile | grep -c 'ruff')" = 0 ]
	run env PATH="$PWD/bin" "$SQUAD"
	[ "$status" -eq 0 ]
	[ "$(cat out.txt)" = built ]
}

@test "init: a node --test script gets an expect that node's real summary matches, and squad passes" {
	mkdir test
	printf '{ "name": "app", "scripts": { "test": "node --test test/" } }\n' > package.json
	printf "const { test } = require('node:test');\ntest('one', () => {});\n" > test/a.test.js
	run "$SQUAD" init
	[ "$status" -eq 0 ]
	grep -qF "expect: '^(?:# |ℹ )(pass \\d+)'" Squadfile
	run "$SQUAD"
	[ "$status" -eq 0 ]
	[[ $output == *"pass 1"* ]]
}

@test "init: a cargo project's test gets an expect that cargo's real summary matches, and squad passes" {
	command -v cargo >/dev/null || skip "no cargo on this machine"
	mkdir src
	printf '[package]\nname = "x"\nversion = "0.1.0"\nedition = "2021"\n' > Cargo.toml
	printf 'fn main() {}\n#[test]\nfn one() {}\n' > src/main.rs
	run "$SQUAD" init
	[ "$status" -eq 0 ]
	grep -qF "expect: '^(test result: ok\\. \\d+ passed)'" Squadfile
	run "$SQUAD"
	[ "$status" -eq 0 ]
	[[ $output == *"test result: ok. 1 passed"* ]]
}
