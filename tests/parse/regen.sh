#!/usr/bin/env bash
# Regenerates the expected outputs of the loader corpus from the reference (`docker compose`):
# expected.json and expected.yaml (its exact bytes), expected.hash (`config --hash *`); checks that it rejects every bad case, and regenerates the expected output of every
# project under examples/. Idempotent: running it twice changes nothing.
#
# Usage: tests/parse/regen.sh [CASE...]   (case folder names; default: all)
# Error snapshots of bad cases are rcompose's own: RCOMPOSE_BLESS=1 cargo test --test parse bad_cases
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd -P)"
repo="$(cd "$here/../.." && pwd -P)"
export REPO_ROOT="$repo"
status=0

# Runs the reference's `config` in folder $1 with the args/config-args/env files of folder $2; stdout to $3;
# the remaining arguments go after `config` (default: --format json).
reference() {
  local dir="$1" inputs="$2" out="$3"
  shift 3
  local -a tail=("$@")
  [[ ${#tail[@]} -gt 0 ]] || tail=(--format json)
  local -a args=() after=() envs=()
  if [[ -f "$inputs/args" ]]; then
    while IFS= read -r line || [[ -n "$line" ]]; do
      [[ -n "${line//[[:space:]]/}" ]] && args+=("$line")
    done < "$inputs/args"
  fi
  if [[ -f "$inputs/config-args" ]]; then
    while IFS= read -r line || [[ -n "$line" ]]; do
      [[ -n "${line//[[:space:]]/}" ]] && after+=("$line")
    done < "$inputs/config-args"
  fi
  if [[ -f "$inputs/env" ]]; then
    while IFS= read -r line || [[ -n "$line" ]]; do
      [[ -z "${line//[[:space:]]/}" || "$line" == \#* ]] && continue
      envs+=("$line")
    done < "$inputs/env"
  fi
  (cd "$dir" && env -i PATH="$PATH" HOME="$HOME" "${envs[@]}" \
    docker compose "${args[@]}" config "${after[@]}" "${tail[@]}") > "$out" 2> "$out.err"
}

# The reference's warning messages in stderr file $2 (sorted, one per line, ${CASE_DIR} for
# folder $1) into file $3, removed when there are none.
warnings() {
  python3 - "$1" "$2" "$3" <<'PY'
import os, re, sys
d, err, out = sys.argv[1:4]
msgs = []
for line in open(err):
    m = re.search(r'level=warning msg="((?:[^"\\]|\\.)*)"', line)
    if m:
        msgs.append(m.group(1).replace('\\"', '"').replace("\\\\", "\\").replace(d, "${CASE_DIR}").replace(os.environ["REPO_ROOT"], "${REPO}"))
msgs.sort()  # the reference's order follows Go map iteration: not stable
if msgs:
    open(out, "w").write("\n".join(msgs) + "\n")
elif os.path.exists(out):
    os.remove(out)
PY
}

# Replaces the folder's absolute path by ${CASE_DIR} in file $2, keeping every other byte.
placeholder() {
  python3 - "$1" "$2" <<'PY'
import os, sys
d, f = sys.argv[1], sys.argv[2]
t = open(f, newline="").read().replace(d, "${CASE_DIR}").replace(os.environ["REPO_ROOT"], "${REPO}")
open(f, "w", newline="").write(t)
PY
}

# `config --hash '*'` in file $3, for the services whose config (JSON file $2) holds no absolute
# path of folder $1 or of the repository (their hash would depend on where the repository is).
portable_hashes() {
  python3 - "$1" "$2" "$3" <<'PY'
import json, os, sys
d, j, h = sys.argv[1:4]
try:
    services = json.load(open(j)).get("services", {})
except ValueError:
    services = None  # a listing (`config-args`): no model to check the hashes against
if services is None:
    open(h, "w").write("")
    sys.exit(0)
keep = []
for line in open(h):
    name = line.split(" ")[0]
    svc = dict(services.get(name, {}))
    svc.pop("build", None)
    text = json.dumps(svc)
    if "${CASE_DIR}" not in text and "${REPO}" not in text and d not in text:
        keep.append(line)
open(h, "w").write("".join(keep))
PY
}

# Keeps in hash file $2 only the lines the reference also prints for a copy of folder $1 placed
# elsewhere: a hash that hides a path (env_file entries are hashed as listed, not printed) differs.
same_elsewhere() {
  local alt; alt="$(mktemp -d)"
  cp -a "$1" "$alt/"
  local copy="$alt/$(basename "$1")"
  if reference "$copy" "$copy" "$alt/hash" --hash '*'; then
    grep -Fx -f "$alt/hash" "$2" > "$alt/kept" || true
    cp "$alt/kept" "$2"
  else
    : > "$2"
  fi
  rm -rf "$alt"
}

selected() {
  [[ $# -eq 1 ]] && return 0
  local name="$1"; shift
  for c in "$@"; do [[ "$c" == "$name" ]] && return 0; done
  return 1
}

tmp="$(mktemp)"
trap 'rm -f "$tmp" "$tmp.err"' EXIT

# Regenerates one good case: inputs in folder $1, expected files in folder $2, $3 names it.
regen() {
  local dir="$1" out="$2" label="$3"
  mkdir -p "$out"
  if reference "$dir" "$dir" "$tmp"; then
    placeholder "$dir" "$tmp"
    warnings "$dir" "$tmp.err" "$out/warnings.txt"
    local changed=0
    cmp -s "$tmp" "$out/expected.json" || { cp "$tmp" "$out/expected.json"; changed=1; }
    reference "$dir" "$dir" "$tmp" --format yaml
    placeholder "$dir" "$tmp"
    cmp -s "$tmp" "$out/expected.yaml" || { cp "$tmp" "$out/expected.yaml"; changed=1; }
    reference "$dir" "$dir" "$tmp" --hash '*'
    portable_hashes "$dir" "$out/expected.json" "$tmp"
    same_elsewhere "$dir" "$tmp"
    if [[ -s "$tmp" ]]; then
      cmp -s "$tmp" "$out/expected.hash" || { cp "$tmp" "$out/expected.hash"; changed=1; }
    elif [[ -f "$out/expected.hash" ]]; then
      rm "$out/expected.hash"; changed=1
    fi
    [[ $changed -eq 0 ]] || echo "updated  $label"
  else
    echo "FAILED   $label: the reference rejects it:" >&2
    sed 's/^/    /' "$tmp.err" >&2
    status=1
  fi
}

for dir in "$here"/cases/*/; do
  dir="${dir%/}"; name="$(basename "$dir")"
  selected "$name" "$@" || continue
  regen "$dir" "$dir" "cases/$name"
done

for dir in "$here"/bad/*/; do
  [[ -d "$dir" ]] || continue
  dir="${dir%/}"; name="$(basename "$dir")"
  selected "$name" "$@" || continue
  if reference "$dir" "$dir" "$tmp"; then
    echo "FAILED   bad/$name: the reference accepts it" >&2
    status=1
  fi
done

for dir in "$repo"/examples/*/; do
  dir="${dir%/}"; name="$(basename "$dir")"
  selected "$name" "$@" || continue
  regen "$dir" "$here/examples/$name" "examples/$name"
done

exit $status
