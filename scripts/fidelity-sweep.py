#!/usr/bin/env python3
"""Runs compose projects through the reference (`docker compose`) and rcompose and compares the
accept/reject decision, `config --format json`, `config` (YAML) and `config --hash '*'`, byte for
byte. No engine and no network needed.

    scripts/fidelity-sweep.py [--rcompose PATH] [--show N] DIR...

Each DIR is a project folder (compose.yaml or docker-compose.yml, anything it reads); an optional
`args` file holds one CLI argument per line, placed before `config` (as in tests/parse/cases), an
optional `config-args` file the same for arguments after `config` (`--no-normalize`), and an
optional `env` file `KEY=VALUE` lines for the environment (besides PATH and HOME). A
DIR without a compose file is searched for project folders below it. Prints one line per project
(`same`, `DIFF json yaml hash`, `ACCEPT/REJECT` mismatches) and a summary; `--show N` prints the
first N differing lines of each difference.
"""

import argparse
import difflib
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
NAMES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")


def projects(paths):
    for p in paths:
        p = os.path.abspath(p)
        if os.path.isfile(os.path.join(p, "args")) or any(
            os.path.isfile(os.path.join(p, n)) for n in NAMES
        ):
            yield p
            continue
        for root, dirs, _ in os.walk(p):
            dirs.sort()
            for d in list(dirs):
                full = os.path.join(root, d)
                if os.path.isfile(os.path.join(full, "args")) or any(
                    os.path.isfile(os.path.join(full, n)) for n in NAMES
                ):
                    yield full
                    dirs.remove(d)


def run(tool, d, tail):
    args = []
    a = os.path.join(d, "args")
    if os.path.isfile(a):
        args = [line.rstrip("\n") for line in open(a) if line.strip()]
    env = {"PATH": os.environ["PATH"], "HOME": os.environ["HOME"]}
    e = os.path.join(d, "env")
    if os.path.isfile(e):
        for line in open(e):
            line = line.rstrip("\n")
            if line.strip() and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                env[k] = v
    after = []
    c = os.path.join(d, "config-args")
    if os.path.isfile(c):
        after = [line.rstrip("\n") for line in open(c) if line.strip()]
    cmd = tool + args + ["config"] + after + tail
    try:
        p = subprocess.run(cmd, cwd=d, env=env, capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        return 124, b"", b"timeout"
    return p.returncode, p.stdout, p.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rcompose", default=os.path.join(HERE, "..", "target", "release", "rcompose"))
    ap.add_argument("--show", type=int, default=0)
    ap.add_argument("dirs", nargs="+")
    o = ap.parse_args()
    ref, ours = ["docker", "compose"], [os.path.abspath(o.rcompose)]
    total = same = 0
    for d in projects(o.dirs):
        total += 1
        problems = []
        for label, tail in (("json", ["--format", "json"]), ("yaml", []), ("hash", ["--hash", "*"])):
            rc1, out1, err1 = run(ref, d, tail)
            rc2, out2, err2 = run(ours, d, tail)
            if (rc1 == 0) != (rc2 == 0):
                what = "REJECT" if rc1 == 0 else "ACCEPT"
                problems.append(f"{what}({label})")
                if o.show:
                    msg = (err2 if rc1 == 0 else err1).decode(errors="replace").strip()
                    problems.append("    " + msg.replace("\n", "\n    ")[:600])
                break
            if rc1 != 0:
                break
            if label == "hash":
                out1 = b"".join(sorted(out1.splitlines(True)))
                out2 = b"".join(sorted(out2.splitlines(True)))
            if out1 != out2:
                problems.append(f"DIFF({label})")
                if o.show:
                    lines = list(
                        difflib.unified_diff(
                            out1.decode(errors="replace").splitlines(),
                            out2.decode(errors="replace").splitlines(),
                            "reference",
                            "rcompose",
                            n=1,
                            lineterm="",
                        )
                    )
                    problems.extend("    " + line for line in lines[2 : 2 + o.show])
        if problems:
            print(f"{os.path.relpath(d)}: " + "\n".join(problems))
        else:
            same += 1
    print(f"{same}/{total} projects agree")


if __name__ == "__main__":
    sys.exit(main())
