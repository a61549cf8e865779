#!/usr/bin/env bash
# acp.sh - warm agents over ACP against one process per prompt, in one run:
# 8 prompt tasks at `slots: 4` on the real Qwen Code CLI, the scripted
# model server (tests/qwen/mock-server.js, 127.0.0.1 only) answering each
# prompt after 2 s, once on the built-in `qwen` worker (`qwen --acp`: an
# agent per slot, started once, a session per task) and once on the
# built-in `qwen-oneshot` (`qwen -o json PROMPT`, a process per task),
# taking turns run by run. Prints for each: wall time (best of RUNS, and
# the median), CPU seconds (user + system of squad and every process under
# it), and the ratio to the ideal:
#   one-shot: ceil(8/4) x 2 s = 4 s;
#   ACP:      4 s + one start-up per slot: the 4 agents start at once, so
#             the start-up is taken from the same run, as the time from
#             squad's start to the 4th prompt reaching the model server
#             (the mock's request log); what is left is 2 rounds of 2 s.
# Goal: ACP <= 1.10x its ideal. Not part of the test suite.
#
# usage: tests/bench/acp.sh [--json FILE] [RUNS]     (RUNS default 3)
#   SQUAD=path    the squad binary (default: build/squad)
#   QWEN_BIN=path the qwen wrapper (default: tests/qwen/install.sh into
#                 build/test-tools/qwen, as the tests do)
#   --json FILE   also write the numbers as JSON (run.sh's report reads it)
#
# CPU: an ACP agent is ended with SIGKILL to its process group when the
# run is over, so qwen's relaunched child is never reaped by its parent
# and getrusage(RUSAGE_CHILDREN) of squad alone misses it. The runner
# below makes itself a child subreaper (PR_SET_CHILD_SUBREAPER), so every
# orphan under squad is reaped by it and counted.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
JSON= RUNS=3
while [ $# -gt 0 ]; do
	case $1 in
	--json) JSON=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	[0-9]*) RUNS=$1; shift ;;
	*) echo "acp.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
	esac
done
SQUAD=${SQUAD:-$ROOT/build/squad}
[ -x "$SQUAD" ] || { echo "acp.sh: no squad binary at $SQUAD (set SQUAD=...)" >&2; exit 2; }
SQUAD=$(cd "$(dirname "$SQUAD")" && pwd)/$(basename "$SQUAD")
for tool in node python3; do
	command -v $tool >/dev/null || { echo "acp.sh: '$tool' not found" >&2; exit 1; }
done
QWEN_BIN=${QWEN_BIN:-$("$ROOT/tests/qwen/install.sh" "$ROOT/build/test-tools/qwen" | tail -1)}
[ -x "$QWEN_BIN" ] || { echo "acp.sh: no qwen at '$QWEN_BIN'" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/squad-acpbench.XXXXXX")
MOCK_PID=
cleanup() {
	if [ -n "$MOCK_PID" ]; then kill "$MOCK_PID" 2>/dev/null || true; wait "$MOCK_PID" 2>/dev/null || true; fi
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# qwen's own environment, as the tests have it: a fresh HOME whose settings
# turn off every outbound call, nothing of the caller's qwen or proxies
export HOME=$WORK/home TMPDIR=$WORK/tmp NO_COLOR=1 NO_PROXY=127.0.0.1,localhost
mkdir -p "$HOME" "$TMPDIR"
"$ROOT/tests/qwen/write-settings.sh" "$HOME"
unset QWEN_HOME QWEN_CODE_UNATTENDED_RETRY OPENAI_API_KEY OPENAI_BASE_URL OPENAI_MODEL \
	HTTP_PROXY HTTPS_PROXY http_proxy https_proxy
# the built-in workers run `qwen`: this one
export PATH=$(dirname "$QWEN_BIN"):$PATH

# the agent's own turn waits 2 s; qwen's side calls (its memory extractor)
# are answered at once
cat >"$WORK/mock.json" <<'EOF'
{"default": {"reply": "ok", "delay_ms": 2000}, "side_default": {"reply": "ok"}}
EOF
node "$ROOT/tests/qwen/mock-server.js" --port-file "$WORK/port" --script "$WORK/mock.json" \
	--log "$WORK/mock.log" >"$WORK/mock.out" 2>&1 &
MOCK_PID=$!
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
PORT=$(cat "$WORK/port")

# One project: 8 prompts. Both built-ins keep
# their commands; the Squadfile gives them only the server.
mkdir -p "$WORK/p"
cd "$WORK/p"
{
	echo "version: 1"
	echo "workers:"
	for w in qwen qwen-oneshot; do
		echo "  $w:"
		echo "    env: { OPENAI_BASE_URL: \"http://127.0.0.1:$PORT/v1\", OPENAI_API_KEY: bench, OPENAI_MODEL: mock }"
		echo "    slots: 4"
		echo "    timeout: 5m"
	done
	echo "tasks:"
	for i in 1 2 3 4 5 6 7 8; do echo "  p$i: { prompt: \"question $i: answer ok\" }"; done
	echo "  prompts: { needs: [p1, p2, p3, p4, p5, p6, p7, p8] }"
} >Squadfile

# measure OUT CMD...: run CMD as a child subreaper; write "wall cpu exit
# start" to OUT (start: the epoch second it began)
measure() {
	local out=$1
	shift
	python3 - "$out" "$@" <<'PY'
import ctypes, os, resource, subprocess, sys, time
PR_SET_CHILD_SUBREAPER = 36
if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit("acp.sh: prctl(PR_SET_CHILD_SUBREAPER) failed")
start = time.time()
t0 = time.monotonic()
rc = subprocess.call(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wall = time.monotonic() - t0
# the orphans squad left (qwen's relaunched children) are ours now
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as f:
    f.write(f"{wall:.3f} {ru.ru_utime + ru.ru_stime:.3f} {rc} {start:.3f}\n")
PY
}

run_one() { # NAME WORKER TARGET: one timed run from an empty .squad/
	rm -rf .squad
	measure "$WORK/$1.$r" "$SQUAD" -q -j8 --worker "$2" "$3"
	read -r wall cpu rc _ <"$WORK/$1.$r"
	if [ "$rc" != 0 ]; then
		echo "acp.sh: $1 run $r: squad exited $rc; its logs:" >&2
		tail -n 5 .squad/logs/*.log >&2 || true
		exit 1
	fi
	printf '  run %d  %-9s %6.2f s wall  %6.2f s CPU\n' "$r" "$1" "$wall" "$cpu" >&2
}

echo "acp.sh: $RUNS rounds of: 8 prompts on ACP, 8 prompts one-shot" >&2
for ((r = 1; r <= RUNS; r++)); do
	run_one acp qwen prompts
	run_one oneshot qwen-oneshot prompts
done
most=$(curl -s "http://127.0.0.1:$PORT/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["max_concurrent"])' 2>/dev/null || echo "?")

python3 - "$WORK" "$RUNS" "$most" "$(nproc)" "$JSON" <<'PY'
import json, statistics, sys
from datetime import datetime
work, runs, most, cores, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
main = sorted(datetime.fromisoformat(e["t"].replace("Z", "+00:00")).timestamp()
              for e in map(json.loads, open(f"{work}/mock.log"))
              if e.get("kind") == "main")
def load(name):
    rows = [open(f"{work}/{name}.{r}").read().split() for r in range(1, runs + 1)]
    return [dict(wall=float(w), cpu=float(c), start=float(t)) for w, c, _, t in rows]
acp, one = load("acp"), load("oneshot")
ideal = 2 * 2.0                     # ceil(8 / 4) x 2 s
for run in acp:                     # start-up: until the 4th prompt reached the model
    seen = [t for t in main if run["start"] <= t <= run["start"] + run["wall"]]
    run["startup"] = seen[3] - run["start"] if len(seen) >= 4 else float("nan")
    # where the rest goes: from the 4th answer (2 s after the 4th prompt)
    # to the last prompt at the model (the hand-over to the second round:
    # session/new and the prompt's own turn), then from its answer to exit
    if len(seen) >= 8:
        run["handover"] = seen[-1] - (seen[3] + 2.0)
        run["tail"] = run["start"] + run["wall"] - (seen[-1] + 2.0)
    run["ideal"] = ideal + run["startup"]
    run["ratio"] = run["wall"] / run["ideal"]
for run in one:
    run["ratio"] = run["wall"] / ideal
def med(rs, key):
    return statistics.median(r[key] for r in rs)
a, o = min(acp, key=lambda r: r["ratio"]), min(one, key=lambda r: r["ratio"])
print(f"8 prompts, slots 4, model answers in 2 s; {cores} cores; best of {runs} (median)")
print(f"  ACP (qwen --acp)    {a['wall']:6.2f} s ({med(acp, 'wall'):.2f})  {a['ratio']:.2f}x ({med(acp, 'ratio'):.2f}x) "
      f"of ideal {a['ideal']:.2f} s = 4 s + start-up {a['startup']:.2f} s;  CPU {a['cpu']:5.1f} s ({med(acp, 'cpu'):.1f})")
if "handover" in a:
    print(f"    past the ideal: {a['handover']:.2f} s from the first round's last answer to the "
          f"second round's last prompt at the model, {a['tail']:.2f} s from its answer to squad's exit")
print(f"  one-shot (qwen -o)  {o['wall']:6.2f} s ({med(one, 'wall'):.2f})  {o['ratio']:.2f}x ({med(one, 'ratio'):.2f}x) "
      f"of ideal {ideal:.2f} s;  CPU {o['cpu']:5.1f} s ({med(one, 'cpu'):.1f})")
print(f"  one-shot / ACP (medians): {med(one, 'wall') / med(acp, 'wall'):.2f}x the time, "
      f"{med(one, 'cpu') / med(acp, 'cpu'):.2f}x the CPU; at most {most} model requests at once (want 4)")
print(f"{'PASS' if a['ratio'] <= 1.10 else 'MISS'}  ACP within 1.10x of its ideal: {a['ratio']:.2f}x")
if out:
    json.dump({"runs": runs, "cores": int(cores), "max_concurrent": most, "ideal": ideal,
               "acp": acp, "oneshot": one, "acp_ratio": a["ratio"], "oneshot_ratio": o["ratio"]},
              open(out, "w"), indent=1)
PY
