#!/bin/sh
# smoke.sh: drive the real qwen CLI against mock-server.js and check/print
# what it does. Needs node >= 20 and npm (first run installs qwen).
#
#   tests/qwen/smoke.sh            # installs into build-qwen-cache if needed
#   QWEN_BIN=/path/to/qwen tests/qwen/smoke.sh
#   SMOKE_SLOW=1 tests/qwen/smoke.sh   # also the ~80 s "429 until qwen gives up" case
#   SMOKE_KEEP=1 ...               # keep the temp dir (logs, homes, outputs)
#
# Cases:
#   1 say hi          -> result event is_error:false, scripted text; requests
#                        counted; (with strace) every connect() is loopback
#   2 tool call       -> the agent runs `touch $TMPDIR/marker` in yolo mode
#   3 429             -> a) 429 twice then success; b) 429 forever under a
#                        20 s timeout; c) (SMOKE_SLOW) 429 forever with
#                        model.generationConfig.maxRetries=0 until qwen stops
#   4 process tree    -> processes of one call, its process group, SIGTERM
#   5 hang            -> server never answers; QWEN_CODE_API_TIMEOUT_MS=2000
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

if [ -z "${QWEN_BIN:-}" ]; then
    QWEN_BIN=$("$here/install.sh" "$root/build-qwen-cache")
fi
export QWEN_BIN

T=$(mktemp -d "${TMPDIR:-/tmp}/qwen-smoke.XXXXXX")
export TMPDIR="$T"
mkdir -p "$T/work"
SCRIPT=$T/script.json
PORTFILE=$T/port
LOG=$T/server.log
SERVER_PID=
G=
FAILS=0

cleanup() {
    if [ -n "$G" ]; then
        kill -KILL "-$G" 2>/dev/null || true
    fi
    if [ -n "$SERVER_PID" ]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ "${SMOKE_KEEP:-0}" = 1 ]; then
        echo "kept $T"
    else
        rm -rf "$T"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%s\n' "$*"; }
ok() { say "  ok: $*"; }
bad() { say "  FAIL: $*"; FAILS=$((FAILS + 1)); }

# jq-less JSON access: js EXPR FILE -> prints the value of EXPR where `a` is
# the parsed file and `r` its last element (the result event for -o json).
js() {
    node -e '
const fs = require("fs");
let a; try { a = JSON.parse(fs.readFileSync(process.argv[2], "utf8")); }
catch (e) { console.log("<unparsable>"); process.exit(0); }
const r = Array.isArray(a) ? a[a.length - 1] : a;
const v = (function () { return eval(process.argv[1]); })();
console.log(typeof v === "string" ? v : JSON.stringify(v));
' "$1" "$2"
}

stats() { curl -s "http://127.0.0.1:$(cat "$PORTFILE")/stats" 2>/dev/null ||
          node -e '
require("http").get("http://127.0.0.1:" + process.argv[1] + "/stats", (res) => {
  let d = ""; res.on("data", (c) => d += c); res.on("end", () => console.log(d)); });
' "$(cat "$PORTFILE")"; }
reset() { node -e '
const r = require("http").request({host: "127.0.0.1", port: +process.argv[1],
  path: "/reset", method: "POST"}, (res) => res.resume()); r.end();
' "$(cat "$PORTFILE")"; }

# qwen HOME_DIR TIMEOUT OUT ERR ARGS...  (runs in $T/work, stdin /dev/null)
qwen() {
    h=$1 to=$2 out=$3 err=$4
    shift 4
    set +e
    (cd "$T/work" && SQUAD_QWEN_HOME="$h" MOCK_PORT_FILE="$PORTFILE" \
        timeout "$to" "$here/run-qwen.sh" "$@" </dev/null >"$out" 2>"$err")
    rc=$?
    set -e
    return 0
}

cat >"$SCRIPT" <<EOF
{"rules": [
  {"match": "say hi", "reply": "hello from mock"},
  {"match": "make marker", "tool_call": "touch $T/marker", "then": "marker made"},
  {"match": "rate twice", "error": {"status": 429, "times": 2}, "reply": "recovered"},
  {"match": "rate forever", "error": {"status": 429}},
  {"match": "hang forever", "hang": true}
], "default": {"reply": "ok"}}
EOF

node "$here/mock-server.js" --port-file "$PORTFILE" --script "$SCRIPT" \
    --log "$LOG" &
SERVER_PID=$!
i=0
while [ ! -s "$PORTFILE" ]; do
    i=$((i + 1))
    [ $i -le 50 ] || { say "mock server did not start"; exit 1; }
    sleep 0.1
done
say "qwen: $QWEN_BIN ($("$QWEN_BIN" --version 2>/dev/null | tail -n 1))"
say "mock server pid $SERVER_PID on 127.0.0.1:$(cat "$PORTFILE"), temp $T"

# ---------------------------------------------------------------- case 1
say "case 1: say hi"
reset
start=$(date +%s)
if command -v strace >/dev/null 2>&1 && [ "${SMOKE_STRACE:-1}" = 1 ]; then
    # strace -f follows both node processes; only connect() is traced.
    (cd "$T/work" && SQUAD_QWEN_HOME="$T/h1" MOCK_PORT_FILE="$PORTFILE" \
        timeout 60 strace -f -qq -e trace=connect -o "$T/strace1" \
        "$here/run-qwen.sh" --approval-mode yolo -o json "say hi" \
        </dev/null >"$T/o1.json" 2>"$T/e1.txt") && rc=0 || rc=$?
    outside=$(grep -E 'sa_family=AF_INET6?' "$T/strace1" |
              grep -v -E 'inet_addr\("127\.0\.0\.1"\)|inet_pton\(AF_INET6, "::1"' || true)
    if [ -z "$outside" ]; then
        ok "every AF_INET/AF_INET6 connect() went to loopback ($(grep -c 'sa_family=AF_INET' "$T/strace1") connects)"
    else
        bad "non-loopback connect(): $(printf '%s' "$outside" | head -n 3)"
    fi
else
    qwen "$T/h1" 60 "$T/o1.json" "$T/e1.txt" --approval-mode yolo -o json "say hi"
fi
say "  exit $rc in $(( $(date +%s) - start )) s; stderr bytes: $(wc -c <"$T/e1.txt")"
[ "$rc" = 0 ] && ok "exit 0" || bad "exit $rc"
[ "$(js 'r.type + "/" + r.subtype + "/" + r.is_error' "$T/o1.json")" = "result/success/false" ] &&
    ok "result/success/is_error:false" || bad "result event: $(js r "$T/o1.json" | head -c 400)"
[ "$(js r.result "$T/o1.json")" = "hello from mock" ] && ok "result text" ||
    bad "result text: $(js r.result "$T/o1.json")"
say "  events: $(js 'a.map(e => e.type + (e.subtype ? "/" + e.subtype : "")).join(" ")' "$T/o1.json")"
say "  qwen stats.models.mock.api.totalRequests: $(js 'r.stats.models.mock.api.totalRequests' "$T/o1.json"), bySource: $(js 'Object.fromEntries(Object.entries(r.stats.models.mock.bySource).map(([k,v])=>[k,v.api.totalRequests]))' "$T/o1.json")"
say "  server /stats: $(stats)"

# ---------------------------------------------------------------- case 2
say "case 2: tool call touch \$TMPDIR/marker"
reset
rm -f "$T/marker"
start=$(date +%s)
qwen "$T/h2" 60 "$T/o2.json" "$T/e2.txt" --approval-mode yolo -o json "make marker"
say "  exit $rc in $(( $(date +%s) - start )) s"
[ -e "$T/marker" ] && ok "marker file created by the agent" || bad "no marker file"
[ "$(js 'r.is_error + "/" + r.result' "$T/o2.json")" = "false/marker made" ] &&
    ok "final text 'marker made'" || bad "result: $(js r "$T/o2.json" | head -c 400)"
say "  events: $(js 'a.map(e => e.type + (e.subtype ? "/" + e.subtype : "")).join(" ")' "$T/o2.json")"
say "  tool_result: $(js 'a.filter(e => e.type == "user").map(e => e.message.content[0].content).join(" | ")' "$T/o2.json" | tr '\n' ' ')"
say "  num_turns: $(js r.num_turns "$T/o2.json"); server /stats: $(stats)"

# ---------------------------------------------------------------- case 3
say "case 3a: 429 twice, then success"
reset
start=$(date +%s)
qwen "$T/h3" 60 "$T/o3a.json" "$T/e3a.txt" --approval-mode yolo -o json "rate twice"
say "  exit $rc in $(( $(date +%s) - start )) s; result: $(js 'r.subtype + " is_error:" + r.is_error + " " + JSON.stringify(r.result)' "$T/o3a.json")"
[ "$rc" = 0 ] && [ "$(js r.result "$T/o3a.json")" = "recovered" ] && ok "recovered after 429s" ||
    bad "429-twice case"
say "  qwen totalRequests: $(js 'r.stats.models.mock.api.totalRequests' "$T/o3a.json"); server /stats: $(stats)"

say "case 3b: 429 forever, killed by timeout 20"
reset
start=$(date +%s)
qwen "$T/h3" 20 "$T/o3b.json" "$T/e3b.txt" --approval-mode yolo -o json "rate forever"
say "  exit $rc in $(( $(date +%s) - start )) s (124 = timeout fired: qwen was still retrying)"
say "  stdout bytes: $(wc -c <"$T/o3b.json"); stderr: $(tr -s '\n ' ' ' <"$T/e3b.txt")"
say "  server /stats: $(stats)"
[ "$rc" = 124 ] && ok "still retrying after 20 s" || say "  note: exit $rc"

if [ "${SMOKE_SLOW:-0}" = 1 ]; then
    say "case 3c: 429 forever, model.generationConfig.maxRetries=0, until qwen gives up"
    reset
    mkdir -p "$T/h3c/.qwen"
    cat >"$T/h3c/.qwen/settings.json" <<'EOF'
{"privacy": {"usageStatisticsEnabled": false}, "telemetry": {"enabled": false},
 "general": {"enableAutoUpdate": false},
 "model": {"generationConfig": {"maxRetries": 0}}}
EOF
    start=$(date +%s)
    qwen "$T/h3c" 150 "$T/o3c.json" "$T/e3c.txt" --approval-mode yolo -o json "rate forever"
    say "  exit $rc in $(( $(date +%s) - start )) s; stderr bytes $(wc -c <"$T/e3c.txt")"
    say "  result: $(js 'r.subtype + " is_error:" + r.is_error + " " + JSON.stringify(r.result)' "$T/o3c.json")"
    say "  server /stats: $(stats)"
fi

# ---------------------------------------------------------------- case 4
say "case 4: process tree of one call (setsid, server hangs)"
reset
start=$(date +%s)
(cd "$T/work" && SQUAD_QWEN_HOME="$T/h4" MOCK_PORT_FILE="$PORTFILE" \
    exec setsid "$here/run-qwen.sh" --approval-mode yolo -o json "hang forever" \
    </dev/null >"$T/o4.json" 2>"$T/e4.txt") &
QPID=$!
i=0
while :; do
    i=$((i + 1))
    s=$(stats)
    case $s in *'"in_flight":1'*) break ;; esac
    if [ $i -gt 300 ]; then bad "no request in flight after 30 s"; break; fi
    sleep 0.1
done
G=$(ps -o pgid= -p "$QPID" | tr -d ' ')
say "  top pid $QPID, its process group $G; request in flight after $(( $(date +%s) - start )) s"
say "    PID  PPID  PGID   SID  RSS(kB) COMMAND"
ps -eo pid=,ppid=,pgid=,sid=,rss=,args= | awk -v g="$G" '$3 == g' >"$T/ps4"
n=$(wc -l <"$T/ps4")
say "  processes in process group $G: $n"
sed 's/^/    /' "$T/ps4" | cut -c1-160
[ "$n" = 2 ] && ok "2 processes (node + relaunched node child), one group" ||
    say "  note: $n processes"
kill -TERM "-$G"
set +e; wait "$QPID" 2>/dev/null; rc=$?; set -e
# the relaunched child handles SIGTERM itself and may outlive the top process
# for a moment; zombies (state Z) waiting for init to reap them do not count
i=0
while :; do
    left=$(ps -eo pgid=,stat= | awk -v g="$G" '$1 == g && $2 !~ /^Z/' | wc -l)
    [ "$left" = 0 ] && break
    i=$((i + 1)); [ $i -le 50 ] || break
    sleep 0.1
done
say "  after SIGTERM to the group: wrapper exit $rc, processes left in group: $left"
say "  stderr: $(tr -s '\n ' ' ' <"$T/e4.txt"); stdout bytes: $(wc -c <"$T/o4.json")"
say "  server /stats: $(stats)"
[ "$left" = 0 ] && { ok "group gone"; G=; } || bad "$left processes left in group $G"

# ---------------------------------------------------------------- case 5
say "case 5: hang, QWEN_CODE_API_TIMEOUT_MS=2000"
reset
start=$(date +%s)
QWEN_CODE_API_TIMEOUT_MS=2000 \
    qwen "$T/h5" 60 "$T/o5.json" "$T/e5.txt" --approval-mode yolo -o json "hang forever"
say "  exit $rc in $(( $(date +%s) - start )) s; result: $(js 'r.subtype + " is_error:" + r.is_error + " " + JSON.stringify(r.result)' "$T/o5.json" | head -c 300)"
say "  qwen totalRequests: $(js 'r.stats.models.mock.api.totalRequests' "$T/o5.json"); server /stats: $(stats)"

# ----------------------------------------------------------------
kill -TERM "$SERVER_PID"
set +e; wait "$SERVER_PID"; src=$?; set -e
SERVER_PID=
[ "$src" = 0 ] && ok "mock server exited 0 on SIGTERM" || bad "mock server exit $src"

if [ "$FAILS" -eq 0 ]; then
    say "smoke: all checks passed"
else
    say "smoke: $FAILS check(s) failed"
    exit 1
fi
