#!/usr/bin/env python3
"""Writes scripts/hot-code.txt: the functions of rcompose that everyday commands run, in the
order the release link lays them out first (see build.rs).

Why: the kernel maps a binary's code 64 KiB at a time around each page a command touches. Spread
over 17 MB of code, the ~2 MB a `ps` runs touched most of it, and that counted as the command's
memory. Laid out together, it is a few hundred pages.

How: each command below runs once under valgrind's callgrind on the `wide30` stack (the small
client benchmark's); the functions of the binary it ran are kept: first those `version` runs,
then the rest of what `config` runs, of `ps`, of a no-op `up`, then the others; within each,
those used by the most commands first, then in the binary's current order. So the smaller
commands map fewer pages and the larger ones find most of theirs already together. A stale list only costs memory, never correctness:
names it has that the binary lacks are ignored at link time.

    scripts/hot-code.py [--rcompose target/release/rcompose]

Each command also runs twice at full speed under `perf` (when present), and the functions whose
code page-faulted in are added: some code runs only at full speed.

Needs valgrind, the engine and the test image (scripts/setup.sh). Cleans up by label.
"""

import argparse
import bisect
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
from run import ROOT, cleanup, wide30  # noqa: E402

OUT = os.path.join(ROOT, "scripts", "hot-code.txt")

# (name, arguments), run in this order on one project: `up` makes the stack the next ones read.
WORKLOADS = [
    ("version", ["version"]),
    ("help", ["--help"]),
    ("config", ["config"]),
    ("create", ["up", "-d"]),
    ("up no-op", ["--progress", "quiet", "up", "-d"]),
    ("up no-op, plain", ["up", "-d"]),
    ("ps", ["ps"]),
    ("ps -a", ["ps", "-a"]),
    ("ps json", ["ps", "--format", "json"]),
    ("logs", ["logs", "--tail", "10"]),
    ("ls", ["ls"]),
    ("down", ["down"]),
]

# The commands whose functions come first, each after the ones before it.
LAYERS = ["version", "config", "ps", "up no-op"]


def symbols(binary):
    """Function symbols of the binary (mangled) with their addresses."""
    out = subprocess.run(["nm", binary], check=True, capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwW":
            syms.setdefault(parts[2], int(parts[0], 16))
    return syms


def ran(binary, args, cwd, syms):
    """The binary's functions that one command ran."""
    with tempfile.NamedTemporaryFile(prefix="callgrind-") as f:
        p = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={f.name}", "--demangle=no",
             "--dump-instr=no", binary] + args,
            cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed under valgrind: {p.stderr[-800:]}")
        names = set()
        with open(f.name, errors="replace") as cg:
            for line in cg:
                m = re.match(r"c?fn=\(\d+\) (.*)$", line)
                if m and m.group(1).strip() in syms:
                    names.add(m.group(1).strip())
        return names


def faulted(binary, args, cwd, starts, names):
    """The binary's functions whose code faulted in, in a real-time run under `perf` (this
    catches what only runs at full speed, such as tasks still alive when the runtime ends)."""
    with tempfile.NamedTemporaryFile(prefix="perf-") as f:
        p = subprocess.run(
            ["perf", "record", "-q", "-e", "page-faults", "-c", "1", "-d", "-o", f.name, binary] + args,
            cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed under perf: {p.stderr[-800:]}")
        out = subprocess.run(
            ["perf", "script", "-i", f.name, "--show-mmap-events", "-F", "ip,addr"],
            check=True, capture_output=True, text=True,
        ).stdout
    base = None
    got = set()
    real = os.path.realpath(binary)
    for line in out.splitlines():
        m = re.search(r"\[(0x[0-9a-f]+)\(0x[0-9a-f]+\) @ (0x[0-9a-f]+|0) .*\]: [r-][w-][x-][ps] (.*)$", line)
        if m and m.group(3).strip() == real and int(m.group(2), 16) == 0 and base is None:
            base = int(m.group(1), 16)
            continue
        if base is None or "PERF_RECORD" in line:
            continue
        try:
            addr, ip = (int(w, 16) for w in line.split()[:2])
        except ValueError:
            continue
        # Code faults only: the instruction is at the faulting address (data faults are not).
        if abs(addr - ip) > 16:
            continue
        at = addr - base
        i = bisect.bisect_right(starts, at) - 1
        if i >= 0:
            got.add(names[i])
    return got


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rcompose", default=os.path.join(ROOT, "target/release/rcompose"))
    a = ap.parse_args()
    syms = symbols(a.rcompose)
    by_address = sorted((at, name) for name, at in syms.items())
    starts, names = [at for at, _ in by_address], [name for _, name in by_address]
    perf = shutil.which("perf") is not None
    work = tempfile.mkdtemp(prefix="rcompose-hot-code-")
    with open(os.path.join(work, "compose.yaml"), "w") as f:
        json.dump(wide30(), f)
    project = f"hot-code-{os.getpid()}"
    runs = {}
    cleanup(project)
    try:
        for name, args in WORKLOADS:
            got = ran(a.rcompose, ["-p", project] + args, work, syms)
            if perf:
                for _ in range(2):
                    got |= faulted(a.rcompose, ["-p", project] + args, work, starts, names)
            print(f"{name}: {len(got)} functions", file=sys.stderr)
            runs[name] = got
    finally:
        cleanup(project)
    def first(n):
        return next((i for i, name in enumerate(LAYERS) if n in runs[name]), len(LAYERS))

    count = collections.Counter(n for got in runs.values() for n in got)
    order = sorted(count, key=lambda n: (first(n), -count[n], syms[n]))
    with open(OUT, "w") as f:
        f.write("".join(n + "\n" for n in order))
    print(f"wrote {len(order)} functions to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
