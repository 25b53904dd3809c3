//! `sync_source`: the real `git`, as Argo's git-sync would do it.
//!
//! Each repository is mirrored once into the state folder
//! (`git/<repo>-<hash of url>.git`, a bare `--mirror` clone) and fetched
//! again only when the wanted revision is missing (or when no revision is
//! given, to follow the default branch). A step gets its own clone of the
//! mirror at `code/<repo-name>/` in its working directory, checked out
//! (detached) at `GIT_SYNC_REV`. A file lock serialises work on one mirror
//! across steps and kfpl processes. A relative local path is read from the
//! directory kfpl was started in.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nix::fcntl::{Flock, FlockArg};

use super::prepare::SyncSpec;
use crate::run::store::source_hash;

/// Runs a git command; the closure registers the process group (for Ctrl-C)
/// and is called again with `None` when it is gone.
pub(crate) type Register<'a> = &'a dyn Fn(Option<u32>);

/// Clones `spec` into `<work>/code/<repo>`; git's messages go to `log`.
/// `Err` is the message to fail the step with (git's own words included).
pub(crate) fn sync(
    spec: &SyncSpec,
    state_dir: &Path,
    invocation_dir: &Path,
    work: &Path,
    log: &mut File,
    register: Register<'_>,
) -> Result<(), String> {
    let url = resolve_url(&spec.url, invocation_dir);
    let cache_root = state_dir.join("git");
    std::fs::create_dir_all(&cache_root)
        .map_err(|e| format!("cannot create `{}`: {e}", cache_root.display()))?;
    let key = format!("{}-{}", spec.repo_name, source_hash(&url));
    let mirror = cache_root.join(format!("{key}.git"));
    let lock_path = cache_root.join(format!("{key}.lock"));
    let lock_file = File::create(&lock_path)
        .map_err(|e| format!("cannot create `{}`: {e}", lock_path.display()))?;
    let _lock = Flock::lock(lock_file, FlockArg::LockExclusive)
        .map_err(|(_, e)| format!("cannot lock `{}`: {e}", lock_path.display()))?;

    let _ = writeln!(
        log,
        "kfpl: sync_source {url} at {}",
        spec.revision.as_deref().unwrap_or("the default branch")
    );
    if !mirror.exists() {
        let partial = cache_root.join(format!("{key}.git.partial"));
        let _ = std::fs::remove_dir_all(&partial);
        git(
            &cache_root,
            &["clone", "--mirror", "--quiet", "--", &url],
            Some(&partial),
            log,
            register,
        )
        .map_err(|e| format!("cannot clone `{url}`: {e}"))?;
        std::fs::rename(&partial, &mirror)
            .map_err(|e| format!("cannot move the clone into `{}`: {e}", mirror.display()))?;
    } else if spec
        .revision
        .as_deref()
        .is_none_or(|rev| resolve(&mirror, rev, log, register).is_err())
    {
        git(
            &mirror,
            &["fetch", "--quiet", "--prune", "origin"],
            None,
            log,
            register,
        )
        .map_err(|e| format!("cannot fetch `{url}`: {e}"))?;
    }
    let commit = match &spec.revision {
        Some(rev) => resolve(&mirror, rev, log, register)
            .map_err(|e| format!("revision `{rev}` is not in `{url}`: {e}"))?,
        None => resolve(&mirror, "HEAD", log, register)
            .map_err(|e| format!("`{url}` has no default branch to check out: {e}"))?,
    };
    let code = work.join("code");
    let dest = code.join(&spec.repo_name);
    if dest.exists() {
        std::fs::remove_dir_all(&dest)
            .map_err(|e| format!("cannot clear `{}`: {e}", dest.display()))?;
    }
    std::fs::create_dir_all(&code)
        .map_err(|e| format!("cannot create `{}`: {e}", code.display()))?;
    let mirror_text = mirror.to_string_lossy().into_owned();
    git(
        &code,
        &["clone", "--quiet", "--no-checkout", "--", &mirror_text],
        Some(&dest),
        log,
        register,
    )
    .map_err(|e| format!("cannot clone `{url}`: {e}"))?;
    git(
        &dest,
        &["checkout", "--quiet", "--detach", &commit],
        None,
        log,
        register,
    )
    .map_err(|e| format!("cannot check out `{commit}`: {e}"))?;
    let _ = writeln!(log, "kfpl: code/{} is at {commit}", spec.repo_name);
    Ok(())
}

/// A local path made absolute (so the cache key is the repository, not the
/// spelling); URLs as they are.
pub(crate) fn resolve_url(url: &str, invocation_dir: &Path) -> String {
    let remote = url.contains("://")
        || url
            .split_once(':')
            .is_some_and(|(host, _)| !host.contains('/'));
    if remote {
        return url.to_string();
    }
    let path = invocation_dir.join(url);
    path.canonicalize()
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// The commit a revision names in the mirror.
fn resolve(
    mirror: &Path,
    rev: &str,
    log: &mut File,
    register: Register<'_>,
) -> Result<String, String> {
    let spec = format!("{rev}^{{commit}}");
    let out = git_output(
        mirror,
        &["rev-parse", "--verify", "--end-of-options", &spec],
        log,
        register,
    )?;
    Ok(out.trim().to_string())
}

/// Runs `git ARGS [DEST]` in `dir`; stderr goes to the log and, on failure, into the error.
fn git(
    dir: &Path,
    args: &[&str],
    dest: Option<&PathBuf>,
    log: &mut File,
    register: Register<'_>,
) -> Result<(), String> {
    let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    if let Some(dest) = dest {
        all.push(dest.to_string_lossy().into_owned());
    }
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    git_output(dir, &refs, log, register).map(drop)
}

fn git_output(
    dir: &Path,
    args: &[&str],
    log: &mut File,
    register: Register<'_>,
) -> Result<String, String> {
    use std::os::unix::process::CommandExt;
    let child = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot run `git`: {e}"))?;
    register(Some(child.id()));
    let out = child.wait_with_output();
    register(None);
    let out = out.map_err(|e| format!("`git` did not finish: {e}"))?;
    let _ = log.write_all(&out.stderr);
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        let message = String::from_utf8_lossy(&out.stderr)
            .trim()
            .replace('\n', "; ");
        Err(if message.is_empty() {
            format!(
                "`git {}` failed ({})",
                args.first().unwrap_or(&""),
                out.status
            )
        } else {
            message
        })
    }
}

#[cfg(test)]
mod tests {
    use super::resolve_url;
    use std::path::Path;

    #[test]
    fn urls_stay_and_paths_become_absolute() {
        let dir = Path::new("/nonexistent-kfpl");
        assert_eq!(resolve_url("https://h/x.git", dir), "https://h/x.git");
        assert_eq!(
            resolve_url("git@github.com:o/x.git", dir),
            "git@github.com:o/x.git"
        );
        assert_eq!(resolve_url("repo", dir), "/nonexistent-kfpl/repo");
        assert_eq!(resolve_url("/abs/repo", dir), "/abs/repo");
    }
}
