#!/usr/bin/env bash
# Per-step overhead of `kfpl run --engine podman` next to the host engine:
# 50 independent `["true"]` steps (benches/gen_true_steps.sh fanout) run one at
# a time (--parallelism 1) in the local test image kfpl-test/busybox:1, so
# the whole run's wall time over 50 is what one step costs. Median of 3.
#   cargo build --release && tests/engine/build-busybox-image.sh && benches/engine-overhead.sh
#   STEPS=20 RUNS=5 ENGINES="host podman docker" benches/engine-overhead.sh
# (docker needs kfpl-test/busybox:1 in its own store: `podman save` it and
# `docker load`, then `docker tag localhost/kfpl-test/busybox:1 kfpl-test/busybox:1`).
set -euo pipefail
cd "$(dirname "$0")/.."
kfpl=$PWD/target/release/kfpl
steps=${STEPS:-50}
runs=${RUNS:-3}
engines=${ENGINES:-host podman}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

benches/gen_true_steps.sh fanout "$steps" |
  sed -e 's|image = "alpine:3.20"|image = "kfpl-test/busybox:1"|' \
    -e 's|command = "true"|command = ["true"]|' >"$tmp/true.kfp"

# median wall seconds of `kfpl run --engine ENGINE` over $runs runs, each in
# a fresh state folder
median() {
  local engine=$1
  for i in $(seq "$runs"); do
    mkdir -p "$tmp/$engine-$i"
    if ! /usr/bin/time -f "%e" -o "$tmp/t" env KFPL_HOME="$tmp/$engine-$i" \
      "$kfpl" run --engine "$engine" --parallelism 1 "$tmp/true.kfp" >/dev/null 2>"$tmp/err"; then
      cat "$tmp/err" >&2
      exit 1
    fi
    cat "$tmp/t"
  done | sort -n | awk '{ t[NR] = $1; all = all " " $1 } END { print t[int((NR + 1) / 2)], all }'
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for engine in $engines; do
  read -r total all < <(median "$engine")
  awk -v e="$engine" -v t="$total" -v n="$steps" -v all="$all" \
    'BEGIN { printf "%-7s %3d steps: median %6.2f s, %6.1f ms a step (runs:%s s)\n", e, n, t, 1000 * t / n, all }'
done
