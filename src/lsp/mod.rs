//! `kfpl lsp`: the language server's requests and notifications, as pure
//! handlers over the crate's parse, check and fmt.
//!
//! A [`Server`] holds the open documents and answers one JSON-RPC message
//! at a time with the messages to send back ([`Outcome`]). It never reads
//! or writes a stream: the binary's stdio loop (`src/cli/lsp.rs`) does.
//! Every handler runs under `catch_unwind`: a panic becomes an error
//! response (or, for a notification, a log line), never a dead server.
//!
//! Diagnostics are exactly `kfpl::check`'s on the document's text; the
//! other features read [`analysis::Analysis`], which keeps working on a
//! half-typed file.

pub mod analysis;
pub mod assist;
pub mod diagnostics;
pub mod fixes;
pub mod navigate;
pub mod outline;
mod requests;
pub mod text;

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use lsp_server::{ErrorCode, Message, Notification, Response, ResponseError};
use lsp_types::notification::{self as note, Notification as _};
use lsp_types::{
    CodeActionKind, CodeActionProviderCapability, CompletionOptions, HoverProviderCapability,
    OneOf, PublishDiagnosticsParams, RenameOptions, SemanticTokensFullOptions,
    SemanticTokensOptions, ServerCapabilities, TextDocumentSyncCapability, TextDocumentSyncKind,
    Url,
};
use serde_json::Value;

use self::text::LineIndex;
use crate::{Diagnostic, SourceFile};

/// A request method that panics on purpose, for the tests that prove a
/// panic is contained. Only answered when [`Server::with_test_panic`] is set.
pub const TEST_PANIC_METHOD: &str = "kfpl/testPanic";

/// The open documents.
#[derive(Debug, Default)]
pub struct Server {
    documents: BTreeMap<Url, Document>,
    test_panic: bool,
    /// Whether the client takes snippets in completion items.
    snippets: bool,
}

#[derive(Debug)]
struct Document {
    text: String,
    /// `kfpl::check`'s diagnostics on `text`, for hover.
    diagnostics: Vec<Diagnostic>,
}

/// What handling one message produced.
#[derive(Debug, Default)]
pub struct Outcome {
    /// To send to the client, in order.
    pub messages: Vec<Message>,
    /// Lines for the server's log (stderr): panics, bad notifications.
    pub log: Vec<String>,
}

type Answer = Result<Value, ResponseError>;

fn error(code: ErrorCode, message: impl Into<String>) -> ResponseError {
    ResponseError {
        code: code as i32,
        message: message.into(),
        data: None,
    }
}

impl Server {
    /// A server with no documents open.
    pub fn new() -> Server {
        Server::default()
    }

    /// Also answers [`TEST_PANIC_METHOD`] by panicking.
    pub fn with_test_panic(mut self) -> Server {
        self.test_panic = true;
        self
    }

    /// Reads what the client can do from its `initialize` params: whether
    /// completion items may be snippets.
    pub fn with_client(mut self, initialize_params: &Value) -> Server {
        let snippets = &initialize_params["capabilities"]["textDocument"]["completion"]["completionItem"]
            ["snippetSupport"];
        self.snippets = snippets.as_bool().unwrap_or(false);
        self
    }

    /// What the server can do, for `initialize`.
    pub fn capabilities() -> ServerCapabilities {
        ServerCapabilities {
            text_document_sync: Some(TextDocumentSyncCapability::Kind(
                TextDocumentSyncKind::INCREMENTAL,
            )),
            hover_provider: Some(HoverProviderCapability::Simple(true)),
            definition_provider: Some(OneOf::Left(true)),
            references_provider: Some(OneOf::Left(true)),
            document_highlight_provider: Some(OneOf::Left(true)),
            rename_provider: Some(OneOf::Right(RenameOptions {
                prepare_provider: Some(true),
                work_done_progress_options: Default::default(),
            })),
            document_symbol_provider: Some(OneOf::Left(true)),
            document_formatting_provider: Some(OneOf::Left(true)),
            completion_provider: Some(CompletionOptions {
                trigger_characters: Some(vec!["<".into(), ".".into(), ":".into()]),
                ..CompletionOptions::default()
            }),
            semantic_tokens_provider: Some(
                SemanticTokensOptions {
                    legend: outline::legend(),
                    full: Some(SemanticTokensFullOptions::Bool(true)),
                    range: None,
                    work_done_progress_options: Default::default(),
                }
                .into(),
            ),
            folding_range_provider: Some(true.into()),
            inlay_hint_provider: Some(OneOf::Left(true)),
            code_action_provider: Some(CodeActionProviderCapability::Options(
                lsp_types::CodeActionOptions {
                    code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                    ..Default::default()
                },
            )),
            ..ServerCapabilities::default()
        }
    }

    /// Handles one message from the client.
    pub fn handle(&mut self, message: Message) -> Outcome {
        let mut outcome = Outcome::default();
        match message {
            Message::Request(request) => {
                let id = request.id.clone();
                let method = request.method.clone();
                let answer = catch_unwind(AssertUnwindSafe(|| self.request(request)))
                    .unwrap_or_else(|panic| {
                        let why = panic_text(&*panic);
                        outcome.log.push(format!("panic in `{method}`: {why}"));
                        Err(error(
                            ErrorCode::InternalError,
                            format!("internal error: {why}"),
                        ))
                    });
                let response = match answer {
                    Ok(result) => Response::new_ok(id, result),
                    Err(error) => Response {
                        id,
                        result: None,
                        error: Some(error),
                    },
                };
                outcome.messages.push(Message::Response(response));
            }
            Message::Notification(notification) => {
                let method = notification.method.clone();
                match catch_unwind(AssertUnwindSafe(|| self.notification(notification))) {
                    Ok(Ok(messages)) => outcome.messages = messages,
                    Ok(Err(why)) => outcome.log.push(format!("`{method}`: {why}")),
                    Err(panic) => outcome
                        .log
                        .push(format!("panic in `{method}`: {}", panic_text(&*panic))),
                }
            }
            Message::Response(_) => {}
        }
        outcome
    }

    fn notification(&mut self, notification: Notification) -> Result<Vec<Message>, String> {
        fn params<N: note::Notification>(n: Notification) -> Result<N::Params, String> {
            serde_json::from_value(n.params).map_err(|e| e.to_string())
        }
        let uri = match notification.method.as_str() {
            note::DidOpenTextDocument::METHOD => {
                let params = params::<note::DidOpenTextDocument>(notification)?;
                let document = params.text_document;
                self.set_text(document.uri.clone(), document.text);
                document.uri
            }
            note::DidChangeTextDocument::METHOD => {
                let params = params::<note::DidChangeTextDocument>(notification)?;
                let uri = params.text_document.uri;
                let mut text = self
                    .documents
                    .remove(&uri)
                    .map(|d| d.text)
                    .ok_or_else(|| format!("`{uri}` is not open"))?;
                for change in params.content_changes {
                    text::apply_change(&mut text, change);
                }
                self.set_text(uri.clone(), text);
                uri
            }
            note::DidCloseTextDocument::METHOD => {
                let params = params::<note::DidCloseTextDocument>(notification)?;
                let uri = params.text_document.uri;
                self.documents.remove(&uri);
                return Ok(vec![publish(uri, Vec::new())]);
            }
            _ => return Ok(Vec::new()),
        };
        let published = self.published(&uri);
        Ok(vec![publish(uri, published)])
    }

    /// Replaces a document's text and checks it.
    fn set_text(&mut self, uri: Url, text: String) {
        let file = SourceFile::new(uri.path(), text.as_str());
        let diagnostics = crate::check(&file).diagnostics;
        self.documents.insert(uri, Document { text, diagnostics });
    }

    /// The LSP diagnostics of an open document.
    fn published(&self, uri: &Url) -> Vec<lsp_types::Diagnostic> {
        let Some(document) = self.documents.get(uri) else {
            return Vec::new();
        };
        let index = LineIndex::new(&document.text);
        document
            .diagnostics
            .iter()
            .map(|d| diagnostics::to_lsp(uri, &index, d))
            .collect()
    }
}

/// `messages` with each run of `didChange` notifications for one document
/// merged into one (their changes in order, the last version): the same
/// edits, checked once. A client typing fast into a large file queues
/// changes faster than each can be checked; the stdio loop passes what is
/// queued through this.
pub fn coalesce(messages: Vec<Message>) -> Vec<Message> {
    let mut out: Vec<Message> = Vec::with_capacity(messages.len());
    for message in messages {
        let merged = match (out.last_mut(), &message) {
            (Some(Message::Notification(last)), Message::Notification(next)) => {
                merge_changes(last, next)
            }
            _ => false,
        };
        if !merged {
            out.push(message);
        }
    }
    out
}

/// Appends `next`'s changes to `last` when both are `didChange` for one document.
fn merge_changes(last: &mut Notification, next: &Notification) -> bool {
    let change = note::DidChangeTextDocument::METHOD;
    if last.method != change || next.method != change {
        return false;
    }
    let (Ok(mut a), Ok(b)) = (
        serde_json::from_value::<lsp_types::DidChangeTextDocumentParams>(last.params.clone()),
        serde_json::from_value::<lsp_types::DidChangeTextDocumentParams>(next.params.clone()),
    ) else {
        return false;
    };
    if a.text_document.uri != b.text_document.uri {
        return false;
    }
    a.text_document.version = b.text_document.version;
    a.content_changes.extend(b.content_changes);
    match serde_json::to_value(a) {
        Ok(params) => {
            last.params = params;
            true
        }
        Err(_) => false,
    }
}

fn publish(uri: Url, diagnostics: Vec<lsp_types::Diagnostic>) -> Message {
    let params = PublishDiagnosticsParams::new(uri, diagnostics, None);
    Message::Notification(Notification::new(
        note::PublishDiagnostics::METHOD.to_string(),
        params,
    ))
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(uri: &str, version: i32, text: &str) -> Message {
        let params = serde_json::json!({
            "textDocument": { "uri": uri, "version": version },
            "contentChanges": [{ "text": text }],
        });
        Message::Notification(Notification::new(
            note::DidChangeTextDocument::METHOD.into(),
            params,
        ))
    }

    #[test]
    fn queued_changes_to_one_document_are_checked_once() {
        let queued = vec![
            change("file:///a.kfp", 2, "x"),
            change("file:///a.kfp", 3, "y"),
            change("file:///b.kfp", 2, "z"),
            change("file:///a.kfp", 4, "w"),
        ];
        let merged = coalesce(queued);
        assert_eq!(merged.len(), 3);
        let Message::Notification(first) = &merged[0] else {
            panic!("a notification")
        };
        assert_eq!(first.params["textDocument"]["version"], 3);
        assert_eq!(
            first.params["contentChanges"].as_array().map(Vec::len),
            Some(2)
        );
        let mut server = Server::new();
        let open = serde_json::json!({ "textDocument": {
            "uri": "file:///a.kfp", "languageId": "kfp", "version": 1, "text": "" } });
        let open = Notification::new(note::DidOpenTextDocument::METHOD.into(), open);
        server.handle(Message::Notification(open));
        let outcome = server.handle(merged[0].clone());
        assert_eq!(outcome.messages.len(), 1, "one publishDiagnostics");
        let Some(document) = server.documents.values().next() else {
            panic!("open")
        };
        assert_eq!(document.text, "y");
    }
}
