//! `kfpl lsp`: the language server over stdio. The protocol's framing is
//! `lsp-server`'s; every answer is the library's (`kfpl::lsp::Server`).
//! stdout carries only protocol messages; log lines go to stderr.

use std::process::ExitCode;

use kfpl::lsp::Server;
use lsp_server::{Connection, Message, Response};

/// Lets the tests prove a panicking handler answers an error and the
/// server lives on.
const TEST_PANIC_VARIABLE: &str = "KFPL_LSP_TEST_PANIC";

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Accepted for editors that pass it (VS Code's language client does); stdio is the only transport.
    #[arg(long)]
    stdio: bool,
}

impl Args {
    pub(crate) fn run(self) -> ExitCode {
        let _ = self.stdio;
        match serve() {
            Ok(()) => ExitCode::SUCCESS,
            Err(why) => {
                eprintln!("kfpl lsp: {why}");
                ExitCode::FAILURE
            }
        }
    }
}

fn serve() -> Result<(), Box<dyn std::error::Error + Sync + Send>> {
    let (connection, io_threads) = Connection::stdio();
    let capabilities = serde_json::to_value(Server::capabilities())?;
    let client = connection.initialize(capabilities)?;
    let mut server = Server::new().with_client(&client);
    if std::env::var_os(TEST_PANIC_VARIABLE).is_some() {
        server = server.with_test_panic();
    }
    while let Ok(first) = connection.receiver.recv() {
        // What queued while the last message was handled: runs of edits are checked once.
        let mut queued = vec![first];
        queued.extend(connection.receiver.try_iter());
        for message in kfpl::lsp::coalesce(queued) {
            // `shutdown` and `exit` are answered here, not by `Connection::handle_shutdown`,
            // which would wait on the receiver for an `exit` already drained above.
            match &message {
                Message::Request(request) if request.method == "shutdown" => {
                    let done = Response::new_ok(request.id.clone(), ());
                    connection.sender.send(done.into())?;
                    continue;
                }
                Message::Notification(notification) if notification.method == "exit" => {
                    drop(connection);
                    io_threads.join()?;
                    return Ok(());
                }
                _ => {}
            }
            let outcome = server.handle(message);
            for line in outcome.log {
                eprintln!("kfpl lsp: {line}");
            }
            for message in outcome.messages {
                connection.sender.send(message)?;
            }
        }
    }
    drop(connection);
    io_threads.join()?;
    Ok(())
}
