//! Parity of typed outputs: the check the compiler puts in the container
//! (POSIX `sh` and `awk`, under dash and busybox) accepts and refuses the
//! same texts as `kfpl run` (`check::types::check_output`), with the same
//! message.

use super::*;
use crate::check::ir::ParamType;
use crate::check::types::{check_output, mismatch_message, missing_message};

const CASES: &[(ParamType, &str)] = &[
    (ParamType::Number, "0.5\n"),
    (ParamType::Number, " -3e2 \n"),
    (ParamType::Number, "0"),
    (ParamType::Number, "2e-400"),
    (ParamType::Number, "1e999"),
    (ParamType::Number, "NaN"),
    (ParamType::Number, "01"),
    (ParamType::Number, "1."),
    (ParamType::Number, "+1"),
    (ParamType::Number, ""),
    (ParamType::Number, "1 2"),
    (ParamType::Bool, "true"),
    (ParamType::Bool, "True\n"),
    (ParamType::Bool, " false \n"),
    (ParamType::Bool, "yes"),
    (ParamType::Bool, "TRUE"),
    (ParamType::List, "[1, \"x\"]\n"),
    (ParamType::List, " [ ] "),
    (ParamType::List, "[{\"a\": [null, false]}, -0.5e+3]"),
    (ParamType::List, "[\"\\u00e9 \\\" \\\\ \\n\"]"),
    (ParamType::List, "[\n  1,\n  2\n]\n"),
    (ParamType::List, "['a', 'b']"),
    (ParamType::List, "[1,]"),
    (ParamType::List, "[1] 2"),
    (ParamType::List, "{}"),
    (ParamType::List, "[\"a\\qb\"]"),
    (ParamType::List, "[\"tab\there\"]"),
    (ParamType::List, "[\"open]"),
    (ParamType::List, "[01]"),
    (ParamType::List, "[tru]"),
    (ParamType::List, "[{\"a\" 1}]"),
    (ParamType::List, "[1e999, 0.10]"),
    (ParamType::List, "[\"\\ud800\"]"),
    (ParamType::List, "[\u{c}1]"),
    (ParamType::List, "\u{c}[1]\u{c}"),
    (ParamType::List, "[\"caf\u{e9}\"]"),
    (ParamType::List, "[\"\\u12\"]"),
];

fn program(ty: ParamType, given: &Path) -> String {
    format!(
        "pipeline p {{\n  step s {{\n    image = \"alpine\"\n    output v: {}\n    command = \"cp {}/* $KFP_OUTPUTS/ 2>/dev/null; true\"\n  }}\n}}\n",
        ty.word(),
        given.display()
    )
}

#[test]
fn the_container_checks_typed_outputs_as_kfpl_run_does() {
    let base = std::env::temp_dir().join(format!("kfpl-typed-{}", std::process::id()));
    for (i, (ty, text)) in CASES.iter().enumerate() {
        let given = base.join(i.to_string());
        std::fs::create_dir_all(&given).expect("given dir");
        std::fs::write(given.join("v"), text).expect("given output");
        let workflow = compile_src(&program(*ty, &given), &[]);
        let step = template(&workflow, "s");
        let local = check_output(*ty, text);
        for shell in [Shell::Dash, Shell::Busybox] {
            let Some(ran) = run(step, false, &[], shell, &format!("typed-{i}")) else {
                continue;
            };
            let _ = std::fs::remove_dir_all(&ran.root);
            let case = format!("{shell:?} {} {text:?}: {}", ty.word(), ran.stderr);
            assert_eq!(ran.status == 0, local.is_ok(), "{case}");
            if local.is_err() {
                assert_eq!(ran.status, 1, "{case}");
                let message = format!("kfpl: error[E0612]: {}\n", mismatch_message("v", *ty));
                assert_eq!(ran.stderr, message, "{case}");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn a_missing_typed_output_fails_the_container() {
    let empty = std::env::temp_dir().join(format!("kfpl-typed-{}-none", std::process::id()));
    std::fs::create_dir_all(&empty).expect("empty dir");
    let workflow = compile_src(&program(ParamType::Bool, &empty), &[]);
    let step = template(&workflow, "s");
    for shell in [Shell::Dash, Shell::Busybox] {
        let Some(ran) = run(step, false, &[], shell, "typed-missing") else {
            continue;
        };
        let _ = std::fs::remove_dir_all(&ran.root);
        assert_eq!(ran.status, 1, "{shell:?}: {}", ran.stderr);
        let message = missing_message("v", ParamType::Bool);
        assert_eq!(ran.stderr, format!("kfpl: error[E0612]: {message}\n"));
    }
    let _ = std::fs::remove_dir_all(&empty);
}

#[test]
fn a_failed_command_keeps_its_status_and_is_not_checked() {
    let src = "pipeline p {\n  step s {\n    image = \"alpine\"\n    output: number\n    metric \"m\"\n    command = \"echo m=1; exit 7\"\n  }\n}\n";
    let workflow = compile_src(src, &[]);
    let step = template(&workflow, "s");
    for shell in [Shell::Dash, Shell::Busybox] {
        let Some(ran) = run(step, false, &[], shell, "typed-failed") else {
            continue;
        };
        let _ = std::fs::remove_dir_all(&ran.root);
        assert_eq!(ran.status, 7, "{shell:?}: {}", ran.stderr);
        assert!(!ran.stderr.contains("E0612"), "{shell:?}: {}", ran.stderr);
    }
}
