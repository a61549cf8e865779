#!/usr/bin/env python3
"""Workload generator and report for tests/bench/run.sh (stdlib only).

  bench.py dag DIR LAYERS WIDTH [SEED]   layered DAG of `true` tasks
  bench.py makespan1 DIR                 chain of 8 x 0.5 s (listed last) + 24 x 0.5 s
  bench.py makespan2 DIR                 chain of 4 x 1.0 s (last) + 4 chains of 12 x 0.25 s
  bench.py noop DIR TASKS FILES          tasks with glob inputs, real outputs
  bench.py agents DIR N SLOTS            N prompt tasks on the qwen worker
  bench.py report RESDIR                 table + verdicts from hyperfine JSON

Every workload directory gets the same graph three ways: Squadfile,
Makefile (.PHONY targets) and build.ninja. Each target is `all`.
"""
import json
import os
import random
import sys


def write_all(d, tasks, all_needs):
    """tasks: list of (name, command, needs). Writes Squadfile, Makefile, build.ninja."""
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "Squadfile"), "w") as f:
        f.write("version: 1\ndefault: all\ntasks:\n")
        for name, cmd, needs in tasks:
            deps = f", needs: [{', '.join(needs)}]" if needs else ""
            f.write(f'  {name}: {{ run: "{cmd}"{deps} }}\n')
        f.write(f"  all: {{ needs: [{', '.join(all_needs)}] }}\n")
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


def gen_agents(d, n, slots):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "Squadfile"), "w") as f:
        f.write(f"version: 1\ndefault: all\nworkers:\n  qwen: {{ slots: {int(slots)} }}\ntasks:\n")
        for i in range(int(n)):
            f.write(f'  p{i}: {{ prompt: "Reply with the word ok ({i})." }}\n')
        f.write("  all: { needs: [" + ", ".join(f"p{i}" for i in range(int(n))) + "] }\n")


# --- report ------------------------------------------------------------

def load(res, name):
    """(min, median) seconds from RESDIR/NAME.json, or None."""
    try:
        with open(os.path.join(res, name + ".json")) as f:
            r = json.load(f)["results"][0]
        return r["min"], r["median"]
    except (OSError, ValueError, KeyError, IndexError):
        return None


def note(res, name):
    try:
        with open(os.path.join(res, name)) as f:
            return f.read().strip()
    except OSError:
        return None


def report(res):
    meta = json.load(open(os.path.join(res, "meta.json")))
    rows, verdicts = [], []

    def row(case, tool, t, extra=""):
        if t is None:
            rows.append((case, tool, "-", "-", extra or "not run"))
        else:
            rows.append((case, tool, f"{t[0]:.3f}", f"{t[1]:.3f}", extra))

    def verdict(goal, value, limit, unit="x"):
        if value is None:
            verdicts.append(f"SKIP  {goal}: no squad result")
        else:
            ok = "PASS" if value <= limit else "MISS"
            verdicts.append(f"{ok}  {goal}: {value:.3f}{unit}")

    def ratio(a, b):  # medians
        return a[1] / b[1] if a and b else None

    # 1. overhead
    per_task = {}
    for size in meta["overhead_sizes"]:
        case = f"overhead {size} -j4"
        t = {tool: load(res, f"overhead{size}.{tool}") for tool in ("squad", "make", "ninja", "limit")}
        for tool, v in t.items():
            extra = ""
            if v:
                extra = f"{v[1] / size * 1e6:.0f} us/task"
                if tool != "limit" and t["limit"]:
                    extra += f", {v[1] / t['limit'][1]:.2f}x limit"
            row(case, tool, v, extra)
        per_task[size] = {k: (v[1] / size if v else None) for k, v in t.items()}
        verdict(f"overhead {size}: squad <= 1.03x limit", ratio(t["squad"], t["limit"]), 1.03)
        verdict(f"overhead {size}: squad <= 0.93x ninja", ratio(t["squad"], t["ninja"]), 0.93)
    small, big = meta["overhead_sizes"][0], meta["overhead_sizes"][-1]
    if big != small:
        growth = {k: (per_task[big][k] / per_task[small][k]
                      if per_task[big][k] and per_task[small][k] else None) for k in per_task[small]}
        shown = ", ".join(f"{k} {v:.2f}x" for k, v in growth.items() if v)
        lim = growth["limit"] * 1.10 if growth["limit"] else 1.10
        verdict(f"overhead: squad time/task {big} vs {small} <= 1.10x the limit's growth "
                f"({shown})", growth["squad"], lim)

    # 2. makespan
    bound = meta["makespan_bound"]
    for case, tools in (("makespan1", ("squad", "make", "ninja")),
                        ("makespan2", ("squad-first", "squad-warm", "make", "ninja"))):
        for tool in tools:
            v = load(res, f"{case}.{tool}")
            row(f"{case} -j4 (bound {bound:.1f}s)", tool, v, f"{v[1] / bound:.2f}x bound" if v else "")
    s1, s2f, s2w = (load(res, n) for n in ("makespan1.squad", "makespan2.squad-first", "makespan2.squad-warm"))
    verdict("makespan1: squad first run <= 1.05x bound", s1[1] / bound if s1 else None, 1.05)
    if s2f:
        verdicts.append(f"INFO  makespan2: squad first run (no durations) {s2f[1] / bound:.3f}x bound")
    verdict("makespan2: squad with recorded durations <= 1.05x bound", s2w[1] / bound if s2w else None, 1.05)

    # 3. planning
    n = meta["plan_size"]
    sq, nj = load(res, "plan.squad"), load(res, "plan.ninja")
    rss = {k: note(res, f"plan.{k}.rss") for k in ("squad", "ninja")}
    row(f"plan -n {n}", "squad", sq, f"{rss['squad']} KB peak RSS" if rss["squad"] else "")
    row(f"plan -n {n}", "ninja", nj, f"{rss['ninja']} KB peak RSS" if rss["ninja"] else "")
    verdict(f"plan {n}: squad -n <= 1.0x ninja -n", ratio(sq, nj), 1.0)
    verdict("plan: squad -n peak RSS < 20 MB",
            int(rss["squad"]) / 1024 if rss["squad"] and rss["squad"].isdigit() else None, 19.999, " MB")

    # 4. no-op
    n = meta["noop_size"]
    why = note(res, "noop.squad.unsupported")
    sq, nj = load(res, "noop.squad"), load(res, "noop.ninja")
    row(f"no-op {n} tasks", "squad", sq, why and f"not supported yet: {why}")
    row(f"no-op {n} tasks", "ninja", nj)
    if why:
        verdicts.append(f"INFO  no-op: squad not supported yet ({why})")
    elif sq and nj:
        verdicts.append(f"INFO  no-op: squad {ratio(sq, nj):.3f}x ninja (no goal set)")

    # 5. agents
    ag = note(res, "agents.txt")
    verdicts.append(f"INFO  agents: {ag or 'skipped'}")
    for tool in ("one", "many"):
        v = load(res, f"agents.{tool}")
        if v:
            row("agents (qwen, mock server)", tool, v)

    w = [max(len(r[i]) for r in rows + [("case", "tool", "min s", "median s", "")]) for i in range(5)]
    print()
    print("  ".join(h.ljust(w[i]) for i, h in enumerate(("case", "tool", "min s", "median s", "notes"))))
    last = None
    for r in rows:
        c = r[0] if r[0] != last else ""
        last = r[0]
        print("  ".join([c.ljust(w[0]), r[1].ljust(w[1]), r[2].rjust(w[2]), r[3].rjust(w[3]), r[4]]))
    print()
    for v in verdicts:
        print(v)
    print(f"\n(ratios use medians; raw hyperfine JSON in {res})")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"dag": gen_dag, "makespan1": gen_makespan1, "makespan2": gen_makespan2,
     "noop": gen_noop, "agents": gen_agents, "report": report}[cmd](*args)
