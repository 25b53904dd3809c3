//! Validators for the value formats kfpl accepts: Kubernetes names and
//! quantities, durations, environment variable names, `data` entries, git
//! URLs and KFP metric names. Each is a pure function, usable on its own.

use super::Checker;
use crate::diagnostics::{Code, Diagnostic};
use crate::syntax::ast;

/// Longest step or pipeline identifier (a DNS-1123 label after `_` → `-`).
pub(crate) const MAX_NAME_LEN: usize = 63;

/// Whether `name` is a DNS-1123 label: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 bytes.
pub(crate) fn is_dns_label(name: &str) -> bool {
    is_label_read_as(name, |b| b)
}

/// Whether identifier `ident`'s Kubernetes form (see [`kubernetes_name`]) is
/// a DNS-1123 label, asked without building that form.
fn becomes_dns_label(ident: &str) -> bool {
    is_label_read_as(ident, |b| if b == b'_' { b'-' } else { b })
}

/// [`is_dns_label`] of `name` with each byte read through `read`.
fn is_label_read_as(name: &str, read: impl Fn(u8) -> u8) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_NAME_LEN
        && bytes
            .iter()
            .map(|&b| read(b))
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && read(bytes[0]) != b'-'
        && read(bytes[bytes.len() - 1]) != b'-'
}

/// The Kubernetes form of an identifier: `_` → `-` (`prepare_data` → `prepare-data`).
pub(crate) fn kubernetes_name(ident: &str) -> String {
    ident.replace('_', "-")
}

/// E0211 when a step or pipeline identifier does not become a valid Kubernetes name.
pub(super) fn check_kubernetes_name(checker: &mut Checker<'_>, name: &ast::Ident, kind: &str) {
    if becomes_dns_label(&name.name) {
        return;
    }
    let k8s = kubernetes_name(&name.name);
    let too_long = name.name.len() > MAX_NAME_LEN;
    let reason = if too_long {
        format!("longer than {MAX_NAME_LEN} characters")
    } else {
        "starts or ends with `_`".to_string()
    };
    let fixed: String = name
        .name
        .trim_matches('_')
        .chars()
        .take(MAX_NAME_LEN)
        .collect();
    let fixed = match fixed.trim_end_matches('_') {
        "" => format!("{kind}_1"),
        fixed => fixed.to_string(),
    };
    let help = if too_long {
        format!("Kubernetes names have at most {MAX_NAME_LEN} characters; try `{fixed}`")
    } else {
        format!(
            "{kind} `{}` becomes `{k8s}` in Kubernetes, where names start and end with a letter or digit; try `{fixed}`",
            name.name
        )
    };
    checker.error(
        Diagnostic::new(
            Code::E0211,
            format!("{kind} name `{}` is not valid for Kubernetes", name.name),
        )
        .primary(name.span, reason)
        .help(help),
    );
}

/// Whether `name` is a valid environment variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub(crate) fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Parses a duration such as `90s`, `30m`, `2h`, `1d` or `1h30m` into seconds.
/// A bare number means seconds. `None` when malformed or zero.
pub(crate) fn parse_duration(text: &str) -> Option<u64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(seconds) = text.parse::<u64>() {
        return (seconds > 0).then_some(seconds);
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return None,
        };
        let n: u64 = digits.parse().ok()?;
        total = total.checked_add(n.checked_mul(unit)?)?;
        digits.clear();
    }
    (digits.is_empty() && total > 0).then_some(total)
}

/// Whether `text` is a Kubernetes quantity (`500m`, `2`, `1.5`, `4Gi`, `1e3`).
pub(crate) fn is_quantity(text: &str) -> bool {
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    let number_len = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(body.len());
    let (number, suffix) = body.split_at(number_len);
    let valid_number = !number.is_empty()
        && number != "."
        && number.matches('.').count() <= 1
        && number.chars().any(|c| c.is_ascii_digit());
    let valid_suffix = match suffix {
        "" | "n" | "u" | "m" | "k" | "M" | "G" | "T" | "P" | "E" => true,
        "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => true,
        exponent => exponent
            .strip_prefix(['e', 'E'])
            .map(|e| e.strip_prefix(['+', '-']).unwrap_or(e))
            .is_some_and(|e| !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())),
    };
    valid_number && valid_suffix
}

/// Quantities to suggest for `cpu` (which also takes a number) or `memory`.
pub(crate) fn quantity_example(field: &str) -> &'static str {
    if field.starts_with("cpu") {
        "`\"500m\"` or `2`"
    } else {
        "`\"4Gi\"` or `\"512Mi\"`"
    }
}

/// KFP's metric name pattern: `^[a-zA-Z]([-_a-zA-Z0-9]{0,62}[a-zA-Z0-9])?$`.
pub(crate) fn is_kfp_metric_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let ok_inner = |b: &u8| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_';
    !bytes.is_empty()
        && bytes.len() <= 64
        && bytes[0].is_ascii_alphabetic()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes.iter().all(ok_inner)
}

/// The closest name KFP accepts: other characters become `-`, leading
/// non-letters and trailing non-alphanumerics go, at most 64 characters.
/// Empty when nothing usable is left.
pub(crate) fn normalize_metric_name(name: &str) -> String {
    let replaced: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = replaced.trim_start_matches(|c: char| !c.is_ascii_alphabetic());
    let mut out: String = trimmed.chars().take(64).collect();
    while out.ends_with(|c: char| !c.is_ascii_alphanumeric()) {
        out.pop();
    }
    out
}

/// The directory name a git URL is cloned into: its last path segment without `.git`.
pub(crate) fn repo_name(url: &str) -> Option<String> {
    let trimmed = url.trim().trim_end_matches('/');
    let last = trimmed.rsplit(['/', ':']).next()?;
    let name = last.strip_suffix(".git").unwrap_or(last);
    let valid = !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    valid.then(|| name.to_string())
}

/// Why a `data` entry is malformed, if it is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum MountError {
    /// No `:` between claim and path.
    NoColon,
    /// The claim is not a DNS-1123 label.
    BadClaim,
    /// The path is not absolute, is `/`, or has `.`/`..`/empty segments.
    BadPath(&'static str),
}

/// Splits and checks `claim:/mount/path`; returns the claim and the normalised path.
pub(crate) fn parse_mount(entry: &str) -> Result<(String, String), MountError> {
    let (claim, path) = entry.split_once(':').ok_or(MountError::NoColon)?;
    if !is_dns_label(claim) {
        return Err(MountError::BadClaim);
    }
    if !path.starts_with('/') {
        return Err(MountError::BadPath("the path must be absolute"));
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return Err(MountError::BadPath("a claim cannot be mounted at `/`"));
    }
    for segment in trimmed[1..].split('/') {
        match segment {
            "" => return Err(MountError::BadPath("the path has an empty segment (`//`)")),
            "." | ".." => return Err(MountError::BadPath("the path may not contain `.` or `..`")),
            _ => {}
        }
    }
    Ok((claim.to_string(), trimmed.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Some(90));
        assert_eq!(parse_duration("30m"), Some(1800));
        assert_eq!(parse_duration("1h30m"), Some(5400));
        assert_eq!(parse_duration("2"), Some(2));
        assert_eq!(parse_duration("0s"), None);
        assert_eq!(parse_duration("5x"), None);
        assert_eq!(parse_duration("m"), None);
        assert_eq!(parse_duration("10"), Some(10));
    }

    #[test]
    fn quantities() {
        for ok in ["500m", "2", "1.5", "4Gi", "1e3", "100M", "0.5"] {
            assert!(is_quantity(ok), "{ok}");
        }
        for bad in ["", "four", "4GB", "1..2", ".", "Gi"] {
            assert!(!is_quantity(bad), "{bad}");
        }
    }

    #[test]
    fn metric_names() {
        assert!(is_kfp_metric_name("Train-accuracy"));
        assert!(!is_kfp_metric_name("train accuracy"));
        assert_eq!(normalize_metric_name("train accuracy"), "train-accuracy");
        assert_eq!(normalize_metric_name("1st loss!"), "st-loss");
        assert_eq!(normalize_metric_name("%%"), "");
    }

    #[test]
    fn mounts_and_repos() {
        assert_eq!(
            parse_mount("user-susan:/training/"),
            Ok(("user-susan".into(), "/training".into()))
        );
        assert_eq!(parse_mount("x"), Err(MountError::NoColon));
        assert_eq!(parse_mount("User:/a"), Err(MountError::BadClaim));
        assert!(matches!(parse_mount("a:rel"), Err(MountError::BadPath(_))));
        assert!(matches!(
            parse_mount("a:/x/../y"),
            Err(MountError::BadPath(_))
        ));
        assert_eq!(
            repo_name("https://code.aliyun.com/x/tensorflow-sample-code.git").as_deref(),
            Some("tensorflow-sample-code")
        );
        assert_eq!(
            repo_name("git@github.com:org/repo.git").as_deref(),
            Some("repo")
        );
        assert_eq!(repo_name("/tmp/src/").as_deref(), Some("src"));
        assert_eq!(repo_name(""), None);
    }
}

/// The largest value (a param's default or `-p` value, a step's output) kfpl
/// accepts, in bytes as Argo carries it: quoted by Go's `json.Marshal`
/// ([`argo_quoted_len`]). Argo v3.3 hands each pod its template, with every
/// input value filled in, in the `ARGO_TEMPLATE` environment variable, and
/// Linux refuses to exec with any one variable over 128 KiB
/// (`MAX_ARG_STRLEN`; argo-workflows#7586). A value is in that template twice
/// (the input parameter and the `env` entry or argument that uses it), so
/// 32 KiB leaves half of the 128 KiB for the command and the rest. The one
/// limit for `kfpl check`/`compile` (literal defaults) and `kfpl run`
/// (`-p` values and outputs): see [`value_too_large`].
pub(crate) const MAX_VALUE_BYTES: usize = 32 * 1024;

/// The length of `value` once Go's `encoding/json` has quoted it, quotes
/// left out: `"` `\` and `\n` `\r` `\t` take 2 bytes, other control
/// characters, `<` `>` `&` (HTML-safe escaping) and U+2028/U+2029 take 6.
pub(crate) fn argo_quoted_len(value: &str) -> usize {
    value
        .chars()
        .map(|c| match c {
            '"' | '\\' | '\n' | '\r' | '\t' => 2,
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => 6,
            c if (c as u32) < 0x20 => 6,
            c => c.len_utf8(),
        })
        .sum()
}

/// The one size check for values: why `value` is too large to pass between
/// steps on Argo (and so under `kfpl run`), or `None` when it fits.
pub(crate) fn value_too_large(value: &str) -> Option<String> {
    // A value of at most MAX/6 bytes fits whatever it holds: skip the scan.
    if value.len() <= MAX_VALUE_BYTES / 6 {
        return None;
    }
    let quoted = argo_quoted_len(value);
    (quoted > MAX_VALUE_BYTES).then(|| {
        format!(
            "{} bytes once quoted for Argo, over the limit of {} KiB",
            quoted,
            MAX_VALUE_BYTES / 1024
        )
    })
}

/// The help line for [`value_too_large`]'s diagnostics.
pub(crate) const VALUE_TOO_LARGE_HELP: &str = "Argo passes every value inside the pod's `ARGO_TEMPLATE` variable, which Linux caps at 128 KiB; put large data in a `data` claim and pass its path";

#[cfg(test)]
mod size_tests {
    use super::*;

    #[test]
    fn quoting_counts_what_go_escapes() {
        assert_eq!(argo_quoted_len("abc"), 3);
        assert_eq!(argo_quoted_len("a\"b\\\n"), 8);
        assert_eq!(argo_quoted_len("<&>"), 18);
        assert_eq!(argo_quoted_len("\u{1}é\u{2028}"), 6 + 2 + 6);
    }

    #[test]
    fn the_limit_is_on_the_quoted_length() {
        assert_eq!(value_too_large(&"a".repeat(MAX_VALUE_BYTES)), None);
        assert!(value_too_large(&"a".repeat(MAX_VALUE_BYTES + 1)).is_some());
        let quotes = "\"".repeat(MAX_VALUE_BYTES / 2 + 1);
        assert!(
            value_too_large(&quotes)
                .is_some_and(|m| m.contains(&format!("{} bytes", MAX_VALUE_BYTES + 2)))
        );
    }
}
