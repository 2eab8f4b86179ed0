#!/usr/bin/env bash
# Sets up a fresh Debian machine for rcompose: Debian packages, the reference docker compose (for
# comparisons), a running engine and the test image. Idempotent; safe to run again.
# Under CI (CI=true) a missing engine or reference is an error; elsewhere it is a loud warning.
set -euo pipefail
cd "$(dirname "$0")/.."
ci=false; [[ ${CI:-} == true || ${CI:-} == 1 ]] && ci=true
say() { echo "setup: $*" >&2; }
fail() { echo "setup: error: $*" >&2; exit 1; }
sudo_() { if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi; }

need=()
[[ -x /bin/busybox ]] || need+=(busybox-static)
command -v curl >/dev/null || need+=(curl)
command -v python3 >/dev/null || need+=(python3)
command -v podman >/dev/null || need+=(podman)
command -v openssl >/dev/null || need+=(openssl)
command -v tmux >/dev/null || need+=(tmux)
[[ -x /usr/sbin/sshd ]] || need+=(openssh-server)
command -v ssh >/dev/null || need+=(openssh-client)
command -v docker >/dev/null || need+=(docker.io)
command -v cc >/dev/null || need+=(build-essential pkg-config)
if ((${#need[@]})); then
  say "installing ${need[*]}"
  sudo_ apt-get update -qq >&2
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi

if ! docker info >/dev/null 2>&1; then
  if command -v dockerd >/dev/null && [[ $(id -u) == 0 ]]; then
    say "no engine answers: starting dockerd"
    setsid dockerd >/tmp/dockerd.log 2>&1 < /dev/null &
    for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  fi
fi
if docker info >/dev/null 2>&1; then
  tests/image/build.sh >&2
elif $ci; then
  fail "no Docker engine answers (see /tmp/dockerd.log): the end-to-end tests cannot run"
else
  say "WARNING: no Docker engine answers: end-to-end tests will be skipped"
fi

ref=../shared/tools/reference-compose
if [[ -x $ref ]]; then
  "$ref" >/dev/null || { $ci && fail "installing the reference docker compose failed"; say "WARNING: reference docker compose not installed"; }
elif $ci; then
  fail "$ref not found: the reference docker compose is needed for the interop tests"
else
  say "WARNING: $ref not found: interop tests will be skipped"
fi
say "ready"
