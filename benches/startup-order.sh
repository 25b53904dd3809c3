#!/usr/bin/env bash
# Writes benches/startup.order: the functions of the kfpl binary that a small
# `kfpl compile` or `kfpl check` runs, by their linker names. build.rs hands
# the list to the linker, which places those functions side by side, so a
# small compile touches ~1 MB of code instead of pages scattered over 8 MB
# (each first touch of a page is a page fault: 77 -> 21 of them on the
# tutorial's pipeline).
#   benches/startup-order.sh    # after a toolchain or dependency bump, or
#                               # when `perf stat -e page-faults` grows; commit
#                               # the file
# A stale list costs nothing but the gain: names it lists that are gone are
# skipped, and functions it misses are placed as before.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is missing (.ci/setup installs it)" >&2; exit 1; }
command -v callgrind_annotate >/dev/null || { echo "callgrind_annotate is missing" >&2; exit 1; }
cargo build --release --quiet
kfpl=$(realpath target/release/kfpl)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The tutorial's pipeline, compiled to stdout and to a file, and checked.
runs=(
  "compile examples/mnist.kfp"
  "compile examples/mnist.kfp -o $tmp/out.yaml"
  "check examples/mnist.kfp"
)
for i in "${!runs[@]}"; do
  # shellcheck disable=SC2086 # each entry is a command line
  valgrind --tool=callgrind --demangle=no --callgrind-out-file="$tmp/$i.out" \
    "$kfpl" ${runs[$i]} >/dev/null 2>"$tmp/$i.log"
done
# callgrind_annotate's lines: "  1,234 (0.07%)  src/file.rs:_ZN4kfpl...E [/path/kfpl]".
# Keep the functions of the binary itself, named (not `0x…`, not `(below main)`),
# without callgrind's mark of a recursive call (`'2`).
for out in "$tmp"/*.out; do
  callgrind_annotate --threshold=100 "$out" 2>/dev/null
done |
  grep -F "[$kfpl]" |
  sed -E "s/^ *[0-9,]+ +\([ 0-9.]+%\) +//; s/ \[[^]]*\]\$//; s/^.*:([^:]+)\$/\1/; s/'[0-9]+\$//" |
  grep -E '^[A-Za-z_][A-Za-z0-9_.$]*$' |
  LC_ALL=C sort -u >benches/startup.order
echo "wrote $(wc -l <benches/startup.order) names to benches/startup.order"
