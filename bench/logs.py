#!/usr/bin/env python3
"""Benchmark: `logs` (no follow) of 10 services that together wrote N lines, to /dev/null.

rcompose and the reference docker compose run alternately on the same stack; the report gives
median wall time, the ratio rcompose/reference and each tool's peak resident memory (from wait4),
at two log sizes to show whether memory grows with the amount of log data.

    bench/logs.py [--rounds 5] [--lines 1000000] [--write BENCHMARKS.md]
"""

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import ROOT, cleanup, machine, write_section  # noqa: E402

SERVICES = 10


def compose(lines):
    per = lines // SERVICES
    out = ["services:"]
    for i in range(SERVICES):
        # busybox seq prints the numbers; a prefix makes lines of a realistic length.
        out += [
            f"  s{i}:",
            "    image: rcompose-test:latest",
            f'    command: ["sh", "-c", "seq 1 {per} | sed s/^/service-{i}-line-/"]',
        ]
    return "\n".join(out) + "\n"


def measure(cmd, cwd):
    t = time.perf_counter()
    with open(os.devnull, "wb") as null:
        p = subprocess.Popen(cmd, cwd=cwd, stdout=null, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(p.pid, 0)
    dt = time.perf_counter() - t
    if status != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {p.stderr.read().decode()[-500:]}")
    return dt, usage.ru_maxrss / 1024  # MiB


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--rcompose", default=os.path.join(ROOT, "target/release/rcompose"))
    ap.add_argument("--write", metavar="FILE")
    a = ap.parse_args()
    rows = []
    for lines in (a.lines // 10, a.lines):
        work = tempfile.mkdtemp(prefix="rcompose-bench-logs-")
        with open(os.path.join(work, "compose.yaml"), "w") as f:
            f.write(compose(lines))
        project = f"bench-logs-{lines}-{os.getpid()}"
        cleanup(project)
        try:
            subprocess.run([a.rcompose, "-p", project, "--progress", "quiet", "up", "-d"], cwd=work, check=True)
            # Wait for the writers to finish.
            while True:
                ps = subprocess.run(["docker", "ps", "-q", "--filter", f"label=com.docker.compose.project={project}"],
                                    capture_output=True, text=True).stdout.split()
                if not ps:
                    break
                time.sleep(0.5)
            floor = " ".join(
                f"curl -s --unix-socket /var/run/docker.sock "
                f"'http://engine/v1.41/containers/{project}-s{i}-1/logs?stdout=1&stderr=1' >/dev/null &"
                for i in range(SERVICES)
            ) + " wait"
            tools = {
                "rcompose": [a.rcompose, "-p", project, "logs"],
                "reference": ["docker", "compose", "-p", project, "logs"],
                "floor": ["sh", "-c", floor],
            }
            res = {t: ([], []) for t in tools}
            for r in range(a.rounds):
                order = list(tools)
                order = order[r % 3:] + order[: r % 3]
                for t in order:
                    dt, mem = measure(tools[t], work)
                    res[t][0].append(dt)
                    res[t][1].append(mem)
                    print(f"{lines} lines round {r + 1} {t}: {dt:.3f}s {mem:.1f} MiB", file=sys.stderr)
            med = {t: (statistics.median(v[0]), max(v[1])) for t, v in res.items()}
            rows.append((lines, med))
        finally:
            cleanup(project)
    table = [
        "| lines | rcompose (median s) | reference (median s) | floor (median s) | rcompose/reference | rcompose/floor | rcompose peak RSS | reference peak RSS |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for lines, med in rows:
        table.append(
            f"| {lines:,} | {med['rcompose'][0]:.3f} | {med['reference'][0]:.3f} | {med['floor'][0]:.3f} | "
            f"{med['rcompose'][0] / med['reference'][0]:.2f} | {med['rcompose'][0] / med['floor'][0]:.2f} | "
            f"{med['rcompose'][1]:.1f} MiB | {med['reference'][1]:.1f} MiB |"
        )
    text = "\n".join(table)
    print(text)
    if a.write:
        body = (
            f"## `logs` to /dev/null ({datetime.date.today()}, {a.rounds} rounds, medians; peak memory is the maximum)\n\n"
            f"Machine: {machine()}.\n\n"
            f"{SERVICES} services that together wrote the given number of lines (about 25 bytes each), then "
            "`logs` without follow, stdout to /dev/null. floor: the same ten log streams read in parallel "
            "straight from the Engine API by curl, discarded unparsed: the floor of any client of the API. "
            "rcompose goes under it because, on a local engine with the json-file driver, it reads each "
            "container's log file itself instead of having the engine decode and re-frame every line "
            "(`RCOMPOSE_LOGS_API=1` turns that off). Two sizes show whether memory grows "
            "with the amount of log data. Run: `bench/logs.py --write BENCHMARKS.md`.\n\n" + text
        )
        write_section(a.write, body, "logs")


if __name__ == "__main__":
    main()
