//! Just enough WebDriver (W3C, JSON over HTTP) to drive Debian's headless
//! chromium through chromedriver: open a page, run a script, type into a
//! field and click as a user does, take a screenshot, read the console.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::http;

/// A chromedriver process with one browser session.
pub(crate) struct Driver {
    child: Child,
    addr: String,
    session: String,
}

/// A free local port (the listener is dropped, so the port is free again).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Driver {
    /// Starts chromedriver and a headless chromium whose profile lives in `profile`.
    pub(crate) fn start(profile: &Path) -> Driver {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let addr = format!("127.0.0.1:{port}");
        let mut driver = Driver {
            child,
            addr,
            session: String::new(),
        };
        driver.wait_until_ready();
        let chromium = super::support::find_on_path("chromium").expect("chromium on PATH");
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": { "browser": "ALL" },
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        } } });
        let answer = driver.call("POST", "/session", Some(&capabilities));
        driver.session = answer["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {answer}"))
            .to_string();
        driver
    }

    fn wait_until_ready(&self) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            if std::net::TcpStream::connect(&self.addr).is_ok() {
                let status = http::get(&self.addr, "/status");
                if status.body.contains("\"ready\":true") {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("chromedriver did not become ready");
    }

    /// One WebDriver command; its `value`.
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let body = body.map(Value::to_string).unwrap_or_default();
        let headers = [("Content-Type", "application/json")];
        let answer = http::request(&self.addr, method, path, &headers, &body);
        let value: Value = serde_json::from_str(&answer.body)
            .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {}", answer.body));
        assert!(
            answer.status == 200,
            "{method} {path} answered {}: {value}",
            answer.status
        );
        value.get("value").cloned().unwrap_or(value)
    }

    fn session_path(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    /// Opens `url` and waits for it to load.
    pub(crate) fn goto(&self, url: &str) {
        self.call(
            "POST",
            &self.session_path("/url"),
            Some(&json!({ "url": url })),
        );
    }

    /// Runs `script` (a function body) in the page and returns its result.
    pub(crate) fn script(&self, script: &str) -> Value {
        self.call(
            "POST",
            &self.session_path("/execute/sync"),
            Some(&json!({ "script": script, "args": [] })),
        )
    }

    /// The element `css` selects (the test fails if there is none).
    fn element(&self, css: &str) -> String {
        let found = self.call(
            "POST",
            &self.session_path("/element"),
            Some(&json!({ "using": "css selector", "value": css })),
        );
        // The W3C name of an element reference's key.
        found["element-6066-11e4-a52e-4f735466cecf"]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_string()
    }

    /// Empties the field `css` selects and types `text` into it, key by key.
    pub(crate) fn type_into(&self, css: &str, text: &str) {
        let element = self.element(css);
        self.call(
            "POST",
            &self.session_path(&format!("/element/{element}/clear")),
            Some(&json!({})),
        );
        self.call(
            "POST",
            &self.session_path(&format!("/element/{element}/value")),
            Some(&json!({ "text": text })),
        );
    }

    /// Clicks the element `css` selects.
    pub(crate) fn click(&self, css: &str) {
        let element = self.element(css);
        self.call(
            "POST",
            &self.session_path(&format!("/element/{element}/click")),
            Some(&json!({})),
        );
    }

    /// Polls `script` until it returns true (60 s at most, else the test fails with `what`).
    pub(crate) fn wait_for(&self, script: &str, what: &str) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            if self.script(script) == Value::Bool(true) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the page never showed {what}");
    }

    /// Saves a PNG of the window.
    pub(crate) fn screenshot(&self, path: &Path) {
        let value = self.call("GET", &self.session_path("/screenshot"), None);
        let png = base64_decode(value.as_str().expect("base64 text"));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("a screenshot folder");
        }
        std::fs::write(path, png).expect("screenshot written");
    }

    /// The console messages at error level since the last call.
    pub(crate) fn console_errors(&self) -> Vec<String> {
        let value = self.call(
            "POST",
            &self.session_path("/se/log"),
            Some(&json!({ "type": "browser" })),
        );
        value
            .as_array()
            .into_iter()
            .flatten()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let path = self.session_path("");
            let _ =
                std::panic::catch_unwind(|| http::request(&self.addr, "DELETE", &path, &[], ""));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let sextets: Vec<u8> = text.bytes().filter_map(value).collect();
    let mut out = Vec::with_capacity(sextets.len() * 3 / 4);
    for group in sextets.chunks(4) {
        let mut bits = 0u32;
        for (i, s) in group.iter().enumerate() {
            bits |= u32::from(*s) << (18 - 6 * i);
        }
        let bytes = bits.to_be_bytes();
        out.extend_from_slice(&bytes[1..group.len()]);
    }
    out
}
