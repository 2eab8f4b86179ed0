#!/usr/bin/env python3
"""Benchmark: the small client. Peak memory (`/usr/bin/time -v`, maximum resident set size) and
wall time of `ps`, a no-op `up -d`, `config` on the running `wide30` stack, and of `version`,
rcompose against the reference docker compose, alternating; medians.

    bench/client.py [--rounds 15] [--write BENCHMARKS.md]
"""

import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import ROOT, cleanup, machine, wide30, write_section  # noqa: E402

COMMANDS = {
    "ps": ["ps"],
    "up -d (nothing to do)": ["--progress", "quiet", "up", "-d"],
    "config": ["config"],
    "version": ["version"],
}


def measured(cmd, cwd):
    """(wall seconds, peak RSS in KiB) of one run under /usr/bin/time -v."""
    t = time.perf_counter()
    p = subprocess.run(
        ["/usr/bin/time", "-v"] + cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True,
    )
    dt = time.perf_counter() - t
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {p.stderr[-800:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
    return dt, rss


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--rcompose", default=os.path.join(ROOT, "target/release/rcompose"))
    ap.add_argument("--write", metavar="FILE")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="rcompose-bench-client-")
    with open(os.path.join(work, "compose.yaml"), "w") as f:
        json.dump(wide30(), f)
    project = f"bench-client-{os.getpid()}"
    cleanup(project)
    tools = {"rcompose": [a.rcompose, "-p", project], "reference": ["docker", "compose", "-p", project]}
    res = {(c, t): [] for c in COMMANDS for t in tools}
    try:
        subprocess.run(tools["rcompose"] + ["--progress", "quiet", "up", "-d"], cwd=work, check=True)
        for r in range(a.rounds):
            for c, args in COMMANDS.items():
                for t in (list(tools) if r % 2 == 0 else list(tools)[::-1]):
                    res[(c, t)].append(measured(tools[t] + args, work))
            print(f"round {r + 1} done", file=sys.stderr)
    finally:
        cleanup(project)
    table = [
        "| command | rcompose (median s) | reference (median s) | rcompose/reference "
        "| rcompose peak RSS (median, max) | reference peak RSS (median) |",
        "|---|---|---|---|---|---|",
    ]
    mib = lambda kib: f"{kib / 1024:.1f} MiB"  # noqa: E731
    for c in COMMANDS:
        m = statistics.median(x[0] for x in res[(c, "rcompose")])
        ref = statistics.median(x[0] for x in res[(c, "reference")])
        rss = [x[1] for x in res[(c, "rcompose")]]
        ref_rss = statistics.median(x[1] for x in res[(c, "reference")])
        table.append(
            f"| `{c}` | {m:.4f} | {ref:.4f} | {m / ref:.2f} | {mib(statistics.median(rss))}, {mib(max(rss))} "
            f"| {mib(ref_rss)} |"
        )
    text = "\n".join(table)
    print(text)
    if a.write:
        body = (
            f"## The small client: memory and start-up on 30 services ({datetime.date.today()}, "
            f"{a.rounds} rounds, medians)\n\n"
            f"Machine: {machine()}.\n\nThe `wide30` stack, up; each command run by both tools alternately "
            "under `/usr/bin/time -v` (peak RSS is its maximum resident set size), output to /dev/null. "
            "Run: `bench/client.py --write BENCHMARKS.md`.\n\n" + text
        )
        write_section(a.write, body, "client")


if __name__ == "__main__":
    main()
