#!/usr/bin/env bash
# Holds the line on compile speed without trusting the clock: counts the
# instructions `kfpl compile` runs on a 10,000-step program under callgrind
# (the same on a loaded machine as on a quiet one) and fails when the count
# grows more than 10% over benches/compile-10k.instructions.
#   benches/instructions.sh            # check (CI: .ci/test)
#   benches/instructions.sh --update   # record the current count after a
#                                      # deliberate change; commit the file
# The count depends on the Rust toolchain too: update it with a toolchain bump.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is missing (.ci/setup installs it)" >&2; exit 1; }
cargo build --release --quiet
kfpl=target/release/kfpl
recorded=benches/compile-10k.instructions
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$kfpl" dev-generate 10000 >"$tmp/g.kfp"
valgrind --tool=callgrind --callgrind-out-file="$tmp/callgrind.out" \
  "$kfpl" compile "$tmp/g.kfp" -o "$tmp/g.yaml" 2>"$tmp/valgrind.log"
# valgrind's summary line: "==PID== Collected : 9360863200"
count=$(sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$tmp/valgrind.log")
[ -n "$count" ] || { cat "$tmp/valgrind.log" >&2; echo "no instruction count" >&2; exit 1; }

if [ "${1:-}" = --update ]; then
  echo "$count" >"$recorded"
  echo "recorded $count instructions in $recorded"
  exit 0
fi
limit=$(($(cat "$recorded") * 110 / 100))
printf 'kfpl compile, 10,000 steps: %d instructions (recorded %d, limit %d)\n' \
  "$count" "$(cat "$recorded")" "$limit"
if [ "$count" -gt "$limit" ]; then
  echo "compile got slower: more than 10% over $recorded; profile with" >&2
  echo "  valgrind --tool=callgrind target/release/kfpl compile FILE -o /dev/null && callgrind_annotate callgrind.out.*" >&2
  exit 1
fi
