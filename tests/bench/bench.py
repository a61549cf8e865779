#!/usr/bin/env python3
"""Workload generator and report for tests/bench/run.sh (stdlib only).

  bench.py dag DIR LAYERS WIDTH [SEED]   layered DAG of `true` tasks
  bench.py makespan1 DIR                 chain of 8 x 0.5 s (listed last) + 24 x 0.5 s
  bench.py makespan2 DIR                 chain of 4 x 1.0 s (last) + 4 chains of 12 x 0.25 s
  bench.py noop DIR TASKS FILES          tasks with glob inputs, real outputs
  bench.py agents DIR N SLOTS CMD        N prompt tasks on the qwen worker run by CMD
  bench.py mock PORTFILE METHOD PATH [KEY]  ask the qwen mock server (/reset, /stats)
  bench.py report RESDIR                 table + verdicts from hyperfine JSON

Every workload directory gets the same graph three ways: Squadfile,
Makefile (.PHONY targets) and build.ninja. Each target is `all`.
"""
import glob
import json
import os
import random
import statistics
import sys


def write_all(d, tasks, all_needs):
    """tasks: list of (name, command, needs). Writes Squadfile, Makefile, build.ninja."""
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "Squadfile"), "w") as f:
        f.write("version: 1\ndefault: all\ntasks:\n")
        f.write(f"  all: {{ needs: [{', '.join(all_needs)}] }}\n")
        for name, cmd, needs in tasks:
            deps = f", needs: [{', '.join(needs)}]" if needs else ""
            f.write(f'  {name}: {{ run: "{cmd}"{deps} }}\n')
    with open(os.path.join(d, "Makefile"), "w") as f:
        # -r: no implicit-rule search, the fastest make can be on this graph
        f.write("MAKEFLAGS += -r\n.SUFFIXES:\n")
        f.write(".PHONY: all " + " ".join(t[0] for t in tasks) + "\n")
        f.write("all: " + " ".join(all_needs) + "\n")
        for name, cmd, needs in tasks:
            f.write(f"{name}: {' '.join(needs)}\n\t@{cmd}\n")
    with open(os.path.join(d, "build.ninja"), "w") as f:
        # one rule per distinct command ("rule r" when all are `true`);
        # outputs are never created, so every edge runs on every build
        rules = {}
        for _, cmd, _ in tasks:
            if cmd not in rules:
                rules[cmd] = "r" + (str(len(rules)) if rules else "")
                f.write(f"rule {rules[cmd]}\n  command = {cmd}\n")
        for name, cmd, needs in tasks:
            f.write(f"build {name}: {rules[cmd]} {' '.join(needs)}\n")
        f.write(f"build all: phony {' '.join(all_needs)}\ndefault all\n")


def sinks(tasks):
    used = {n for _, _, needs in tasks for n in needs}
    return [t[0] for t in tasks if t[0] not in used]


def gen_dag(d, layers, width, seed=1):
    rng = random.Random(int(seed))
    tasks = []
    for l in range(int(layers)):
        for i in range(int(width)):
            needs = [] if l == 0 else [f"t{l-1}_{k}" for k in sorted(rng.sample(range(int(width)), 3))]
            tasks.append((f"t{l}_{i}", "true", needs))
    # `all` needs every task nobody else needs, so all LAYERS*WIDTH tasks run
    write_all(d, tasks, sinks(tasks))


def chain(prefix, n, cmd):
    return [(f"{prefix}{i}", cmd, [f"{prefix}{i-1}"] if i else []) for i in range(n)]


def gen_makespan1(d):
    # bound = max(critical path 8 x 0.5, work 32 x 0.5 / 4) = 4.0 s
    tasks = [(f"i{k}", "sleep 0.5", []) for k in range(24)] + chain("c", 8, "sleep 0.5")
    write_all(d, tasks, sinks(tasks))


def gen_makespan2(d):
    # chain a: 4 x 1.0 s = 4 s, but only 4 tasks; chains b0..b3: 12 x 0.25 s = 3 s
    # each, 12 tasks. By task count the b chains look critical, so they take all
    # 4 slots and a starts late (~6 s). With durations known, a starts at once
    # and the b chains share the other 3 slots. bound = max(4, 16/4) = 4.0 s
    tasks = []
    for k in range(4):
        tasks += chain(f"b{k}_", 12, "sleep 0.25")
    tasks += chain("a", 4, "sleep 1.0")
    write_all(d, tasks, sinks(tasks))


def gen_noop(d, ntasks, nfiles):
    ntasks, nfiles = int(ntasks), int(nfiles)
    for sub in ("squad-out", "ninja-out"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    names = [f"t{i}" for i in range(ntasks)]
    for n in names:
        os.makedirs(os.path.join(d, "src", n), exist_ok=True)
        for j in range(nfiles):
            with open(os.path.join(d, "src", n, f"f{j}.c"), "w") as f:
                f.write(f"int {n}_f{j};\n")
    with open(os.path.join(d, "Squadfile"), "w") as f:
        f.write("version: 1\ndefault: all\ntasks:\n")
        for n in names:
            f.write(f'  {n}: {{ run: "touch squad-out/{n}.o", inputs: ["src/{n}/*.c"], '
                    f"outputs: [squad-out/{n}.o] }}\n")
        f.write(f"  all: {{ needs: [{', '.join(names)}] }}\n")
    with open(os.path.join(d, "build.ninja"), "w") as f:
        f.write("rule cc\n  command = touch $out\n")
        for n in names:
            ins = " ".join(f"src/{n}/f{j}.c" for j in range(nfiles))
            f.write(f"build ninja-out/{n}.o: cc {ins}\n")
        f.write("build all: phony " + " ".join(f"ninja-out/{n}.o" for n in names) + "\ndefault all\n")


def gen_agents(d, n, slots, command):
    """N prompt tasks on the qwen worker, its command replaced by COMMAND
    (tests/qwen/run-qwen.sh: the real CLI pointed at the mock server)."""
    os.makedirs(d, exist_ok=True)
    names = [f"p{i}" for i in range(int(n))]
    with open(os.path.join(d, "Squadfile"), "w") as f:
        f.write("version: 1\ndefault: all\nworkers:\n")
        f.write(f'  qwen: {{ command: ["{command}", --approval-mode, yolo, -o, json, "{{prompt}}"], '
                f"slots: {int(slots)} }}\n")
        f.write(f"tasks:\n  all: {{ needs: [{', '.join(names)}] }}\n")
        for i, name in enumerate(names):
            f.write(f'  {name}: {{ prompt: "Reply with the word ok ({i})." }}\n')


def mock(port_file, method, path, key=None):
    """Talk to tests/qwen/mock-server.js: POST /reset, GET /stats [KEY]."""
    import urllib.request
    port = open(port_file).read().strip()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=b"" if method == "POST" else None)
    body = urllib.request.urlopen(req, timeout=10).read().decode()
    print(json.loads(body)[key] if key else body)


# --- report ------------------------------------------------------------

def load(res, name):
    """(min, median) seconds over RESDIR/NAME.*.json (one file per round), or None."""
    times = []
    for path in glob.glob(os.path.join(glob.escape(res), glob.escape(name) + ".*.json")):
        with open(path) as f:
            times += json.load(f)["results"][0]["times"]
    return (min(times), statistics.median(times)) if times else None


def cpu(res, name):
    """Median CPU seconds (user + system, the command and its children) of
    one run, over RESDIR/NAME.*.json, or None."""
    per_round = []
    for path in glob.glob(os.path.join(glob.escape(res), glob.escape(name) + ".*.json")):
        with open(path) as f:
            r = json.load(f)["results"][0]
            per_round.append(r["user"] + r["system"])
    return statistics.median(per_round) if per_round else None


def note(res, name):
    try:
        with open(os.path.join(res, name)) as f:
            return f.read().strip()
    except OSError:
        return None


def ratio(a, b):
    """(min ratio, median ratio) of two (min, median) pairs; b may be a number."""
    if not a or not b:
        return None
    b = b if isinstance(b, tuple) else (b, b)
    return a[0] / b[0], a[1] / b[1]


class Report:
    def __init__(self, res):
        self.res, self.rows, self.verdicts = res, [], []
        self.meta = json.load(open(os.path.join(res, "meta.json")))

    def row(self, case, tool, t, extra=""):
        if t is None:
            self.rows.append((case, tool, "-", "-", extra or "not run"))
        else:
            self.rows.append((case, tool, f"{t[0]:.3f}", f"{t[1]:.3f}", extra))

    def verdict(self, goal, r, limit, unit="x"):
        """PASS/MISS on the min (best of N: least disturbed by other load)."""
        if r is None:
            self.verdicts.append(f"SKIP  {goal}: no squad result")
        elif not isinstance(r, tuple):
            self.verdicts.append(f"{'PASS' if r <= limit else 'MISS'}  {goal}: {r:.3f}{unit}")
        else:
            ok = "PASS" if r[0] <= limit else "MISS"
            self.verdicts.append(f"{ok}  {goal}: {r[0]:.3f}{unit} (median {r[1]:.3f}{unit})")

    def info(self, text):
        self.verdicts.append(f"INFO  {text}")

    def overhead(self):
        sizes, per_task = self.meta["overhead_sizes"], {}
        for size in sizes:
            t = {tool: load(self.res, f"overhead{size}.{tool}") for tool in ("limit", "squad", "make", "ninja")}
            for tool, v in t.items():
                extra = ""
                if v:
                    extra = f"{v[0] / size * 1e6:.0f} us/task"
                    if tool != "limit" and t["limit"]:
                        extra += f", {v[0] / t['limit'][0]:.2f}x limit"
                    if tool != "ninja" and t["ninja"]:
                        extra += f", {v[0] / t['ninja'][0]:.2f}x ninja"
                self.row(f"overhead {size} -j4", tool, v, extra)
            per_task[size] = {k: (v[0] / size, v[1] / size) if v else None for k, v in t.items()}
            self.verdict(f"overhead {size}: squad <= 1.03x limit", ratio(t["squad"], t["limit"]), 1.03)
            self.verdict(f"overhead {size}: squad <= 0.93x ninja", ratio(t["squad"], t["ninja"]), 0.93)
        # super-linear growth: time per task at the big size over the small
        # one, against the same for the limit (a busy VM slows down as well)
        small, big = sizes[0], sizes[-1]
        g = {k: ratio(per_task[big][k], per_task[small][k]) for k in per_task[small]}
        shown = ", ".join(f"{k} {v[0]:.2f}x" for k, v in g.items() if v)
        self.verdict(f"overhead: time/task at {big} over {small}, within 1.10x of the limit's "
                     f"[{shown}]", ratio(g["squad"], g["limit"]), 1.10)

    def makespan(self):
        bound, quick = self.meta["makespan_bound"], self.meta["quick"]
        for case, tools in (("makespan1", ("squad", "make", "ninja")),
                            ("makespan2", ("squad-first", "squad-warm", "make", "ninja"))):
            for tool in tools:
                v = load(self.res, f"{case}.{tool}")
                skipped = "full run only" if quick and tool in ("make", "ninja", "squad-first") else ""
                self.row(f"{case} -j4, bound {bound:.1f}s", tool, v,
                         f"{v[0] / bound:.2f}x bound" if v else skipped)
        self.verdict("makespan1: squad first run <= 1.05x bound",
                     ratio(load(self.res, "makespan1.squad"), bound), 1.05)
        first = ratio(load(self.res, "makespan2.squad-first"), bound)
        if first:
            self.info(f"makespan2: squad first run (no durations yet) {first[0]:.3f}x bound")
        self.verdict("makespan2: squad with recorded durations <= 1.05x bound",
                     ratio(load(self.res, "makespan2.squad-warm"), bound), 1.05)

    def plan(self):
        n = self.meta["plan_size"]
        sq, nj = load(self.res, "plan.squad"), load(self.res, "plan.ninja")
        rss = {k: note(self.res, f"plan.{k}.rss") for k in ("squad", "ninja")}
        self.row(f"plan -n {n} tasks", "squad", sq, f"{rss['squad']} KB peak RSS" if rss["squad"] else "")
        self.row(f"plan -n {n} tasks", "ninja", nj, f"{rss['ninja']} KB peak RSS" if rss["ninja"] else "")
        self.verdict(f"plan {n}: squad -n <= 1.0x ninja -n", ratio(sq, nj), 1.0)
        mb = int(rss["squad"]) / 1024 if rss["squad"] and rss["squad"].isdigit() else None
        self.verdict("plan: squad -n peak RSS < 20 MB", mb, 19.999, " MB")

    def noop(self):
        for name, where in (("noop", "plain folder"), ("noop-git", "git repository")):
            case = f"no-op {self.meta['noop_size']} tasks x 10 inputs, {where}"
            why = note(self.res, f"{name}.squad.unsupported")
            sq, nj = load(self.res, f"{name}.squad"), load(self.res, f"{name}.ninja")
            r = ratio(sq, nj)
            self.row(case, "squad", sq, f"not supported: {why}" if why else
                     f"{r[0]:.2f}x ninja" if r else "")
            self.row(case, "ninja", nj)
            self.verdict(f"no-op, {where}: squad <= 1.5x ninja", r, 1.5)

    def agents(self):
        one, many = load(self.res, "agents.one"), load(self.res, "agents.many")
        if one or many:
            self.row("agents (qwen, mock 2 s)", "1 prompt", one)
            self.row("agents (qwen, mock 2 s)", "8, slots 4", many,
                     f"{many[0] / (2 * one[0]):.2f}x ideal (2 x one)" if one and many else "")
            # Each qwen run is a node process that also costs CPU: 8 of them
            # cannot take less than their CPU time over the machine's cores.
            one_cpu = cpu(self.res, "agents.one")
            if one and many and one_cpu:
                cores = os.cpu_count() or 1
                floor = max(2 * one[0], 8 * one_cpu / cores)
                self.info(f"agents: a run of one prompt takes {one_cpu:.1f} s of CPU (qwen is "
                          f"a node program); 8 on {cores} "
                          f"cores cannot take less than {floor:.1f} s; squad took "
                          f"{many[0] / floor:.2f}x that")
        self.info(f"agents: {note(self.res, 'agents.txt') or 'not run'}")

    def exec(self):
        sh, sq = load(self.res, "exec.sh"), load(self.res, "exec.squad")
        r = ratio(sq, sh)
        self.row("exec: 4 x /bin/true, at once", "sh & wait", sh)
        self.row("exec: 4 x /bin/true, at once", "squad exec", sq, f"{r[0]:.2f}x sh" if r else "")
        self.verdict("exec: squad exec <= 1.5x sh with & and wait", r, 1.5)
        self.verdict("exec: squad exec well under 100 ms", sq[0] * 1000 if sq else None, 50, " ms")
        # an MCP exec call to a running squad mcp, and sh, timed by the
        # same client (exec_mcp.py), request to result
        msh, mcp = load(self.res, "exec.mcp-sh"), load(self.res, "exec.mcp")
        r = ratio(mcp, msh)
        self.row("exec: MCP round trip (client)", "sh & wait", msh)
        self.row("exec: MCP round trip (client)", "squad mcp exec", mcp, f"{r[0]:.2f}x sh" if r else "")
        self.verdict("exec: an MCP exec round trip <= 1.5x sh with & and wait", r, 1.5)
        self.verdict("exec: an MCP exec round trip well under 100 ms", mcp[0] * 1000 if mcp else None,
                     50, " ms")

    def print(self):
        head = ("case", "tool", "min s", "median s", "notes")
        w = [max(len(r[i]) for r in self.rows + [head]) for i in range(4)]
        print("\n" + "  ".join(h.ljust(w[i]) if i < 4 else h for i, h in enumerate(head)))
        last = None
        for r in self.rows:
            c, last = (r[0] if r[0] != last else ""), r[0]
            print("  ".join([c.ljust(w[0]), r[1].ljust(w[1]), r[2].rjust(w[2]), r[3].rjust(w[3]), r[4]]))
        print("\n" + "\n".join(self.verdicts))
        print(f"\nverdicts use the min of the runs (median in parentheses); hyperfine JSON in {self.res}")


def report(res):
    r = Report(res)
    for case in ("overhead", "makespan", "plan", "noop", "agents", "exec"):
        if case in r.meta["cases"].split():
            getattr(r, case)()
    r.print()


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"dag": gen_dag, "makespan1": gen_makespan1, "makespan2": gen_makespan2,
     "noop": gen_noop, "agents": gen_agents, "mock": mock, "report": report}[cmd](*args)
