#!/usr/bin/env bash
# Builds the end-to-end test image `rcompose-test:latest` from Debian's busybox-static, with no registry.
# Idempotent: the image carries a label with the digest of its inputs and is rebuilt only when they change.
# Usage: tests/image/build.sh   (needs /bin/busybox from busybox-static and a running engine)
set -euo pipefail
image=${RCOMPOSE_TEST_IMAGE:-rcompose-test:latest}
busybox=${BUSYBOX:-/bin/busybox}
[[ -x $busybox ]] || { echo "error: $busybox not found: apt-get install busybox-static" >&2; exit 1; }

inputs=$(cat "$busybox" "$0" | sha256sum | cut -c1-16)
have=$(docker image inspect -f '{{index .Config.Labels "dev.rcompose.test-image"}}' "$image" 2>/dev/null || true)
if [[ $have == "$inputs" ]]; then
  echo "$image is up to date ($inputs)"
  exit 0
fi

root=$(mktemp -d); trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,home,var/tmp,run,proc,sys,dev}
chmod 1777 "$root/tmp" "$root/var/tmp"
cp "$busybox" "$root/bin/busybox"
"$busybox" --list-full | while read -r applet; do
  [[ -e $root/$applet ]] || ln -s /bin/busybox "$root/$applet"
done
cat >"$root/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/home:/bin/false
app:x:1000:1000:app:/home:/bin/sh
PW
cat >"$root/etc/group" <<'GR'
root:x:0:
nogroup:x:65534:
app:x:1000:
GR
echo "hosts: files dns" >"$root/etc/nsswitch.conf"

tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["/bin/sh"]' \
  --change "LABEL dev.rcompose.test-image=$inputs" \
  - "$image" >/dev/null
echo "built $image ($inputs)"
