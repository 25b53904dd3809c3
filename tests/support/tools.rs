//! Whether a test may use an outside tool: under CI (`CI` set) a missing
//! tool fails the test; elsewhere the test is skipped with a notice.
//!
//! std only, so that the library's unit tests (src/lower/tests) include this
//! same file (`#[path]`) instead of a copy of the rule.

#![allow(dead_code, unreachable_pub)]

use std::io::Write;
use std::path::PathBuf;

/// Whether this test may go on using the program `name` (found on `PATH`).
/// When it is missing: under CI ([`in_ci`]) the test fails; elsewhere a
/// notice says what was skipped, and the caller returns.
#[must_use = "return from the test when this is false"]
pub(crate) fn require_tool(name: &str) -> bool {
    require(&format!("`{name}`"), find_on_path(name).is_some())
}

/// [`require_tool`] for what a test needs that is more than a program on
/// `PATH` (`unshare -Ur` working, say): `what` names it, `available` says
/// whether it is here.
#[must_use = "return from the test when this is false"]
#[allow(clippy::disallowed_methods)] // the notice must reach the terminal of a passing test
pub(crate) fn require(what: &str, available: bool) -> bool {
    if available {
        return true;
    }
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    assert!(
        !in_ci(),
        "{test} needs {what}, which this machine lacks; CI is set, so this is a failure \
         (.ci/setup installs the tools the tests drive)"
    );
    // Straight to stderr: the test harness would swallow `eprintln!` of a passing test.
    let _ = writeln!(
        std::io::stderr(),
        "NOTICE: skipped {test}: needs {what} (with CI=1 this fails; .ci/setup installs it)"
    );
    false
}

/// `CI` is set and not empty, as CI services set it.
pub(crate) fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// The executable file `name` in a `PATH` folder.
pub(crate) fn find_on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|file| {
            std::fs::metadata(file)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}
