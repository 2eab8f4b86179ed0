#!/bin/sh
# Time to all replicas running: `rcompose stack deploy --wait` against `docker stack deploy`
# followed by polling `docker service ls` until every service shows n/n, on the same
# 20-service file, alternating, N rounds each; medians. Needs a swarm manager
# (`docker swarm init --advertise-addr 127.0.0.1`) and the test image rcompose-test:latest.
set -eu
RC=${RC:-target/release/rcompose}
N=${N:-3}
dir=$(mktemp -d)
{
  echo 'services:'
  for i in $(seq 1 20); do
    printf '  s%s:\n    image: rcompose-test:latest\n    command: ["sh", "-c", "trap '"'"'exit 0'"'"' TERM; sleep 100000 & wait"]\n    deploy: {replicas: 2}\n' "$i"
  done
} > "$dir/compose.yaml"
now() { date +%s.%N; }
converged() {
  docker service ls --filter "label=com.docker.stack.namespace=$1" --format '{{.Replicas}}' |
    awk -F/ '$1!=$2 {bad=1} END {exit bad}'
}
gone() { [ -z "$(docker network ls -q --filter "label=com.docker.stack.namespace=$1")" ]; }
run_docker() {
  t0=$(now); docker stack deploy -c "$dir/compose.yaml" bd >/dev/null 2>&1
  until [ "$(docker service ls -q --filter label=com.docker.stack.namespace=bd | wc -l)" = 20 ] && converged bd; do sleep 0.1; done
  t1=$(now); docker stack rm bd >/dev/null; until gone bd; do sleep 0.5; done
  echo "$t1 - $t0" | bc
}
run_rc() {
  t0=$(now); "$RC" stack deploy -c "$dir/compose.yaml" --wait br >/dev/null 2>&1
  t1=$(now); "$RC" stack rm br >/dev/null; until gone br; do sleep 0.5; done
  echo "$t1 - $t0" | bc
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
: > "$dir/d"; : > "$dir/r"
for _ in $(seq 1 "$N"); do run_docker >> "$dir/d"; run_rc >> "$dir/r"; done
d=$(median < "$dir/d"); r=$(median < "$dir/r")
echo "docker stack deploy + poll: median ${d}s ($(tr '\n' ' ' < "$dir/d"))"
echo "rcompose stack deploy --wait: median ${r}s ($(tr '\n' ' ' < "$dir/r"))"
echo "ratio rcompose/docker: $(echo "scale=2; $r / $d" | bc)"
rm -rf "$dir"
