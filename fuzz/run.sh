#!/usr/bin/env bash
# Fuzzes parse+check (and lowering) for a while: `fuzz/run.sh [SECONDS]`.
# Seeds the corpus from the fixtures and examples. cargo-fuzz needs nightly
# flags; RUSTC_BOOTSTRAP lets the stable toolchain accept them.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
mkdir -p fuzz/corpus/parse_check
cp tests/ui/*.kfp tests/*/*.kfp examples/*.kfp fuzz/corpus/parse_check/ 2>/dev/null || true
RUSTC_BOOTSTRAP=1 cargo fuzz run parse_check --release -- \
  -max_total_time="$seconds" -max_len=65536 -timeout=10 -print_final_stats=1
