//! Secrets on a local run. A secret is a folder `$KFPL_HOME/secrets/<secret>`
//! and each key a file in it holding the value, as a Kubernetes secret
//! volume lays them out. Before anything runs, [`load`] checks that every
//! secret and key the pipeline reads exists and that no one but the owner
//! can read them (E0338, E0339, like `ssh` with a private key), and reads
//! the values. A step gets its `secret_env` values in its environment
//! (never on a command line, so never in `kfpl run --dry-run` nor `ps`),
//! its `secret_volumes` folders mounted read-only, and a [`Masker`] that
//! turns every value it may read into `***` in what it prints and logs.
//! Values are never recorded: the records hold no environment.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::error;
use crate::diagnostics::{Code, Diagnostic};
use crate::ir;
use crate::source::Span;

/// Values shorter than this are not masked (W0608): `***` in place of every
/// `a` or `1` would garble the output and tell more than it hides.
pub(crate) const MIN_MASKED: usize = 4;

/// The folder holding the secrets: `<state>/secrets`.
pub(crate) fn secrets_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("secrets")
}

/// Every secret value the pipeline reads, loaded before the run.
#[derive(Debug, Default)]
pub(crate) struct Secrets {
    dir: PathBuf,
    /// (secret, key) → value, for every key of every secret read.
    values: BTreeMap<(String, String), Vec<u8>>,
    /// W0608 for each value too short to mask.
    pub(crate) warnings: Vec<Diagnostic>,
}

/// What one step reads from its secrets.
#[derive(Debug, Default, Clone)]
pub(crate) struct StepSecrets {
    /// `secret_env`: variable → value.
    pub(crate) env: Vec<(String, OsString)>,
    /// `secret_volumes`: secret folder → mount path (mounted read-only).
    pub(crate) mounts: Vec<(PathBuf, String)>,
    /// Every value the step can read, to hide in what it prints.
    pub(crate) masker: Masker,
}

impl Secrets {
    /// No values (`kfpl run --dry-run`, which reads no secret).
    pub(crate) fn unloaded(state_dir: &Path) -> Secrets {
        Secrets {
            dir: secrets_dir(state_dir),
            ..Secrets::default()
        }
    }

    /// What `step` reads. Without loaded values (`kfpl run --dry-run`) the
    /// variables are empty.
    pub(crate) fn for_step(&self, step: &ir::Step) -> StepSecrets {
        let env = step
            .secret_env
            .iter()
            .map(|var| {
                let value = self.values.get(&(var.secret.clone(), var.key.clone()));
                let value = value.cloned().unwrap_or_default();
                (var.name.clone(), OsString::from_vec(value))
            })
            .collect();
        let mounts = step
            .secret_volumes
            .iter()
            .map(|v| (self.dir.join(&v.secret), v.path.clone()))
            .collect();
        let read: BTreeSet<&str> = step
            .secret_env
            .iter()
            .map(|v| v.secret.as_str())
            .chain(step.secret_volumes.iter().map(|v| v.secret.as_str()))
            .collect();
        let values = self
            .values
            .iter()
            .filter(|((secret, _), _)| read.contains(secret.as_str()))
            .map(|(_, value)| value.as_slice());
        StepSecrets {
            env,
            mounts,
            masker: Masker::new(values),
        }
    }
}

/// Checks and reads every secret `pipeline` reads from `<state>/secrets`.
pub(crate) fn load(pipeline: &ir::Pipeline, state_dir: &Path) -> Result<Secrets, Vec<Diagnostic>> {
    let dir = secrets_dir(state_dir);
    let mut secrets = Secrets {
        dir: dir.clone(),
        ..Secrets::default()
    };
    let wanted = wanted(pipeline);
    if wanted.is_empty() {
        return Ok(secrets);
    }
    let mut errors = Vec::new();
    match private(&dir, true) {
        // Each secret's folder is missing then too, and names the secret.
        Ok(()) | Err(Problem::Missing) => {}
        Err(problem) => {
            return Err(vec![problem.diagnostic(&dir, "the secrets folder", None)]);
        }
    }
    for (secret, want) in &wanted {
        let folder = dir.join(secret);
        if let Err(problem) = private(&folder, true) {
            let what = format!("secret `{secret}`");
            errors.push(problem.diagnostic(&folder, &what, Some(want.span)));
            continue;
        }
        // Named keys must exist; a mounted secret adds every file it has.
        let mut keys = want.keys.clone();
        if want.all {
            for (key, span) in every_key(&folder, want.span) {
                keys.entry(key).or_insert(span);
            }
        }
        for (key, span) in keys {
            let file = folder.join(&key);
            match private(&file, false).and_then(|()| read(&file)) {
                Ok(value) => {
                    secrets.values.insert((secret.clone(), key), value);
                }
                Err(problem) => {
                    let what = format!("key `{key}` of secret `{secret}`");
                    errors.push(problem.diagnostic(&file, &what, Some(span)));
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    secrets.warnings = short_values(&secrets.values);
    Ok(secrets)
}

/// What is read of one secret.
struct Wanted {
    /// Keys `secret_env` names (each must exist), with the first entry naming it.
    keys: BTreeMap<String, Span>,
    /// Whether a step mounts the secret (then every key is read).
    all: bool,
    /// The first entry reading the secret.
    span: Span,
}

fn wanted(pipeline: &ir::Pipeline) -> BTreeMap<String, Wanted> {
    let mut wanted: BTreeMap<String, Wanted> = BTreeMap::new();
    fn entry<'a>(
        wanted: &'a mut BTreeMap<String, Wanted>,
        secret: &str,
        span: Span,
    ) -> &'a mut Wanted {
        wanted.entry(secret.to_string()).or_insert(Wanted {
            keys: BTreeMap::new(),
            all: false,
            span,
        })
    }
    for step in &pipeline.steps {
        for volume in &step.secret_volumes {
            entry(&mut wanted, &volume.secret, volume.span).all = true;
        }
        for var in &step.secret_env {
            let keys = &mut entry(&mut wanted, &var.secret, var.span).keys;
            keys.entry(var.key.clone()).or_insert(var.span);
        }
    }
    wanted
}

/// Every key file of a mounted secret (hidden files too: Kubernetes' own
/// `..data` links are not made locally).
fn every_key(folder: &Path, span: Span) -> Vec<(String, Span)> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut keys: Vec<(String, Span)> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| !t.is_dir()))
        .filter_map(|e| Some((e.file_name().into_string().ok()?, span)))
        .collect();
    keys.sort();
    keys
}

/// Why a secret's folder or file cannot be used.
enum Problem {
    Missing,
    Open { folder: bool, mode: u32 },
    Unreadable(std::io::Error),
}

impl Problem {
    /// `what` names the folder or file: "key `token` of secret `registry-token`".
    fn diagnostic(&self, path: &Path, what: &str, span: Option<Span>) -> Diagnostic {
        let shown = path.display();
        let diagnostic = match self {
            Problem::Missing => error(
                Code::E0338,
                format!("{what} is missing: there is no `{shown}`"),
                "create the secret as a folder `$KFPL_HOME/secrets/<secret>` (mode 700) holding one file per key (mode 600); `kfpl explain E0338` shows how",
            ),
            Problem::Open { folder, mode } => error(
                Code::E0339,
                format!(
                    "{what} (`{shown}`) can be read by others (mode {:03o})",
                    mode & 0o777
                ),
                if *folder {
                    format!("make it private: `chmod 700 {shown}` (and its key files `chmod 600`)")
                } else {
                    format!("make it private: `chmod 600 {shown}`")
                },
            ),
            Problem::Unreadable(e) => error(
                Code::E0338,
                format!("{what} cannot be read: `{shown}`: {e}"),
                "make the secrets folder and its files readable by the user who runs kfpl",
            ),
        };
        match span {
            Some(span) => diagnostic.primary(span, "read here"),
            None => diagnostic,
        }
    }
}

/// The path exists, is a folder (or a file), and no group or other bit is set.
fn private(path: &Path, folder: bool) -> Result<(), Problem> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Problem::Missing),
        Err(e) => return Err(Problem::Unreadable(e)),
    };
    if meta.is_dir() != folder {
        return Err(Problem::Missing);
    }
    let mode = meta.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(Problem::Open { folder, mode });
    }
    Ok(())
}

fn read(path: &Path) -> Result<Vec<u8>, Problem> {
    std::fs::read(path).map_err(Problem::Unreadable)
}

/// W0608 for each value (or line of a value) too short to mask.
fn short_values(values: &BTreeMap<(String, String), Vec<u8>>) -> Vec<Diagnostic> {
    values
        .iter()
        .filter(|(_, value)| {
            pieces(value).is_empty() || pieces(value).iter().any(|p| p.len() < MIN_MASKED)
        })
        .map(|((secret, key), _)| {
            Diagnostic::new(
                Code::W0608,
                format!(
                    "secret `{secret}/{key}` is shorter than {MIN_MASKED} characters, so it is not hidden in the steps' output"
                ),
            )
            .help("use a longer value, or make sure no step prints it")
        })
        .collect()
}

/// The lines of a value (a value is masked line by line, as output is read),
/// without the line ends and surrounding blanks.
fn pieces(value: &[u8]) -> Vec<&[u8]> {
    value
        .split(|&b| b == b'\n')
        .map(|line| line.trim_ascii())
        .filter(|line| !line.is_empty())
        .collect()
}

/// Replaces secret values with `***` in a line of output.
#[derive(Debug, Default, Clone)]
pub(crate) struct Masker {
    /// Longest first, so a value containing another is masked whole.
    needles: Vec<Vec<u8>>,
}

impl Masker {
    pub(crate) fn new<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Masker {
        let mut needles: Vec<Vec<u8>> = values
            .into_iter()
            .flat_map(pieces)
            .filter(|p| p.len() >= MIN_MASKED)
            .map(<[u8]>::to_vec)
            .collect();
        needles.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        needles.dedup();
        Masker { needles }
    }

    /// Whether there is nothing to mask.
    pub(crate) fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// A recorded value (a step output) with every secret value masked, or
    /// `None` when it holds none. The record is what `runs show`, its
    /// `--format json` and later steps read, and a secret never appears
    /// there (W0615 says the value was changed).
    pub(crate) fn mask_text(&self, text: &str) -> Option<String> {
        let masked = self.mask(text.as_bytes());
        (masked != text.as_bytes()).then(|| String::from_utf8_lossy(&masked).into_owned())
    }

    /// `line` with every occurrence of every value replaced by `***`.
    pub(crate) fn mask(&self, line: &[u8]) -> Vec<u8> {
        let mut out = line.to_vec();
        for needle in &self.needles {
            out = replace(&out, needle);
        }
        out
    }
}

fn replace(haystack: &[u8], needle: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(at) = rest.windows(needle.len()).position(|w| w == needle) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(b"***");
        rest = &rest[at + needle.len()..];
    }
    out.extend_from_slice(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_every_occurrence_and_each_line_of_a_value() {
        let masker = Masker::new([b"s3cr3t\n".as_slice(), b"-----BEGIN\nabcdef\n", b"ab"]);
        assert_eq!(masker.mask(b"x s3cr3t s3cr3ts3cr3t"), b"x *** ******");
        assert_eq!(masker.mask(b"abcdef"), b"***");
        // Too short to mask: kept (W0608 says so).
        assert_eq!(masker.mask(b"ab"), b"ab");
        assert!(Masker::new([b"".as_slice()]).is_empty());
    }

    #[test]
    fn short_values_warn() {
        let mut values = BTreeMap::new();
        values.insert(("s".into(), "k".into()), b"abc\n".to_vec());
        values.insert(("s".into(), "long".into()), b"abcdef".to_vec());
        let warnings = short_values(&values);
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].code, Code::W0608);
    }
}
