//! `kfpl lsp` driven as a subprocess over JSON-RPC (Content-Length framing):
//! each feature's answer on tests/lsp/sample.kfp against a fixture beside it
//! (`KFPL_BLESS=1` rewrites them), a half-typed file, a contained panic,
//! random edits whose diagnostics must stay `kfpl check`'s, and a real
//! client: headless Neovim with the config in editors/nvim.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use proptest::prelude::*;
use serde_json::{Value, json};

/// Long enough for a slow debug build; only a hung server reaches it.
const PATIENCE: Duration = Duration::from_secs(120);

/// A running `kfpl lsp` and the messages it has sent.
struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    next_id: i64,
    /// Notifications that arrived while waiting for a response.
    pending: Vec<Value>,
}

impl Client {
    fn start() -> Client {
        Client::start_with(&[])
    }

    /// Starts the server with extra environment variables and initializes it.
    fn start_with(env: &[(&str, &str)]) -> Client {
        Client::start_for(env, json!({}))
    }

    /// Starts the server for a client with `capabilities`.
    fn start_for(env: &[(&str, &str)], capabilities: Value) -> Client {
        let mut kfpl = support::kfpl(["lsp"]);
        for (name, value) in env {
            kfpl = kfpl.env(name, value);
        }
        let mut child = kfpl
            .command()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kfpl lsp starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, incoming) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        let mut client = Client {
            child,
            stdin,
            incoming,
            next_id: 0,
            pending: Vec::new(),
        };
        let capabilities = client.request("initialize", json!({ "capabilities": capabilities }));
        assert_eq!(
            capabilities["capabilities"]["textDocumentSync"],
            json!(2),
            "incremental sync"
        );
        client.notify("initialized", json!({}));
        client
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        self.stdin.flush().expect("flush");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// The response to a request: its result, or `{"error": …}`.
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let message = self.receive();
            if message["id"] == json!(id) && message.get("method").is_none() {
                return match message.get("error") {
                    Some(error) => json!({ "error": error }),
                    None => message["result"].clone(),
                };
            }
            self.pending.push(message);
        }
    }

    fn receive(&mut self) -> Value {
        self.incoming
            .recv_timeout(PATIENCE)
            .expect("the server answers")
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let is_ours = |m: &Value| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        };
        if let Some(n) = self.pending.iter().position(is_ours) {
            let message = self.pending.remove(n);
            return message["params"]["diagnostics"]
                .as_array()
                .cloned()
                .unwrap_or_default();
        }
        loop {
            let message = self.receive();
            if is_ours(&message) {
                return message["params"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
            }
            self.pending.push(message);
        }
    }

    fn open(&mut self, uri: &str, text: &str) -> Vec<Value> {
        let document = json!({ "uri": uri, "languageId": "kfp", "version": 1, "text": text });
        self.notify("textDocument/didOpen", json!({ "textDocument": document }));
        self.diagnostics(uri)
    }

    /// Replaces `range` (LSP positions) with `text`.
    fn change(&mut self, uri: &str, range: Value, text: &str) -> Vec<Value> {
        let params = json!({
            "textDocument": { "uri": uri, "version": 2 },
            "contentChanges": [{ "range": range, "text": text }],
        });
        self.notify("textDocument/didChange", params);
        self.diagnostics(uri)
    }

    /// Shuts the server down and returns what it logged.
    fn shutdown(mut self) -> String {
        let result = self.request("shutdown", Value::Null);
        assert_eq!(result, Value::Null);
        self.notify("exit", Value::Null);
        let status = self.child.wait().expect("kfpl lsp exits");
        let mut log = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            stderr.read_to_string(&mut log).expect("stderr");
        }
        assert!(status.success(), "kfpl lsp failed: {status}\n{log}");
        log
    }
}

/// One Content-Length framed message, or `None` at the end of the stream.
fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length: ") {
            length = value.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

/// The LSP position (UTF-16 column) of byte `offset`, computed here on its
/// own so the server's conversion is checked, not reused.
fn position(text: &str, offset: usize) -> Value {
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |n| n + 1);
    let character: usize = before[line_start..].chars().map(char::len_utf16).sum();
    json!({ "line": line, "character": character })
}

/// The position `delta` bytes into the `nth` (from 0) occurrence of `needle`.
fn at(text: &str, needle: &str, nth: usize, delta: usize) -> Value {
    let offset = text
        .match_indices(needle)
        .nth(nth)
        .unwrap_or_else(|| panic!("`{needle}` #{nth} is not in the text"))
        .0;
    position(text, offset + delta)
}

fn fixture(name: &str) -> PathBuf {
    support::root().join("tests/lsp").join(name)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).expect("json") + "\n"
}

const URI: &str = "file:///work/sample.kfp";

fn document_at(position: Value) -> Value {
    json!({ "textDocument": { "uri": URI }, "position": position })
}

#[test]
fn every_feature_answers_as_its_fixture_says() {
    let text = read(&fixture("sample.kfp"));
    let mut client = Client::start();
    let mut results = vec![("diagnostics", Value::from(client.open(URI, &text)))];
    let document = json!({ "textDocument": { "uri": URI } });
    let hover = |needle: &str, nth: usize, delta: usize| {
        (
            "textDocument/hover",
            document_at(at(&text, needle, nth, delta)),
        )
    };
    let requests: Vec<(&str, (&str, Value))> = vec![
        ("hover_param", hover("learning_rate", 0, 2)),
        ("hover_param_without_default", hover("$<epochs>", 0, 3)),
        ("hover_step", hover("step train", 0, 6)),
        ("hover_output", hover("prepare.output", 1, 9)),
        ("hover_attribute", hover("gpus", 0, 1)),
        ("hover_let", hover("data = data", 0, 8)),
        ("hover_diagnostic", hover("prepar]", 0, 2)),
        (
            "definition_of_output",
            (
                "textDocument/definition",
                document_at(at(&text, "prepare.output", 1, 10)),
            ),
        ),
        (
            "definition_of_declared_output",
            (
                "textDocument/definition",
                document_at(at(&text, "prepare.stats", 0, 9)),
            ),
        ),
        (
            "definition_of_param",
            (
                "textDocument/definition",
                document_at(at(&text, "$<learning_rate>", 0, 4)),
            ),
        ),
        (
            "references_of_param",
            (
                "textDocument/references",
                json!({
                    "textDocument": { "uri": URI },
                    "position": at(&text, "$<epochs>", 0, 3),
                    "context": { "includeDeclaration": false },
                }),
            ),
        ),
        (
            "definition_in_after",
            (
                "textDocument/definition",
                document_at(at(&text, "[prepare", 0, 2)),
            ),
        ),
        (
            "references_of_step",
            (
                "textDocument/references",
                json!({
                    "textDocument": { "uri": URI },
                    "position": at(&text, "step prepare", 0, 6),
                    "context": { "includeDeclaration": true },
                }),
            ),
        ),
        (
            "highlight_let",
            (
                "textDocument/documentHighlight",
                document_at(at(&text, "let data", 0, 5)),
            ),
        ),
        (
            "rename_step",
            (
                "textDocument/rename",
                json!({
                    "textDocument": { "uri": URI },
                    "position": at(&text, "step prepare", 0, 6),
                    "newName": "fetch",
                }),
            ),
        ),
        (
            "rename_refused_clash",
            (
                "textDocument/rename",
                json!({
                    "textDocument": { "uri": URI },
                    "position": at(&text, "param unused", 0, 7),
                    "newName": "train",
                }),
            ),
        ),
        (
            "rename_refused_keyword",
            (
                "textDocument/rename",
                json!({
                    "textDocument": { "uri": URI },
                    "position": at(&text, "let data", 0, 5),
                    "newName": "step",
                }),
            ),
        ),
        ("symbols", ("textDocument/documentSymbol", document.clone())),
        (
            "formatting",
            (
                "textDocument/formatting",
                json!({
                    "textDocument": { "uri": URI },
                    "options": { "tabSize": 2, "insertSpaces": true },
                }),
            ),
        ),
        (
            "completion_interpolation",
            (
                "textDocument/completion",
                document_at(at(&text, "$<learning_rate>", 0, 2)),
            ),
        ),
        (
            "completion_output",
            (
                "textDocument/completion",
                document_at(at(&text, "prepare.stats", 0, 8)),
            ),
        ),
        (
            "completion_step_attribute",
            (
                "textDocument/completion",
                document_at(at(&text, "    gpus", 0, 6)),
            ),
        ),
        (
            "completion_metric_format",
            (
                "textDocument/completion",
                document_at(at(&text, "percentage", 0, 0)),
            ),
        ),
        (
            "semantic_tokens",
            ("textDocument/semanticTokens/full", document.clone()),
        ),
        ("folding", ("textDocument/foldingRange", document.clone())),
        (
            "inlay_hints",
            (
                "textDocument/inlayHint",
                json!({
                    "textDocument": { "uri": URI },
                    "range": { "start": position(&text, 0), "end": position(&text, text.len()) },
                }),
            ),
        ),
        (
            "code_action_did_you_mean",
            (
                "textDocument/codeAction",
                json!({
                    "textDocument": { "uri": URI },
                    "range": { "start": at(&text, "prepar]", 0, 0), "end": at(&text, "prepar]", 0, 0) },
                    "context": { "diagnostics": [] },
                }),
            ),
        ),
    ];
    for (name, (method, params)) in requests {
        results.push((name, client.request(method, params)));
    }
    client.shutdown();
    let failures: Vec<String> = results
        .iter()
        .filter_map(|(name, value)| {
            support::check_expected(&fixture(&format!("sample/{name}.json")), &pretty(value)).err()
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A code action request for the cursor at `position`.
fn code_actions_at(uri: &str, position: Value) -> Value {
    json!({
        "textDocument": { "uri": uri },
        "range": { "start": position, "end": position },
        "context": { "diagnostics": [] },
    })
}

#[test]
fn quick_fixes_and_the_step_snippet_answer_as_their_fixtures_say() {
    let uri = "file:///work/fixes.kfp";
    let text = read(&fixture("fixes.kfp"));
    let at_step =
        json!({ "textDocument": { "uri": uri }, "position": at(&text, "step train", 0, 2) });
    let snippets = json!({ "textDocument": { "completion": { "completionItem": { "snippetSupport": true } } } });
    let mut plain = Client::start();
    plain.open(uri, &text);
    let mut results = vec![
        (
            "code_action_add_output",
            plain.request(
                "textDocument/codeAction",
                code_actions_at(uri, at(&text, "prepare.model", 0, 9)),
            ),
        ),
        (
            "code_action_quote_number",
            plain.request(
                "textDocument/codeAction",
                code_actions_at(uri, at(&text, "= 3", 0, 2)),
            ),
        ),
        (
            "completion_step_keyword",
            plain.request("textDocument/completion", at_step.clone()),
        ),
    ];
    plain.shutdown();
    let mut snippet_client = Client::start_for(&[], snippets);
    snippet_client.open(uri, &text);
    results.push((
        "completion_step_snippet",
        snippet_client.request("textDocument/completion", at_step),
    ));
    snippet_client.shutdown();
    let failures: Vec<String> = results
        .iter()
        .filter_map(|(name, value)| {
            support::check_expected(&fixture(&format!("fixes/{name}.json")), &pretty(value)).err()
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The names of the symbols, nested: `pipeline(param, step(output))`.
fn symbol_names(symbols: &Value) -> Vec<String> {
    symbols
        .as_array()
        .map(|list| {
            list.iter()
                .map(|s| {
                    let children = symbol_names(&s["children"]);
                    let name = s["name"].as_str().unwrap_or("?").to_string();
                    if children.is_empty() {
                        name
                    } else {
                        format!("{name}({})", children.join(", "))
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

fn labels(items: &Value) -> Vec<String> {
    let list = items.get("items").unwrap_or(items);
    list.as_array()
        .map(|l| {
            l.iter()
                .map(|i| i["label"].as_str().unwrap_or("?").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn codes(diagnostics: &[Value]) -> Vec<String> {
    diagnostics
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("?").to_string())
        .collect()
}

#[test]
fn a_half_typed_file_still_gets_diagnostics_completion_and_symbols() {
    let text = read(&fixture("sample.kfp"));
    let mut client = Client::start();
    client.open(URI, &text);
    let mut transcript = String::new();
    // An unclosed string in the first step, typed as an edit.
    let broken_at = at(&text, "\"alpine:3.20\"", 0, 12);
    let range = json!({ "start": broken_at, "end": at(&text, "\"alpine:3.20\"", 0, 13) });
    let diagnostics = client.change(URI, range, "");
    let broken = text.replacen("\"alpine:3.20\"", "\"alpine:3.20", 1);
    transcript.push_str(&format!(
        "unclosed string: diagnostics {:?}\n",
        codes(&diagnostics)
    ));
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": URI } }),
    );
    transcript.push_str(&format!("  symbols {:?}\n", symbol_names(&symbols)));
    let completion = client.request(
        "textDocument/completion",
        document_at(at(&broken, "$<learning_rate>", 0, 2)),
    );
    transcript.push_str(&format!(
        "  completion after $< {:?}\n",
        labels(&completion)
    ));
    // Half a step typed before the last one.
    let whole = json!({ "start": position(&broken, 0), "end": position(&broken, broken.len()) });
    let half = text.replacen(
        "  step train {",
        "  step evaluate {\n    image = \"x\n    command = \n\n  step train {",
        1,
    );
    let diagnostics = client.change(URI, whole, &half);
    transcript.push_str(&format!(
        "half a step: diagnostics {:?}\n",
        codes(&diagnostics)
    ));
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": URI } }),
    );
    transcript.push_str(&format!("  symbols {:?}\n", symbol_names(&symbols)));
    let completion = client.request(
        "textDocument/completion",
        document_at(at(&half, "prepare.stats", 0, 8)),
    );
    transcript.push_str(&format!(
        "  completion after $<prepare. {:?}\n",
        labels(&completion)
    ));
    let definition = client.request(
        "textDocument/definition",
        document_at(at(&half, "prepare.output", 1, 3)),
    );
    transcript.push_str(&format!(
        "  definition of $<prepare.…> {}\n",
        definition["range"]
    ));
    client.shutdown();
    support::expect_file(&fixture("half_typed.txt"), &transcript);
}

#[test]
fn a_panic_or_a_bad_request_answers_an_error_and_the_server_lives_on() {
    let text = read(&fixture("sample.kfp"));
    let mut client = Client::start_with(&[("KFPL_LSP_TEST_PANIC", "1")]);
    client.open(URI, &text);
    let answer = client.request(kfpl::lsp::TEST_PANIC_METHOD, json!({}));
    assert_eq!(answer["error"]["code"], json!(-32603), "{answer}");
    let malformed = client.request("textDocument/hover", json!({ "position": 3 }));
    assert_eq!(malformed["error"]["code"], json!(-32602), "{malformed}");
    let unknown = client.request("kfpl/noSuchMethod", json!({}));
    assert_eq!(unknown["error"]["code"], json!(-32601), "{unknown}");
    let closed = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": "file:///never-opened.kfp" }, "position": { "line": 0, "character": 0 } }),
    );
    assert_eq!(closed["error"]["code"], json!(-32602), "{closed}");
    let hover = client.request(
        "textDocument/hover",
        document_at(at(&text, "learning_rate", 0, 2)),
    );
    assert!(
        hover["contents"]["value"]
            .as_str()
            .is_some_and(|v| v.contains("number")),
        "{hover}"
    );
    let log = client.shutdown();
    assert!(log.contains("panic in `kfpl/testPanic`"), "{log}");
}

/// What a diagnostic is, for comparing the server's with `kfpl check`'s:
/// code, severity, range, first line of the message.
fn summary(diagnostic: &Value) -> String {
    let message = diagnostic["message"].as_str().unwrap_or("");
    format!(
        "{} {} {} {}",
        diagnostic["code"],
        diagnostic["severity"],
        diagnostic["range"],
        message.lines().next().unwrap_or("")
    )
}

/// `kfpl::check`'s diagnostics on `text`, summarised as [`summary`] does.
fn expected_summaries(text: &str) -> Vec<String> {
    let file = kfpl::SourceFile::new("t.kfp", text);
    kfpl::check(&file)
        .diagnostics
        .iter()
        .map(|d| {
            let primary = d.labels.iter().find(|l| l.primary);
            let range = match primary {
                Some(l) => json!({
                    "start": position(text, l.span.start as usize),
                    "end": position(text, l.span.end as usize),
                }),
                None => json!({ "start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0} }),
            };
            let severity = if d.is_error() { 1 } else { 2 };
            let lsp = json!({ "code": d.code.as_str(), "severity": severity, "range": range, "message": d.message });
            summary(&lsp)
        })
        .collect()
}

#[test]
fn diagnostics_are_kfpl_checks_on_every_example() {
    let mut paths = support::files_with_extension("examples", "kfp");
    paths.extend(support::files_with_extension("tests/ui", "kfp"));
    assert!(paths.len() > 5, "examples and ui fixtures are found");
    let mut client = Client::start();
    for path in paths {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue; // the ui fixtures that are not UTF-8 on purpose
        };
        let uri = format!(
            "file:///{}",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("x")
        );
        let published: Vec<String> = client.open(&uri, &text).iter().map(summary).collect();
        assert_eq!(published, expected_summaries(&text), "{}", path.display());
        let diagnostics = client.open(&uri, &text);
        for diagnostic in diagnostics {
            let code = diagnostic["code"].as_str().unwrap_or("");
            let href = diagnostic["codeDescription"]["href"].as_str().unwrap_or("");
            assert_eq!(href, format!("https://kfpl.invalid/explain/{code}"));
        }
    }
    client.shutdown();
}

/// Pieces random edits insert: kfpl's own tokens, broken ones, non-ASCII.
const PIECES: &[&str] = &[
    "",
    "step s { image = \"i\" command = \"c\" }",
    "\"",
    "\"\"\"",
    "$<",
    "$<prepare.",
    "}",
    "{",
    "[",
    "]",
    "param p: number = 1\n",
    "let x = data\n",
    "é",
    "😀",
    "\n",
    "after = [train]",
    "# comment\n",
    "=",
    "output o\n",
    "metric \"m\": raw\n",
];

/// An edit as fractions of the text (start, length) and a piece to insert.
fn edit() -> impl Strategy<Value = (f64, f64, usize)> {
    (0.0..1.0f64, 0.0..0.1f64, 0..PIECES.len())
}

/// The char-boundary byte offset at `fraction` of `text`.
fn offset_at(text: &str, fraction: f64) -> usize {
    let mut offset = ((text.len() as f64) * fraction) as usize;
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Random range edits (UTF-16 positions computed here) never crash the
    /// server, and after each its diagnostics are `kfpl::check`'s on the
    /// text the test computed itself.
    #[test]
    fn random_edits_keep_diagnostics_equal_to_kfpl_check(
        edits in prop::collection::vec(edit(), 1..8),
        at_fraction in 0.0..1.0f64,
    ) {
        let mut text = read(&fixture("sample.kfp"));
        let mut client = Client::start();
        client.open(URI, &text);
        for (start, length, piece) in edits {
            let start = offset_at(&text, start);
            let end = offset_at(&text, (start as f64 / text.len().max(1) as f64 + length).min(1.0)).max(start);
            let range = json!({ "start": position(&text, start), "end": position(&text, end) });
            let published = client.change(URI, range, PIECES[piece]);
            text.replace_range(start..end, PIECES[piece]);
            let published: Vec<String> = published.iter().map(summary).collect();
            prop_assert_eq!(published, expected_summaries(&text), "text:\n{}", text);
        }
        // Every request at a random spot of the edited text answers without a panic
        // (an internal error); refusals such as "no name here" are fine.
        let spot = position(&text, offset_at(&text, at_fraction));
        let whole = json!({ "start": position(&text, 0), "end": position(&text, text.len()) });
        let document = json!({ "uri": URI });
        let requests = [
            ("textDocument/hover", document_at(spot.clone())),
            ("textDocument/definition", document_at(spot.clone())),
            ("textDocument/documentHighlight", document_at(spot.clone())),
            ("textDocument/completion", document_at(spot.clone())),
            ("textDocument/prepareRename", document_at(spot.clone())),
            ("textDocument/rename", json!({ "textDocument": document, "position": spot, "newName": "renamed" })),
            ("textDocument/references", json!({ "textDocument": document, "position": spot, "context": { "includeDeclaration": true } })),
            ("textDocument/documentSymbol", json!({ "textDocument": document })),
            ("textDocument/semanticTokens/full", json!({ "textDocument": document })),
            ("textDocument/foldingRange", json!({ "textDocument": document })),
            ("textDocument/formatting", json!({ "textDocument": document, "options": { "tabSize": 2, "insertSpaces": true } })),
            ("textDocument/inlayHint", json!({ "textDocument": document, "range": whole })),
            ("textDocument/codeAction", json!({ "textDocument": document, "range": whole, "context": { "diagnostics": [] } })),
        ];
        for (method, params) in requests {
            let answer = client.request(method, params);
            prop_assert_ne!(&answer["error"]["code"], &json!(-32603), "{} panicked: {}", method, answer);
        }
        let log = client.shutdown();
        prop_assert!(!log.contains("panic"), "{}", log);
    }
}

/// `(major, minor)` of `nvim --version`'s first line, `NVIM v0.7.2`.
fn nvim_version() -> Option<(u32, u32)> {
    let output = std::process::Command::new("nvim")
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let version = text.lines().next()?.strip_prefix("NVIM v")?;
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    Some((parts.next()??, parts.next()??))
}

#[test]
fn neovim_gets_diagnostics_hover_definition_and_rename() {
    if !support::require_tool("nvim") {
        return;
    }
    // editors/nvim needs 0.7 (nvim_create_autocmd); 0.8+ uses vim.lsp.start.
    let version = nvim_version();
    assert!(
        version.is_some_and(|v| v >= (0, 7)),
        "nvim {version:?} is older than 0.7"
    );
    let dir = support::TempDir::new("lsp-nvim");
    let file = dir.write("sample.kfp", read(&fixture("sample.kfp")));
    let root = support::root();
    let output = std::process::Command::new("nvim")
        .args(["--headless", "-i", "NONE", "-u"])
        .arg(root.join("editors/nvim/init.lua"))
        .arg("-c")
        .arg(format!("luafile {}", root.join("editors/nvim/test/lsp_test.lua").display()))
        .env("KFPL_LSP_CMD", env!("CARGO_BIN_EXE_kfpl"))
        .env("KFPL_NVIM_FILE", &file)
        // Neovim's LSP log and state go to the temporary folder.
        .env("XDG_STATE_HOME", dir.path())
        .env("XDG_CACHE_HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path())
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("nvim runs");
    let stdout = support::stdout(&output);
    assert!(
        output.status.success(),
        "nvim failed ({}):\n{stdout}\n{}",
        output.status,
        support::stderr(&output)
    );
    for check in [
        "diagnostics carry their codes",
        "hover on a param",
        "jumps to the step",
        "rename of a step",
    ] {
        let passed = stdout
            .lines()
            .any(|l| l.starts_with("ok: ") && l.contains(check));
        assert!(passed, "`{check}` did not pass:\n{stdout}");
    }
}

#[test]
fn formatting_rewrites_a_messy_file_as_kfpl_fmt_does() {
    let messy = "pipeline  p {\nparam lr :number=1\n  step s { image = \"i\"\n command = \"echo $<lr>\" }\n}\n";
    let mut client = Client::start();
    client.open(URI, messy);
    let edits = client.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": URI }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    let formatted = kfpl::fmt::format(&kfpl::SourceFile::new("t.kfp", messy)).expect("formats");
    assert_eq!(edits[0]["newText"], json!(formatted), "{edits}");
    assert_eq!(edits[0]["range"]["start"], position(messy, 0));
    assert_eq!(edits[0]["range"]["end"], position(messy, messy.len()));
    client.shutdown();
}
