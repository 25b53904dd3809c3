// Starts kfpl's language server (`kfpl lsp`, over stdio) for .kfp files.
// Highlighting stays the TextMate grammar's (syntaxes/); the server adds
// diagnostics, hover, go to definition, references, rename, outline,
// formatting, completion, semantic tokens, folding and quick fixes.
// The setting `kfpl.path` names the kfpl binary (default: `kfpl` on PATH).
'use strict';

const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration('kfpl').get('path') || 'kfpl';
  const run = { command, args: ['lsp'] };
  client = new LanguageClient(
    'kfpl',
    'kfpl language server',
    { run, debug: run },
    { documentSelector: [{ language: 'kfp' }] },
  );
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
