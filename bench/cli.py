#!/usr/bin/env python3
"""Benchmark: the scripting commands `ps`, `ps --format json` and `exec` on a 30-service stack,
rcompose against the reference docker compose, alternating, medians and ratios.

    bench/cli.py [--rounds 9] [--write BENCHMARKS.md]
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import ROOT, cleanup, machine, wide30, write_section  # noqa: E402

COMMANDS = {
    "ps": ["ps"],
    "ps --format json": ["ps", "--format", "json"],
    "exec s00 true": ["exec", "-T", "s00", "true"],
}


def timed(cmd, cwd):
    t = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {p.stderr.decode()[-500:]}")
    return dt


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--rcompose", default=os.path.join(ROOT, "target/release/rcompose"))
    ap.add_argument("--write", metavar="FILE")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="rcompose-bench-cli-")
    with open(os.path.join(work, "compose.yaml"), "w") as f:
        json.dump(wide30(), f)
    project = f"bench-cli-{os.getpid()}"
    cleanup(project)
    tools = {"rcompose": [a.rcompose, "-p", project], "reference": ["docker", "compose", "-p", project]}
    res = {(c, t): [] for c in COMMANDS for t in tools}
    try:
        subprocess.run(tools["rcompose"] + ["--progress", "quiet", "up", "-d"], cwd=work, check=True)
        for r in range(a.rounds):
            for c, args in COMMANDS.items():
                for t in (list(tools) if r % 2 == 0 else list(tools)[::-1]):
                    res[(c, t)].append(timed(tools[t] + args, work))
            print(f"round {r + 1} done", file=sys.stderr)
    finally:
        cleanup(project)
    table = [
        "| command | rcompose (median s) | reference (median s) | rcompose/reference |",
        "|---|---|---|---|",
    ]
    for c in COMMANDS:
        m, ref = statistics.median(res[(c, "rcompose")]), statistics.median(res[(c, "reference")])
        table.append(f"| `{c}` | {m:.3f} | {ref:.3f} | {m / ref:.2f} |")
    text = "\n".join(table)
    print(text)
    if a.write:
        body = (
            f"## Scripting commands on 30 services ({datetime.date.today()}, {a.rounds} rounds, medians)\n\n"
            f"Machine: {machine()}.\n\nThe `wide30` stack, up; each command run by both tools alternately. "
            "Run: `bench/cli.py --write BENCHMARKS.md`.\n\n" + text
        )
        write_section(a.write, body, "cli")


if __name__ == "__main__":
    main()
