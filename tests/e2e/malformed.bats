#!/usr/bin/env bats
# Malformed Squadfiles: each of tests/malformed/*.yaml is refused with
# exit 2 and "FILE:LINE:COL: error: ..." as its first line says, and
# without a crash. Also inputs too big, too deep or too many for a
# hand-written corpus, made at test time.
#
#   SQUAD=build/squad bats tests/e2e/malformed.bats

bats_require_minimum_version 1.5.0
load helpers

CORPUS=$SQUAD_SRC/tests/malformed

# refused FILE LINE:COL SUBSTRING: squad refuses FILE with that error.
# Prints what is wrong and returns 1 otherwise.
refused() {
	local file=$1 at=$2 want=$3 out status line found=

	status=0
	out=$(timeout 60 "$SQUAD" -f "$file" list 2>&1 >/dev/null) || status=$?
	if [[ $out == *AddressSanitizer* || $out == *"runtime error:"* || $out == *LeakSanitizer* ]]; then
		printf '%s: sanitizer report:\n%s\n' "$file" "$out"
		return 1
	fi
	case $status in
	2) ;;
	124) printf '%s: still running after 60 s\n' "$file"; return 1 ;;
	134 | 139) printf '%s: crashed (status %s):\n%s\n' "$file" "$status" "$out"; return 1 ;;
	*) printf '%s: status %s, not 2:\n%s\n' "$file" "$status" "$out"; return 1 ;;
	esac
	while IFS= read -r line; do
		if [[ $line == "$file:$at: error: "* && $line == *"$want"* ]]; then
			found=1
			break
		fi
	done <<< "$out"
	if [ -z "$found" ]; then
		printf '%s: no "%s: error: ...%s..." in:\n%s\n' "$file" "$at" "$want" "$out"
		return 1
	fi
}

@test "the corpus has an expectation in every file, and enough files" {
	local file n=0

	for file in "$CORPUS"/*.yaml; do
		head -n 1 "$file" | grep -Eq '^# expect: [0-9]+:[0-9]+: .+' ||
			{ echo "$file: no '# expect: LINE:COL: message' first line"; return 1; }
		n=$((n + 1))
	done
	[ "$n" -ge 35 ]
}

@test "every malformed Squadfile is refused at its line and column" {
	local file expect at want failed=0

	for file in "$CORPUS"/*.yaml; do
		expect=$(head -n 1 "$file")
		expect=${expect#'# expect: '}
		at=${expect%%: *}
		want=${expect#*: }
		refused "$file" "$at" "$want" || failed=$((failed + 1))
	done
	[ "$failed" -eq 0 ]
}

@test "a truly empty file and one of blanks are refused at 1:1" {
	: > empty.yaml
	refused "$PWD/empty.yaml" 1:1 "the Squadfile is empty"
	printf '\n\n   \n' > blank.yaml
	refused "$PWD/blank.yaml" 1:1 "the Squadfile is empty"
}

@test "a relative path is the name in the message" {
	printf 'version: 1\ntasks:\n  build:\n    neds: x\n' > Squadfile
	run --separate-stderr "$SQUAD" list
	[ "$status" -eq 2 ]
	[[ $stderr == *"Squadfile:4:5: error: unknown key 'neds' in task 'build'; did you mean 'needs'?"* ]]
	[ -z "$output" ]
}

@test "a problem in a node that aliases repeat is said once" {
	squadfile <<'Y'
version: 1
tasks:
  a: { run: "true", env: &e { "bad name": x, OK: y } }
  b: { run: "true", env: *e }
  c: { run: "true", env: *e }
Y
	run --separate-stderr "$SQUAD" -n
	[ "$status" -eq 2 ]
	[ "$stderr" = "Squadfile:3:31: error: 'bad name' in env is not a variable name (letters, digits, '_')" ]
}

@test "inputs and outputs that leave the task's folder: every one, in every task, at once" {
	squadfile <<'Y'
version: 1
default: build
tasks:
  build: { run: "true", inputs: [src/a.c, ../up] }
  lint:
    run: "true"
    inputs: /etc/passwd
    outputs: [ok, "x/../../y", "!/tmp/z"]
Y
	run --separate-stderr "$SQUAD" -n
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 4 ]
	[[ ${stderr_lines[0]} == "Squadfile:4:43: error: inputs: pattern '../up': '..' is not allowed; "* ]]
	[[ ${stderr_lines[1]} == "Squadfile:7:13: error: inputs: pattern '/etc/passwd': absolute patterns are not allowed; "* ]]
	[[ ${stderr_lines[2]} == "Squadfile:8:19: error: outputs: pattern 'x/../../y': '..' is not allowed; "* ]]
	[[ ${stderr_lines[3]} == "Squadfile:8:32: error: outputs: pattern '!/tmp/z': absolute patterns are not allowed; "* ]]
	# nothing ran, nothing was written
	[ ! -e .squad ]
}

@test "a missing file is a usage error that names it" {
	run --separate-stderr "$SQUAD" -f no/such/Squadfile list
	[ "$status" -eq 2 ]
	[[ $stderr == "no/such/Squadfile: error: cannot open: No such file or directory"* ]]
}

@test "a 40 MB file is refused for its size, without reading it into a tree" {
	{
		printf 'version: 1\ntasks:\n  build: make\n'
		# 40 * 2^20 bytes of comment lines: valid YAML, just far too much
		yes '# padding padding padding padding padding padding padding padding' |
			head -c $((40 << 20))
	} > big.yaml
	[ "$(stat -c %s big.yaml)" -gt $((40 << 20)) ]
	run --separate-stderr timeout 60 "$SQUAD" -f big.yaml list
	[ "$status" -eq 2 ]
	[[ $stderr == "big.yaml: error: the file is "*" bytes, more than a Squadfile may have (32 MiB)"* ]]
	[[ $stderr != *AddressSanitizer* ]]
}

@test "a 10,000-task chain loads and -n prints it in order" {
	awk 'BEGIN {
		print "version: 1"; print "default: t9999"; print "tasks:"
		print "  t0: \"true\""
		for (i = 1; i < 10000; i++) {
			print "  t" i ":"; print "    needs: t" i - 1; print "    run: \"true\""
		}
	}' > chain.yaml
	run --separate-stderr timeout 60 "$SQUAD" -f chain.yaml -n
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	# the tasks, then the limits line
	[ "${#lines[@]}" -eq 10001 ]
	[[ ${lines[10000]} == "limits: -j "* ]]
	[[ ${lines[0]} == *" t0 "* ]]
	[[ ${lines[9999]} == *" t9999 "* ]]
	# dependencies first: t$i is on line i + 1
	[[ ${lines[5000]} == *" t5000 "* ]]
}

@test "a 10,000-task chain closed into a cycle is one error" {
	awk 'BEGIN {
		print "version: 1"; print "tasks:"
		print "  t0:"; print "    needs: t9999"; print "    run: \"true\""
		for (i = 1; i < 10000; i++) {
			print "  t" i ":"; print "    needs: t" i - 1; print "    run: \"true\""
		}
	}' > cycle.yaml
	run --separate-stderr timeout 60 "$SQUAD" -f cycle.yaml list
	[ "$status" -eq 2 ]
	[ "$(grep -c 'error: cycle: ' <<< "$stderr")" -eq 1 ]
	# found from t0, which needs the end of the chain
	[[ $stderr == *"error: cycle: t0 -> t9999 -> t9998 -> "*" -> t2 -> t1 -> t0"* ]]
}

@test "a 100,000-task file loads" {
	awk 'BEGIN {
		print "version: 1"; print "tasks:"
		for (i = 0; i < 100000; i++) {
			print "  t" i ":"; print "    run: echo " i
			if (i) print "    needs: [t" int(i / 2) "]"
		}
	}' > many.yaml
	run --separate-stderr timeout 120 "$SQUAD" -f many.yaml list
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${#lines[@]}" -eq 100000 ]
}

@test "1,000,000 nested brackets are refused at once" {
	{
		printf 'version: 1\ntasks:\n  build:\n    run: make\n    desc: '
		head -c 1000000 /dev/zero | tr '\0' '['
		head -c 1000000 /dev/zero | tr '\0' ']'
		echo
	} > deep.yaml
	refused "$PWD/deep.yaml" 5:72 "nested more than 64 levels deep"
}
