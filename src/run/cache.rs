//! Step caching (`cache = true`) for `kfpl run`: a step's cache key, the
//! reuse of an earlier successful run of it, and `kfpl runs why`.
//!
//! The key is a SHA-256 digest of the step's [`KeyParts`]: its image, its
//! command as written (interpolations as `$<name>`), the value of every
//! interpolation it reads (by name), its environment, its declared outputs
//! and metrics, the digests of its input files, the commit its
//! `sync_source` resolves to, and the engine it runs on (a step on the host
//! and in its image may differ). The parts are stored beside the key, so
//! `runs why` can say which of them changed.
//!
//! A hit is the latest successful record of the same declared step with the
//! same key whose folder still exists. The new run does not copy its files:
//! the logs and `outputs/` are hard-linked into the new step's folder, so
//! removing the earlier run's folder later leaves the new run whole, and a
//! record whose folder is gone is never a hit (the step runs).

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::prepare::{Lookup, render};
use super::store::{MetricRecord, StepRecord, Store, StoreError};
use crate::ir::{self, Command, Part, Template};

/// What a step's cache key covers (see the module docs). Serialized as JSON
/// in the records; its digest is the key.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyParts {
    /// The image, rendered.
    pub image: String,
    /// The command as written: a shell script or each argument, with
    /// interpolations as `$<name>` (their values are in `values`).
    pub command: Vec<String>,
    /// Each value the image, command and env read: `param lr`,
    /// `output train.model`, `item x`, `carried n`, `run information workflow.uid`.
    pub values: BTreeMap<String, String>,
    /// The environment: `env` rendered, `secret_env` as the secret and key it
    /// reads (never the value).
    pub env: BTreeMap<String, String>,
    /// Declared outputs (`name: type`) and metrics (`metric name`).
    pub declared: Vec<String>,
    /// Input files: name → digest of the file or folder ([`digest_path`]).
    pub files: BTreeMap<String, String>,
    /// `sync_source`: the URL and the commit it resolved to.
    pub source: Option<String>,
    /// `host`, `podman` or `docker`.
    pub engine: String,
}

impl KeyParts {
    /// The cache key: SHA-256 of the parts as JSON (maps are ordered, so the
    /// same parts always give the same text), 64 hex digits.
    pub fn digest(&self) -> String {
        let text = serde_json::to_vec(self).unwrap_or_default();
        hex(&Sha256::digest(&text))
    }
}

/// The key parts of a step whose values `value` gives. `files` are its
/// input files' names and digests; `source` its `sync_source` with the
/// commit it resolved to.
pub(crate) fn key_parts(
    step: &ir::Step,
    value: &Lookup<'_>,
    files: &[(String, String)],
    source: Option<String>,
    engine: &str,
) -> KeyParts {
    let as_written = |template: &Template| template.render(&mut |part| part.source());
    let command: Vec<&Template> = step.command.templates();
    let mut values = BTreeMap::new();
    let read = std::iter::once(&step.image)
        .chain(command.iter().copied())
        .chain(step.env.iter().map(|e| &e.value));
    for template in read {
        for part in template.references() {
            let name = value_name(part);
            // A file's value is its path in this run: its digest stands for it.
            if !files.iter().any(|(file, _)| *file == name) {
                values.insert(name, value(part));
            }
        }
    }
    let mut env: BTreeMap<String, String> = step
        .env
        .iter()
        .map(|var| (var.name.clone(), render(&var.value, value)))
        .collect();
    for secret in &step.secret_env {
        env.insert(
            secret.name.clone(),
            format!("secret {}/{}", secret.secret, secret.key),
        );
    }
    let declared = step
        .outputs
        .iter()
        .map(|o| format!("{}: {}", o.name, o.ty.word()))
        .chain(step.metrics.iter().map(|m| format!("metric {}", m.name)))
        .collect();
    KeyParts {
        image: render(&step.image, value),
        command: match &step.command {
            Command::Shell(script) => vec![as_written(script)],
            Command::Exec(args) => args.iter().map(as_written).collect(),
        },
        values,
        env,
        declared,
        files: files.iter().cloned().collect(),
        source,
        engine: engine.to_string(),
    }
}

/// What a `sync_source` commit that cannot be told is recorded as.
const UNKNOWN_COMMIT: &str = "(commit unknown)";

/// The key parts of a step about to run in a run made with `options`, and
/// whether they may be looked up: not when its `sync_source` commit cannot
/// be told (the step then runs; its key, which names no commit, matches no
/// later lookup, since such a key is never looked up).
pub(crate) fn step_key(
    pipeline: &ir::Pipeline,
    step: &ir::Step,
    value: &Lookup<'_>,
    run_dir: &Path,
    options: &super::RunOptions,
) -> (KeyParts, bool) {
    let mut known = true;
    let source = step.sync_source.as_ref().map(|sync| {
        let url = super::git::resolve_url(&sync.url, &options.invocation_dir);
        let revision = step
            .git_revision()
            .map(|rev| render(rev, value))
            .filter(|rev| !rev.trim().is_empty());
        let commit = source_commit(&url, revision.as_deref());
        known = commit.is_some();
        format!("{url}@{}", commit.as_deref().unwrap_or(UNKNOWN_COMMIT))
    });
    let files = input_files(pipeline, step, value, run_dir);
    // A file that cannot be read leaves nothing to compare: the step runs.
    known &= files.iter().all(|(_, digest)| digest.is_some());
    let files: Vec<(String, String)> = files
        .into_iter()
        .map(|(name, digest)| (name, digest.unwrap_or_default()))
        .collect();
    let parts = key_parts(step, value, &files, source, options.engine.name());
    (parts, known)
}

/// The `file` outputs a step reads, each by its key name with the digest of
/// the kept file or folder ([`digest_path`]), or `None` when it cannot be read.
fn input_files(
    pipeline: &ir::Pipeline,
    step: &ir::Step,
    value: &Lookup<'_>,
    run_dir: &Path,
) -> Vec<(String, Option<String>)> {
    // Each (producer, output) once, in order: the one rule both targets use.
    pipeline
        .file_inputs(step)
        .into_iter()
        .map(|(producer, output)| {
            let part = Part::Output {
                step: producer,
                output,
                span: crate::source::Span::default(),
            };
            let digest = super::artifacts::reader_path(&value(&part), run_dir)
                .and_then(|path| digest_path(&path).ok());
            (value_name(&part), digest)
        })
        .collect()
}

/// The latest successful record of `step` with `key` whose folder is still
/// there, with its run and metrics; its logs and outputs are linked into
/// `step_dir`. A record that cannot be read is no source: the step runs.
pub(crate) fn find_source(
    store: &Store,
    step: &str,
    key: &str,
    step_dir: &Path,
) -> Option<(String, StepRecord, Vec<MetricRecord>)> {
    for (run, name) in store.cache_sources(step, key).ok()? {
        let Ok(Some((old, metrics))) = store.step_record(&run, &name) else {
            continue;
        };
        if matches!(
            link_step_files(Path::new(&old.step_dir), step_dir),
            Ok(true)
        ) {
            return Some((run, old, metrics));
        }
    }
    None
}

/// W0611 and W0612 for each step with `cache = true`.
pub(crate) fn warnings(pipeline: &ir::Pipeline) -> Vec<crate::diagnostics::Diagnostic> {
    let mut out = Vec::new();
    for step in pipeline.steps.iter().filter(|s| s.cache) {
        if let Some(written) = run_information(step) {
            out.push(super::warnings::cached_reads_run_information(
                &step.name, &written,
            ));
        }
        if !step.data.is_empty() {
            let claims: Vec<&str> = step.data.iter().map(|m| m.claim.as_str()).collect();
            out.push(super::warnings::cached_mounts_claims(&step.name, &claims));
        }
    }
    out
}

/// What `kfpl runs why RUN STEP` says: `run` is a run id, `name` one of its
/// step records. `Ok(None)` when the run has no such step.
pub fn why(store: &Store, run: &str, name: &str) -> Result<Option<Why>, StoreError> {
    let Some(record) = store.cache_record(run, name)? else {
        return Ok(None);
    };
    if let Some(from) = record.cached_from {
        return Ok(Some(Why::Reused {
            run: from.run,
            step: from.step,
            key: record.key.unwrap_or_default(),
        }));
    }
    let (Some(key), Some(parts)) = (record.key, record.parts) else {
        return Ok(Some(Why::NotCached));
    };
    let previous = store
        .previous_cache_record(run, name)?
        .map(|(previous, old)| {
            let changed = old.parts.map(|p| changes(&p, &parts)).unwrap_or_default();
            (previous, changed)
        });
    Ok(Some(Why::Ran {
        key,
        no_cache: record.no_cache,
        previous,
    }))
}

/// A value's name in the key and in `runs why`: what it is, then how it is written.
fn value_name(part: &Part) -> String {
    let written = part.source();
    let name = written.trim_start_matches("$<").trim_end_matches('>');
    let kind = match part {
        Part::Param { .. } => "param",
        Part::Output { .. } => "output",
        Part::Item { .. } => "item",
        Part::Carry { .. } => "carried",
        Part::Workflow { .. } => "run information",
        Part::Text(_) | Part::Let { .. } => "value",
    };
    format!("{kind} {name}")
}

/// The first run information (`workflow.uid`, …) a step's key reads, as
/// written: such a step's key differs on every run (W0611).
pub(crate) fn run_information(step: &ir::Step) -> Option<String> {
    std::iter::once(&step.image)
        .chain(step.command.templates())
        .chain(step.env.iter().map(|e| &e.value))
        .flat_map(Template::references)
        .find(|part| matches!(part, Part::Workflow { .. }))
        .map(Part::source)
}

/// What changed from `old` to `new`, one line each: `param lr: 0.1 → 0.2`,
/// `image: a → b`, `command changed`, `input file data changed`.
pub fn changes(old: &KeyParts, new: &KeyParts) -> Vec<String> {
    let mut out = Vec::new();
    if old.image != new.image {
        out.push(format!("image: {} → {}", old.image, new.image));
    }
    if old.command != new.command {
        out.push("command changed".to_string());
    }
    map_changes(&old.values, &new.values, "", &mut out);
    map_changes(&old.env, &new.env, "env ", &mut out);
    if old.declared != new.declared {
        out.push("declared outputs or metrics changed".to_string());
    }
    for (name, _) in changed(&old.files, &new.files) {
        out.push(format!("input file {name} changed"));
    }
    if old.source != new.source {
        out.push(format!(
            "sync_source: {} → {}",
            old.source.as_deref().unwrap_or("none"),
            new.source.as_deref().unwrap_or("none")
        ));
    }
    if old.engine != new.engine {
        out.push(format!("engine: {} → {}", old.engine, new.engine));
    }
    out
}

/// `name: old → new` for each entry that differs (`(none)` where absent).
fn map_changes(
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
    prefix: &str,
    out: &mut Vec<String>,
) {
    for (name, (before, after)) in changed(old, new) {
        let shown = |v: Option<&String>| v.map_or("(none)".to_string(), |v| shorten(v));
        out.push(format!(
            "{prefix}{name}: {} → {}",
            shown(before),
            shown(after)
        ));
    }
}

type Change<'a> = (&'a String, (Option<&'a String>, Option<&'a String>));

/// The entries of two maps that differ, by name.
fn changed<'a>(
    old: &'a BTreeMap<String, String>,
    new: &'a BTreeMap<String, String>,
) -> Vec<Change<'a>> {
    let mut names: Vec<&String> = old.keys().chain(new.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|name| (name, (old.get(name), new.get(name))))
        .filter(|(_, (a, b))| a != b)
        .collect()
}

/// A value as shown by `runs why`: on one line, at most 60 characters.
fn shorten(value: &str) -> String {
    let one_line = value.replace('\n', "⏎");
    if one_line.chars().count() <= 60 {
        return one_line;
    }
    let cut: String = one_line.chars().take(57).collect();
    format!("{cut}…")
}

/// The SHA-256 of a file, or of a folder tree: every entry under it in
/// name order, each as its path relative to the root, its kind, its
/// permission bits and its contents (a symbolic link: its target, not
/// followed). The same tree always gives the same digest, wherever it lies.
pub fn digest_path(path: &Path) -> io::Result<String> {
    let mut hasher = Sha256::new();
    digest_entry(path, Path::new(""), &mut hasher)?;
    Ok(hex(&hasher.finalize()))
}

fn digest_entry(path: &Path, relative: &Path, hasher: &mut Sha256) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::symlink_metadata(path)?;
    let mode = meta.permissions().mode() & 0o7777;
    let name = relative.to_string_lossy();
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(path)?;
        hasher.update(format!("link {name}\0{}\0", target.to_string_lossy()).as_bytes());
    } else if meta.is_dir() {
        hasher.update(format!("dir {name}\0{mode:o}\0").as_bytes());
        let mut entries: Vec<_> = std::fs::read_dir(path)?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<io::Result<_>>()?;
        entries.sort();
        for entry in entries {
            digest_entry(&path.join(&entry), &relative.join(&entry), hasher)?;
        }
    } else {
        hasher.update(format!("file {name}\0{mode:o}\0{}\0", meta.len()).as_bytes());
        let mut file = std::fs::File::open(path)?;
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let read = file.read(&mut buffer)?;
            if read == 0 {
                break;
            }
            hasher.update(&buffer[..read]);
        }
    }
    Ok(())
}

/// The commit a `sync_source` revision names (`HEAD` when none), asked of
/// the repository with `git ls-remote`; a full commit id is its own answer.
/// `None` when it cannot be told: the step is then not reused.
pub(crate) fn source_commit(url: &str, revision: Option<&str>) -> Option<String> {
    if let Some(rev) = revision
        && rev.len() == 40
        && rev.chars().all(|c| c.is_ascii_hexdigit())
    {
        return Some(rev.to_ascii_lowercase());
    }
    let output = std::process::Command::new("git")
        .args(["ls-remote", "--", url, revision.unwrap_or("HEAD")])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let commit = text.split_whitespace().next()?;
    (output.status.success() && commit.len() == 40).then(|| commit.to_string())
}

/// Hard-links an earlier step's logs and `outputs/` tree into `to` (a new,
/// empty step folder), copying only where a link cannot be made. `false`
/// when the earlier folder is gone: then the step is not reused.
pub(crate) fn link_step_files(from: &Path, to: &Path) -> io::Result<bool> {
    if !from.is_dir() {
        return Ok(false);
    }
    std::fs::create_dir_all(to)?;
    for log in ["stdout.log", "stderr.log"] {
        let source = from.join(log);
        if source.is_file() {
            link_or_copy(&source, &to.join(log))?;
        }
    }
    let outputs = from.join("outputs");
    if outputs.is_dir() {
        link_tree(&outputs, &to.join("outputs"))?;
    }
    Ok(true)
}

fn link_tree(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            link_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            link_or_copy(&entry.path(), &target)?;
        }
    }
    Ok(())
}

fn link_or_copy(from: &Path, to: &Path) -> io::Result<()> {
    let _ = std::fs::remove_file(to);
    std::fs::hard_link(from, to).or_else(|_| std::fs::copy(from, to).map(drop))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What `kfpl runs why RUN STEP` says of one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// The step has no `cache = true` (or ran before caching was recorded).
    NotCached,
    /// It was reused from an earlier run.
    Reused {
        /// The run it was reused from.
        run: String,
        /// The step record there.
        step: String,
        /// The key both share.
        key: String,
    },
    /// It ran: no earlier record had its key.
    Ran {
        /// Its key.
        key: String,
        /// `kfpl run --no-cache` ran it.
        no_cache: bool,
        /// The most recent earlier record of it (same pipeline, same name)
        /// and what changed since; `None` when it never ran before.
        previous: Option<(String, Vec<String>)>,
    },
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::NotCached => {
                f.write_str("not cached: the step has no `cache = true`, so it runs every time")
            }
            Why::Reused { run, step, key } => write!(
                f,
                "cached: reused run {run} step {step} (key {})",
                short_key(key)
            ),
            Why::Ran {
                key,
                no_cache: true,
                ..
            } => write!(f, "ran: `--no-cache` was given (key {})", short_key(key)),
            Why::Ran {
                key,
                previous: None,
                ..
            } => write!(
                f,
                "ran: no earlier run of this step to reuse (key {})",
                short_key(key)
            ),
            Why::Ran {
                key,
                previous: Some((run, changes)),
                ..
            } if changes.is_empty() => write!(
                f,
                "ran: its key {} matches run {run}, which did not succeed or whose files are gone",
                short_key(key)
            ),
            Why::Ran {
                key,
                previous: Some((run, changes)),
                ..
            } => {
                write!(
                    f,
                    "ran: the key changed since run {run} (key {}):",
                    short_key(key)
                )?;
                for change in changes {
                    write!(f, "\n  {change}")?;
                }
                Ok(())
            }
        }
    }
}

/// The first 12 hex digits of a key, as shown.
fn short_key(key: &str) -> &str {
    key.get(..12).unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts() -> KeyParts {
        KeyParts {
            image: "python:3.12".into(),
            command: vec!["python train.py --lr $<lr>".into()],
            values: BTreeMap::from([("param lr".to_string(), "0.1".to_string())]),
            engine: "host".into(),
            ..KeyParts::default()
        }
    }

    #[test]
    fn the_key_is_stable_and_changes_with_each_part() {
        let base = parts();
        assert_eq!(base.digest(), parts().digest());
        assert_eq!(base.digest().len(), 64);
        let mut other = parts();
        other.values.insert("param lr".into(), "0.2".into());
        assert_ne!(base.digest(), other.digest());
        assert_eq!(changes(&base, &other), ["param lr: 0.1 → 0.2"]);
        let mut other = parts();
        other.image = "python:3.13".into();
        other.engine = "podman".into();
        assert_eq!(
            changes(&base, &other),
            ["image: python:3.12 → python:3.13", "engine: host → podman"]
        );
    }

    #[test]
    fn a_folder_digest_covers_names_modes_and_contents_not_its_place() {
        use std::os::unix::fs::PermissionsExt;
        let root = std::env::temp_dir().join(format!("kfpl-digest-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let make = |dir: &Path| {
            std::fs::create_dir_all(dir.join("sub")).unwrap_or_else(|e| panic!("{e}"));
            std::fs::write(dir.join("a.txt"), "a").unwrap_or_else(|e| panic!("{e}"));
            std::fs::write(dir.join("sub/b.txt"), "b").unwrap_or_else(|e| panic!("{e}"));
        };
        let (one, two) = (root.join("one"), root.join("two"));
        make(&one);
        make(&two);
        let digest = |p: &Path| digest_path(p).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(digest(&one), digest(&two));
        std::fs::write(two.join("sub/b.txt"), "B").unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(digest(&one), digest(&two));
        make(&two);
        std::fs::set_permissions(two.join("a.txt"), std::fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(digest(&one), digest(&two));
        assert_ne!(digest(&one.join("a.txt")), digest(&one.join("sub/b.txt")));
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn why_names_the_reused_run_and_each_change() {
        let reused = Why::Reused {
            run: "r1".into(),
            step: "train".into(),
            key: "0123456789abcdef".into(),
        };
        assert_eq!(
            reused.to_string(),
            "cached: reused run r1 step train (key 0123456789ab)"
        );
        let ran = Why::Ran {
            key: "ffff".into(),
            no_cache: false,
            previous: Some(("r2".into(), vec!["param lr: 0.1 → 0.2".into()])),
        };
        assert_eq!(
            ran.to_string(),
            "ran: the key changed since run r2 (key ffff):\n  param lr: 0.1 → 0.2"
        );
    }
}
