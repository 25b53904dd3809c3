//! `secret_env` and `secret_volumes` under `kfpl run`, end to end through
//! the binary: values come from `$KFPL_HOME/secrets/<secret>/<key>`, never
//! show (terminal, logs, records, `runs show`, `--format json`), missing or
//! readable-by-others secrets stop the run before anything starts (E0338,
//! E0339), short values are not masked (W0608), and mounted secrets are
//! readable files. Each test has its own `KFPL_HOME`.

// Test helpers outside `#[test]` functions: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use support::{stderr, stdout};

const TOKEN: &str = "s3cr3t-token-value";

/// Prints the secret on stdout and stderr, and once across two writes of a line.
const PRINTS_SECRET: &str = r#"
pipeline leak {
  step show {
    image = "alpine"
    secret_env = { TOKEN = "registry-token/token" }
    command = "echo \"token=$TOKEN\"; echo \"again $TOKEN\" >&2; printf 's3cr3t-'; sleep 0; echo 'token-value end'"
  }
}
"#;

type Env = support::Project;

/// Writes `<home>/secrets/<secret>/<key>`, folders 700 and the file 600.
fn secret(env: &Env, secret: &str, key: &str, value: &str) -> PathBuf {
    let dir = env.home.join("secrets").join(secret);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(key);
    std::fs::write(&file, value).unwrap();
    chmod(&env.home.join("secrets"), 0o700);
    chmod(&dir, 0o700);
    chmod(&file, 0o600);
    file
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Every file under `dir`, but the secrets, whose bytes contain `needle`.
fn files_holding(dir: &Path, needle: &str) -> Vec<PathBuf> {
    support::all_files_under(dir)
        .into_iter()
        .filter(|p| !p.starts_with(dir.join("secrets")))
        .filter(|p| {
            std::fs::read(p)
                .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
        })
        .collect()
}

#[test]
fn a_secret_value_never_shows() {
    let env = Env::new("secrets-masked");
    secret(&env, "registry-token", "token", &format!("{TOKEN}\n"));
    let out = env.run(PRINTS_SECRET);
    let (terminal_out, terminal_err) = (stdout(&out), stderr(&out));
    assert!(out.status.success(), "{terminal_err}");
    let terminal = format!("{terminal_out}{terminal_err}");
    assert!(!terminal.contains(TOKEN), "{terminal}");
    assert!(terminal.contains("token=***"), "{terminal}");
    assert!(terminal.contains("again ***"), "{terminal}");
    assert!(terminal.contains("*** end"), "{terminal}");
    // The stored logs hold the masked lines; no record or log holds the value.
    assert_eq!(files_holding(&env.home, TOKEN), Vec::<PathBuf>::new());
    assert!(!files_holding(&env.home, "token=***").is_empty());
    for args in [
        &["runs", "show", "r1"][..],
        &["runs", "show", "r1", "--format", "json"],
        &["runs", "list", "--format", "json"],
    ] {
        let shown = env.kfpl(args);
        assert!(shown.status.success(), "{args:?}: {}", stderr(&shown));
        let text = format!("{}{}", stdout(&shown), stderr(&shown));
        assert!(!text.contains(TOKEN), "{args:?}: {text}");
    }
}

#[test]
fn a_missing_secret_stops_the_run_before_any_step() {
    let env = Env::new("secrets-missing");
    // No secrets folder at all: the message names the secret.
    let err = stderr(&env.run(PRINTS_SECRET));
    assert!(err.contains("E0338"), "{err}");
    assert!(err.contains("secret `registry-token` is missing"), "{err}");
    assert!(!env.home.join("runs").exists(), "the run started");

    secret(&env, "other", "key", "value-1234");
    let out = env.run(PRINTS_SECRET);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("E0338"), "{err}");
    assert!(err.contains("registry-token"), "{err}");
    assert!(!env.home.join("runs").exists(), "the run started");

    // The secret is there but not its key.
    secret(&env, "registry-token", "other-key", "value-1234");
    let out = env.run(PRINTS_SECRET);
    let err = stderr(&out);
    assert!(err.contains("E0338"), "{err}");
    assert!(
        err.contains("key `token` of secret `registry-token` is missing"),
        "{err}"
    );
    assert!(!env.home.join("runs").exists(), "the run started");
}

#[test]
fn secrets_others_can_read_are_refused() {
    let env = Env::new("secrets-open");
    let file = secret(&env, "registry-token", "token", TOKEN);
    chmod(&env.home.join("secrets"), 0o755);
    let out = env.run(PRINTS_SECRET);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("E0339"), "{err}");
    assert!(err.contains("chmod 700"), "{err}");
    assert!(!env.home.join("runs").exists(), "the run started");

    chmod(&env.home.join("secrets"), 0o700);
    chmod(&file, 0o644);
    let err = stderr(&env.run(PRINTS_SECRET));
    assert!(err.contains("E0339"), "{err}");
    assert!(err.contains("chmod 600"), "{err}");
    assert!(!env.home.join("runs").exists(), "the run started");
}

#[test]
fn a_short_secret_is_not_masked_and_says_so() {
    let env = Env::new("secrets-short");
    secret(&env, "registry-token", "token", "abc");
    let out = env.run(PRINTS_SECRET);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("W0608"), "{err}");
    assert!(err.contains("registry-token/token"), "{err}");
}

#[test]
fn mounted_secrets_are_read_only_files() {
    let env = Env::new("secrets-volume");
    secret(&env, "tls", "tls.crt", "CERTIFICATE-DATA");
    let scratch = env.root.join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    let source = format!(
        r#"
pipeline mount {{
  step read {{
    image = "alpine"
    secret_volumes = ["tls:/etc/kfpl-test-tls"]
    command = "cat /etc/kfpl-test-tls/tls.crt > {dir}/seen; touch /etc/kfpl-test-tls/new 2>/dev/null && echo writable > {dir}/writable; cat /etc/kfpl-test-tls/tls.crt"
  }}
}}
"#,
        dir = scratch.display()
    );
    let out = env.run(&source);
    let err = stderr(&out);
    // The host engine mounts through a private mount namespace.
    if !support::require(
        "a private mount namespace for `secret_volumes`",
        !err.contains("E0603"),
    ) {
        return;
    }
    assert!(out.status.success(), "{err}");
    let seen = std::fs::read_to_string(scratch.join("seen")).unwrap();
    assert_eq!(seen, "CERTIFICATE-DATA");
    assert!(
        !scratch.join("writable").exists(),
        "the secret was writable"
    );
    assert!(!env.home.join("secrets/tls/new").exists());
    // Files of a mounted secret are masked too.
    assert!(
        !stdout(&out).contains("CERTIFICATE-DATA"),
        "{}",
        stdout(&out)
    );
    assert!(!Path::new("/etc/kfpl-test-tls").exists());
}

#[test]
fn a_container_engine_gets_values_from_its_environment_not_its_command_line() {
    let env = Env::new("secrets-dry-run");
    let file = env.root.write(
        "p.kfp",
        r#"
pipeline p {
  step s {
    image = "alpine"
    secret_env = { TOKEN = "registry-token/token" }
    secret_volumes = ["tls:/etc/tls"]
    command = "true"
  }
}
"#,
    );
    let out = env.kfpl(&[
        "run",
        "--dry-run",
        "--engine",
        "docker",
        file.to_str().unwrap(),
    ]);
    let shown = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(shown.contains("--env TOKEN "), "{shown}");
    let mount = format!("{}:/etc/tls:ro", env.home.join("secrets/tls").display());
    assert!(shown.contains(&mount), "{shown}");
}

/// The compiled workflow under the Argo model (`../shared/tools/argo-sim`,
/// `--secrets DIR/<secret>/<key>`): the variable and the mounted files reach
/// the step, and the mount is read-only.
#[test]
fn on_argo_the_variable_and_the_files_reach_the_step() {
    if !support::argo::simulator_can_run() {
        return;
    }
    let env = Env::new("secrets-argo");
    let secrets = env.root.join("secrets");
    for (secret, key, value) in [
        ("registry-token", "token", TOKEN),
        ("tls", "tls.crt", "CERT"),
    ] {
        std::fs::create_dir_all(secrets.join(secret)).unwrap();
        std::fs::write(secrets.join(secret).join(key), value).unwrap();
    }
    let file = env.root.write(
        "p.kfp",
        r#"
pipeline p {
  step show {
    image = "alpine"
    secret_env = { TOKEN = "registry-token/token" }
    secret_volumes = ["tls:/etc/tls"]
    command = "echo \"env=$TOKEN\"; echo \"file=$(cat /etc/tls/tls.crt)\"; touch /etc/tls/x 2>/dev/null || echo read-only"
  }
}
"#,
    );
    let yaml = env.root.join("p.yaml");
    let out = env.kfpl(&[
        "compile",
        file.to_str().unwrap(),
        "-o",
        yaml.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let result = env.root.join("result.json");
    let out = std::process::Command::new("python3")
        .arg(support::root().join(support::argo::SIMULATOR))
        .arg(&yaml)
        .arg("--claims")
        .arg(env.root.join("claims"))
        .arg("--secrets")
        .arg(&secrets)
        .arg("--out")
        .arg(&result)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let result: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&result).unwrap()).unwrap();
    let printed = result["tasks"]["show"]["stdout"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(printed, format!("env={TOKEN}\nfile=CERT\nread-only\n"));
}

#[test]
fn a_named_key_is_required_even_when_its_secret_is_also_mounted() {
    let env = Env::new("secrets-mounted-missing-key");
    secret(&env, "registry-token", "other-key", "value-1234");
    let out = env.run(
        r#"
pipeline p {
  step s {
    image = "alpine"
    secret_volumes = ["registry-token:/etc/registry"]
    secret_env = { TOKEN = "registry-token/token" }
    command = "true"
  }
}
"#,
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("key `token` of secret `registry-token` is missing"),
        "{err}"
    );
    assert!(!env.home.join("runs").exists(), "the run started");
}

/// A secret written to an output (and printed as a metric) is recorded
/// masked, with W0615 naming the output: no record, `runs show` or
/// `--format json` holds it, and a later step reads the masked value.
#[test]
fn a_secret_written_to_an_output_is_recorded_masked() {
    let env = Env::new("secrets-output");
    secret(&env, "registry-token", "token", TOKEN);
    let out = env.run(
        r#"
pipeline leak {
  step write {
    image = "alpine"
    secret_env = { TOKEN = "registry-token/token" }
    output copy
    metric "score"
    command = "printf 'token is %s' \"$TOKEN\" > $KFP_OUTPUTS/copy; echo \"score=$TOKEN\""
  }
  step read {
    image = "alpine"
    command = "echo \"got $<write.copy>\""
  }
}
"#,
    );
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("W0615"), "{err}");
    assert!(
        err.contains("output `copy` of step `write` held the value of a secret"),
        "{err}"
    );
    assert!(
        stdout(&out).contains("got token is ***"),
        "{}",
        stdout(&out)
    );
    assert_eq!(files_holding(&env.home, TOKEN), Vec::<PathBuf>::new());
    for args in [
        &["runs", "show", "r1"][..],
        &["runs", "show", "r1", "--format", "json"],
    ] {
        let shown = env.kfpl(args);
        let text = format!("{}{}", stdout(&shown), stderr(&shown));
        assert!(!text.contains(TOKEN), "{args:?}: {text}");
        assert!(text.contains("token is ***"), "{args:?}: {text}");
    }
}
