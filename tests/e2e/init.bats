#!/usr/bin/env bats
# squad init: a starter Squadfile from what a folder holds, that always loads.
bats_require_minimum_version 1.5.0
load helpers

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	export SQUAD_CACHE=off XDG_CACHE_HOME=$BATS_TEST_TMPDIR/.xdg-cache # see helpers.bash
	export NO_COLOR=1
	# npm never reaches a registry here: the projects have no dependencies
	export npm_config_registry=http://127.0.0.1:9/ npm_config_audit=false \
		npm_config_fund=false npm_config_update_notifier=false
}

# pytest_python: a python3 that imports pytest (Debian's python3-pytest,
# .ci/packages), by its path
pytest_python() {
	local py found
	for py in python3 /usr/bin/python3; do
		found=$(command -v "$py") || continue
		if "$found" -c 'import pytest' 2>/dev/null; then
			realpath "$found"
			return 0
		fi
	done
	echo "no python3 here imports pytest: install python3-pytest (.ci/packages)" >&2
	return 1
}

# tools_bin DIR TOOL...: DIR holding links to each TOOL, a PATH of only those
tools_bin() {
	local dir=$1 tool
	shift
	mkdir -p "$dir"
	for tool in "$@"; do
		ln -s "$(type -P "$tool")" "$dir/$tool"
	done
}

# comments: the opening comment of ./Squadfile as one line (init wraps it)
comments() {
	sed -n 's/^# *//p' Squadfile | tr '\n' ' '
}

# tasks_named WORD: the lines of ./Squadfile outside comments that hold WORD
tasks_named() {
	grep -v '^ *#' Squadfile | grep -c -- "$1" || true
}

# loads: the Squadfile here passes 'squad list' and 'squad -n', without a warning
loads() {
	run --separate-stderr "$SQUAD" list
	[ "$status" -eq 0 ] || { echo "list: $status: $stderr" >&2; cat Squadfile >&2; return 1; }
	[ -z "$stderr" ] || { echo "list warned: $stderr" >&2; return 1; }
	run --separate-stderr "$SQUAD" -n
	[ "$status" -eq 0 ] || { echo "-n: $status: $stderr" >&2; return 1; }
}

@test "init: a node project gets an install task, a task per script after it, and a default grouping the checks" {
	mkdir src test
	cat > package.json <<'J'
{ "name": "app", "scripts": { "build": "tsc -p .", "test": "jest", "lint": "eslint src",
  "start": "node dist/index.js", "pretest": "npm run build" },
  "devDependencies": { "jest": "29" } }
J
	printf '{\n  // comments, as tsc allows\n  "compilerOptions": { "outDir": "./built/" }\n}\n' > tsconfig.json
	run "$SQUAD" init
	[ "$status" -eq 0 ]
	[[ $output == *"package.json: "* ]]
	[[ $output == *"start"* ]] # left out, and said so
	[[ $output == *"task build writes built (from tsconfig.json)"* ]]
	loads
	run "$SQUAD" list
	[[ $output == *"install "* && $output == *"build "* && $output == *"test "* && $output == *"lint "* ]]
	[[ $output == *"check "*"(default)"*"needs: test, lint"* ]]
	[[ $output != *"start "* && $output != *pretest* ]]
	run "$SQUAD" -n
	[[ $output == *"npm install"* ]]
	[[ $output == *"npm run test"* && $output == *"npm run lint"* ]]
	[[ $output != *"npm run build"* ]]
	# the install: package.json in, node_modules out (it lists a dependency)
	grep -A4 '^  install:' Squadfile | grep -qF 'inputs: ["package.json"]'
	grep -A4 '^  install:' Squadfile | grep -qF 'outputs: ["node_modules"]'
	[ "$(grep -c 'needs: \[install\]' Squadfile)" = 3 ]
	# a build reads the code, not the tests, and writes what tsconfig.json says
	grep -A6 '^  build:' Squadfile | grep -qF 'inputs: ["src/**", "package.json", "tsconfig.json", "!**/*.test.*",'
	grep -A7 '^  build:' Squadfile | grep -qF 'outputs: ["built"]'
	grep -A6 '^  test:' Squadfile | grep -qF '"src/**", "test/**", "package.json"'
}

@test "init: a node package with scripts, shape 2 of issue 22: npm ci, a build with outputs, and squad passes" {
	mkdir src test
	cat > package.json <<'J'
{ "name": "shape", "version": "1.0.0", "main": "dist/index.js",
  "scripts": { "build": "node build.js", "test": "node --test test/", "lint": "node --check src/index.js" } }
J
	printf "const fs = require('node:fs');\nfs.mkdirSync('dist', { recursive: true });\nfs.copyFileSync('src/index.js', 'dist/index.js');\n" > build.js
	printf 'module.exports = (a, b) => a + b;\n' > src/index.js
	printf "const { test } = require('node:test');\nconst assert = require('node:assert');\nconst add = require('../src/index.js');\ntest('adds', () => assert.strictEqual(add(1, 2), 3));\n" > src/index.test.js
	cp src/index.test.js test/add.test.js
	printf '{ "name": "shape", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": { "": { "name": "shape", "version": "1.0.0" } } }\n' > package-lock.json
	run --separate-stderr "$SQUAD" init
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[[ $output == *"after task install (npm ci)"* ]]
	[[ $output == *"task build writes dist (from package.json's main)"* ]]
	grep -A4 '^  install:' Squadfile | grep -qF 'inputs: ["package.json", "package-lock.json"]'
	# no dependency listed: npm makes no node_modules, so it is no output
	[ "$(grep -A4 '^  install:' Squadfile | grep -c outputs)" = 0 ]
	grep -A7 '^  build:' Squadfile | grep -qF 'outputs: ["dist"]'
	loads
	run "$SQUAD" build test lint
	[ "$status" -eq 0 ]
	[[ $output == *"pass 1"* ]]
	[ -f dist/index.js ]
	# a change to a test file is not a change to the build
	echo '// more' >> src/index.test.js
	run "$SQUAD" build
	[ "$status" -eq 0 ]
	[[ $output == *"up to date build ("* ]]
	# nor is it up to date once what it writes is gone
	rm -r dist
	run "$SQUAD" build
	[ "$status" -eq 0 ]
	[[ $output == *"ok build ("* ]]
	[ -f dist/index.js ]
	run "$SQUAD"
	[ "$status" -eq 0 ]
}

@test "init: without npm on PATH a node project's scripts are left out, with how to add them" {
	tools_bin bin sh echo
	printf '{ "name": "app", "scripts": { "test": "node --test", "lint": "eslint ." } }\n' > package.json
	run --separate-stderr env PATH="$PWD/bin" "$SQUAD" init
	[ "$status" -eq 0 ]
	[[ $stderr == *"squad: left out: the package.json scripts (test, lint): npm is not on PATH; install it"* ]]
	[[ $stderr == *"'test: { run: npm run test }'"* ]]
	[ "$(tasks_named npm)" = 0 ]
	[[ $(comments) == *"left out: the package.json scripts (test, lint): npm is not on PATH"* ]]
	run env PATH="$PWD/bin" "$SQUAD"
	[ "$status" -eq 0 ]
}

@test "init: a pyproject with pytest and no linter, shape 1 of issue 22: pytest with expect, and squad passes" {
	py=$(pytest_python)
	tools_bin bin sh
	ln -s "$py" bin/python3
	mkdir -p proj/tests proj/calc
	cd proj
	printf '[project]\nname = "calc"\nversion = "0.1"\n\n[tool.pytest.ini_options]\ntestpaths = ["tests"]\n' > pyproject.toml
	printf 'def add(a, b):\n    return a + b\n' > calc/__init__.py
	printf 'from calc import add\n\ndef test_add():\n    assert add(1, 2) == 3\n' > tests/test_add.py
	run --separate-stderr env PATH="$BATS_TEST_TMPDIR/bin" "$SQUAD" init
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[[ $output == *"pytest (task test), from [tool.pytest] in pyproject.toml"* ]]
	grep -qF "run: python3 -m pytest -q" Squadfile
	grep -qF "expect: '(\\d+ passed)'" Squadfile
	[ "$(tasks_named lint)" = 0 ]
	run env PATH="$BATS_TEST_TMPDIR/bin" "$SQUAD"
	[ "$status" -eq 0 ]
	[[ $output == *"test  ok"*"1 passed"* ]]
}

@test "init: on this machine's own PATH, the pyproject's Squadfile passes whatever python3 has" {
	mkdir tests
	printf '[project]\nname = "x"\n\n[tool.pytest.ini_options]\n' > pyproject.toml
	printf 'def test_one():\n    assert True\n' > tests/test_one.py
	run --separate-stderr "$SQUAD" init
	[ "$status" -eq 0 ]
	if python3 -c 'import pytest' 2>/dev/null; then
		grep -qF "run: python3 -m pytest -q" Squadfile
	else
		[[ $stderr == *"left out: a pytest task: python3 on PATH, "*", cannot import pytest"* ]]
	fi
	run "$SQUAD"
	[ "$status" -eq 0 ]
}

# no_pytest_python DIR: a venv in DIR of a python3 that has pytest, so
# that only the venv's own sys.path lacks it
no_pytest_python() {
	"$(pytest_python)" -m venv --without-pip "$1"
	! "$1/bin/python3" -c 'import pytest' 2>/dev/null || return 1
}

@test "init: python3 on PATH cannot import pytest: unittest-style tests run with unittest, and it says why" {
	no_pytest_python venv
	tools_bin bin sh echo
	mkdir -p proj/tests
	cd proj
	printf '[project]\nname = "x"\n\n[tool.pytest.ini_options]\n' > pyproject.toml
	printf 'import unittest\n\nclass T(unittest.TestCase):\n    def test_a(self):\n        self.assertEqual(1 + 1, 2)\n\n    def test_b(self):\n        pass\n' > tests/test_two.py
	P=$BATS_TEST_TMPDIR/venv/bin:$BATS_TEST_TMPDIR/bin
	run --separate-stderr env PATH="$P" "$SQUAD" init
	[ "$status" -eq 0 ]
	[[ $stderr == "squad: left out: a pytest task: python3 on PATH, $BATS_TEST_TMPDIR/venv/bin/python3, cannot import pytest, so the tests run with unittest; to run them with pytest, install it (python3 -m pip install pytest)"* ]]
	[[ $output == *"Python: unittest (task test)"* ]]
	[[ $(comments) == *"left out: a pytest task: python3 on PATH, $BATS_TEST_TMPDIR/venv/bin/python3, cannot import pytest, so the tests run with unittest"* ]]
	grep -qF 'run: python3 -m unittest discover -s tests' Squadfile
	[ "$(tasks_named 'pytest -q')" = 0 ]
	run env PATH="$P" "$SQUAD"
	[ "$status" -eq 0 ]
	[[ $output == *"test  ok"*"Ran 2 tests"* ]]
}

@test "init: python3 on PATH cannot import pytest and the tests need it: no test task, the reason and how to add it" {
	no_pytest_python venv
	tools_bin bin sh echo
	mkdir -p proj/tests
	cd proj
	printf '[project]\nname = "x"\n\n[tool.pytest.ini_options]\n' > pyproject.toml
	printf 'def test_one():\n    assert True\n' > tests/test_one.py
	P=$BATS_TEST_TMPDIR/venv/bin:$BATS_TEST_TMPDIR/bin
	run --separate-stderr env PATH="$P" "$SQUAD" init
	[ "$status" -eq 0 ]
	[[ $stderr == "squad: left out: a pytest task: python3 on PATH, $BATS_TEST_TMPDIR/venv/bin/python3, cannot import pytest; install it (python3 -m pip install pytest) and add a task 'test' with run 'python3 -m pytest -q'"* ]]
	[[ $output == *"no task that would pass here: wrote an example to edit"* ]]
	[[ $(comments) == *"cannot import pytest; install it (python3 -m pip install pytest) and add a task 'test' with run 'python3 -m pytest -q' and expect '(\d+ passed)'"* ]]
	[ "$(tasks_named pytest)" = 0 ]
	loads
	run env PATH="$P" "$SQUAD"
	[ "$status" -eq 0 ]
	[[ $output == *"hello from squad"* ]]
}

@test "init: flake8 is configured but python3 cannot import it: no lint task, and why" {
	no_pytest_python venv
	tools_bin bin sh
	mkdir proj
	cd proj
	printf '[flake8]\nmax-line-length = 100\n' > .flake8
	printf 'x = 1\n' > a.py
	run --separate-stderr env PATH="$BATS_TEST_TMPDIR/venv/bin:$BATS_TEST_TMPDIR/bin" "$SQUAD" init
	[ "$status" -eq 0 ]
	[[ $stderr == *"left out: a flake8 lint task: flake8 is configured here but python3 on PATH, $BATS_TEST_TMPDIR/venv/bin/python3 cannot import it"* ]]
	[ "$(tasks_named flake8)" = 0 ]
}

@test "init: a python project gets pytest with expect, and ruff when ruff is on PATH" {
	py=$(pytest_python)
	tools_bin bin sh
	ln -s "$py" bin/python3
	# ruff is not on this machine: a stand-in that passes, for the task's shape only
	printf '#!/bin/sh\necho "All checks passed!"\n' > bin/ruff
	chmod +x bin/ruff
	mkdir -p proj/tests
	cd proj
	printf '[project]\nname = "x"\n[tool.ruff]\nline-length = 100\n' > pyproject.toml
	printf 'def test_one():\n    assert True\n' > tests/test_one.py
	P=$BATS_TEST_TMPDIR/bin
	run --separate-stderr env PATH="$P" "$SQUAD" init
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[[ $output == *"pytest"* && $output == *"ruff"* ]]
	loads
	[ "$(tasks_named 'run: python3 -m pytest -q')" = 1 ]
	[ "$(tasks_named "expect: '(\\\\d+ passed)'")" = 1 ]
	[ "$(tasks_named 'run: ruff check .')" = 1 ]
	run env PATH="$P" "$SQUAD"
	[ "$status" -eq 0 ]
}

@test "init: a Makefile project, shape 3 of issue 22: its plain targets, run for real, and no outputs said so" {
	printf '.PHONY: all test lint clean\nall:\n\t@echo built\ntest: all\n\t@echo tested\nlint:\n\t@echo linted\nclean:\n\t@echo cleaned\n%%.o: %%.c\n\tcc -c $<\n' > Makefile
	run "$SQUAD" init
	[ "$status" -eq 0 ]
	[[ $output == *"left out: clean"* ]]
	[[ $output == *"Makefile: no inputs or outputs: task all runs make each time"* ]]
	loads
	run "$SQUAD" list
	[[ $output == *"test "*"needs: all"* ]]
	[[ $output != *clean* ]]
	run "$SQUAD"
	[ "$status" -eq 0 ]
	[[ $output == *built* && $output == *tested* && $output == *linted* ]]
	[[ $output != *cleaned* ]]
}

@test "init: without make on PATH a Makefile's targets are left out, with how to add them" {
	tools_bin bin sh echo
	printf '.PHONY: all test\nall:\n\t@echo built\ntest:\n\t@echo tested\n' > Makefile
	run --separate-stderr env PATH="$PWD/bin" "$SQUAD" init
	[ "$status" -eq 0 ]
	[[ $stderr == *"squad: left out: the Makefile's targets (all, test): make is not on PATH; install it (apt-get install make), then add a task per target, such as 'all: { run: make all }'"* ]]
	[ "$(tasks_named 'make ')" = 0 ]
	run env PATH="$PWD/bin" "$SQUAD"
	[ "$status" -eq 0 ]
}

@test "init: cargo and go projects, each only with its tool on PATH" {
	mkdir rust go bin
	# stand-ins: the tasks are listed here, not run (cargo runs for real below)
	for tool in cargo go; do printf '#!/bin/sh\nexit 0\n' > bin/$tool; chmod +x bin/$tool; done
	printf '[package]\nname = "x"\nversion = "0.1.0"\n' > rust/Cargo.toml
	printf 'module example.com/m\n' > go/go.mod
	PATH=$PWD/bin:$PATH run "$SQUAD" -C rust init
	[ "$status" -eq 0 ]
	[ -f rust/Squadfile ]
	PATH=$PWD/bin:$PATH run "$SQUAD" -C go init
	[ "$status" -eq 0 ]
	cd rust
	loads
	run "$SQUAD" -n
	[[ $output == *"cargo test"* ]]
	grep -qF '"!**/tests/**"' Squadfile
	cd ../go
	loads
	run "$SQUAD" -n
	[[ $output == *"go test ./..."* ]]
	grep -A5 '^  build:' Squadfile | grep -qF '"!**/*_test.go"'
	[ "$(grep -c outputs Squadfile)" = 0 ]
	cd ..
	mkdir nogo
	printf 'module example.com/m\n' > nogo/go.mod
	run --separate-stderr env PATH=/nonexistent "$SQUAD" -C nogo init
	[ "$status" -eq 0 ]
	[[ $stderr == *"left out: the go.mod tasks (go build ./..., go test ./...): go is not on PATH"* ]]
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

@test "init: a go module's test gets an expect that go's real summary matches, and squad passes" {
	command -v go >/dev/null || skip "no go on this machine"
	export GOCACHE=$BATS_TEST_TMPDIR/gocache GOPATH=$BATS_TEST_TMPDIR/gopath GOFLAGS=-mod=mod
	mkdir -p proj/sub
	cd proj
	printf 'module example.com/m\n\ngo 1.19\n' > go.mod
	printf 'package m\n\nfunc Add(a, b int) int { return a + b }\n' > m.go
	printf 'package m\n\nimport "testing"\n\nfunc TestAdd(t *testing.T) {\n\tif Add(1, 2) != 3 {\n\t\tt.Fatal("1 + 2")\n\t}\n}\n' > m_test.go
	printf 'package sub\n\nfunc X() {}\n' > sub/x.go
	run "$SQUAD" init
	[ "$status" -eq 0 ]
	grep -qF "expect: '^(ok\\s+\\S+)'" Squadfile
	run "$SQUAD" build test
	[ "$status" -eq 0 ]
	[[ $output == *"test   ok"*"ok  "*"example.com/m"* ]]
	# a test file is not the build's: changing one leaves it up to date
	echo '// more' >> m_test.go
	run "$SQUAD" build
	[ "$status" -eq 0 ]
	[[ $output == *"up to date build ("* ]]
	# and a failing test fails the task
	sed -i 's/Add(1, 2) != 3/Add(1, 2) != 4/' m_test.go
	run "$SQUAD" test
	[ "$status" -eq 1 ]
}
