#!/usr/bin/env bash
# Loads syntax/kfp.vim in a headless vim and checks the groups it gives (test.vim).
# vim exits non-zero when sourcing the syntax file raises an error or a check fails.
set -uo pipefail
cd "$(dirname "$0")"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
vim -Nu NONE -i NONE -es -c 'set rtp^=.' -c 'filetype plugin on' -c 'syntax on' \
  -c "let g:kfp_test_out = '$out'" -S test.vim
rc=$?
cat "$out"
if [ "$rc" -ne 0 ] && [ ! -s "$out" ]; then
  echo "vim syntax: vim exited with $rc (an error while loading syntax/kfp.vim?)"
fi
exit "$rc"
