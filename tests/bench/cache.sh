#!/usr/bin/env bash
# tests/bench/cache.sh - what the result cache costs (issue 21).
#
# usage: tests/bench/cache.sh [--quick]
#
#   1 restore  N tasks (default 200), each with a 1 MB output, all remote
#              hits from the real turborepo-remote-cache server on
#              127.0.0.1 (tests/cache/install.sh): squad restoring them in
#              a fresh clone (local folder empty) against `curl --parallel`
#              downloading the same artifacts in one run, to /dev/null (the
#              goal's measure: <= 1.3x), and also to files (as squad, which
#              must write what it restores, does). Each repeated RUNS
#              times; medians.
#   2 noop     a no-op run (every task up to date) of the same N tasks with
#              the cache on (the default local folder) against
#              SQUAD_CACHE=off. Goal <= 1.1x.
#
# Environment: SQUAD=path (default build/squad), N=tasks, RUNS=hyperfine
# runs. Needs hyperfine, curl, git, node and npm (the server). Every server
# it starts is stopped on exit; the workload is deleted. Not part of the
# test suite.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SQUAD=${SQUAD:-$ROOT/build/squad}
N=${N:-200}
RUNS=${RUNS:-10}
if [ "${1:-}" = --quick ]; then
	N=40 RUNS=3
fi
SQUAD=$(realpath "$SQUAD")
W=$(mktemp -d "${TMPDIR:-/tmp}/squad-cache-bench.XXXXXX")
SERVER=

cleanup() {
	if [ -n "$SERVER" ]; then
		kill "$SERVER" 2>/dev/null || true
		wait "$SERVER" 2>/dev/null || true
	fi
	rm -rf "$W"
}
trap cleanup EXIT

TURBO_BIN=$("$ROOT/tests/cache/install.sh" "$ROOT/build/test-tools/turbo-cache" | tail -1)
TOKEN=bench-token
mkdir -p "$W/srv"
env TMPDIR="$W/srv" PORT=0 HOST=127.0.0.1 TURBO_TOKEN=$TOKEN STORAGE_PROVIDER=local \
	STORAGE_PATH=store LOG_LEVEL=info BODY_LIMIT=$((64 << 20)) "$TURBO_BIN" > "$W/server.log" 2>&1 &
SERVER=$!
URL=
for _ in $(seq 200); do
	URL=$(grep -o 'listening at http://127.0.0.1:[0-9]*' "$W/server.log" | head -1 | sed 's/listening at //') || true
	[ -n "$URL" ] && break
	sleep 0.05
done
[ -n "$URL" ] || { cat "$W/server.log" >&2; exit 1; }

# the workload: N tasks, each writing 1 MB of random bytes
mkdir -p "$W/origin/src"
cd "$W/origin"
git init -q
{
	echo "version: 1"
	echo "default: all"
	echo "tasks:"
	all=
	for i in $(seq "$N"); do
		echo "t$i" > "src/$i.txt"
		echo "  t$i: { run: 'mkdir -p out && head -c 1048576 /dev/urandom > out/$i.bin', inputs: [src/$i.txt], outputs: [out/$i.bin] }"
		all="$all t$i,"
	done
	echo "  all: { needs: [${all%,}] }"
} > Squadfile
git add -A
git -c user.name=b -c user.email=b@example.com commit -qm bench
cd "$W"
git clone -q origin one
git clone -q origin two
export SQUAD_CACHE_URL=$URL SQUAD_CACHE_TOKEN=$TOKEN SQUAD_CACHE_TEAM=bench
(cd one && XDG_CACHE_HOME=$W/xdg-one SQUAD_CACHE_WRITE=1 "$SQUAD" -q) > /dev/null

# the same artifacts for curl: the server's files larger than 64 KiB
# (the others are the tasks' manifests)
: > "$W/curl.cfg"
for f in "$W"/srv/store/bench/*; do
	case $f in *.tag) continue ;; esac
	[ "$(stat -c %s "$f")" -gt 65536 ] || continue
	printf 'url = "%s/v8/artifacts/%s?teamId=bench"\noutput = "/dev/null"\n' "$URL" "$(basename "$f")" >> "$W/curl.cfg"
done
[ "$(grep -c '^url' "$W/curl.cfg")" = "$N" ] || { echo "expected $N artifacts on the server" >&2; exit 1; }

# and to files, one each, as squad writes its outputs
awk -v dir="$W/curl-out" '/^output/ { n++; print "output = \"" dir "/" n "\""; next } { print }' \
	"$W/curl.cfg" > "$W/curl-files.cfg"

echo "== 1 restore: $N remote hits of 1 MB each vs curl --parallel (to /dev/null, to files)"
hyperfine -N -w 1 -r "$RUNS" --export-json "$W/restore.json" \
	--prepare "rm -rf $W/two/.squad $W/two/out $W/xdg-two $W/curl-out" \
	"env -C $W/two XDG_CACHE_HOME=$W/xdg-two $SQUAD -q" \
	"curl -s --parallel -H 'Authorization: Bearer $TOKEN' -K $W/curl.cfg" \
	"curl -s --parallel --create-dirs -H 'Authorization: Bearer $TOKEN' -K $W/curl-files.cfg"
# every task was a remote hit (nothing ran): check the last run
grep -c '"cached":"remote"' <(cd "$W/two" && rm -rf .squad out && XDG_CACHE_HOME=$W/xdg-check "$SQUAD" --json 2>/dev/null) \
	| sed 's/^/remote hits in one more run: /'

echo "== 2 noop: every task up to date, the cache on vs off"
hyperfine -N -w 2 -r "$RUNS" --export-json "$W/noop.json" \
	"env -C $W/one XDG_CACHE_HOME=$W/xdg-one $SQUAD -q" \
	"env -C $W/one SQUAD_CACHE=off $SQUAD -q"

ratio() {
	node -e 'const r = require(process.argv[1]).results;
		console.log((r[0].median / r[1].median).toFixed(2));' "$1"
}
ratio_files() {
	node -e 'const r = require(process.argv[1]).results;
		console.log((r[0].median / r[2].median).toFixed(2));' "$1"
}
echo "restore: squad / curl = $(ratio "$W/restore.json")x (median; goal <= 1.3x)"
echo "restore: squad / curl writing files = $(ratio_files "$W/restore.json")x (median)"
echo "noop: cache on / off = $(ratio "$W/noop.json")x (median; goal <= 1.1x)"
