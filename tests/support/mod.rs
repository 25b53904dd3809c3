//! The harness every test binary shares (`mod support;` at its top): one
//! rule for each thing the integration tests do again and again.
//!
//! - **Bless**: `KFPL_BLESS=1`, and nothing else, rewrites expected files
//!   ([`bless`], [`check_expected`], [`expect_file`]).
//! - **The binary**: [`kfpl`] builds one run of `target/…/kfpl`.
//! - **Fixture headers**: [`Header`] reads the `# expect:` and `# args:`
//!   lines at the top of a fixture, [`compile_options`] reads the arguments.
//! - **Temporary folders**: [`TempDir`], removed when dropped; a
//!   [`Project`] is one with its own state folder, where `kfpl` runs.
//! - **Outside tools**: [`require_tool`] and [`require`] fail the test when
//!   `CI` is set and skip it, with a notice, elsewhere.

// Each test binary uses its own part of the harness.
#![allow(dead_code)]

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use kfpl::{CompileOptions, Diagnostic};

/// The repository root (where Cargo.toml is).
pub(crate) fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Bytes a process wrote, as text.
pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub(crate) fn stdout(output: &Output) -> String {
    text(&output.stdout)
}

pub(crate) fn stderr(output: &Output) -> String {
    text(&output.stderr)
}

// ---- files --------------------------------------------------------------------

/// The files directly in `dir` whose name ends in `.{extension}`, sorted.
/// Paths keep `dir`'s spelling (relative stays relative: fixtures' names
/// end up in golden files).
pub(crate) fn files_with_extension(dir: impl AsRef<Path>, extension: &str) -> Vec<PathBuf> {
    let dir = dir.as_ref();
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a readable folder entry").path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == extension))
        .collect();
    files.sort();
    files
}

/// Every file below `dir`, at any depth, sorted.
pub(crate) fn all_files_under(dir: impl AsRef<Path>) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("a readable folder entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir.as_ref(), &mut out);
    out.sort();
    out
}

// ---- bless --------------------------------------------------------------------

/// Whether expected files are rewritten instead of compared: `KFPL_BLESS=1`
/// and nothing else (`KFPL_BLESS=0` or `=yes` compare).
pub(crate) fn bless() -> bool {
    std::env::var_os("KFPL_BLESS").is_some_and(|v| v == "1")
}

/// Compares `actual` with the file at `path`, or writes it under
/// [`bless`]. `Err` says which file, how it differs, and how to accept.
pub(crate) fn check_expected(path: &Path, actual: &str) -> Result<(), String> {
    if bless() {
        std::fs::write(path, actual)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        return Ok(());
    }
    match std::fs::read_to_string(path) {
        Ok(expected) if expected == actual => Ok(()),
        Ok(expected) => Err(format!(
            "{} differs from the output (`KFPL_BLESS=1` rewrites it):\n{}",
            path.display(),
            diff(&expected, actual)
        )),
        Err(e) => Err(format!(
            "{} cannot be read ({e}); `KFPL_BLESS=1` writes it",
            path.display()
        )),
    }
}

/// [`check_expected`], failing the test at once.
pub(crate) fn expect_file(path: &Path, actual: &str) {
    if let Err(message) = check_expected(path, actual) {
        panic!("{message}");
    }
}

/// The lines where two texts differ (`-` expected, `+` actual), the first
/// few of them, for a failure a person can read.
pub(crate) fn diff(expected: &str, actual: &str) -> String {
    const MOST: usize = 12;
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let mut out = String::new();
    let differing = (0..e.len().max(a.len())).filter(|&i| e.get(i) != a.get(i));
    for (shown, i) in differing.enumerate() {
        if shown == MOST {
            out.push_str("…\n");
            break;
        }
        out.push_str(&format!("line {}:\n", i + 1));
        for (sign, line) in [('-', e.get(i)), ('+', a.get(i))] {
            match line {
                Some(line) => out.push_str(&format!("{sign} {line}\n")),
                None => out.push_str(&format!("{sign} (no line)\n")),
            }
        }
    }
    if e.len() != a.len() {
        out.push_str(&format!(
            "{} lines expected, {} produced\n",
            e.len(),
            a.len()
        ));
    }
    if out.is_empty() {
        out.push_str("only line endings or the final newline differ\n");
    }
    out
}

// ---- the binary ---------------------------------------------------------------

/// One run of the `kfpl` binary: `kfpl(["check", "x.kfp"]).output()`.
/// It starts in the repository root, with `NO_COLOR=1` and an empty stdin,
/// and without the variables that make a developer's machine differ
/// (`KFPL_GPUS`, `KFPL_ENGINE`); a test sets them when it means to.
pub(crate) fn kfpl<I, S>(args: I) -> Kfpl
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Kfpl {
        wrapper: Vec::new(),
        args: args.into_iter().map(|a| a.as_ref().to_owned()).collect(),
        env: vec![
            ("NO_COLOR".into(), Some("1".into())),
            ("KFPL_GPUS".into(), None),
            ("KFPL_ENGINE".into(), None),
        ],
        dir: root().to_path_buf(),
        stdin: None,
    }
}

/// See [`kfpl`].
pub(crate) struct Kfpl {
    wrapper: Vec<OsString>,
    args: Vec<OsString>,
    /// In order; `None` removes the variable.
    env: Vec<(OsString, Option<OsString>)>,
    dir: PathBuf,
    stdin: Option<Vec<u8>>,
}

impl Kfpl {
    pub(crate) fn arg(mut self, arg: impl AsRef<OsStr>) -> Kfpl {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub(crate) fn args<I, S>(mut self, args: I) -> Kfpl
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    pub(crate) fn env(mut self, name: &str, value: impl AsRef<OsStr>) -> Kfpl {
        self.env
            .push((name.into(), Some(value.as_ref().to_owned())));
        self
    }

    pub(crate) fn env_remove(mut self, name: &str) -> Kfpl {
        self.env.push((name.into(), None));
        self
    }

    pub(crate) fn current_dir(mut self, dir: impl AsRef<Path>) -> Kfpl {
        self.dir = dir.as_ref().to_path_buf();
        self
    }

    /// What the process reads on stdin (empty when not given).
    pub(crate) fn stdin(mut self, input: impl Into<Vec<u8>>) -> Kfpl {
        self.stdin = Some(input.into());
        self
    }

    /// Runs kfpl through another program: `wrapped_in(["setpriv", "--reuid=65534"])`
    /// runs `setpriv --reuid=65534 …/kfpl ARGS`.
    pub(crate) fn wrapped_in<I, S>(mut self, command: I) -> Kfpl
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.wrapper = command.into_iter().map(|a| a.as_ref().to_owned()).collect();
        self
    }

    /// The process, not started, for `spawn` or a pseudo-terminal: its
    /// standard streams are still `Command`'s defaults (a pty replaces them).
    pub(crate) fn command(&self) -> Command {
        let binary = OsString::from(env!("CARGO_BIN_EXE_kfpl"));
        let mut words = self.wrapper.iter().chain([&binary]).chain(&self.args);
        let mut command = Command::new(words.next().expect("a program"));
        command.args(words).current_dir(&self.dir);
        for (name, value) in &self.env {
            match value {
                Some(value) => command.env(name, value),
                None => command.env_remove(name),
            };
        }
        command
    }

    /// Runs to the end and returns what it wrote and how it exited.
    pub(crate) fn output(self) -> Output {
        let mut command = self.command();
        let Some(input) = self.stdin else {
            return command.stdin(Stdio::null()).output().expect("kfpl starts");
        };
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kfpl starts");
        let mut pipe = child.stdin.take().expect("a stdin pipe");
        // Written beside the reads, so a large input cannot deadlock on a full pipe.
        let writer = std::thread::spawn(move || pipe.write_all(&input));
        let output = child.wait_with_output().expect("kfpl finishes");
        writer
            .join()
            .expect("the stdin writer")
            .expect("stdin written");
        output
    }
}

// ---- fixture headers ------------------------------------------------------------

/// The `# key: value` lines a fixture starts with:
/// `# expect: E0201, W0201` (the codes it must produce, in order of
/// position) and `# args: -p NAME=VALUE --git-image IMG` (what the command
/// line would add; see [`compile_options`]).
#[derive(Debug, Default)]
pub(crate) struct Header {
    /// `None` when there is no `# expect:` line.
    pub(crate) expect: Option<Vec<String>>,
    /// The words of `# args:`.
    pub(crate) args: Vec<String>,
}

impl Header {
    pub(crate) fn parse(text: &str) -> Header {
        let codes = |value: &str| {
            value
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect()
        };
        Header {
            expect: header_value(text, "expect").map(codes),
            args: header_value(text, "args")
                .map(|a| a.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default(),
        }
    }
}

/// The value of `# key:` among the comment lines a text starts with.
fn header_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .take_while(|l| l.starts_with('#'))
        .find_map(|l| {
            l.strip_prefix('#')?
                .trim()
                .strip_prefix(key)?
                .strip_prefix(':')
        })
        .map(str::trim)
}

/// `-p NAME=VALUE` and `--git-image IMG` from a header's `args`, read as
/// `kfpl compile` reads them; an override it would refuse is a diagnostic.
pub(crate) fn compile_options(args: &[String]) -> (CompileOptions, Vec<Diagnostic>) {
    let mut options = CompileOptions::default();
    let mut refused = Vec::new();
    let mut words = args.iter();
    while let Some(flag) = words.next() {
        let value = words
            .next()
            .unwrap_or_else(|| panic!("fixture argument {flag} has no value"));
        match flag.as_str() {
            "-p" => match kfpl::params::parse_override(value) {
                Ok(pair) => options.params.push(pair),
                Err(diagnostic) => refused.push(diagnostic),
            },
            "--git-image" => options.git_image = value.clone(),
            other => panic!("unknown fixture argument {other}"),
        }
    }
    (options, refused)
}

// ---- temporary folders ------------------------------------------------------------

/// A fresh, empty folder under the system's temporary folder, removed when
/// dropped; kept (and named on stderr) when the test is failing, to look at.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "kfpl-test-{name}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        TempDir(path)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `contents` to `name` in the folder (making its parents) and
    /// returns the file's path.
    pub(crate) fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("a folder for the file");
        }
        std::fs::write(&path, contents)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }
}

// A `TempDir` is used where its path would be: `dir.join("x")`, `&dir`.
impl std::ops::Deref for TempDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("kept {} for a look at the failure", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

// ---- a project with its own state ---------------------------------------------------

/// A folder where a test writes its program and runs `kfpl`, with its own
/// state folder (`KFPL_HOME`, `home/` inside it), so no two tests share runs.
pub(crate) struct Project {
    pub(crate) root: TempDir,
    pub(crate) home: PathBuf,
}

impl Project {
    pub(crate) fn new(name: &str) -> Project {
        let root = TempDir::new(name);
        let home = root.join("home");
        std::fs::create_dir_all(&home).expect("a state folder");
        Project { root, home }
    }

    /// `kfpl ARGS` in the folder, with its state.
    pub(crate) fn kfpl(&self, args: &[&str]) -> Output {
        kfpl(args)
            .current_dir(self.root.path())
            .env("KFPL_HOME", &self.home)
            .output()
    }

    /// `kfpl run` of `source` (written to `p.kfp`).
    pub(crate) fn run(&self, source: &str) -> Output {
        self.run_with(source, &[])
    }

    /// `kfpl run` of `source` (written to `p.kfp`) with `extra` arguments.
    pub(crate) fn run_with(&self, source: &str, extra: &[&str]) -> Output {
        let file = self.root.write("p.kfp", source);
        let mut args = vec!["run", file.to_str().expect("a UTF-8 path")];
        args.extend_from_slice(extra);
        self.kfpl(&args)
    }

    /// The folder of the first run, `r1`.
    pub(crate) fn run_dir(&self) -> PathBuf {
        self.home.join("runs").join("r1")
    }
}

// ---- the Argo model and kfpl run, side by side -------------------------------------

pub(crate) mod argo;

// ---- outside tools ------------------------------------------------------------------

// One rule for tests that drive an outside tool, shared with the library's
// own unit tests (src/lower/tests), which include the same file.
#[path = "tools.rs"]
mod tools;
#[allow(unused_imports)] // each test binary uses a different part
pub(crate) use tools::{find_on_path, in_ci, require, require_tool};
