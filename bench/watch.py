#!/usr/bin/env python3
"""`watch` latency and cost, rcompose against the reference, in one run.

Latency: from a file write on the host to the new content readable inside the container (read
through the container's overlay `MergedDir`, polled every 2 ms, so no `docker exec` in the
measure), for one file and for 500 files at once; median and 95th percentile. Cost: inotify
watches the watcher holds on a tree with a 20,000-file ignored `node_modules/`, and the watcher's
CPU time while every file of that folder is rewritten. Tools alternate trial by trial.

usage: bench/watch.py [--trials N] [--rcompose PATH]   (root: reads MergedDir and /proc)
"""

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time

COMPOSE = """
services:
  web:
    image: rcompose-test:latest
    command: sh -c 'trap "exit 0" TERM; sleep 100000 & wait'
    develop:
      watch:
        - path: ./src
          target: /app
          action: sync
          ignore: [node_modules/]
"""


def tree(pid):
    """pid and its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        if p in out:
            continue
        out.append(p)
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in tasks:
            try:
                todo.extend(int(k) for k in open(f"/proc/{p}/task/{t}/children").read().split())
            except OSError:
                pass
    return out


def inotify_watches(pid):
    n = 0
    for p in tree(pid):
        d = f"/proc/{p}/fdinfo"
        try:
            fds = os.listdir(d)
        except OSError:
            continue
        for fd in fds:
            try:
                n += sum(1 for l in open(f"{d}/{fd}") if l.startswith("inotify wd:"))
            except OSError:
                pass
    return n


def cpu_ticks(pid):
    t = 0
    for p in tree(pid):
        try:
            f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            t += int(f[11]) + int(f[12])
        except (OSError, IndexError):
            pass
    return t


class Watch:
    def __init__(self, cmd, dir, project):
        self.dir = dir
        self.project = project
        self.log = open(os.path.join(dir, f"{project}.log"), "w+")
        self.p = subprocess.Popen(cmd + ["-p", project, "watch"], cwd=dir,
                                  stdout=self.log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            self.log.seek(0)
            if "Watch enabled" in self.log.read():
                break
            time.sleep(0.05)
        else:
            raise SystemExit(f"{cmd}: no 'Watch enabled'")
        c = f"{project}-web-1"
        self.merged = subprocess.check_output(
            ["docker", "inspect", "-f", "{{.GraphDriver.Data.MergedDir}}", c], text=True).strip()
        time.sleep(1.0)

    def stop(self):
        os.killpg(self.p.pid, 2)
        self.p.wait(timeout=30)
        subprocess.run(["docker", "compose", "-p", self.project, "down", "-t", "0"],
                       cwd=self.dir, capture_output=True)


def wait_content(paths, want, timeout=30.0):
    start = time.perf_counter()
    pending = list(paths)
    while pending:
        p = pending[-1]
        try:
            if open(p).read() == want:
                pending.pop()
                continue
        except OSError:
            pass
        if time.perf_counter() - start > timeout:
            raise SystemExit(f"timeout waiting for {p}")
        time.sleep(0.002)
    return time.perf_counter()


def one_trial(w, n, tag):
    names = [f"f{i}.txt" for i in range(n)]
    want = f"{tag}-{time.time_ns()}"
    t0 = time.perf_counter()
    for name in names:
        with open(os.path.join(w.dir, "src", name), "w") as f:
            f.write(want)
    t1 = wait_content([os.path.join(w.merged, "app", x) for x in names], want)
    return (t1 - t0) * 1000


def floor_ms(container, n, trials):
    """The engine's own part: a tar of the same n files PUT through its archive endpoint into
    the container (what both watchers must wait for at least), median of `trials`, in ms."""
    import io
    import tarfile
    out = []
    for i in range(trials):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as t:
            for k in range(n):
                data = f"floor-{i}".encode()
                info = tarfile.TarInfo(f"floor/f{k}.txt")
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
        body = buf.getvalue()
        t0 = time.perf_counter()
        subprocess.run(["curl", "-sf", "--unix-socket", "/var/run/docker.sock", "-X", "PUT",
                        "-H", "Content-Type: application/x-tar", "--data-binary", "@-",
                        f"http://engine/containers/{container}/archive?path=/"],
                       input=body, check=True, capture_output=True)
        out.append((time.perf_counter() - t0) * 1000)
    return statistics.median(out)


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=15)
    ap.add_argument("--rcompose", default="target/release/rcompose")
    a = ap.parse_args()
    tools = {"rcompose": [os.path.abspath(a.rcompose)], "docker compose": ["docker", "compose"]}
    dirs = {}
    for name in tools:
        d = tempfile.mkdtemp(prefix="watchbench-")
        open(os.path.join(d, "compose.yaml"), "w").write(COMPOSE)
        nm = os.path.join(d, "src", "node_modules")
        for i in range(200):
            os.makedirs(os.path.join(nm, f"pkg{i}"), exist_ok=True)
            for j in range(100):
                open(os.path.join(nm, f"pkg{i}", f"m{j}.js"), "w").write("x")
        dirs[name] = d
    watches = {}
    try:
        for name, cmd in tools.items():
            proj = "wb" + ("r" if name == "rcompose" else "d")
            watches[name] = Watch(cmd, dirs[name], proj)
        res = {(t, n): [] for t in tools for n in (1, 500)}
        for n in (1, 500):
            for i in range(a.trials):
                for t in tools:
                    res[(t, n)].append(one_trial(watches[t], n, f"{i}"))
                    time.sleep(0.7)
        print("| measure | rcompose | docker compose v2.40.3 | ratio |")
        print("|---|---|---|---|")
        for n in (1, 500):
            for q, label in ((0.5, "median"), (0.95, "p95")):
                r = pct(res[("rcompose", n)], q)
                d = pct(res[("docker compose", n)], q)
                print(f"| {n} file(s), {label} latency | {r:.0f} ms | {d:.0f} ms | {r / d:.2f} |")
        # What neither tool can go under, and each tool's latency above it.
        for n in (1, 500):
            f = floor_ms("wbr-web-1", n, max(3, a.trials // 2))
            r = pct(res[("rcompose", n)], 0.5)
            d = pct(res[("docker compose", n)], 0.5)
            print(f"| {n} file(s): the engine's own extraction (floor) | {f:.0f} ms | {f:.0f} ms | |")
            print(f"| {n} file(s), median latency above that floor | {r - f:.0f} ms "
                  f"| {d - f:.0f} ms | {(r - f) / (d - f):.2f} |")
        for t in tools:
            w = watches[t]
            before = cpu_ticks(w.p.pid)
            nm = os.path.join(w.dir, "src", "node_modules")
            t0 = time.time()
            for i in range(200):
                for j in range(100):
                    open(os.path.join(nm, f"pkg{i}", f"m{j}.js"), "w").write("y")
            time.sleep(2.0)
            ticks = cpu_ticks(w.p.pid) - before
            res[(t, "cpu")] = ticks * 1000 / os.sysconf("SC_CLK_TCK")
            res[(t, "watches")] = inotify_watches(w.p.pid)
            res[(t, "churn")] = time.time() - t0
        r, d = res[("rcompose", "watches")], res[("docker compose", "watches")]
        print(f"| inotify watches, tree with a 20,000-file ignored node_modules/ | {r} | {d} | |")
        r, d = res[("rcompose", "cpu")], res[("docker compose", "cpu")]
        print(f"| watcher CPU while the 20,000 ignored files are rewritten | {r:.0f} ms | {d:.0f} ms | |")
    finally:
        for w in watches.values():
            w.stop()
        for d in dirs.values():
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
