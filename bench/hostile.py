#!/usr/bin/env python3
"""Hostile inputs (issue 19): time and peak memory of `rcompose config -q` against the reference
`docker compose config -q` on each. Every input must be rejected or loaded in time and memory
linear in its size. Run from the repository root after `cargo build --release`:

    python3 bench/hostile.py [--skip-reference] [--timeout SECONDS]
"""
import argparse
import os
import signal
import subprocess
import tempfile
import time


def nested_interpolation(n):
    return 'services:\n  a:\n    image: "' + "${A:-" * n + "x" + "}" * n + '"\n'


def nested_brackets(n, closed):
    return "services:\n  a:\n    image: " + "[" * n + ("]" * n if closed else "") + "\n"


def many_services(n, chained):
    out = ["services:\n"]
    for i in range(n):
        out.append(f"  s{i}:\n    image: x\n")
        if chained and i:
            out.append(f"    depends_on: [s{i - 1}]\n")
    return "".join(out)


CASES = [
    ("${ nested 30,000 deep", lambda: nested_interpolation(30_000)),
    ("[ nested 100,000 deep, unclosed", lambda: nested_brackets(100_000, False)),
    ("[ nested 100,000 deep, closed", lambda: nested_brackets(100_000, True)),
    ("100,000 services", lambda: many_services(100_000, False)),
    ("100,000 services in one depends_on chain", lambda: many_services(100_000, True)),
    ("1,000,000 services", lambda: many_services(1_000_000, False)),
]


def measure(cmd, cwd, timeout):
    """Seconds, peak RSS in MiB, exit code and first stderr line; the whole process group is
    killed at the timeout (the docker CLI does not pass signals on to its plugin)."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pid, status, usage = os.wait4(proc.pid, 0)
            return time.monotonic() - start, usage.ru_maxrss / 1024, "timeout", ""
        time.sleep(0.02)
    elapsed = time.monotonic() - start
    err = proc.stderr.read().decode(errors="replace").strip().splitlines()
    first = err[0][:100] if err else ""
    longest = max((len(line) for line in err), default=0)
    code = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss / 1024, f"exit {code}", f"{first} (longest line {longest})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-reference", action="store_true")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--rcompose", default="target/release/rcompose")
    args = ap.parse_args()
    rcompose = os.path.abspath(args.rcompose)
    tools = [("rcompose", [rcompose])]
    if not args.skip_reference:
        tools.append(("reference", ["docker", "compose"]))
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in CASES:
            text = make()
            path = os.path.join(tmp, "compose.yaml")
            with open(path, "w") as f:
                f.write(text)
            print(f"== {name} ({len(text) / 1e6:.1f} MB)")
            for tool, cmd in tools:
                t, rss, code, err = measure(cmd + ["-p", "hostile", "-f", path, "config", "-q"],
                                            tmp, args.timeout)
                print(f"  {tool:9} {t:8.2f} s  {rss:8.1f} MiB  {code:8}  {err}")


if __name__ == "__main__":
    main()
