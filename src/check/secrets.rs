//! `secret_env` and `secret_volumes`: values a step reads from Kubernetes
//! secrets (locally from `$KFPL_HOME/secrets/<secret>/<key>`). Every name
//! is fixed at compile time, so the compiled workflow and the preflight of
//! `kfpl run` know exactly which secrets and keys a run needs.

use super::Checker;
use super::ir;
use super::resolve::{RValue, Resolved};
use super::values::{self, MountError};
use crate::diagnostics::{Code, Diagnostic};

/// Whether `key` can name a key of a Kubernetes secret (`[-._a-zA-Z0-9]+`);
/// `.` and `..` are refused too, since locally a key is a file name.
pub(crate) fn is_secret_key(key: &str) -> bool {
    !key.is_empty()
        && key != "."
        && key != ".."
        && key.len() <= 253
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
}

/// What is wrong with a `secret_env` value, if anything: the secret and the key.
fn parse_secret_ref(entry: &str) -> Result<(String, String), &'static str> {
    let (secret, key) = entry.split_once('/').ok_or("missing `/`")?;
    if !values::is_dns_label(secret) {
        return Err("the secret is not a DNS-1123 label");
    }
    if !is_secret_key(key) {
        return Err("the key is not `[-._a-zA-Z0-9]+`");
    }
    Ok((secret.to_string(), key.to_string()))
}

impl Checker<'_> {
    /// `secret_env = { VAR = "secret/key" }`.
    pub(super) fn secret_env(&mut self, value: &Resolved) -> Vec<ir::SecretEnv> {
        let entries = self.env_entries(value, "secret_env", "{ TOKEN = \"registry-token/token\" }");
        let mut out: Vec<ir::SecretEnv> = Vec::with_capacity(entries.len());
        for (key, entry) in entries {
            let what = format!("secret_env `{}`", key.name);
            let Some(text) = self.expect_fixed_string(entry, &what) else {
                continue;
            };
            match parse_secret_ref(&text) {
                Ok((secret, secret_key)) => out.push(ir::SecretEnv {
                    name: key.name.clone(),
                    secret,
                    key: secret_key,
                    span: key.span.to(entry.span),
                }),
                Err(reason) => self.error(
                    Diagnostic::new(
                        Code::E0335,
                        format!("secret_env `{}` = `{text}` is not `secret/key`", key.name),
                    )
                    .primary(entry.span, reason)
                    .help("write the secret's name (lower-case letters, digits, `-`), a `/` and the key: `\"registry-token/token\"`"),
                ),
            }
        }
        out
    }

    /// `secret_volumes = ["secret:/path"]`.
    pub(super) fn secret_volumes(&mut self, value: &Resolved) -> Vec<ir::SecretVolume> {
        let RValue::List(items) = &value.value else {
            self.error(
                value
                    .mismatch(
                        value.span,
                        "`secret_volumes`",
                        "a list of \"secret:/path\" strings",
                    )
                    .help("write `secret_volumes = [\"registry-token:/etc/token\"]`"),
            );
            return Vec::new();
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items.iter() {
            let Some(entry) = self.expect_fixed_string(item, "secret_volumes") else {
                continue;
            };
            let diagnostic = match values::parse_mount(&entry) {
                Ok((secret, path)) => {
                    out.push(ir::SecretVolume {
                        secret,
                        path,
                        span: item.span,
                    });
                    continue;
                }
                Err(MountError::NoColon) => Diagnostic::new(
                    Code::E0336,
                    format!("`secret_volumes` entry `{entry}` is not `secret:/path`"),
                )
                .primary(item.span, "missing `:`")
                .help("write the secret's name, a colon and the mount path: `registry-token:/etc/token`"),
                Err(MountError::BadClaim) => {
                    let secret = entry.split(':').next().unwrap_or_default();
                    Diagnostic::new(Code::E0336, format!("`{secret}` is not a valid secret name"))
                        .primary(item.span, "not a DNS-1123 label")
                        .help("secret names are lower-case letters, digits and `-`, start and end with a letter or digit, at most 63 characters")
                }
                Err(MountError::BadPath(reason)) => {
                    Diagnostic::new(Code::E0306, format!("invalid mount path in `{entry}`"))
                        .primary(item.span, reason)
                        .help("mount at an absolute path such as `/etc/token`")
                }
            };
            self.error(diagnostic);
        }
        out
    }
}

/// Across a step's attributes: a secret mounted where a claim or another
/// secret is (E0307), a variable both in `env` and `secret_env` (E0337).
pub(super) fn check_clashes(
    checker: &mut Checker<'_>,
    env: &[ir::EnvVar],
    data: &[ir::Mount],
    secret_env: &[ir::SecretEnv],
    secret_volumes: &[ir::SecretVolume],
) {
    for (index, volume) in secret_volumes.iter().enumerate() {
        let claim = data
            .iter()
            .find(|m| m.path == volume.path)
            .map(|m| (format!("claim `{}`", m.claim), m.span));
        let earlier = secret_volumes[..index]
            .iter()
            .find(|v| v.path == volume.path)
            .map(|v| (format!("secret `{}`", v.secret), v.span));
        if let Some((what, span)) = claim.or(earlier) {
            checker.error(
                Diagnostic::new(
                    Code::E0307,
                    format!(
                        "secret `{}` and {what} are both mounted at `{}`",
                        volume.secret, volume.path
                    ),
                )
                .primary(volume.span, "mounted again here")
                .secondary(span, "first mounted here")
                .help("give each secret and claim its own mount path"),
            );
        }
    }
    for secret in secret_env {
        if let Some(plain) = env.iter().find(|e| e.name == secret.name) {
            checker.error(
                Diagnostic::new(
                    Code::E0337,
                    format!("`{}` is set by both `env` and `secret_env`", secret.name),
                )
                .primary(secret.span, "read from a secret here")
                .secondary(plain.span, "also set by `env` here")
                .help("keep one of them: a variable has one value"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_refs() {
        assert_eq!(
            parse_secret_ref("registry-token/token"),
            Ok(("registry-token".into(), "token".into()))
        );
        assert!(parse_secret_ref("token").is_err());
        assert!(parse_secret_ref("Bad/token").is_err());
        assert!(parse_secret_ref("ok/a/b").is_err());
        assert!(parse_secret_ref("ok/..").is_err());
        assert!(parse_secret_ref("ok/").is_err());
        assert!(is_secret_key("tls.crt"));
        assert!(is_secret_key("_A-1"));
    }
}
