#!/usr/bin/env python3
"""Benchmark: rcompose against the reference docker compose and the bare engine floor.

Each scenario is a generated compose file. Every round runs each tool once, in a rotating order,
on its own project name; the report gives medians and the ratios rcompose/reference and
rcompose/floor. The floor creates and starts the same containers in parallel straight through the
Engine API, with no orchestration at all.

    bench/run.py [--rounds 5] [--scenarios chain10,wide30] [--tools rcompose,reference,floor]
                 [--write BENCHMARKS.md]

Everything is cleaned up by label, even on failure or Ctrl-C. Only the local engine socket is used.
"""

import argparse
import concurrent.futures as cf
import datetime
import http.client
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGE = "rcompose-test:latest"
IDLE = ["sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"]
BENCH_LABEL = "dev.rcompose.bench"
SOCKET = "/var/run/docker.sock"


# ---------------------------------------------------------------- scenarios


def service(deps=None, networks=None, volumes=None):
    s = {"image": IMAGE, "init": True, "command": IDLE}
    if deps:
        s["depends_on"] = deps
    if networks:
        s["networks"] = networks
    if volumes:
        s["volumes"] = volumes
    return s


def chain10():
    """10 services in three dependency chains, a user network and a named volume."""
    services = {}
    chains = [["db", "api", "web", "proxy"], ["cache", "worker", "scheduler"], ["queue", "mailer", "metrics"]]
    for chain in chains:
        prev = None
        for name in chain:
            services[name] = service(
                deps=[prev] if prev else None,
                networks=["app"],
                volumes=["data:/data"] if name == "db" else None,
            )
            prev = name
    return {"services": services, "networks": {"app": {}}, "volumes": {"data": {}}}


def wide30():
    """30 independent services on the default network."""
    return {"services": {f"s{i:02d}": service() for i in range(30)}}


def health3(interval="1s"):
    """Three services, each waiting for the previous one to be healthy (interval 1s)."""
    services = {}
    prev = None
    for name in ["db", "api", "web"]:
        s = service()
        s["healthcheck"] = {"test": ["CMD", "true"], "interval": interval, "timeout": "1s", "retries": 3}
        if prev:
            s["depends_on"] = {prev: {"condition": "service_healthy"}}
        services[name] = s
        prev = name
    return {"services": services}


def three_tier():
    """examples/three-tier as it is: two networks (one internal), a volume, a health gate."""
    with open(os.path.join(ROOT, "examples", "three-tier", "compose.yaml")) as f:
        return f.read()


def health3_5s():
    """As health3 with the healthcheck interval of real files: 5s."""
    return health3("5s")


SCENARIOS = {
    "chain10": chain10,
    "wide30": wide30,
    "health3": health3,
    "health3-5s": health3_5s,
    "three-tier": three_tier,
}
# The floor does not wait for health (and reads no compose file), so it is no baseline for these.
NO_FLOOR = {"health3", "health3-5s", "three-tier"}
OPS = ("up", "up again", "down")


# ---------------------------------------------------------------- the engine floor


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self):
        super().__init__("localhost", timeout=120)

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(SOCKET)


def api(method, path, body=None):
    conn = UnixHTTP()
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data else {}
    conn.request(method, "/v1.41" + path, body=data, headers=headers)
    resp = conn.getresponse()
    out = resp.read()
    conn.close()
    if resp.status >= 400 and resp.status != 404:
        raise RuntimeError(f"{method} {path}: {resp.status} {out[:200]!r}")
    return json.loads(out) if out else None


def floor_up(project, model):
    labels = {BENCH_LABEL: project}
    nets = list(model.get("networks", {})) or []
    for n in nets + ([] if nets else ["default"]):
        api("POST", "/networks/create", {"Name": f"{project}_{n}", "Labels": labels})
    for v in model.get("volumes", {}):
        api("POST", "/volumes/create", {"Name": f"{project}_{v}", "Labels": labels})

    def one(name, svc):
        net = f"{project}_{(svc.get('networks') or ['default'])[0]}"
        binds = [f"{project}_{v}" for v in svc.get("volumes", [])]
        body = {
            "Image": IMAGE,
            "Cmd": svc["command"],
            "Labels": labels,
            "HostConfig": {"Init": True, "NetworkMode": net, "Binds": binds or None},
        }
        q = urllib.parse.urlencode({"name": f"{project}-{name}-1"})
        cid = api("POST", f"/containers/create?{q}", body)["Id"]
        api("POST", f"/containers/{cid}/start")

    with cf.ThreadPoolExecutor(max_workers=64) as pool:
        list(pool.map(lambda kv: one(*kv), model["services"].items()))


def floor_down(project):
    flt = urllib.parse.quote(json.dumps({"label": [f"{BENCH_LABEL}={project}"]}))
    cs = api("GET", f"/containers/json?all=1&filters={flt}") or []
    with cf.ThreadPoolExecutor(max_workers=64) as pool:
        list(pool.map(lambda c: api("DELETE", f"/containers/{c['Id']}?force=1&v=1"), cs))
    for n in api("GET", f"/networks?filters={flt}") or []:
        api("DELETE", f"/networks/{n['Id']}")
    for v in (api("GET", f"/volumes?filters={flt}") or {}).get("Volumes") or []:
        api("DELETE", f"/volumes/{v['Name']}")


# ---------------------------------------------------------------- the tools


def run(cmd, cwd):
    t = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    return dt


def compose_cmd(tool, rcompose):
    return [rcompose] if tool == "rcompose" else ["docker", "compose"]


def timed(tool, op, project, folder, model, rcompose):
    if tool == "floor":
        if op == "up again":
            return None
        t = time.perf_counter()
        (floor_up if op == "up" else lambda p, m: floor_down(p))(project, model)
        return time.perf_counter() - t
    base = compose_cmd(tool, rcompose) + ["-p", project, "--progress", "quiet"]
    args = ["down", "-v"] if op == "down" else ["up", "-d"]
    return run(base + args, folder)


def cleanup(project):
    """Removes anything of this project by label, whichever tool made it."""
    for label in (f"com.docker.compose.project={project}", f"{BENCH_LABEL}={project}"):
        flt = urllib.parse.quote(json.dumps({"label": [label]}))
        try:
            for c in api("GET", f"/containers/json?all=1&filters={flt}") or []:
                api("DELETE", f"/containers/{c['Id']}?force=1&v=1")
            for n in api("GET", f"/networks?filters={flt}") or []:
                api("DELETE", f"/networks/{n['Id']}")
            for v in (api("GET", f"/volumes?filters={flt}") or {}).get("Volumes") or []:
                api("DELETE", f"/volumes/{v['Name']}")
        except Exception as e:  # cleanup must go on
            print(f"cleanup {project}: {e}", file=sys.stderr)


# ---------------------------------------------------------------- report


def machine():
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f"{kb / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    engine = subprocess.run(
        ["docker", "version", "--format", "{{.Server.Version}} (API {{.Server.APIVersion}})"],
        capture_output=True, text=True,
    ).stdout.strip()
    ref = subprocess.run(["docker", "compose", "version", "--short"], capture_output=True, text=True).stdout.strip()
    return f"{os.cpu_count()} cores, {mem}, kernel {platform.release()}, Docker Engine {engine}, reference docker compose {ref}"


def report(results, tools, rounds):
    lines = [
        "| scenario | op | " + " | ".join(f"{t} (median s)" for t in tools) + " | rcompose/reference | rcompose/floor |",
        "|---|---|" + "---|" * len(tools) + "---|---|",
    ]
    for (scenario, op), per_tool in results.items():
        med = {t: statistics.median(v) for t, v in per_tool.items() if v}
        cells = [f"{med[t]:.3f}" if t in med else "-" for t in tools]
        r_ref = f"{med['rcompose'] / med['reference']:.2f}" if "rcompose" in med and "reference" in med else "-"
        r_floor = f"{med['rcompose'] / med['floor']:.2f}" if "rcompose" in med and "floor" in med else "-"
        lines.append(f"| {scenario} | {op} | " + " | ".join(cells) + f" | {r_ref} | {r_floor} |")
    return "\n".join(lines)


def write_section(path, body, name="compose"):
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    block = f"{start}\n{body}\n{end}"
    if start in text and end in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    with open(path, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--tools", default="rcompose,reference,floor")
    ap.add_argument("--rcompose", default=os.path.join(ROOT, "target/release/rcompose"))
    ap.add_argument("--write", metavar="FILE", help="write the results into this Markdown file")
    a = ap.parse_args()
    tools = a.tools.split(",")
    results = {}
    work = tempfile.mkdtemp(prefix="rcompose-bench-")
    projects = []
    try:
        for scenario in a.scenarios.split(","):
            model = SCENARIOS[scenario]()
            folder = os.path.join(work, scenario)
            os.makedirs(folder)
            with open(os.path.join(folder, "compose.yaml"), "w") as f:
                if isinstance(model, str):  # a compose file as it is
                    f.write(model)
                else:
                    json.dump(model, f, indent=1)  # JSON is YAML
            here = [t for t in tools if not (t == "floor" and scenario in NO_FLOOR)]
            for op in OPS:
                results[(scenario, op)] = {t: [] for t in tools}
            for r in range(a.rounds):
                order = here[r % len(here):] + here[: r % len(here)]
                for tool in order:
                    project = f"bench-{scenario}-{tool}-{os.getpid()}"
                    projects.append(project)
                    cleanup(project)
                    times = []
                    for op in OPS:
                        dt = timed(tool, op, project, folder, model, a.rcompose)
                        if dt is not None:
                            results[(scenario, op)][tool].append(dt)
                            times.append(f"{op} {dt:.3f}s")
                    print(f"{scenario} round {r + 1} {tool}: " + ", ".join(times), file=sys.stderr)
    finally:
        for p in set(projects):
            cleanup(p)
        shutil.rmtree(work, ignore_errors=True)
    table = report(results, tools, a.rounds)
    print(table)
    if a.write:
        body = (
            f"## `up -d`, `up -d` again and `down -v` ({datetime.date.today()}, {a.rounds} rounds, medians)\n\n"
            f"Machine: {machine()}.\n\n"
            "`chain10`: 10 services in three `depends_on` chains, a user network and a named volume. "
            "`wide30`: 30 independent services. `health3`: three services, each `service_healthy`-gated on "
            "the previous one (healthcheck `CMD true`, interval 1s; `health3-5s`: interval 5s; rcompose probes "
            "the healthcheck early, see README). `up` starts the stack from nothing, `up again` runs "
            "`up -d` on the running stack (nothing to do), `down` is `down -v`. floor: the same containers "
            "created and started in parallel through the Engine API with no orchestration; for `down`, "
            "the containers force-removed in parallel (one call each, SIGKILL), then the networks and volumes, "
            "where both tools stop each container first (SIGTERM, a second call) as docker compose does. "
            "Run: `bench/run.py --write BENCHMARKS.md`.\n\n"
            + table
        )
        write_section(a.write, body)


if __name__ == "__main__":
    main()
