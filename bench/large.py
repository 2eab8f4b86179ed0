#!/usr/bin/env python3
"""Benchmark: large projects. 100 and 500 independent services, up; `config`, `ps`,
`ps --format json`, a no-op `up -d` and `logs --tail 10` run by rcompose and the reference
alternately (medians), then `down` of each size once per tool. The last column shows how the cost
grows: rcompose's time at 500 over its time at 100 (5.00 would be exactly linear).

    bench/large.py [--rounds 5] [--sizes 100,500] [--write BENCHMARKS.md]
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import ROOT, cleanup, machine, service, write_section  # noqa: E402

# A row: the engine's own time for the list `ps` makes, over the reference's `ps`.
FLOOR = "engine floor of ps: its one filtered list (curl)"

COMMANDS = {
    "config": ["config"],
    "ps": ["ps"],
    "ps --format json": ["ps", "--format", "json"],
    "up -d (nothing to do)": ["--progress", "quiet", "up", "-d"],
    "logs --tail 10": ["logs", "--tail", "10"],
}


def model(n):
    services = {}
    for i in range(n):
        s = service()
        # A line of output each, so that `logs` has something to read.
        s["command"] = ["sh", "-c", f"echo started s{i:03d}; trap 'exit 0' TERM; sleep 100000 & wait"]
        services[f"s{i:03d}"] = s
    return {"services": services}


def timed(cmd, cwd, check=True):
    t = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t
    if p.returncode != 0 and not check:
        # The engine (20.10) can refuse to remove a network whose last endpoints are still going
        # away after a large `down`: the time is kept, the failure said.
        print(f"{' '.join(cmd)} failed: {p.stderr.decode()[-300:]}", file=sys.stderr)
    elif p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {p.stderr.decode()[-500:]}")
    return dt


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--sizes", default="100,500")
    ap.add_argument("--rcompose", default=os.path.join(ROOT, "target/release/rcompose"))
    ap.add_argument("--write", metavar="FILE")
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    med = {}
    for n in sizes:
        work = tempfile.mkdtemp(prefix=f"rcompose-bench-large-{n}-")
        with open(os.path.join(work, "compose.yaml"), "w") as f:
            json.dump(model(n), f)
        project = f"bench-large{n}-{os.getpid()}"
        cleanup(project)
        tools = {"rcompose": [a.rcompose, "-p", project], "reference": ["docker", "compose", "-p", project]}
        res = {(c, t): [] for c in COMMANDS for t in tools}
        # The engine's floor for `ps`: the one filtered list it makes, asked by curl.
        filters = urllib.parse.quote(json.dumps({"label": [f"com.docker.compose.project={project}"]}))
        floor_cmd = ["curl", "-sf", "--unix-socket", "/var/run/docker.sock", "-o", "/dev/null",
                     f"http://docker/v1.41/containers/json?all=1&filters={filters}"]
        res[(FLOOR, "rcompose")] = []
        try:
            subprocess.run(tools["rcompose"] + ["--progress", "quiet", "up", "-d"], cwd=work, check=True)
            for r in range(a.rounds):
                for c, args in COMMANDS.items():
                    for t in (list(tools) if r % 2 == 0 else list(tools)[::-1]):
                        res[(c, t)].append(timed(tools[t] + args, work))
                res[(FLOOR, "rcompose")].append(timed(floor_cmd, work))
                print(f"{n} services: round {r + 1} done", file=sys.stderr)
            for i, t in enumerate(["rcompose", "reference"]):
                if i:
                    subprocess.run(tools["rcompose"] + ["--progress", "quiet", "up", "-d"], cwd=work, check=True)
                res[("down", t)] = [timed(tools[t] + ["--progress", "quiet", "down"], work, check=False)]
                print(f"{n} services: {t} down {res[('down', t)][0]:.2f}s", file=sys.stderr)
        finally:
            cleanup(project)
        for (c, t), v in res.items():
            med[(n, c, t)] = statistics.median(v)
        med[(n, FLOOR, "reference")] = med[(n, "ps", "reference")]
    table = [
        "| command | " + " | ".join(f"{n}: rcompose | {n}: reference | {n}: ratio" for n in sizes)
        + (" | rcompose growth |" if len(sizes) > 1 else " |"),
        "|---|" + "---|---|---|" * len(sizes) + ("---|" if len(sizes) > 1 else ""),
    ]
    for c in list(COMMANDS) + ["down", FLOOR]:
        cells = []
        for n in sizes:
            m, ref = med[(n, c, "rcompose")], med[(n, c, "reference")]
            cells += [f"{m:.3f}", f"{ref:.3f}", f"{m / ref:.2f}"]
        growth = f" | {med[(sizes[-1], c, 'rcompose')] / med[(sizes[0], c, 'rcompose')]:.2f}" if len(sizes) > 1 else ""
        table.append(f"| `{c}` | " + " | ".join(cells) + growth + " |")
    text = "\n".join(table)
    print(text)
    if a.write:
        body = (
            f"## Large projects ({datetime.date.today()}, {a.rounds} rounds, medians in seconds; `down` once)\n\n"
            f"Machine: {machine()}.\n\n"
            f"{' and '.join(map(str, sizes))} independent services, up (each printed one line); each command "
            "run by both tools alternately, output to /dev/null; `down` once per tool. The last row is the "
            "engine alone answering the one filtered container list `ps` makes (curl on its socket), over the "
            "reference's `ps`: no client can go below it. growth: rcompose at "
            f"{sizes[-1]} over rcompose at {sizes[0]} ({sizes[-1] / sizes[0]:.2f} is linear). "
            "Run: `bench/large.py --write BENCHMARKS.md`.\n\n" + text
        )
        write_section(a.write, body, "large")


if __name__ == "__main__":
    main()
