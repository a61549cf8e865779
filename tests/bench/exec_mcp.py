#!/usr/bin/env python3
"""exec_mcp.py - one MCP `exec` round trip against sh's & and wait.

    exec_mcp.py SQUAD RESDIR ROUNDS [WARMUP]

Run in an empty folder (run.sh's exec case gives it one). A small MCP
client, as a tactician's would be: it starts `SQUAD mcp` there once,
speaks JSON-RPC 2.0 over its stdin and stdout (one message a line),
initializes, and then, round by round, times

  mcp     a tools/call of `exec` with 4 tasks `/bin/true` (jobs 4), from
          writing the request to reading its result (the server spawns
          `squad exec --json`, which runs the 4 tasks and answers);
  mcp-sh  the same 4 commands as `sh -c '/bin/true & ... & wait'`,
          spawned by this client and waited for: the floor, measured
          the same way.

The two take turns within each round, so load drift on a shared machine
hits both alike. WARMUP rounds (default 2) are run and not kept. Each
result must be 4 tasks ok with exit code 0, or the script fails (exit
1) and writes nothing. Writes RESDIR/exec.mcp.1.json and
RESDIR/exec.mcp-sh.1.json in hyperfine's JSON shape ({"results":
[{"times": [...]}]}, seconds), which bench.py's report reads.
"""
import json
import os
import subprocess
import sys
import time

SH = "/bin/true & /bin/true & /bin/true & /bin/true & wait"
TIMEOUT = 60  # seconds: a hang guard, not a measurement


class Server:
    def __init__(self, squad):
        self.proc = subprocess.Popen([squad, "mcp"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, bufsize=0)
        self.buf = b""
        self.next_id = 0

    def send(self, msg):
        self.proc.stdin.write((json.dumps(msg) + "\n").encode())

    def read_line(self, deadline):
        while b"\n" not in self.buf:
            if time.monotonic() > deadline:
                raise RuntimeError("squad mcp did not answer in time")
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                raise RuntimeError("squad mcp closed its stdout")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def request(self, method, params):
        """The response to one request (notifications before it are
        skipped), and the seconds from writing it to reading it."""
        self.next_id += 1
        rid = self.next_id
        msg = {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}
        start = time.perf_counter()
        self.send(msg)
        deadline = time.monotonic() + TIMEOUT
        while True:
            answer = self.read_line(deadline)
            if answer.get("id") == rid:
                return answer, time.perf_counter() - start

    def close(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def exec_call(server):
    answer, seconds = server.request("tools/call", {
        "name": "exec",
        "arguments": {"tasks": [{"name": f"t{i}", "run": "/bin/true"} for i in range(4)],
                      "jobs": 4}})
    result = answer.get("result") or {}
    doc = result.get("structuredContent") or {}
    statuses = [t.get("status") for t in doc.get("tasks", [])]
    if result.get("isError") or doc.get("exit_code") != 0 or statuses != ["ok"] * 4:
        raise RuntimeError(f"the exec call did not run 4 tasks ok: {json.dumps(answer)[:500]}")
    return seconds


def sh_run():
    start = time.perf_counter()
    subprocess.run(["sh", "-c", SH], check=True, timeout=TIMEOUT)
    return time.perf_counter() - start


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__.strip().splitlines()[2].strip())
    squad, res, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    warmup = int(sys.argv[4]) if len(sys.argv) == 5 else 2
    server = Server(squad)
    times = {"mcp": [], "mcp-sh": []}
    try:
        answer, _ = server.request("initialize", {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "squad-bench", "version": "1"}})
        if "result" not in answer:
            raise RuntimeError(f"initialize failed: {json.dumps(answer)}")
        server.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        for r in range(warmup + rounds):
            mcp, sh = exec_call(server), sh_run()
            if r >= warmup:
                times["mcp"].append(mcp)
                times["mcp-sh"].append(sh)
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        print(f"exec_mcp.py: {e}", file=sys.stderr)
        return 1
    finally:
        server.close()
    for name, t in times.items():
        with open(os.path.join(res, f"exec.{name}.1.json"), "w") as f:
            json.dump({"results": [{"command": name, "times": t}]}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
