#!/usr/bin/env bats
# Inputs that once made a fuzz harness fail (tests/fuzz/regressions/
# HARNESS/), fed through the squad binary, so that they stay tested
# without clang: each must give an ordinary exit status and no sanitizer
# report. (tests/fuzz/run.sh replays them through the harnesses too.)
#
#   SQUAD=build/squad bats tests/e2e/fuzz_regressions.bats

bats_require_minimum_version 1.5.0
load helpers

REGRESSIONS=${SQUAD_FUZZ_REGRESSIONS:-$SQUAD_SRC/tests/fuzz/regressions}

# inputs HARNESS: the regression inputs of HARNESS, one per line
inputs() {
	find "$REGRESSIONS/$1" -type f ! -name '.*' 2>/dev/null | sort
}

# sane WHAT ALLOWED... -- CMD...: run CMD (60 s at most); fail, saying
# what was fed, on a sanitizer report, a crash, a hang or a status
# outside ALLOWED.
sane() {
	local what=$1 out status=0 allowed=" "
	shift
	while [ "$1" != -- ]; do
		allowed+="$1 "
		shift
	done
	shift
	out=$(timeout 60 "$@" 2>&1) || status=$?
	if [[ $out == *AddressSanitizer* || $out == *LeakSanitizer* ||
		$out == *"runtime error:"* ]]; then
		printf '%s: sanitizer report from %s:\n%s\n' "$what" "$*" "$out"
		return 1
	fi
	if [[ $allowed != *" $status "* ]]; then
		printf '%s: status %s (allowed:%s) from %s:\n%s\n' "$what" "$status" \
			"$allowed" "$*" "$out"
		return 1
	fi
}

# part FILE N: the Nth NUL-separated part of FILE (after its first byte
# when SKIP=1), as the harnesses cut it; fails when there is no such part.
part() {
	local file=$1 n=$2 i=0 p
	while IFS= read -r -d '' p; do
		if [ $i -eq "$n" ]; then
			printf '%s' "$p"
			return 0
		fi
		i=$((i + 1))
	done < <(tail -c +$((1 + ${SKIP:-0})) "$file"; printf '\0')
	return 1
}

# crc32 FILE: CRC-32 (IEEE) of FILE in 8 hex digits, from gzip's trailer
crc32() {
	gzip -c <"$1" | tail -c 8 | head -c 4 | od -An -tx4 | tr -d ' \n'
}

@test "fuzz_squadfile inputs: list, graph and a dry run read them without a crash" {
	local f
	for f in $(inputs fuzz_squadfile); do
		sane "$f" 0 2 -- "$SQUAD" -f "$f" list
		sane "$f" 0 2 -- "$SQUAD" -f "$f" graph
		sane "$f" 0 2 3 -- "$SQUAD" -f "$f" -n
	done
}

# A Squadfile from a fuzz_expand input: a worker whose command is `echo`
# and the argv template, with the template as its prompt_template and an
# env value, and as a task's prompt; the input's vars (those with valid
# names) as vars. Only echo ever runs, whatever the template says.
@test "fuzz_expand inputs: a run of their template, argv and vars through echo" {
	local f line name tmpl
	for f in $(inputs fuzz_expand); do
		rm -rf x && mkdir x
		tmpl=$(SKIP=0 part "$f" 1 | jq -Rs .) || tmpl='""'
		{
			echo "version: 1"
			echo "vars:"
			echo "  SQUAD_FUZZ_EMPTY: ''"
			while IFS= read -r line || [ -n "$line" ]; do
				name=${line%%=*}
				[[ $line == *=* && $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
				printf '  %s: %s\n' "$name" "$(printf '%s' "${line#*=}" | jq -Rs .)"
			done < <(SKIP=0 part "$f" 3)
			echo "workers:"
			echo "  w:"
			printf '    prompt_template: %s\n' "$tmpl"
			printf '    env: { SQUAD_FUZZ_T: %s }\n' "$tmpl"
			echo "    command:"
			echo "      - echo"
			while IFS= read -r line || [ -n "$line" ]; do
				printf '      - %s\n' "$(printf '%s' "$line" | jq -Rs .)"
			done < <(SKIP=0 part "$f" 2)
			echo "tasks:"
			printf '  p: { worker: w, prompt: %s }\n' "$tmpl"
			echo "  r: { worker: w, run: x }"
		} > x/Squadfile
		sane "$f" 0 1 2 -- "$SQUAD" -f x/Squadfile list
		sane "$f" 0 1 2 -- "$SQUAD" -f x/Squadfile -k -q p r
	done
}

# The input as the stdout of a qwen-json worker, which squad then reads
# (and counts the requests it reports against a budget).
@test "fuzz_qwen_json inputs: squad reads them as an agent's output" {
	local f
	export XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	for f in $(inputs fuzz_qwen_json); do
		cat > Squadfile <<Y
version: 1
workers:
  fake:
    command: [cat, "$f"]
    output: qwen-json
    daily_limit: 1000000
tasks:
  ask: { worker: fake, prompt: "say hi" }
Y
		sane "$f" 0 1 -- "$SQUAD" -q ask
	done
}

# The input cut as fuzz_state cuts it: flags, task, note, manifest,
# journal; the journal's lines get their CRC when flag 1 is set. Then
# what reads .squad: explain, handoff (text, JSON), done, and a run.
@test "fuzz_state inputs: explain, handoff, done and a run read their .squad" {
	local f flags task note skip line crc
	for f in $(inputs fuzz_state); do
		rm -rf x && mkdir -p x/.squad
		printf 'version: 1\ndefault: review\ntasks:\n  a: { run: "true" }\n  review: { skills: [r], needs: [a] }\n' \
			> x/Squadfile
		flags=$(head -c 1 "$f" | od -An -tu1 | tr -d ' ')
		task=$(SKIP=1 part "$f" 0) || task=
		note=$(SKIP=1 part "$f" 1) || note=
		if SKIP=1 part "$f" 2 > x/.squad/handoff.json && ((!(flags & 4))); then
			:
		else
			rm -f x/.squad/handoff.json
		fi
		# the journal: the rest of the file after the third NUL
		skip=$((1 + $(SKIP=1 part "$f" 0 | wc -c) + 1 + $(SKIP=1 part "$f" 1 | wc -c) + 1 +
			$(SKIP=1 part "$f" 2 | wc -c) + 1))
		tail -c +$((skip + 1)) "$f" > journal.raw
		if ((flags & 1)); then
			: > x/.squad/state
			while IFS= read -r line || [ -n "$line" ]; do
				if [[ $line != '#'* ]]; then
					printf '%s' "$line" > line.raw
					crc=$(crc32 line.raw)
					printf '%s %s\n' "$crc" "$line" >> x/.squad/state
				else
					printf '%s\n' "$line" >> x/.squad/state
				fi
			done < journal.raw
		else
			cp journal.raw x/.squad/state
		fi
		(
			cd x || exit 1
			sane "$f" 0 2 -- "$SQUAD" explain a
			sane "$f" 0 1 -- "$SQUAD" handoff
			sane "$f" 0 1 -- "$SQUAD" handoff --json
			if [ -n "$task" ] && [[ $task != -* ]]; then
				if ((flags & 8)); then
					sane "$f" 0 1 2 -- "$SQUAD" done "$task"
				else
					sane "$f" 0 1 2 -- "$SQUAD" done "$task" --note "$note"
				fi
			fi
			sane "$f" 0 1 3 -- "$SQUAD" -q
		) || return 1
	done
}

# Patterns as a task's inputs, paths as files of a git repository.
@test "fuzz_glob inputs: a task's inputs over their paths" {
	local f line base
	for f in $(inputs fuzz_glob); do
		rm -rf x && mkdir x
		git -C x init -q
		while IFS= read -r line || [ -n "$line" ]; do
			[[ -n $line && $line != /* && $line != *..* && $line != *//* ]] || continue
			mkdir -p "x/$(dirname "$line")" 2>/dev/null && : > "x/$line" 2>/dev/null || true
		done < <(SKIP=0 part "$f" 1)
		git -C x add -A >/dev/null 2>&1 || true
		base=$(SKIP=0 part "$f" 2) || base=
		{
			echo "version: 1"
			echo "tasks:"
			echo "  t:"
			echo "    run: \"true\""
			[[ -n $base ]] && printf '    dir: %s\n' "$(printf '%s' "$base" | jq -Rs .)"
			echo "    inputs:"
			while IFS= read -r line || [ -n "$line" ]; do
				printf '      - %s\n' "$(printf '%s' "$line" | jq -Rs .)"
			done < <(SKIP=0 part "$f" 0)
		} > x/Squadfile
		sane "$f" 0 2 -- "$SQUAD" -f x/Squadfile explain t
		sane "$f" 0 1 2 -- "$SQUAD" -f x/Squadfile -q t
	done
}

@test "fuzz_gitstamp inputs: a run in a repository reads them as .squad/git" {
	local f runs
	git init -q x && mkdir x/src && echo 'int a;' >x/src/a.c
	printf 'version: 1\ndefault: t\ntasks:\n  t: { run: "true", inputs: [src/*.c] }\n' >x/Squadfile
	git -C x add -A && git -C x -c user.email=t@t -c user.name=t commit -qm init
	sane first 0 -- "$SQUAD" -C x -q
	for f in $(inputs fuzz_gitstamp); do
		{ printf 'squad-git 1\n'; cat "$f"; } >x/.squad/git
		echo "int a; /* $f */" >x/src/a.c
		runs=$(grep -c '"task":"t"' x/.squad/state)
		sane "$f" 0 -- "$SQUAD" -C x -q
		# a stamp it cannot believe costs a libgit2 walk, not the
		# answer: the changed input was seen, and t ran again
		[ "$(grep -c '"task":"t"' x/.squad/state)" -eq $((runs + 1)) ]
	done
}
