#!/usr/bin/env python3
"""Benchmark: `backup` and `restore` of one volume holding 1 GB in 10,000 files.

Side by side, alternating, on the same volume: rcompose (plain tar and zstd), the documented
recipe (`docker run --rm -v VOL:/data -v DIR:/backup IMAGE tar ...`) and `tar` of the volume's
folder on the host (the physical limit). Medians of wall time, ratios, and each tool's peak
resident memory (from wait4: the client process; the recipe's work happens in the engine).

    bench/volumes.py [--rounds 3] [--mb 1000] [--files 10000] [--write BENCHMARKS.md]
"""

import argparse
import datetime
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import ROOT, cleanup, machine, write_section  # noqa: E402

IMAGE = "rcompose-test:latest"
COMPOSE = """services:
  app:
    image: rcompose-test:latest
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
    volumes: [data:/data]
volumes:
  data:
"""


def measure(cmd, cwd, stdin=None):
    # The disk's write-back of one run must not slow the next: each starts with nothing dirty,
    # and its time runs until what it wrote is on disk (`sync`), for every tool alike.
    os.sync()
    t = time.perf_counter()
    with open(os.devnull, "wb") as null:
        src = open(stdin, "rb") if stdin else subprocess.DEVNULL
        p = subprocess.Popen(cmd, cwd=cwd, stdout=null, stderr=subprocess.PIPE, stdin=src)
        _, status, usage = os.wait4(p.pid, 0)
        if stdin:
            src.close()
    os.sync()
    dt = time.perf_counter() - t
    if status != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {p.stderr.read().decode()[-500:]}")
    return dt, usage.ru_maxrss / 1024  # MiB


def mountpoint(volume):
    return subprocess.run(["docker", "volume", "inspect", volume, "--format", "{{.Mountpoint}}"],
                          capture_output=True, text=True, check=True).stdout.strip()


def fill(folder, mb, files):
    size = mb * 1_000_000 // files
    with open("/dev/urandom", "rb") as r:
        for i in range(files):
            with open(os.path.join(folder, f"f{i:05d}"), "wb") as f:
                f.write(r.read(size))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--mb", type=int, default=1000)
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--rcompose", default=os.path.join(ROOT, "target/release/rcompose"))
    ap.add_argument("--write", metavar="FILE")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="rcompose-bench-vol-", dir="/var/tmp")
    with open(os.path.join(work, "compose.yaml"), "w") as f:
        f.write(COMPOSE)
    project = f"bench-vol-{os.getpid()}"
    target = f"bench-vol-to-{os.getpid()}"
    cleanup(project)
    cleanup(target)
    rc = a.rcompose
    out = os.path.join(work, "out")
    try:
        subprocess.run([rc, "-p", project, "--progress", "quiet", "create"], cwd=work, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        vol = f"{project}_data"
        fill(mountpoint(vol), a.mb, a.files)
        host_dir = mountpoint(vol)
        backup = {
            "rcompose (none)": [rc, "-p", project, "--progress", "quiet", "backup", "--compress", "none",
                                "-o", out + ".rc.tar"],
            "rcompose (zstd)": [rc, "-p", project, "--progress", "quiet", "backup", "-o", out + ".rc.tar.zst"],
            "recipe": ["docker", "run", "--rm", "--network", "none", "-v", f"{vol}:/data:ro", "-v",
                       f"{work}:/backup", IMAGE, "tar", "cf", "/backup/out.recipe.tar", "-C", "/data", "."],
            "host tar": ["tar", "cf", out + ".host.tar", "-C", host_dir, "."],
        }
        res = {t: ([], []) for t in backup}
        for r in range(a.rounds):
            order = list(backup)
            order = order[r % len(order):] + order[: r % len(order)]
            for t in order:
                subprocess.run(["sync"])
                dt, mem = measure(backup[t], work)
                res[t][0].append(dt)
                res[t][1].append(mem)
                print(f"backup round {r + 1} {t}: {dt:.3f}s {mem:.1f} MiB", file=sys.stderr)
        # Restore: each into an empty volume, made anew before each run.
        tvol = f"{target}_data"
        restore = {
            "rcompose (none)": ([rc, "-p", target, "--progress", "quiet", "restore", "-i", out + ".rc.tar"], None),
            "rcompose (zstd)": ([rc, "-p", target, "--progress", "quiet", "restore", "-i", out + ".rc.tar.zst"], None),
            "recipe": (["docker", "run", "--rm", "--network", "none", "-v", f"{tvol}:/data", "-v",
                        f"{work}:/backup:ro", IMAGE, "tar", "xf", "/backup/out.recipe.tar", "-C", "/data"], None),
            "host tar": (["tar", "xf", out + ".host.tar", "-C", "@HOST@"], None),
        }
        rres = {t: ([], []) for t in restore}
        for r in range(a.rounds):
            order = list(restore)
            order = order[r % len(order):] + order[: r % len(order)]
            for t in order:
                cleanup(target)
                subprocess.run(["docker", "volume", "rm", "-f", tvol], capture_output=True)
                cmd = list(restore[t][0])
                if t in ("recipe", "host tar"):
                    subprocess.run(["docker", "volume", "create", tvol], capture_output=True, check=True)
                    cmd = [c.replace("@HOST@", mountpoint(tvol)) for c in cmd]
                subprocess.run(["sync"])
                dt, mem = measure(cmd, work)
                rres[t][0].append(dt)
                rres[t][1].append(mem)
                print(f"restore round {r + 1} {t}: {dt:.3f}s {mem:.1f} MiB", file=sys.stderr)
    finally:
        cleanup(project)
        cleanup(target)
        subprocess.run(["docker", "volume", "rm", "-f", f"{target}_data"], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    table = [
        "| op | tool | median s | MB/s | /recipe | /host tar | peak RSS |",
        "|---|---|---|---|---|---|---|",
    ]
    for op, r in (("backup", res), ("restore", rres)):
        med = {t: statistics.median(v[0]) for t, v in r.items()}
        for t, v in r.items():
            table.append(
                f"| {op} | {t} | {med[t]:.2f} | {a.mb / med[t]:.0f} | {med[t] / med['recipe']:.2f} | "
                f"{med[t] / med['host tar']:.2f} | {max(v[1]):.1f} MiB |"
            )
    text = "\n".join(table)
    print(text)
    if a.write:
        body = (
            f"## Volume `backup` and `restore`, {a.mb} MB in {a.files:,} files ({datetime.date.today()}, "
            f"{a.rounds} rounds, alternating, medians; peak memory is the maximum)\n\n"
            f"Machine: {machine()}.\n\n"
            "One named volume of random (incompressible) data. rcompose: `backup -o FILE` (`--compress none` "
            "and the default zstd) with no service running, and `restore -i FILE` into a new project. recipe: "
            "the documented `docker run --rm -v VOL:/data -v DIR:/backup IMAGE tar cf|xf ...` (its work is in "
            "the engine and the container, so its client memory says nothing). host tar: GNU `tar cf|xf` of "
            "the volume's folder on the host, the physical limit. A restore's times include making the "
            "volume. Every run starts after a `sync` and its time ends after one: it counts until what it wrote is "
            "on disk, so that one run's write-back does not slow the next. "
            "Run: `bench/volumes.py --write BENCHMARKS.md`.\n\n" + text
        )
        write_section(a.write, body, "volumes")


if __name__ == "__main__":
    main()
