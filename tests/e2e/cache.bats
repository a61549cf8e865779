#!/usr/bin/env bats
# The shared result cache (issue 21): the real Turborepo Remote Cache
# server (npm turborepo-remote-cache, installed into the build tree by
# tests/cache/install.sh), started by each test that uses it on
# 127.0.0.1 with local storage in the test's folder, and stopped by it;
# two clones of one repository in different folders; canary files (one
# line per real run of a task, outside both clones) prove what ran. The
# agent case runs the real qwen CLI against the scripted model server
# (tests/qwen/mock-server.js), which counts requests. The folder
# backends (the local folder, a shared one) need no server.
bats_require_minimum_version 1.5.0
load helpers

TURBO_DIR=${SQUAD_BUILD:-$SQUAD_SRC/build}/test-tools/turbo-cache
QWEN_DIR=${SQUAD_BUILD:-$SQUAD_SRC/build}/test-tools/qwen
TOKEN=tok-9f3c1e-never-shown
SIGN=sign-5b7d20-never-shown

setup_file() {
	TURBO_BIN=$("$SQUAD_SRC/tests/cache/install.sh" "$TURBO_DIR" | tail -1)
	export TURBO_BIN
}

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	export NO_COLOR=1
	[ -x "$TURBO_BIN" ] || { echo "turborepo-remote-cache could not be installed from npm" >&2; return 1; }
	unset SQUAD_CACHE SQUAD_CACHE_URL SQUAD_CACHE_TOKEN SQUAD_CACHE_TEAM SQUAD_CACHE_WRITE \
		SQUAD_CACHE_SIGNING_KEY SQUAD_CACHE_DIR SQUAD_CACHE_MAX_SIZE
	export CANARY=$BATS_TEST_TMPDIR/canary
	mkdir -p "$CANARY"
	export XDG_CACHE_HOME=$BATS_TEST_TMPDIR/.xdg-cache
	export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=t \
		GIT_COMMITTER_EMAIL=t@example.com
}

teardown() {
	end_leftovers
}

# start_cache [nosign]: the real server on 127.0.0.1, its storage under
# ./srv-tmp/store; sets CACHE_URL. Its pid is in cache.pid (for
# end_leftovers and for the tests that stop it). It keeps and returns
# x-artifact-tag only when it has a signature key (and then answers 404
# for an artifact without one); `nosign` starts it without.
start_cache() {
	local sign=(TURBO_REMOTE_CACHE_SIGNATURE_KEY=$SIGN)
	[ "${1:-}" != nosign ] || sign=()
	mkdir -p "$BATS_TEST_TMPDIR/srv-tmp"
	env TMPDIR="$BATS_TEST_TMPDIR/srv-tmp" PORT=0 HOST=127.0.0.1 TURBO_TOKEN=$TOKEN \
		STORAGE_PROVIDER=local STORAGE_PATH=store LOG_LEVEL=info \
		"${sign[@]}" "$TURBO_BIN" > "$BATS_TEST_TMPDIR/cache-server.log" 2>&1 &
	echo $! > "$BATS_TEST_TMPDIR/cache.pid"
	local i
	for ((i = 0; i < 400; i++)); do
		CACHE_URL=$(grep -o 'listening at http://127.0.0.1:[0-9]*' "$BATS_TEST_TMPDIR/cache-server.log" |
			head -1 | sed 's/listening at //')
		[ -n "$CACHE_URL" ] && return 0
		sleep 0.05
	done
	cat "$BATS_TEST_TMPDIR/cache-server.log" >&2
	return 1
}

stop_cache() {
	local pid
	pid=$(cat "$BATS_TEST_TMPDIR/cache.pid")
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}

# the settings a clone uses for the server (write or not is the caller's)
use_server() {
	export SQUAD_CACHE_URL=$CACHE_URL SQUAD_CACHE_TOKEN=$TOKEN SQUAD_CACHE_TEAM=team1 \
		SQUAD_CACHE_SIGNING_KEY=$SIGN
}

# make_repo: ./origin, a repository whose tasks write outputs of every
# kind (a binary file, an executable, a symlink, a nested folder) and a
# canary line each time they really run; then clones ./one and ./two.
# ${CANARY} stays as written in the cache key: it differs between the
# clones' machines in real life, and the key must not see it.
make_repo() {
	mkdir origin
	cd origin
	git init -q
	mkdir src
	printf 'lib source\n' > src/lib.c
	printf 'gen source\n' > src/gen.txt
	printf 'test source\n' > src/test.c
	cat > Squadfile <<'Y'
version: 1
default: all
tasks:
  gen:
    run: |
      echo generating; echo gen >> ${CANARY}/gen
      mkdir -p out/deep/er
      head -c 3000 /dev/urandom > out/blob.bin
      printf '#!/bin/sh\necho hi\n' > out/tool.sh; chmod 750 out/tool.sh
      printf 'deep\n' > out/deep/er/file.txt
      ln -sf deep/er/file.txt out/link
    inputs: [src/gen.txt]
    outputs: [out/]
  lib:
    run: echo building lib; echo lib >> ${CANARY}/lib; cat src/lib.c > lib.o; head -c 500 /dev/urandom >> lib.o
    inputs: [src/lib.c]
    outputs: [lib.o]
  test:
    needs: [lib]
    run: echo testing; echo test >> ${CANARY}/test; cat src/test.c > report.txt
    inputs: [src/test.c]
    outputs: [report.txt]
  all:
    needs: [gen, test]
Y
	git add -A
	git commit -qm init
	cd ..
	git clone -q origin one
	git clone -q origin two
}

# runs NAME: how many times task NAME really ran
runs() {
	if [ -e "$CANARY/$1" ]; then wc -l < "$CANARY/$1"; else echo 0; fi
}

# same_outputs: the clones' outputs are the same bytes, modes and links
same_outputs() {
	diff -r --no-dereference one/out two/out
	cmp one/lib.o two/lib.o
	cmp one/report.txt two/report.txt
	[ "$(stat -c %a one/out/tool.sh)" = "$(stat -c %a two/out/tool.sh)" ]
	[ "$(stat -c %a two/out/tool.sh)" = 750 ]
	[ -L two/out/link ]
	[ "$(readlink two/out/link)" = deep/er/file.txt ]
}

@test "a run with write in one clone makes every task a remote hit in another: nothing runs, outputs byte for byte" {
	start_cache
	make_repo
	use_server
	(cd one && XDG_CACHE_HOME=$BATS_TEST_TMPDIR/cache-one SQUAD_CACHE_WRITE=1 "$SQUAD") > one.out
	[ "$(runs gen)" = 1 ]
	[ "$(runs lib)" = 1 ]
	[ "$(runs test)" = 1 ]
	cd two
	run --separate-stderr env XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache-two" "$SQUAD" --json
	[ "$status" -eq 0 ]
	[[ $stderr != *warning* ]]
	[[ $stderr == *"cached (remote) gen"* ]]
	cd ..
	[ "$(runs gen)" = 1 ]
	[ "$(runs lib)" = 1 ]
	[ "$(runs test)" = 1 ]
	[ "$(jq -r 'select(.event == "finish" and .task == "gen") | .cached' <<< "$output")" = remote ]
	[ "$(jq -r 'select(.event == "finish" and .task == "lib") | .cached' <<< "$output")" = remote ]
	[ "$(jq -r 'select(.event == "finish" and .task == "test") | .cached' <<< "$output")" = remote ]
	[ "$(jq -r 'select(.event == "finish" and .task == "test") | .status' <<< "$output")" = ok ]
	[ "$(jq -r 'select(.event == "finish" and .task == "lib") | .summary' <<< "$output")" = "building lib" ]
	# every event, the hits' included, follows the events' schema
	printf '%s\n' "$output" > events.ndjson
	mkdir ev
	split -l1 -d -a3 --additional-suffix=.json events.ndjson ev/e
	local f
	for f in ev/*.json; do
		validate_json "$SQUAD_SRC/grammar/events.schema.json" "$f"
	done
	same_outputs
	# the log is replayed: the human report shows it under the hit
	cd two
	rm -rf .squad out lib.o report.txt
	run env XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache-three" "$SQUAD"
	[ "$status" -eq 0 ]
	[[ $output == *"cached (remote) lib"* ]]
	[[ $output == *"building lib"* ]]
	[[ $output == *"4 ok (3 from the cache)"* ]]
	grep -qx 'building lib' .squad/logs/lib.log
	# and recorded: the next run finds them up to date, asking nothing
	run env XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache-three" SQUAD_CACHE_URL=http://127.0.0.1:9 "$SQUAD"
	[ "$status" -eq 0 ]
	[[ $output == *"3 up to date"* ]]
	[[ $output != *warning* ]]
	# the server held the artifacts, under the team
	[ -n "$(ls "$BATS_TEST_TMPDIR"/srv-tmp/store/team1)" ]
	stop_cache
	# a remote hit is kept in the local folder too (as turborepo does):
	# with the server gone, state and outputs lost, it is a local hit
	rm -rf .squad out lib.o report.txt
	run --separate-stderr env XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache-three" "$SQUAD"
	[ "$status" -eq 0 ]
	[[ $output == *"cached (local) lib"* ]]
	[[ $output == *"4 ok (3 from the cache)"* ]]
	cd ..
	[ "$(runs lib)" = 1 ]
	cmp one/lib.o two/lib.o
}

# many_tasks N: ./origin with N independent tasks t1..tN (each an output
# of its own and a canary line when it really runs) and `all` over
# them; then clones ./one and ./two
many_tasks() {
	local i
	mkdir origin
	cd origin
	git init -q
	{
		printf 'version: 1\ndefault: all\ntasks:\n'
		for ((i = 1; i <= $1; i++)); do
			printf '  t%d:\n    run: echo t%d >> ${CANARY}/t; echo %d > o%d.txt\n' "$i" "$i" "$i" "$i"
			printf '    inputs: [in.txt]\n    outputs: [o%d.txt]\n' "$i"
		done
		printf '  all:\n    needs: ['
		for ((i = 1; i <= $1; i++)); do printf 't%d%s' "$i" "$([ "$i" -lt "$1" ] && echo ', ')"; done
		printf ']\n'
	} > Squadfile
	echo in > in.txt
	git add -A
	git commit -qm init
	cd ..
	git clone -q origin one
	git clone -q origin two
}

# served METHOD: how many requests of METHOD the server's log has had
# for /v8/artifacts since the line `from` (1-based)
served() {
	tail -n +"$from" "$BATS_TEST_TMPDIR/cache-server.log" |
		jq -r 'select(.message == "incoming request") | .req.method + " " + .req.url' |
		grep -c "^$1 /v8/artifacts" || true
}

@test "lookups in bulk: one query, then every artifact fetched at once over kept-open connections; HEAD before PUT" {
	start_cache
	many_tasks 24
	use_server
	(cd one && XDG_CACHE_HOME=$BATS_TEST_TMPDIR/cache-one SQUAD_CACHE_WRITE=1 "$SQUAD") > one.out
	[ "$(wc -l < "$CANARY/t")" -eq 24 ]
	from=$(($(wc -l < cache-server.log) + 1))
	cd two
	run --separate-stderr env XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache-two" "$SQUAD"
	[ "$status" -eq 0 ]
	cd ..
	[[ $output == *"25 ok (24 from the cache)"* ]]
	[ "$(wc -l < "$CANARY/t")" -eq 24 ]
	cmp one/o17.txt two/o17.txt
	# the batch query first: this server has none (404), so a GET each
	# (its 404 would say what it does not have), and nothing else
	[ "$(served POST)" -eq 1 ]
	[ "$(served HEAD)" -eq 0 ]
	[ "$(served GET)" -eq 24 ]
	# on a few connections kept open, not one a request
	ports=$(tail -n +"$from" cache-server.log |
		jq -r 'select(.message == "incoming request") | .req.remotePort' | sort -u | wc -l)
	[ "$ports" -le 17 ]
	# a run that stores what the server has already uploads no artifact
	# again (a HEAD says it is there): only each task's latest manifest
	from=$(($(wc -l < cache-server.log) + 1))
	cd two
	run env XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache-two" SQUAD_CACHE_WRITE=1 "$SQUAD" -B
	[ "$status" -eq 0 ]
	cd ..
	[ "$(wc -l < "$CANARY/t")" -eq 48 ]
	[ "$(served PUT)" -eq 24 ]
	[ "$(served HEAD)" -eq 24 ]
	stop_cache
}

@test "a server with the batch query (POST /v8/artifacts): one request says which it has, no HEAD" {
	start_cache
	many_tasks 6
	node "$SQUAD_SRC/tests/cache/batch-proxy.js" --upstream "$CACHE_URL" --port-file proxy.port \
		--log proxy.log > proxy.out 2>&1 &
	echo $! > proxy.pid
	wait_for proxy.port
	use_server
	(cd one && XDG_CACHE_HOME=$BATS_TEST_TMPDIR/cache-one SQUAD_CACHE_WRITE=1 "$SQUAD") > one.out
	# squad asks the proxy, which adds the batch query to the server
	export SQUAD_CACHE_URL=http://127.0.0.1:$(cat proxy.port)
	cd two
	run --separate-stderr env XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache-two" "$SQUAD"
	[ "$status" -eq 0 ]
	cd ..
	[[ $output == *"7 ok (6 from the cache)"* ]]
	[ "$(wc -l < "$CANARY/t")" -eq 6 ]
	[ "$(grep -c '^POST /v8/artifacts$' proxy.log)" -eq 1 ]
	[ "$(grep -c '^HEAD ' proxy.log || true)" -eq 0 ]
	[ "$(grep -c '^GET /v8/artifacts/' proxy.log)" -eq 6 ]
	# what it does not have is not asked for
	echo changed > two/in.txt
	: > proxy.log
	cd two
	run --separate-stderr env XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache-two" "$SQUAD"
	[ "$status" -eq 0 ]
	cd ..
	[ "$(wc -l < "$CANARY/t")" -eq 12 ]
	[ "$(grep -c '^POST /v8/artifacts$' proxy.log)" -eq 1 ]
	[ "$(grep -c '^GET ' proxy.log || true)" -eq 0 ]
	stop_cache
}

@test "without write, the shared cache is only read: nothing is uploaded" {
	start_cache
	make_repo
	use_server
	(cd one && XDG_CACHE_HOME=$BATS_TEST_TMPDIR/cache-one "$SQUAD") > one.out
	[ -z "$(ls srv-tmp/store/team1 2>/dev/null)" ]
	cd two
	run env XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache-two" "$SQUAD"
	[ "$status" -eq 0 ]
	[[ $output != *cached* ]]
	cd ..
	[ "$(runs lib)" = 2 ]
	stop_cache
}

@test "one changed input re-runs exactly the tasks behind it; explain says which input, against the cached entry" {
	start_cache
	make_repo
	use_server
	(cd one && XDG_CACHE_HOME=$BATS_TEST_TMPDIR/cache-one SQUAD_CACHE_WRITE=1 "$SQUAD") > one.out
	cd two
	printf 'lib source, changed\n' > src/lib.c
	run env XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache-two" "$SQUAD" explain lib
	[ "$status" -eq 0 ]
	[[ $output == *"cache: miss"*"against the latest cached entry"* ]]
	[[ $output == *"input src/lib.c: changed"* ]]
	[[ $output != *"input src/test.c"* ]]
	run env XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache-two" "$SQUAD" explain test
	[[ $output == *"need lib: its key differs"* ]]
	[[ $output != *"input src/"* ]]
	run env XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache-two" "$SQUAD" explain gen
	[[ $output == *"cache: hit (remote)"* ]]
	run --separate-stderr env XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache-two" "$SQUAD" --json
	[ "$status" -eq 0 ]
	cd ..
	[ "$(runs gen)" = 1 ]
	[ "$(runs lib)" = 2 ]
	[ "$(runs test)" = 2 ]
	[ "$(jq -r 'select(.event == "finish" and .task == "gen") | .cached' <<< "$output")" = remote ]
	[ "$(jq -r 'select(.event == "finish" and .task == "lib") | .cached' <<< "$output")" = null ]
	[ "$(jq -r 'select(.event == "finish" and .task == "test") | .cached' <<< "$output")" = null ]
	stop_cache
}

@test "a tampered artifact is refused, said once, and the task runs" {
	start_cache
	make_repo
	use_server
	(cd one && XDG_CACHE_HOME=$BATS_TEST_TMPDIR/cache-one SQUAD_CACHE_WRITE=1 "$SQUAD" lib) > one.out
	# every artifact the server holds gets one byte changed; the tags stay
	local f
	for f in srv-tmp/store/team1/*; do
		[[ $f == *.tag ]] && continue
		printf 'X' | dd of="$f" bs=1 seek=40 conv=notrunc status=none
	done
	cd two
	run --separate-stderr env XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache-two" "$SQUAD" lib
	[ "$status" -eq 0 ]
	[[ $output == *"ok lib"* ]]
	[[ $output != *cached* ]]
	[ "$(grep -c "entry of task 'lib' is not signed with the signing key (tampered with?): refused; the task runs" <<< "$stderr")" = 1 ]
	[[ $stderr != *"$SIGN"* ]]
	[[ $stderr != *"$TOKEN"* ]]
	cd ..
	[ "$(runs lib)" = 2 ]
	stop_cache
}

@test "an unsigned artifact is refused when a signing key is set" {
	# a server without a signature key keeps no tags: what it returns is
	# unsigned, whatever the writer sent
	start_cache nosign
	make_repo
	use_server
	(cd one && XDG_CACHE_HOME=$BATS_TEST_TMPDIR/cache-one SQUAD_CACHE_WRITE=1 "$SQUAD" lib) > one.out
	[ -n "$(ls srv-tmp/store/team1)" ]
	cd two
	run --separate-stderr env XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache-two" "$SQUAD" lib
	[ "$status" -eq 0 ]
	[ "$(grep -c "entry of task 'lib' is not signed: refused; the task runs" <<< "$stderr")" = 1 ]
	cd ..
	[ "$(runs lib)" = 2 ]
	# without a signing key, the same artifact is taken
	cd two
	rm -rf .squad lib.o
	run env XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache-three" SQUAD_CACHE_SIGNING_KEY= "$SQUAD" lib
	[ "$status" -eq 0 ]
	[[ $output == *"cached (remote) lib"* ]]
	cd ..
	[ "$(runs lib)" = 2 ]
	stop_cache
}

@test "a shared folder: a tag that does not match is refused, a missing one too" {
	make_repo
	export SQUAD_CACHE_SIGNING_KEY=$SIGN SQUAD_CACHE_URL=$BATS_TEST_TMPDIR/shared
	(cd one && XDG_CACHE_HOME=$BATS_TEST_TMPDIR/cache-one SQUAD_CACHE_WRITE=1 "$SQUAD" lib) > one.out
	[ -n "$(ls shared/v1/*.tag)" ]
	local f
	for f in shared/v1/*.tag; do
		printf 'AAAA%s' "$(cut -c5- "$f")" > "$f.new"
		mv "$f.new" "$f"
	done
	cd two
	run --separate-stderr env XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache-two" "$SQUAD" lib
	[ "$status" -eq 0 ]
	[ "$(grep -c "entry of task 'lib' is not signed with the signing key (tampered with?): refused" <<< "$stderr")" = 1 ]
	cd ..
	rm shared/v1/*.tag
	cd two
	rm -rf .squad
	run --separate-stderr env XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache-three" "$SQUAD" lib
	[ "$(grep -c "entry of task 'lib' is not signed: refused" <<< "$stderr")" = 1 ]
	cd ..
	[ "$(runs lib)" = 3 ]
}

@test "the server stopped mid-run changes nothing but time: said once, the tasks run, the same outputs" {
	start_cache
	make_repo
	# a task with no inputs (never cached) stops the server when told to
	# by the environment (the key does not see $STOP_PID's value), after
	# the lookups (every remote hit of the plan is fetched at the first
	# one) and before `fresh`, which is in no cache, is stored
	for c in one two; do
		cat >> $c/Squadfile <<'Y'
  stopper:
    needs: [gen, test]
    run: echo stopper; if [ -n "$STOP_PID" ]; then kill $STOP_PID; while kill -0 $STOP_PID 2>/dev/null; do sleep 0.05; done; fi
  late:
    needs: [stopper, lib]
    run: echo late; echo late >> ${CANARY}/late; cat lib.o > late.o
    inputs: [src/test.c]
    outputs: [late.o]
Y
	done
	cat >> two/Squadfile <<'Y'
  fresh:
    needs: [stopper]
    run: echo fresh; echo fresh >> ${CANARY}/fresh; echo fresh > fresh.o
    inputs: [src/lib.c]
    outputs: [fresh.o]
Y
	use_server
	(cd one && XDG_CACHE_HOME=$BATS_TEST_TMPDIR/cache-one SQUAD_CACHE_WRITE=1 "$SQUAD" -j1 all late) > one.out
	[ "$(runs late)" = 1 ]
	cd two
	run --separate-stderr env XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache-two" STOP_PID="$(cat ../cache.pid)" \
		SQUAD_CACHE_WRITE=1 "$SQUAD" -j1 all late fresh
	[ "$status" -eq 0 ]
	cd ..
	run ! alive "$(cat cache.pid)"
	# gen, lib, test and late were fetched before the stop: hits; fresh
	# ran, and its upload met the stopped server
	[ "$(runs lib)" = 1 ]
	[ "$(runs late)" = 1 ]
	[ "$(runs fresh)" = 1 ]
	[ -s two/fresh.o ]
	[ "$(grep -c 'the run goes on without the shared cache' <<< "$stderr")" = 1 ]
	[[ $stderr == *"$CACHE_URL"* ]]
	[[ $stderr != *"$TOKEN"* ]]
	cmp one/late.o two/late.o
	same_outputs
}

@test "a server that is not there: said once, every task runs, the run succeeds" {
	make_repo
	cd two
	run --separate-stderr env XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache-two" SQUAD_CACHE_URL=http://127.0.0.1:9 \
		SQUAD_CACHE_TOKEN=$TOKEN SQUAD_CACHE_WRITE=1 "$SQUAD"
	[ "$status" -eq 0 ]
	[[ $output == *"4 ok"* ]]
	[ "$(grep -c 'squad: warning: cache: ' <<< "$stderr")" = 1 ]
	[[ $stderr == *"127.0.0.1:9"* ]]
	[[ $stderr != *"$TOKEN"* ]]
	[[ $output != *"$TOKEN"* ]]
	run grep -r "$TOKEN" .squad
	[ "$status" -eq 1 ]
}

@test "a server that never answers: each request bounded (SQUAD_CACHE_TIMEOUT), said once, the tasks run" {
	make_repo
	# accepts connections, never says a word
	node -e 'const fs = require("fs"), s = require("net").createServer(() => {});
		s.listen(0, "127.0.0.1", () => { fs.writeFileSync("silent.tmp", String(s.address().port));
		fs.renameSync("silent.tmp", "silent.port"); });' &
	echo $! > silent.pid
	wait_for silent.port
	cd two
	run --separate-stderr env XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache-two" \
		SQUAD_CACHE_URL="http://127.0.0.1:$(cat ../silent.port)" SQUAD_CACHE_TIMEOUT=1s "$SQUAD"
	[ "$status" -eq 0 ]
	[[ $output == *"4 ok"* ]]
	[ "$(grep -c 'squad: warning: cache: ' <<< "$stderr")" = 1 ]
	[[ $stderr == *"imed out"* ]]
	cd ..
	[ "$(runs lib)" = 1 ]
	run env SQUAD_CACHE_TIMEOUT=soon "$SQUAD" -C two
	[ "$status" -eq 2 ]
	[[ $output == *"SQUAD_CACHE_TIMEOUT must be a duration"* ]]
}

@test "a wrong token: said once without the token, the tasks run" {
	start_cache
	make_repo
	cd two
	run --separate-stderr env XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache-two" SQUAD_CACHE_URL="$CACHE_URL" \
		SQUAD_CACHE_TOKEN=wrong-token-4417 "$SQUAD"
	[ "$status" -eq 0 ]
	[ "$(grep -c 'squad: warning: cache: ' <<< "$stderr")" = 1 ]
	[[ $stderr == *401* ]]
	[[ $stderr != *wrong-token-4417* ]]
	cd ..
	stop_cache
}

@test "an agent task's answer is replayed from the cache with no model request" {
	QWEN_BIN=$("$SQUAD_SRC/tests/qwen/install.sh" "$QWEN_DIR" | tail -1)
	[ -x "$QWEN_BIN" ] || { echo "the qwen CLI could not be installed from npm" >&2; false; }
	export HOME=$BATS_TEST_TMPDIR/home TMPDIR=$BATS_TEST_TMPDIR/tmp NO_PROXY=127.0.0.1,localhost
	mkdir -p "$TMPDIR"
	"$SQUAD_SRC/tests/qwen/write-settings.sh" "$HOME"
	unset QWEN_HOME OPENAI_API_KEY OPENAI_BASE_URL OPENAI_MODEL HTTP_PROXY HTTPS_PROXY http_proxy https_proxy
	echo '{"rules": [{"match": "How many", "reply": "There are 42 uses of the validator."}]}' > script.json
	node "$SQUAD_SRC/tests/qwen/mock-server.js" --port-file port --script script.json \
		--log requests.log > model-server.out 2>&1 &
	echo $! > model.pid
	wait_for port
	export MOCK_URL=http://127.0.0.1:$(cat port)/v1
	start_cache
	mkdir origin
	cd origin
	git init -q
	echo 'the validator' > question.txt
	# the model server's URL comes from the environment: the key keeps
	# ${MOCK_URL} as written
	cat > Squadfile <<Y
version: 1
workers:
  qwen:
    command: ["$QWEN_BIN", --approval-mode, yolo, --auth-type, openai, -o, json, "{prompt}"]
    env: { OPENAI_BASE_URL: "\${MOCK_URL}", OPENAI_API_KEY: test, OPENAI_MODEL: mock }
    timeout: 90s
tasks:
  count:
    prompt: "How many validator uses are there?"
    inputs: [question.txt]
Y
	git add -A
	git commit -qm init
	cd ..
	git clone -q origin one
	git clone -q origin two
	use_server
	(cd one && XDG_CACHE_HOME=$BATS_TEST_TMPDIR/cache-one SQUAD_CACHE_WRITE=1 "$SQUAD" count) > one.out
	grep -q 'ok count' one.out
	requests=$(curl -s "http://127.0.0.1:$(cat port)/stats" | jq -r .requests)
	[ "$requests" -ge 1 ]
	cd two
	run --separate-stderr env XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache-two" "$SQUAD" --json count
	[ "$status" -eq 0 ]
	cd ..
	[ "$(curl -s "http://127.0.0.1:$(cat port)/stats" | jq -r .requests)" = "$requests" ]
	[ "$(jq -r 'select(.event == "finish") | .cached' <<< "$output")" = remote ]
	[ "$(jq -r 'select(.event == "finish") | .answer' <<< "$output")" = "There are 42 uses of the validator." ]
	grep -q '"answer":"There are 42 uses of the validator."' two/.squad/state
	grep -q "There are 42 uses" two/.squad/logs/count.log
	stop_cache
}

@test "an agent task's tool calls and usage come back with a hit, marked cached; the hit spends no budget" {
	QWEN_BIN=$("$SQUAD_SRC/tests/qwen/install.sh" "$QWEN_DIR" | tail -1)
	[ -x "$QWEN_BIN" ] || { echo "the qwen CLI could not be installed from npm" >&2; false; }
	export HOME=$BATS_TEST_TMPDIR/home TMPDIR=$BATS_TEST_TMPDIR/tmp NO_PROXY=127.0.0.1,localhost
	export XDG_STATE_HOME=$BATS_TEST_TMPDIR/state
	mkdir -p "$TMPDIR"
	"$SQUAD_SRC/tests/qwen/write-settings.sh" "$HOME"
	unset QWEN_HOME OPENAI_API_KEY OPENAI_BASE_URL OPENAI_MODEL HTTP_PROXY HTTPS_PROXY http_proxy https_proxy
	echo '{"rules": [{"match": "marker", "tool_call": "touch agent-was-here.txt", "then": "Created the marker."}]}' > script.json
	node "$SQUAD_SRC/tests/qwen/mock-server.js" --port-file port --script script.json \
		--log requests.log > model-server.out 2>&1 &
	echo $! > model.pid
	wait_for port
	export MOCK_URL=http://127.0.0.1:$(cat port)/v1
	start_cache
	mkdir origin
	cd origin
	git init -q
	echo 'the marker' > question.txt
	cat > Squadfile <<Y
version: 1
workers:
  qwen:
    command: ["$QWEN_BIN", --acp, --auth-type, openai]
    protocol: acp
    env: { OPENAI_BASE_URL: "\${MOCK_URL}", OPENAI_API_KEY: test, OPENAI_MODEL: mock }
    timeout: 90s
    daily_tokens: 1000000
tasks:
  act:
    prompt: "create the marker file"
    allow_commands: [touch]
    inputs: [question.txt]
    outputs: [agent-was-here.txt]
Y
	git add -A
	git commit -qm init
	cd ..
	git clone -q origin one
	git clone -q origin two
	use_server
	(cd one && XDG_CACHE_HOME=$BATS_TEST_TMPDIR/cache-one SQUAD_CACHE_WRITE=1 "$SQUAD" --json act) > one.json
	[ -e one/agent-was-here.txt ]
	[ "$(jq -r 'select(.event == "finish") | .cached' one.json)" = null ]
	jq -r 'select(.event == "finish") | .tools.calls[].target' one.json | grep -qx "touch agent-was-here.txt"
	[ "$(jq -r 'select(.event == "finish") | .usage.input_tokens' one.json)" -gt 0 ]
	requests=$(curl -s "http://127.0.0.1:$(cat port)/stats" | jq -r .requests)
	tokens=$(jq -r .qwen.tokens "$XDG_STATE_HOME/squad/budget.json")
	[ "$tokens" -gt 0 ]
	cd two
	run --separate-stderr env XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache-two" "$SQUAD" --json act
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" > ../two.json
	cd ..
	[ -e two/agent-was-here.txt ]
	# no model request, nothing charged to the day's budget
	[ "$(curl -s "http://127.0.0.1:$(cat port)/stats" | jq -r .requests)" = "$requests" ]
	[ "$(jq -r .qwen.tokens "$XDG_STATE_HOME/squad/budget.json")" = "$tokens" ]
	# the same tool calls and usage as the run that stored it, marked cached
	[ "$(jq -r 'select(.event == "finish") | .cached' two.json)" = remote ]
	[ "$(jq -c 'select(.event == "finish") | .tools' two.json)" = "$(jq -c 'select(.event == "finish") | .tools' one.json)" ]
	[ "$(jq -c 'select(.event == "finish") | .usage' two.json)" = "$(jq -c 'select(.event == "finish") | .usage' one.json)" ]
	# the summary counts it apart: nothing spent in this run
	[ "$(jq -c 'select(.event == "summary") | .usage' two.json)" = '{}' ]
	[ "$(jq -c 'select(.event == "summary") | .cached_usage.qwen' two.json)" = "$(jq -c 'select(.event == "summary") | .usage.qwen' one.json)" ]
	# and says so in words
	rm -rf two/.squad "$BATS_TEST_TMPDIR/cache-two"
	(cd two && XDG_CACHE_HOME=$BATS_TEST_TMPDIR/cache-two "$SQUAD" act) > two.out 2>&1
	grep -q 'qwen: .* (from the cache: used by the run that stored it, not spent now)' two.out
	[ "$(curl -s "http://127.0.0.1:$(cat port)/stats" | jq -r .requests)" = "$requests" ]
	stop_cache
}

# --- the folder backends --------------------------------------------

@test "the local folder (the default): outputs and log back after they are gone, cached (local)" {
	make_repo
	cd one
	"$SQUAD" > /dev/null
	rm -rf .squad out lib.o report.txt
	run "$SQUAD"
	[ "$status" -eq 0 ]
	[[ $output == *"cached (local) gen"* ]]
	[[ $output == *"generating"* ]]
	# prefixed output streams what runs; a hit's log is shown whole
	rm -rf .squad out lib.o report.txt
	run "$SQUAD" --output prefixed
	[[ $output == *"cached (local) gen"*"generating"* ]]
	cd ..
	[ "$(runs gen)" = 1 ]
	[ -L one/out/link ]
	[ "$(stat -c %a one/out/tool.sh)" = 750 ]
	# under XDG_CACHE_HOME/squad
	[ -n "$(ls "$XDG_CACHE_HOME"/squad/v1)" ]
}

@test "an isolated task that hands back a change is not cached: a hit would drop the change" {
	mkdir one two
	for d in one two; do
		(cd $d && git init -q && printf 'messy\n' > a.txt && cat > Squadfile <<'Y'
version: 1
default: fmt
tasks:
  fmt:
    isolate: worktree
    changes: apply
    run: echo fmt >> ${CANARY}/fmt; printf 'tidy\n' > a.txt
    inputs: [a.txt]
Y
		git add -A && git -c user.name=t -c user.email=t@example.com commit -qm init)
	done
	(cd one && "$SQUAD" > /dev/null)
	cd two
	run "$SQUAD" explain fmt
	[[ $output == *"cache: not cached (its result is a change to your tree"* ]]
	run "$SQUAD"
	[ "$status" -eq 0 ]
	[[ $output != *"cached ("* ]]
	[ "$(cat a.txt)" = tidy ]
	cd ..
	[ "$(runs fmt)" = 2 ]
}

@test "a failed task is not cached: a red test never turns green" {
	git init -q .
	echo x > in.txt
	squadfile <<'Y'
version: 1
tasks:
  red:
    run: echo red >> ${CANARY}/red; exit 1
    inputs: [in.txt]
Y
	run "$SQUAD" red
	[ "$status" -eq 1 ]
	rm -rf .squad
	run "$SQUAD" red
	[ "$status" -eq 1 ]
	[[ $output != *cached* ]]
	[ "$(runs red)" = 2 ]
}

@test "-B reads nothing from the cache; SQUAD_CACHE=off and cache: false turn it off" {
	make_repo
	cd one
	"$SQUAD" > /dev/null
	rm -rf .squad
	run "$SQUAD" -B
	[[ $output != *cached* ]]
	rm -rf .squad
	run env SQUAD_CACHE=off "$SQUAD"
	[[ $output != *cached* ]]
	rm -rf .squad
	printf 'cache: false\n' >> Squadfile
	run "$SQUAD"
	[[ $output != *cached* ]]
	cd ..
	[ "$(runs gen)" = 4 ]
}

@test "a shared folder as SQUAD_CACHE_URL: the second clone's hits are remote" {
	make_repo
	(cd one && XDG_CACHE_HOME=$BATS_TEST_TMPDIR/cache-one SQUAD_CACHE_URL=$BATS_TEST_TMPDIR/shared \
		SQUAD_CACHE_WRITE=1 "$SQUAD") > one.out
	[ -n "$(ls shared/v1)" ]
	cd two
	run env XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache-two" SQUAD_CACHE_URL=../shared "$SQUAD"
	[ "$status" -eq 0 ]
	[[ $output == *"cached (remote) gen"* ]]
	[[ $output == *"cached (remote) test"* ]]
	cd ..
	[ "$(runs test)" = 1 ]
	same_outputs
}

@test "the cache: key in the Squadfile, the environment winning" {
	make_repo
	cat >> one/Squadfile <<Y
cache:
  url: $BATS_TEST_TMPDIR/shared
  write: true
  dir: $BATS_TEST_TMPDIR/own-local
  max_size: 10MB
Y
	cp one/Squadfile two/Squadfile
	(cd one && "$SQUAD") > one.out
	[ -n "$(ls shared/v1)" ]
	[ -n "$(ls own-local/v1)" ]
	# SQUAD_CACHE_URL wins: an empty shared folder, nothing found
	cd two
	run env SQUAD_CACHE_DIR=off SQUAD_CACHE_URL="$BATS_TEST_TMPDIR/empty" "$SQUAD"
	[ "$status" -eq 0 ]
	[[ $output != *cached* ]]
	rm -rf .squad
	run env SQUAD_CACHE_DIR=off "$SQUAD"
	[[ $output == *"cached (remote) lib"* ]]
}

@test "a relative cache.url or cache.dir is the Squadfile's folder's, wherever squad runs from" {
	make_repo
	cat >> one/Squadfile <<'Y'
cache:
  url: ../shared-rel
  write: true
  dir: .local-cache
Y
	mkdir elsewhere
	cd elsewhere
	"$SQUAD" -f ../one/Squadfile > /dev/null
	cd ..
	[ -n "$(ls shared-rel/v1)" ]
	[ -n "$(ls one/.local-cache/v1)" ]
	[ ! -e elsewhere/.local-cache ]
}

@test "bad cache settings: FILE:LINE:COL in the Squadfile, and a bad SQUAD_CACHE_URL" {
	squadfile <<'Y'
version: 1
cache:
  max_size: lots
  token_env: "my token"
  colour: blue
tasks:
  a: { run: "true" }
Y
	run "$SQUAD" -n
	[ "$status" -eq 2 ]
	[[ $output == *"Squadfile:3:13: error: cache.max_size must be a size"* ]]
	[[ $output == *"Squadfile:4:14: error: cache.token_env must name an environment variable"* ]]
	[[ $output == *"Squadfile:5:3: error: unknown key 'colour' in cache"* ]]
	squadfile <<'Y'
version: 1
tasks:
  a: { run: "true", inputs: [Squadfile] }
Y
	run env SQUAD_CACHE_URL=ftp://example.org/x "$SQUAD" a
	[ "$status" -eq 2 ]
	[[ $output == *"SQUAD_CACHE_URL must be an http:// or https:// URL or a folder"* ]]
	run env SQUAD_CACHE_URL=https://someone:pass-71c2@cache.example.org "$SQUAD" a
	[ "$status" -eq 2 ]
	[[ $output == *"SQUAD_CACHE_URL must not carry a user or password"* ]]
	[[ $output != *pass-71c2* ]]
}

@test "a signing key named in the Squadfile but not set stops the run before anything runs" {
	squadfile <<'Y'
version: 1
cache:
  signing_key_env: PROJECT_SIGNING_KEY
tasks:
  a: { run: "echo a >> ${CANARY}/a", inputs: [Squadfile] }
Y
	run env -u PROJECT_SIGNING_KEY "$SQUAD" a
	[ "$status" -eq 2 ]
	[[ $output == *"cache.signing_key_env names PROJECT_SIGNING_KEY, which is not set"* ]]
	[ "$(runs a)" = 0 ]
}
