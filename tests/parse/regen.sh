#!/usr/bin/env bash
# Regenerates every expected.json of the loader corpus from the reference (`docker compose`),
# checks that the reference rejects every bad case, and regenerates the expected output of every
# project under examples/. Idempotent: running it twice changes nothing.
#
# Usage: tests/parse/regen.sh [CASE...]   (case folder names; default: all)
# Error snapshots of bad cases are rcompose's own: RCOMPOSE_BLESS=1 cargo test --test parse bad_cases
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd -P)"
repo="$(cd "$here/../.." && pwd -P)"
export REPO_ROOT="$repo"
status=0

# Runs the reference in folder $1 with the args/env files of folder $2; stdout to $3.
reference() {
  local dir="$1" inputs="$2" out="$3"
  local -a args=() envs=()
  if [[ -f "$inputs/args" ]]; then
    while IFS= read -r line || [[ -n "$line" ]]; do
      [[ -n "${line//[[:space:]]/}" ]] && args+=("$line")
    done < "$inputs/args"
  fi
  if [[ -f "$inputs/env" ]]; then
    while IFS= read -r line || [[ -n "$line" ]]; do
      [[ -z "${line//[[:space:]]/}" || "$line" == \#* ]] && continue
      envs+=("$line")
    done < "$inputs/env"
  fi
  (cd "$dir" && env -i PATH="$PATH" HOME="$HOME" "${envs[@]}" \
    docker compose "${args[@]}" config --format json) > "$out" 2> "$out.err"
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

# Replaces the folder's absolute path by ${CASE_DIR} in file $2.
placeholder() {
  python3 - "$1" "$2" <<'PY'
import os, sys
d, f = sys.argv[1], sys.argv[2]
t = open(f).read().replace(d, "${CASE_DIR}").replace(os.environ["REPO_ROOT"], "${REPO}")
if not t.endswith("\n"):
    t += "\n"
open(f, "w").write(t)
PY
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
    if ! cmp -s "$tmp" "$out/expected.json"; then
      cp "$tmp" "$out/expected.json"
      echo "updated  $label"
    fi
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
