#!/usr/bin/env python3
"""Benchmark: `config` of a generated project of 1,000 services (YAML anchors and merge keys, an
override file, a `.env` file for interpolation and an `env_file` per service), rcompose against
the reference docker compose, alternating; median time and peak memory.

    bench/config.py [--rounds 7] [--services 1000] [--write BENCHMARKS.md]
"""

import argparse
import datetime
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from logs import measure  # noqa: E402
from run import ROOT, machine, write_section  # noqa: E402


def generate(work, n):
    """Writes compose.yaml, compose.override.yaml, .env and common.env into `work`."""
    base = [
        "x-common: &common",
        "  image: rcompose-test:${TAG:-latest}",
        "  init: true",
        "  restart: unless-stopped",
        "  env_file: [common.env]",
        "  labels: {tier: bench}",
        "  healthcheck: {test: [\"CMD\", \"true\"], interval: 5s, timeout: 2s, retries: 3}",
        "x-limits: &limits",
        "  deploy: {resources: {limits: {cpus: '0.5', memory: 64M}}}",
        "services:",
    ]
    for i in range(n):
        base += [
            f"  s{i:04}:",
            "    <<: [*common, *limits]",
            f'    command: ["sh", "-c", "echo ${{GREETING}} {i}"]',
            f"    ports: [\"{20000 + i}:80\"]",
            f"    volumes: [\"data{i % 10}:/data\", \"./conf:/conf:ro\"]",
            f"    environment: {{INDEX: \"{i}\", MODE: \"${{MODE:-dev}}\"}}",
        ]
        if i > 0:
            base.append(f"    depends_on: [s{i - 1:04}]" if i % 10 else "    depends_on: {s0000: {condition: service_started}}")
    base.append("volumes:")
    base += [f"  data{k}: {{}}" for k in range(10)]
    with open(os.path.join(work, "compose.yaml"), "w") as f:
        f.write("\n".join(base) + "\n")
    over = ["services:"]
    for i in range(0, n, 3):
        over += [
            f"  s{i:04}:",
            "    environment: {OVERRIDDEN: \"yes\"}",
            f"    ports: [\"{40000 + i}:81\"]",
            "    labels: {override: \"true\"}",
        ]
    with open(os.path.join(work, "compose.override.yaml"), "w") as f:
        f.write("\n".join(over) + "\n")
    with open(os.path.join(work, ".env"), "w") as f:
        f.write("TAG=latest\nGREETING=hello\nMODE=bench\n")
    with open(os.path.join(work, "common.env"), "w") as f:
        f.write("".join(f"COMMON_{k}=value-{k}\n" for k in range(20)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--services", type=int, default=1000)
    ap.add_argument("--rcompose", default=os.path.join(ROOT, "target/release/rcompose"))
    ap.add_argument("--write", metavar="FILE")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="rcompose-bench-config-")
    generate(work, a.services)
    tools = {
        "rcompose": [a.rcompose, "-p", "bench", "config", "--format", "json"],
        "reference": ["docker", "compose", "-p", "bench", "config", "--format", "json"],
    }
    times = {t: [] for t in tools}
    rss = {t: 0.0 for t in tools}
    for r in range(a.rounds):
        for t in (list(tools) if r % 2 == 0 else list(tools)[::-1]):
            dt, mib = measure(tools[t], work)
            times[t].append(dt)
            rss[t] = max(rss[t], mib)
        print(f"round {r + 1} done", file=sys.stderr)
    m, ref = statistics.median(times["rcompose"]), statistics.median(times["reference"])
    text = "\n".join([
        "| services | rcompose (median s) | reference (median s) | rcompose/reference | rcompose peak RSS | reference peak RSS |",
        "|---|---|---|---|---|---|",
        f"| {a.services:,} | {m:.3f} | {ref:.3f} | {m / ref:.2f} | {rss['rcompose']:.1f} MiB | {rss['reference']:.1f} MiB |",
    ])
    print(text)
    if a.write:
        body = (
            f"## `config` of a large project ({datetime.date.today()}, {a.rounds} rounds, medians; peak memory is the maximum)\n\n"
            f"Machine: {machine()}.\n\n"
            f"{a.services:,} services sharing YAML anchors through `<<` merge keys, an override file for every third "
            "service, interpolation from `.env`, an `env_file` each, ports, volumes and `depends_on`; "
            "`config --format json` to /dev/null. Run: `bench/config.py --write BENCHMARKS.md`.\n\n" + text
        )
        write_section(a.write, body, "config")


if __name__ == "__main__":
    main()
