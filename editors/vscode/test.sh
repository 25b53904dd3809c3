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
# The extension's entry point parses, and the language client it loads is installed.
node --check extension.js
node -e "require.resolve('vscode-languageclient/node')"
files=$(ls tests/*.kfp | wc -l)
asserts=$(cat tests/*.kfp | grep -cE '^#( *\^| *<~*-)' || true)
echo "grammar tests: ${files} files, ${asserts} assertion lines, all passed"
