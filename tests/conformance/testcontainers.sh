#!/usr/bin/env bash
# Calls compose the way testcontainers-java and testcontainers-python do, and checks the
# outputs they parse. Usage: testcontainers.sh COMPOSE-COMMAND... (for example `docker compose`,
# or a `docker-compose` path), run in a folder holding this folder's compose.yaml, with
# COMPOSE_PROJECT_NAME set (testcontainers-java sets it; -p is never passed).
# It must pass unchanged with rcompose (either shape) and with the reference docker compose.
set -uo pipefail
compose=("$@")
[ ${#compose[@]} -gt 0 ] || { echo "usage: $0 COMPOSE-COMMAND..." >&2; exit 2; }
: "${COMPOSE_PROJECT_NAME:?set COMPOSE_PROJECT_NAME}"
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "ok: $*"; }
c() { "${compose[@]}" "$@"; }

# testcontainers-go (LocalDockerCompose) and -node: the version's major must be 2 or more.
v=$(c version --short) || fail "version --short exited $?"
[[ "$v" =~ ^([0-9]+)\.[0-9]+\.[0-9]+$ ]] || fail "version --short printed '$v', not MAJOR.MINOR.PATCH"
[ "${BASH_REMATCH[1]}" -ge 2 ] || fail "version --short major ${BASH_REMATCH[1]} < 2"
step "version --short: $v"

c -f compose.yaml up -d --wait || fail "up -d --wait exited $?"
step "up -d --wait"

# testcontainers-python: ps --format json, NDJSON or one array, with these fields.
ps=$(c -f compose.yaml ps --format json) || fail "ps --format json exited $?"
port_from_ps=$(python3 - "$ps" "$COMPOSE_PROJECT_NAME" <<'PY'
import json, sys
text, project = sys.argv[1], sys.argv[2]
text = text.strip()
rows = json.loads(text) if text.startswith("[") else [json.loads(l) for l in text.splitlines() if l.strip()]
def fail(m):
    print("ps --format json: " + m, file=sys.stderr); sys.exit(1)
if sorted(r.get("Service") for r in rows) != ["web", "worker"]:
    fail("services %r, expected web and worker" % [r.get("Service") for r in rows])
for r in rows:
    for k in ("ID", "Name", "Command", "Project", "Service", "State", "Health", "ExitCode", "Publishers"):
        if k not in r: fail("no %s in %r" % (k, r))
    if r["Project"] != project: fail("Project %r" % r["Project"])
    if r["Name"] != "%s-%s-1" % (project, r["Service"]): fail("Name %r" % r["Name"])
    if r["State"] != "running": fail("State %r of %s" % (r["State"], r["Name"]))
    for p in r["Publishers"] or []:
        for k in ("URL", "TargetPort", "PublishedPort", "Protocol"):
            if k not in p: fail("no %s in publisher %r" % (k, p))
web = [r for r in rows if r["Service"] == "web"][0]
if web["Health"] != "healthy": fail("web Health %r" % web["Health"])
pub = [p for p in web["Publishers"] if p["TargetPort"] == 8080 and p["PublishedPort"] > 0 and p["URL"] == "0.0.0.0"]
if not pub: fail("no 0.0.0.0 publisher of 8080 in %r" % web["Publishers"])
print(pub[0]["PublishedPort"])
PY
) || fail "ps --format json output: $ps"
step "ps --format json (web publishes 8080 on $port_from_ps)"

port=$(c -f compose.yaml port web 8080) || fail "port exited $?"
[[ "$port" =~ ^0\.0\.0\.0:([0-9]+)$ ]] || fail "port printed '$port', not 0.0.0.0:NNNN"
[ "${BASH_REMATCH[1]}" = "$port_from_ps" ] || fail "port says ${BASH_REMATCH[1]}, ps says $port_from_ps"
body=$(python3 -c 'import sys, urllib.request; print(urllib.request.urlopen("http://127.0.0.1:%s/" % sys.argv[1], timeout=5).read().decode().strip())' "$port_from_ps") \
  || fail "nothing answers on 127.0.0.1:$port_from_ps"
[ "$body" = conformance ] || fail "127.0.0.1:$port_from_ps answered '$body'"
step "port web 8080: $port"

logs=$(c -f compose.yaml logs web) || fail "logs exited $?"
grep -q 'conformance-ready' <<<"$logs" || fail "logs web lacks the service's line: $logs"
step "logs"

out=$(c -f compose.yaml exec -T worker sh -c 'echo from-exec') || fail "exec -T exited $?"
[ "$out" = from-exec ] || fail "exec -T printed '$out'"
c -f compose.yaml exec -T worker sh -c 'exit 3'
rc=$?
[ $rc = 3 ] || fail "exec -T of 'exit 3' exited $rc"
step "exec -T (output and exit code)"

c -f compose.yaml down -v --remove-orphans || fail "down -v --remove-orphans exited $?"
left=$(docker ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME")
[ -z "$left" ] || fail "containers left after down: $left"
left=$(docker volume ls -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME")
[ -z "$left" ] || fail "volumes left after down -v: $left"
step "down -v --remove-orphans"
echo "conformance: all passed"
