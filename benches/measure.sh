#!/usr/bin/env bash
# Whole-process figures for docs/performance.md: `kfpl compile` on the
# examples and on generated programs (median of several runs, peak memory),
# and, when KFP_PYTHON names a python with kfp==1.8.22, the kfp v1 compiler
# on the same programs (benches/kfp_v1/pipeline.py).
#   cargo build --release && benches/measure.sh
#   KFP_PYTHON=/path/to/venv/bin/python benches/measure.sh
set -euo pipefail
cd "$(dirname "$0")/.."
kfpl=target/release/kfpl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# median wall seconds and max RSS (KB) of running "$@" N times
measure() {
  local n=$1; shift
  for _ in $(seq "$n"); do
    /usr/bin/time -f "%e %M" -o "$tmp/t" "$@" >/dev/null 2>&1
    cat "$tmp/t"
  done | sort -n | awk '{ t[NR] = $1; if ($2 > m) m = $2 } END { printf "%.3f s  %d MB\n", t[int((NR + 1) / 2)], m / 1024 }'
}

for f in examples/*.kfp; do
  printf '%-34s %s\n' "kfpl compile $f" "$(measure 11 "$kfpl" compile "$f")"
done
for n in 1000 10000 100000; do
  "$kfpl" dev-generate "$n" >"$tmp/g$n.kfp"
  runs=$([ "$n" -ge 100000 ] && echo 3 || echo 5)
  printf '%-34s %s\n' "kfpl check $n steps" "$(measure "$runs" "$kfpl" check "$tmp/g$n.kfp")"
  printf '%-34s %s\n' "kfpl compile $n steps" "$(measure "$runs" "$kfpl" compile "$tmp/g$n.kfp")"
done
# Issue 17's 50 MB file: 752,000 steps that run `true` (one shared template).
benches/gen_true_steps.sh flat 752000 >"$tmp/flat.kfp"
printf '%-34s %s\n' "kfpl check 752k steps (51 MB)" "$(measure 1 "$kfpl" check "$tmp/flat.kfp")"
printf '%-34s %s\n' "kfpl compile 752k steps (51 MB)" "$(measure 1 "$kfpl" compile "$tmp/flat.kfp" -o "$tmp/flat.yaml")"
# Instructions (callgrind): the same on a loaded machine as on a quiet one.
if command -v valgrind >/dev/null; then
  count=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null \
    "$kfpl" compile "$tmp/g1000.kfp" -o /dev/null 2>&1 | sed -n 's/.*Collected : *//p')
  printf '%-34s %s instructions\n' "kfpl compile 1000 steps" "$count"
fi
if [ -n "${KFP_PYTHON:-}" ]; then
  for w in mnist 1000 10000; do
    runs=$([ "$w" = 10000 ] && echo 1 || echo 3)
    printf '%-34s %s\n' "kfp v1 compiler: $w" \
      "$(measure "$runs" "$KFP_PYTHON" -W ignore benches/kfp_v1/pipeline.py "$w" "$tmp/kfp.yaml")"
  done
fi
