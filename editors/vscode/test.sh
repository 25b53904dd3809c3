#!/usr/bin/env bash
# Runs the TextMate grammar tests (tests/*.kfp) with the real VS Code engine
# (vscode-textmate + oniguruma, through vscode-tmgrammar-test).
set -euo pipefail
cd "$(dirname "$0")"
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  npm install --no-audit --no-fund
fi
npx --no-install vscode-tmgrammar-test 'tests/*.kfp'
files=$(ls tests/*.kfp | wc -l)
asserts=$(cat tests/*.kfp | grep -cE '^#( *\^| *<~*-)' || true)
echo "grammar tests: ${files} files, ${asserts} assertion lines, all passed"
