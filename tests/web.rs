//! `kfpl ui`, end to end: the real binary serving runs that the real
//! `kfpl run` recorded (tests/web/*.kfp), asked over HTTP (every route:
//! status codes, escaping of hostile params and log lines, path traversal,
//! Host/Origin, CSRF, live state, Ctrl-C), then looked at in a real headless
//! chromium through chromedriver (screenshots in target/web-screenshots/).
//! Waits are bounded polls, never timing assertions.

// Test helpers outside `#[test]` functions: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

#[path = "web/http.rs"]
mod http;
#[path = "web/webdriver.rs"]
mod webdriver;

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use support::{TempDir, root};

/// What the hostile param and log line say.
const HOSTILE: &str = "<script>alert(1)</script>\"'";
const ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;";

/// A working directory and a `KFPL_HOME` of its own.
struct Env {
    dir: TempDir,
    home: PathBuf,
}

impl Env {
    fn new(name: &str) -> Env {
        let dir = TempDir::new(&format!("web-{name}"));
        let home = dir.join("home");
        Env { dir, home }
    }

    fn kfpl(&self, args: &[&str]) -> support::Kfpl {
        support::kfpl(args)
            .current_dir(self.dir.path())
            .env("KFPL_HOME", &self.home)
    }

    /// `kfpl run tests/web/metric.kfp -p lr=LR -p note=NOTE`, to the end.
    fn run_metric(&self, lr: &str, note: &str) {
        let output = self.run(
            "metric.kfp",
            &[&format!("lr={lr}"), &format!("note={note}")],
        );
        assert!(output.status.success(), "{}", support::stderr(&output));
    }

    /// `kfpl run tests/web/FIXTURE -p NAME=VALUE…`, to the end.
    fn run(&self, name: &str, params: &[&str]) -> std::process::Output {
        let file = fixture(name);
        let mut args = vec!["run", file.to_str().unwrap()];
        for param in params {
            args.extend(["-p", param]);
        }
        self.kfpl(&args).output()
    }

    /// Starts `kfpl run tests/web/wait.kfp` (it waits for `go` in the scratch folder).
    fn start_wait(&self) -> (Child, PathBuf) {
        let scratch = self.dir.join("scratch");
        std::fs::create_dir_all(&scratch).unwrap();
        let file = fixture("wait.kfp");
        let dir = format!("dir={}", scratch.display());
        let child = self
            .kfpl(&["run", file.to_str().unwrap(), "-p", &dir])
            .command()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        (child, scratch.join("go"))
    }

    /// `kfpl ui --port 0 ARGS…`.
    fn serve(&self, args: &[&str]) -> Server {
        let mut all = vec!["ui", "--port", "0"];
        all.extend_from_slice(args);
        let mut child = self
            .kfpl(&all)
            .command()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (addr, stdout) = http::listening(&mut child);
        Server {
            child,
            stdout,
            addr,
        }
    }
}

fn fixture(name: &str) -> PathBuf {
    root().join("tests/web").join(name)
}

/// A running `kfpl ui`; stopped with SIGINT when dropped.
struct Server {
    child: Child,
    stdout: BufReader<ChildStdout>,
    addr: String,
}

impl Server {
    fn get(&self, path: &str) -> http::Response {
        http::get(&self.addr, path)
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Ctrl-C, then what it printed after the first line, and its exit status.
    fn interrupt(mut self) -> (String, std::process::ExitStatus) {
        sigint(&self.child);
        let status = self.child.wait().unwrap();
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut self.stdout, &mut rest).unwrap();
        (rest, status)
    }
}

fn sigint(child: &Child) {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGINT);
}

impl Drop for Server {
    fn drop(&mut self) {
        sigint(&self.child);
        let _ = self.child.wait();
    }
}

/// Polls `done` for up to 60 s; fails the test with `what` if it never holds.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

/// Three finished runs: lr 0.1, 0.2 (with the hostile note), 0.3.
fn three_runs(name: &str) -> Env {
    let env = Env::new(name);
    env.run_metric("0.1", "first");
    env.run_metric("0.2", HOSTILE);
    env.run_metric("0.3", "third");
    env
}

fn assert_escaped(page: &http::Response) {
    assert!(
        !page.body.contains("<script>alert(1)"),
        "raw hostile text in:\n{}",
        page.body
    );
    assert!(
        page.body.contains(ESCAPED),
        "no escaped text in:\n{}",
        page.body
    );
}

// ---- HTTP -----------------------------------------------------------------------

#[test]
fn runs_page_lists_every_run_with_its_metric_and_escapes_params() {
    let env = three_runs("list");
    let server = env.serve(&[]);
    let page = server.get("/");
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(
        page.header("content-security-policy")
            .unwrap()
            .contains("script-src 'self'")
    );
    for id in ["r1", "r2", "r3"] {
        assert!(
            page.body.contains(&format!("data-run=\"{id}\"")),
            "{id} missing"
        );
    }
    assert!(
        page.body.contains("title=\"s.accuracy\""),
        "no metric column"
    );
    assert!(
        page.body
            .contains("Experiment <span class=\"name\">default</span>")
    );
    assert_escaped(&page);
}

#[test]
fn runs_page_filters_and_sorts_on_the_server() {
    let env = three_runs("sort");
    let server = env.serve(&[]);
    let filtered = server.get("/?q=lr%3D0.3");
    assert!(filtered.body.contains("data-run=\"r3\""));
    assert!(!filtered.body.contains("data-run=\"r1\""));
    assert!(server.get("/?status=failed").body.contains("0 of 3 runs"));
    let order = |page: &http::Response| -> Vec<usize> {
        ["r1", "r2", "r3"]
            .iter()
            .map(|id| page.body.find(&format!("data-run=\"{id}\"")).unwrap())
            .collect()
    };
    let ascending = order(&server.get("/?sort=metric:s.accuracy&dir=asc"));
    assert!(ascending[0] < ascending[1] && ascending[1] < ascending[2]);
    let descending = order(&server.get("/?sort=param:lr&dir=desc"));
    assert!(descending[2] < descending[1] && descending[1] < descending[0]);
}

#[test]
fn run_page_draws_the_graph_and_the_step_details_escaped() {
    let env = three_runs("run");
    let server = env.serve(&[]);
    let page = server.get("/runs/r2");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<svg class=\"graph\""));
    assert!(
        page.body
            .contains("class=\"node st-succeeded\" data-step=\"s\"")
    );
    assert_escaped(&page);
    let step = server.get("/runs/2?step=s");
    assert_eq!(step.status, 200);
    // The log line `note: <script>…` and the output file's link.
    assert!(
        step.body.contains(&format!("note: {ESCAPED}")),
        "{}",
        step.body
    );
    assert!(step.body.contains("/runs/r2/files/s/outputs/result"));
    assert!(server.get("/runs/r2?step=nope").body.contains("No step"));
    assert_eq!(server.get("/runs/r99").status, 404);
    assert_eq!(server.get("/runs/%3Cscript%3E").status, 404);
}

#[test]
fn logs_files_and_state_are_served_as_data_not_markup() {
    let env = three_runs("files");
    let server = env.serve(&[]);
    let log = server.get("/runs/r2/log/s/stdout");
    assert_eq!(log.status, 200);
    assert_eq!(
        log.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(log.header("x-content-type-options"), Some("nosniff"));
    assert!(log.body.contains(&format!("note: {HOSTILE}")));
    let next: usize = log.header("x-log-next").unwrap().parse().unwrap();
    assert_eq!(next, log.body.len());
    let rest = server.get(&format!("/runs/r2/log/s/stdout?from={next}"));
    assert_eq!((rest.status, rest.body.as_str()), (200, ""));
    assert_eq!(server.get("/runs/r2/log/s/passwd").status, 404);
    assert_eq!(server.get("/runs/r2/log/nope/stdout").status, 404);
    let file = server.get("/runs/r1/files/s/outputs/result");
    assert_eq!((file.status, file.body.as_str()), (200, "done with 0.1\n"));
    let state: Value = serde_json::from_str(&server.get("/runs/r1/state.json").body).unwrap();
    assert_eq!(state["status"], "succeeded");
    assert_eq!(state["steps"]["s"]["status"], "succeeded");
}

#[test]
fn paths_out_of_the_run_folder_are_refused() {
    let env = three_runs("traversal");
    std::fs::write(env.home.join("secret"), "top secret").unwrap();
    let outputs = env.home.join("runs/r1/s/outputs");
    std::os::unix::fs::symlink(env.home.join("secret"), outputs.join("link")).unwrap();
    std::os::unix::fs::symlink("/etc", outputs.join("etc")).unwrap();
    let server = env.serve(&[]);
    for path in [
        "/runs/r1/files/../../secret",
        "/runs/r1/files/%2e%2e/%2e%2e/secret",
        "/runs/r1/files/s/..%2f..%2f..%2fsecret",
        "/runs/r1/files/%2Fetc%2Fpasswd",
        "/runs/r1/files/s/outputs/link",
        "/runs/r1/files/s/outputs/etc/passwd",
        "/runs/r1/files/s",
        "/runs/r1/log/s%2f..%2f..%2f..%2fsecret/stdout",
    ] {
        let answer = server.get(path);
        assert!(
            answer.status == 404 || answer.status == 400,
            "{path} answered {}",
            answer.status
        );
        assert!(
            !answer.body.contains("top secret") && !answer.body.contains("root:"),
            "{path}"
        );
    }
}

#[test]
fn foreign_host_or_origin_and_posts_without_token_are_refused() {
    let env = three_runs("guard");
    let server = env.serve(&[]);
    let port = server.addr.rsplit(':').next().unwrap().to_string();
    let evil_host = format!("evil.example:{port}");
    let refused = http::request(&server.addr, "GET", "/", &[("Host", &evil_host)], "");
    assert_eq!(refused.status, 403);
    assert!(!refused.body.contains("data-run"));
    let localhost = format!("localhost:{port}");
    assert_eq!(
        http::request(&server.addr, "GET", "/", &[("Host", &localhost)], "").status,
        200
    );
    let cross = [("Origin", "http://evil.example")];
    assert_eq!(
        http::request(&server.addr, "GET", "/", &cross, "").status,
        403
    );
    let own_origin = format!("http://{}", server.addr);
    let own = [("Origin", own_origin.as_str())];
    assert_eq!(
        http::request(&server.addr, "GET", "/", &own, "").status,
        200
    );
    for (method, headers) in [
        ("POST", vec![]),
        ("POST", vec![("X-CSRF-Token", "guessed")]),
        ("DELETE", vec![]),
        ("PUT", vec![("Origin", own_origin.as_str())]),
    ] {
        let answer = http::request(&server.addr, method, "/runs/r1", &headers, "x=1");
        assert_eq!(answer.status, 403, "{method} {headers:?}");
    }
}

#[test]
fn compare_marks_differences_and_draws_one_point_per_run() {
    let env = three_runs("compare");
    let server = env.serve(&[]);
    let page = server.get("/compare?run=r1&run=r2&run=3");
    assert_eq!(page.status, 200);
    assert_escaped(&page);
    assert!(page.body.contains(
        "<tr class=\"diff\"><th><span class=\"marker\" title=\"differs\">≠ </span>lr</th>"
    ));
    let chart_start = page.body.find("s.accuracy vs lr").unwrap();
    let chart = &page.body[chart_start..];
    let chart = &chart[..chart.find("</figure>").unwrap()];
    assert_eq!(chart.matches("<circle class=\"point\"").count(), 3);
    assert!(page.body.contains("<svg class=\"durations\""));
    assert_eq!(server.get("/compare?run=r1&run=r404").status, 404);
    assert!(
        server
            .get("/compare")
            .body
            .contains("Tick two or more runs")
    );
}

#[test]
fn assets_and_unknown_routes() {
    let env = Env::new("assets");
    let server = env.serve(&[]);
    let css = server.get("/assets/style.css");
    assert_eq!(
        (css.status, css.header("content-type")),
        (200, Some("text/css; charset=utf-8"))
    );
    let js = server.get("/assets/live.js");
    assert_eq!(js.status, 200);
    assert!(js.body.contains("textContent"));
    assert_eq!(server.get("/assets/../Cargo.toml").status, 404);
    assert_eq!(server.get("/nowhere").status, 404);
    // Nothing recorded: an empty page, and looking does not create the database.
    let empty = server.get("/");
    assert_eq!(empty.status, 200);
    assert!(empty.body.contains("No runs recorded yet"));
    assert!(!env.home.join("kfpl.db").exists());
}

#[test]
fn a_live_run_is_shown_running_then_finished() {
    let env = Env::new("live");
    let (mut run, go) = env.start_wait();
    let server = env.serve(&[]);
    let state = || -> Value {
        serde_json::from_str(&server.get("/runs/r1/state.json").body).unwrap_or(Value::Null)
    };
    wait_until("the step to run", || {
        state()["steps"]["wait"]["status"] == "running"
    });
    let list = server.get("/");
    assert!(list.body.contains("data-live=\"list\""));
    let page = server.get("/runs/r1?step=wait");
    assert!(page.body.contains("data-live=\"run\""));
    assert!(
        page.body
            .contains("class=\"node st-running selected\" data-step=\"wait\"")
    );
    wait_until("the log line", || {
        server
            .get("/runs/r1/log/wait/stdout")
            .body
            .contains("waiting for go")
    });
    std::fs::write(&go, "").unwrap();
    wait_until("the run to finish", || state()["status"] == "succeeded");
    assert!(run.wait().unwrap().success());
    assert!(!server.get("/").body.contains("data-live"));
}

#[test]
fn ctrl_c_stops_the_server_cleanly() {
    let env = Env::new("sigint");
    let server = env.serve(&[]);
    assert_eq!(server.get("/").status, 200);
    let (rest, status) = server.interrupt();
    assert!(status.success(), "{status:?}");
    assert!(rest.contains("kfpl ui: stopped"), "{rest}");
}

#[test]
fn a_port_in_use_is_e0701() {
    let env = Env::new("busy");
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port().to_string();
    let output = env.kfpl(&["ui", "--port", &port]).output();
    assert_eq!(output.status.code(), Some(1));
    let stderr = support::stderr(&output);
    assert!(stderr.contains("kfpl::E0701"), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{stderr}"
    );
}

#[test]
fn another_address_than_loopback_prints_a_warning() {
    let env = Env::new("host");
    let server = env.serve(&["--host", "0.0.0.0"]);
    let port = server.addr.rsplit(':').next().unwrap().to_string();
    let local = format!("127.0.0.1:{port}");
    // Bound to every address, it answers to any IP address with its port,
    // never to a name other than localhost (DNS rebinding).
    let status = |host: &str| http::request(&local, "GET", "/", &[("Host", host)], "").status;
    assert_eq!(status(&server.addr), 200);
    assert_eq!(status(&local), 200);
    assert_eq!(status(&format!("evil.example:{port}")), 403);
    let other_port = port.parse::<u16>().unwrap().wrapping_add(1);
    assert_eq!(status(&format!("127.0.0.1:{other_port}")), 403);
    let mut child = server;
    sigint(&child.child);
    let _ = child.child.wait();
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(
        stderr.contains("warning: kfpl ui listens on 0.0.0.0"),
        "{stderr}"
    );
    assert!(stderr.contains("no login"), "{stderr}");
}

// ---- run again, cancel ------------------------------------------------------------

/// The CSRF token in a page's form action (`…?csrf=TOKEN"`).
fn token_in(page: &http::Response) -> String {
    let start = page.body.find("?csrf=").expect("a form with a token") + "?csrf=".len();
    page.body[start..].split('"').next().unwrap().to_string()
}

fn post_form(server: &Server, path: &str, form: &str) -> http::Response {
    let headers = [("Content-Type", "application/x-www-form-urlencoded")];
    http::request(&server.addr, "POST", path, &headers, form)
}

#[test]
fn run_again_checks_params_like_dash_p_then_starts_kfpl_run() {
    let env = Env::new("again");
    env.run_metric("0.1", "first");
    let server = env.serve(&[]);
    assert!(server.get("/runs/r1").body.contains("/runs/r1/again"));
    let form = server.get("/runs/r1/again");
    assert_eq!(form.status, 200);
    assert!(
        form.body
            .contains("name=\"param.lr\" inputmode=\"decimal\" value=\"0.1\""),
        "{}",
        form.body
    );
    let token = token_in(&form);
    let path = format!("/runs/r1/again?csrf={token}");
    // Without the token: refused before anything is checked or started.
    assert_eq!(
        post_form(&server, "/runs/r1/again", "param.lr=0.5").status,
        403
    );
    let bad = post_form(&server, &path, "param.lr=fast&param.bogus=1&experiment=e");
    assert_eq!(bad.status, 422);
    assert!(
        bad.body
            .contains("E0303: param `lr` is a number, but `-p` gave `fast`"),
        "{}",
        bad.body
    );
    assert!(bad.body.contains("E0209"), "{}", bad.body);
    let note = "%3Cscript%3Ealert(1)%3C%2Fscript%3E%22";
    let started = post_form(
        &server,
        &path,
        &format!("param.lr=0.7&param.note={note}&experiment=again"),
    );
    assert_eq!(started.status, 303, "{}", started.body);
    assert_eq!(started.header("location"), Some("/runs/r2"));
    let state =
        || -> Value { serde_json::from_str(&server.get("/runs/r2/state.json").body).unwrap() };
    wait_until("the new run to finish", || state()["status"] == "succeeded");
    let page = server.get("/runs/r2?step=s");
    assert!(page.body.contains("experiment again"));
    assert!(page.body.contains("accuracy=0.7"), "{}", page.body);
    assert_escaped(&page);
}

#[test]
fn run_again_refuses_a_pipeline_file_that_changed() {
    let env = Env::new("again-changed");
    std::fs::copy(fixture("metric.kfp"), env.dir.join("metric.kfp")).unwrap();
    assert!(env.kfpl(&["run", "metric.kfp"]).output().status.success());
    let server = env.serve(&[]);
    assert!(server.get("/runs/r1").body.contains("/runs/r1/again"));
    std::fs::write(env.dir.join("metric.kfp"), "pipeline other {}\n").unwrap();
    let page = server.get("/runs/r1");
    assert!(!page.body.contains("/runs/r1/again"));
    let form = server.get("/runs/r1/again");
    assert!(
        form.body.contains("has changed since r1 ran"),
        "{}",
        form.body
    );
    let token = token_in(&server.get("/runs/r1/again"));
    let refused = post_form(
        &server,
        &format!("/runs/r1/again?csrf={token}"),
        "param.lr=1",
    );
    assert_eq!(refused.status, 422);
    assert!(!env.home.join("runs/r2").exists());
}

#[test]
fn cancel_stops_a_run_started_here_and_only_those() {
    let env = Env::new("cancel");
    let (mut outside, go) = env.start_wait();
    let server = env.serve(&[]);
    let state = |id: &str| -> Value {
        serde_json::from_str(&server.get(&format!("/runs/{id}/state.json")).body)
            .unwrap_or(Value::Null)
    };
    wait_until("r1 to run", || {
        state("r1")["steps"]["wait"]["status"] == "running"
    });
    let page = server.get("/runs/r1");
    let token = token_in(&page);
    assert!(page.body.contains("/runs/r1/cancel?csrf="));
    let not_ours = post_form(&server, &format!("/runs/r1/cancel?csrf={token}"), "");
    assert_eq!(not_ours.status, 409);
    assert!(not_ours.body.contains("was not started from this page"));
    let dir = format!(
        "param.dir={}",
        go.parent().unwrap().join("second").display()
    );
    std::fs::create_dir_all(go.parent().unwrap().join("second")).unwrap();
    let started = post_form(&server, &format!("/runs/r1/again?csrf={token}"), &dir);
    assert_eq!(
        started.header("location"),
        Some("/runs/r2"),
        "{}",
        started.body
    );
    wait_until("r2 to run", || {
        state("r2")["steps"]["wait"]["status"] == "running"
    });
    assert_eq!(post_form(&server, "/runs/r2/cancel", "").status, 403);
    let cancelled = post_form(&server, &format!("/runs/r2/cancel?csrf={token}"), "");
    assert_eq!(cancelled.status, 303);
    wait_until("r2 to be cancelled", || {
        state("r2")["status"] == "cancelled"
    });
    assert_eq!(state("r1")["status"], "running");
    std::fs::write(&go, "").unwrap();
    assert!(outside.wait().unwrap().success());
}

// ---- a real browser -----------------------------------------------------------------

fn screenshots() -> PathBuf {
    root().join("target/web-screenshots")
}

fn browser_available() -> bool {
    support::require_tool("chromium") && support::require_tool("chromedriver")
}

fn no_console_errors(driver: &webdriver::Driver, page: &str) {
    let errors = driver.console_errors();
    assert!(errors.is_empty(), "console errors on {page}: {errors:?}");
}

#[test]
fn browser_compare_page_draws_three_points_and_runs_page_renders() {
    if !browser_available() {
        return;
    }
    let env = three_runs("browser-compare");
    let server = env.serve(&[]);
    let driver = webdriver::Driver::start(&env.dir.join("profile"));
    driver.goto(&server.url("/"));
    let rows = driver.script("return document.querySelectorAll('tr[data-run]').length");
    assert_eq!(rows, 3);
    // The hostile note is text, not a script: no alert, no extra element.
    let scripts = driver.script("return document.querySelectorAll('script').length");
    assert_eq!(scripts, 1);
    driver.screenshot(&screenshots().join("runs.png"));
    no_console_errors(&driver, "runs");
    // Tick the three runs and press Compare, as a user would.
    driver.script(
        "document.querySelectorAll('input[name=run]').forEach(b => b.checked = true);
         document.querySelector('#compare button[type=submit]').click();",
    );
    driver.wait_for(
        "return location.pathname === '/compare' && document.readyState === 'complete'",
        "the compare page",
    );
    let points = driver.script(
        "const chart = [...document.querySelectorAll('figure.chart')]
           .find(f => f.querySelector('figcaption').textContent === 's.accuracy vs lr');
         return chart ? [...chart.querySelectorAll('circle.point')]
           .filter(c => c.getBoundingClientRect().width > 0).length : -1",
    );
    assert_eq!(points, 3);
    driver.screenshot(&screenshots().join("compare.png"));
    no_console_errors(&driver, "compare");
    driver.goto(&server.url("/runs/r2?step=s"));
    let log = driver.script("return document.querySelector('#log-stdout').textContent");
    assert!(log.as_str().unwrap().contains(HOSTILE), "{log}");
    driver.screenshot(&screenshots().join("run.png"));
    no_console_errors(&driver, "run");
}

#[test]
fn browser_run_page_turns_a_step_green_when_it_finishes() {
    if !browser_available() {
        return;
    }
    let env = Env::new("browser-live");
    let (mut run, go) = env.start_wait();
    let server = env.serve(&[]);
    wait_until("the run to be recorded", || {
        server.get("/runs/r1").status == 200
    });
    let driver = webdriver::Driver::start(&env.dir.join("profile"));
    driver.goto(&server.url("/runs/r1?step=wait"));
    let node = "document.querySelector('g.node[data-step=wait]')";
    driver.wait_for(
        &format!("return {node}.classList.contains('st-running')"),
        "the step running",
    );
    driver.wait_for(
        "return document.querySelector('#log-stdout').textContent.includes('waiting for go')",
        "the live log",
    );
    driver.screenshot(&screenshots().join("run-live.png"));
    std::fs::write(&go, "").unwrap();
    driver.wait_for(
        &format!(
            "const n = {node}; return !!n && n.classList.contains('st-succeeded')
               && getComputedStyle(n.querySelector('circle.dot')).fill === 'rgb(30, 142, 62)'"
        ),
        "the step turn green",
    );
    assert!(run.wait().unwrap().success());
    driver.screenshot(&screenshots().join("run-finished.png"));
    no_console_errors(&driver, "live run");
}

/// Where `path` is relative to the repository root (for messages).
#[allow(dead_code)]
fn shown(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn browser_run_again_form_lands_on_the_new_run() {
    if !browser_available() {
        return;
    }
    let env = Env::new("browser-again");
    env.run_metric("0.1", "first");
    let server = env.serve(&[]);
    let driver = webdriver::Driver::start(&env.dir.join("profile"));
    driver.goto(&server.url("/runs/r1"));
    driver.script("document.querySelector('a[href=\"/runs/r1/again\"]').click()");
    driver.wait_for(
        "return location.pathname === '/runs/r1/again' && !!document.querySelector('#p-lr')",
        "the Run again form",
    );
    driver.script("document.querySelector('#p-lr').value = 'fast'; document.querySelector('form.again').submit()");
    driver.wait_for(
        "return document.body.textContent.includes('is a number, but')",
        "the -p check's message",
    );
    // The refused form comes back as 422, which chromium logs; nothing else may be there.
    let errors = driver.console_errors();
    assert!(
        errors.iter().all(|e| e.contains("status of 422")),
        "{errors:?}"
    );
    driver.script("document.querySelector('#p-lr').value = '0.9'");
    driver.screenshot(&screenshots().join("again.png"));
    driver.script("document.querySelector('form.again').submit()");
    driver.wait_for(
        "const n = document.querySelector('g.node[data-step=s]');
         return location.pathname === '/runs/r2' && !!n && n.classList.contains('st-succeeded')",
        "the new run, finished",
    );
    let metric = driver.script("return document.querySelector('.metrics-card td.num').textContent");
    assert_eq!(metric, "0.9");
    no_console_errors(&driver, "run again");
}

/// The diagnostic `kfpl run tests/web/FIXTURE -p ASSIGNMENT` refuses it with
/// on stderr (read as JSON, so its text is exact): code, message, help.
fn dash_p_refusal(env: &Env, name: &str, assignment: &str) -> (String, String, String) {
    let file = fixture(name);
    let output = env
        .kfpl(&[
            "run",
            file.to_str().unwrap(),
            "-p",
            assignment,
            "--message-format",
            "json",
        ])
        .output();
    assert!(!output.status.success(), "{assignment} was accepted");
    let stderr = support::stderr(&output);
    let first = stderr.lines().next().unwrap_or_default();
    let diagnostic: Value =
        serde_json::from_str(first).unwrap_or_else(|e| panic!("not JSON ({e}): {stderr}"));
    let text = |key: &str| diagnostic[key].as_str().unwrap_or_default().to_string();
    (text("code"), text("message"), text("help"))
}

#[test]
fn browser_run_again_refuses_a_wrong_number_with_the_dash_p_message() {
    if !browser_available() {
        return;
    }
    let env = Env::new("browser-again-number");
    let first = env.run("rate.kfp", &["learning_rate=0.1"]);
    assert!(first.status.success(), "{}", support::stderr(&first));
    let (code, message, help) = dash_p_refusal(&env, "rate.kfp", "learning_rate=abc");
    assert!(!message.is_empty() && !help.is_empty(), "{code}: {message}");
    let server = env.serve(&[]);
    let driver = webdriver::Driver::start(&env.dir.join("profile"));
    driver.goto(&server.url("/runs/r1/again"));
    driver.type_into("#p-learning_rate", "abc");
    driver.click("form.again button[type=submit]");
    driver.wait_for(
        "return !!document.querySelector('section.error li')",
        "the refusal",
    );
    let shown = driver.script(
        "return [...document.querySelectorAll('section.error li')].map(li => li.textContent)",
    );
    let shown: Vec<&str> = shown
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let code = code.rsplit("::").next().unwrap_or_default();
    assert!(
        matches!(shown[..], [one] if one.contains(code) && one.contains(&message) && one.contains(&help)),
        "the form showed {shown:?}; `-p` says {code}: {message} (help: {help})"
    );
    // The form keeps what was typed, and nothing was started.
    let typed = driver.script("return document.querySelector('#p-learning_rate').value");
    assert_eq!(typed, "abc");
    assert_eq!(server.get("/runs/r2").status, 404);
    driver.screenshot(&screenshots().join("again-refused.png"));
    let errors = driver.console_errors();
    assert!(
        errors.iter().all(|e| e.contains("status of 422")),
        "{errors:?}"
    );
}
