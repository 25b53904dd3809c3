//! Language-v2 IR built by hand, for lowering tests that must not wait for
//! the v2 checker: a v1 program is checked, then its steps are moved into
//! blocks and some `$<param>` references become loop items, carried values
//! or run information. Each scenario mirrors a `.kfp` in tests/parity/.

#![allow(dead_code)]

use std::sync::Arc;

use kfpl::ir::{
    Block, BlockKind, Carry, CompareOp, Condition, Count, Items, Operand, ParamType, Part,
    Pipeline, Template,
};
use kfpl::{SourceFile, Span};

/// The checked v1 program (it must check).
pub(crate) fn checked(source: &str) -> Pipeline {
    let checked = kfpl::check(&SourceFile::new("v2.kfp", source));
    checked
        .pipeline
        .unwrap_or_else(|| panic!("{:#?}", checked.diagnostics))
}

fn span(p: &Pipeline) -> Span {
    p.span
}

/// Adds a block and returns its id.
pub(crate) fn block(
    p: &mut Pipeline,
    kind: BlockKind,
    parent: Option<usize>,
    deps: &[&str],
) -> usize {
    p.blocks.push(Block {
        kind,
        parent,
        dependencies: deps.iter().map(|d| d.to_string()).collect(),
        keyword: p.span,
        span: p.span,
    });
    p.blocks.len() - 1
}

/// Puts steps in a block.
pub(crate) fn put(p: &mut Pipeline, block: usize, steps: &[&str]) {
    for step in p.steps.iter_mut() {
        if steps.contains(&step.name.as_str()) {
            step.block = Some(block);
        }
    }
}

/// Turns every `$<name>` param reference into `part(name)` (lets too).
pub(crate) fn rewrite(p: &mut Pipeline, name: &str, part: &dyn Fn() -> Part) {
    fn walk(t: &mut Template, name: &str, part: &dyn Fn() -> Part) {
        for piece in t.parts.iter_mut() {
            match piece {
                Part::Param { name: n, .. } if n == name => *piece = part(),
                Part::Let { value, .. } => {
                    let mut inner = (**value).clone();
                    walk(&mut inner, name, part);
                    *value = Arc::new(inner);
                }
                _ => {}
            }
        }
    }
    for step in p.steps.iter_mut() {
        match &mut step.command {
            kfpl::ir::Command::Shell(t) => walk(t, name, part),
            kfpl::ir::Command::Exec(args) => args.iter_mut().for_each(|t| walk(t, name, part)),
        }
        for env in step.env.iter_mut() {
            walk(&mut env.value, name, part);
        }
    }
}

pub(crate) fn item(var: &str, field: Option<&str>) -> impl Fn() -> Part {
    let (var, field) = (var.to_string(), field.map(str::to_string));
    move || Part::Item {
        var: var.clone(),
        field: field.clone(),
        span: Span::default(),
    }
}

pub(crate) fn operand(p: &Pipeline, ty: ParamType, part: Part) -> Operand {
    Operand {
        ty,
        value: Template {
            parts: vec![part],
            span: span(p),
        },
        literal: false,
        span: span(p),
    }
}

pub(crate) fn literal(p: &Pipeline, ty: ParamType, text: &str) -> Operand {
    Operand {
        ty,
        value: Template::text(text, span(p)),
        literal: true,
        span: span(p),
    }
}

pub(crate) fn output(step: &str, output: &str) -> Part {
    Part::Output {
        step: step.into(),
        output: output.into(),
        span: Span::default(),
    }
}

pub(crate) fn param(name: &str) -> Part {
    Part::Param {
        name: name.into(),
        span: Span::default(),
    }
}

pub(crate) fn compare(op: CompareOp, a: Operand, b: Operand) -> Condition {
    Condition::Compare(op, a, b)
}

/// tests/parity/v2/if.kfp: `flip` writes the param `side`; `heads` runs
/// when it equals `expected` (and `deploy` is not false), `tails` otherwise.
pub(crate) fn if_else(expected: &str) -> Pipeline {
    let mut p = checked(
        r#"pipeline v2_if {
  param side: string = "heads"
  param deploy: bool = true
  step flip { image = "alpine" command = "printf '%s' \"$<side>\" > $KFP_OUTPUTS/output" }
  step heads { image = "alpine" after = [flip] command = "echo heads" }
  step tails { image = "alpine" after = [flip] command = "echo tails" }
  step maybe { image = "alpine" command = "echo deploying $<deploy>" }
  step last { image = "alpine" after = [heads, tails] command = "echo done" }
}"#,
    );
    let heads = operand(&p, ParamType::String, output("flip", "output"));
    let lit = literal(&p, ParamType::String, expected);
    let deploy = operand(&p, ParamType::Bool, param("deploy"));
    let cond = Condition::And(
        Box::new(compare(CompareOp::Eq, heads, lit)),
        Box::new(Condition::Not(Box::new(compare(
            CompareOp::Eq,
            deploy.clone(),
            literal(&p, ParamType::Bool, "false"),
        )))),
    );
    let b_if = block(
        &mut p,
        BlockKind::If {
            condition: cond.clone(),
            otherwise: false,
        },
        None,
        &["flip"],
    );
    let b_else = block(
        &mut p,
        BlockKind::If {
            condition: cond,
            otherwise: true,
        },
        None,
        &["flip"],
    );
    put(&mut p, b_if, &["heads"]);
    put(&mut p, b_else, &["tails"]);
    if let Some(i) = p.step_position("maybe") {
        p.steps[i].when = Some(Condition::Truth(deploy));
    }
    p
}

/// tests/parity/v2_for.kfp.
pub(crate) fn for_loops() -> Pipeline {
    let mut p = checked(
        r#"pipeline v2_for {
  param lr: string = "x"
  param c: string = "x"
  param n: string = "x"
  param lrs: string = "[\"0.01\", 0.1]"
  step train {
    image = "alpine"
    output accuracy
    command = "echo lr=$<lr>; echo \"0.9$<lr>\" > $KFP_OUTPUTS/accuracy"
  }
  step evaluate { image = "alpine" command = "echo evaluating $<train.accuracy> for $<lr>" }
  step pick { image = "alpine" command = "printf '%s' \"$<train.accuracy>\" > $KFP_OUTPUTS/output" }
  param c_name: string = "x"
  param c_lr: string = "x"
  step show { image = "alpine" command = "echo $<c_name> $<c_lr> $<c>" }
  step gen { image = "alpine" command = "echo '[1, \"two\", 3.0]' > $KFP_OUTPUTS/output" }
  step each { image = "alpine" command = "echo item $<n>" }
}"#,
    );
    rewrite(&mut p, "lr", &item("lr", None));
    rewrite(&mut p, "n", &item("n", None));
    rewrite(&mut p, "c_name", &item("c", Some("name")));
    rewrite(&mut p, "c_lr", &item("c", Some("lr")));
    rewrite(&mut p, "c", &item("c", None));
    let l1 = block(
        &mut p,
        BlockKind::For {
            var: "lr".into(),
            items: Items::Fixed("[\"0.01\",0.10]".into()),
            parallelism: Some(1),
        },
        None,
        &[],
    );
    put(&mut p, l1, &["train", "evaluate"]);
    let l2 = block(
        &mut p,
        BlockKind::For {
            var: "c".into(),
            items: Items::Fixed(
                r#"[{"lr":"0.1","name":"a"},{"lr":0.2,"name":"it's \"b\""}]"#.into(),
            ),
            parallelism: None,
        },
        None,
        &[],
    );
    put(&mut p, l2, &["show"]);
    let l3 = block(
        &mut p,
        BlockKind::For {
            var: "n".into(),
            items: Items::Output {
                step: "gen".into(),
                output: "output".into(),
            },
            parallelism: None,
        },
        None,
        &["gen"],
    );
    put(&mut p, l3, &["each"]);
    let three = compare(
        CompareOp::Eq,
        operand(&p, ParamType::String, item("n", None)()),
        literal(&p, ParamType::Number, "3"),
    );
    if let Some(i) = p.step_position("each") {
        p.steps[i].when = Some(three);
    }
    p
}

/// tests/parity/v2/repeat.kfp: `max` passes, until next.output >= 3.
pub(crate) fn repeat(max: u32) -> Pipeline {
    repeat_of(Count::Fixed(max))
}

/// tests/parity/v2/repeat_param.kfp: at most `$<tries>` passes.
pub(crate) fn repeat_param() -> Pipeline {
    repeat_of(Count::Param {
        name: "tries".into(),
        span: Span::default(),
    })
}

fn repeat_of(max: Count) -> Pipeline {
    let tries = match max {
        Count::Param { .. } => "param tries: number = 5",
        Count::Fixed(_) => "",
    };
    let mut p = checked(&format!(
        r#"pipeline v2_repeat {{
  {tries}
  param guess: string = "0"
  step next {{ image = "alpine" command = "echo $(( $<guess> + 1 )) > $KFP_OUTPUTS/output" }}
  step report {{ image = "alpine" command = "echo final $<next.output>" }}
}}"#
    ));
    rewrite(&mut p, "guess", &|| Part::Carry {
        name: "guess".into(),
        span: Span::default(),
    });
    let until = compare(
        CompareOp::Ge,
        operand(&p, ParamType::Number, output("next", "output")),
        literal(&p, ParamType::Number, "3"),
    );
    let carry = Carry {
        name: "guess".into(),
        ty: ParamType::Number,
        initial: Template::text("0", p.span),
        next: ("next".into(), "output".into()),
        span: p.span,
    };
    let r = block(
        &mut p,
        BlockKind::Repeat {
            max,
            carries: vec![carry],
            until,
        },
        None,
        &[],
    );
    put(&mut p, r, &["next"]);
    p
}

/// tests/parity/v2/finally.kfp.
pub(crate) fn finally() -> Pipeline {
    let mut p = checked(
        r#"pipeline v2_finally {
  param wf_name: string = "x"
  param wf_uid: string = "x"
  param wf_pod_name: string = "x"
  param wf_status: string = "x"
  step work { image = "alpine" command = "echo working; exit 1" }
  step notify {
    image = "alpine"
    command = """
      case "$<wf_name>" in v2-finally-*) echo name ok ;; esac
      [ -n "$<wf_uid>" ] && echo uid ok
      case "$<wf_pod_name>" in "$<wf_name>"-*) echo pod ok ;; esac
      echo ended $<wf_status>
    """
  }
  step cry { image = "alpine" command = "echo it failed" }
}"#,
    );
    for field in ["name", "uid", "pod_name", "status"] {
        rewrite(&mut p, &format!("wf_{field}"), &|| Part::Workflow {
            field: field.into(),
            span: Span::default(),
        });
    }
    let f = block(&mut p, BlockKind::Finally, None, &[]);
    put(&mut p, f, &["notify"]);
    let failed = compare(
        CompareOp::Eq,
        operand(
            &p,
            ParamType::String,
            Part::Workflow {
                field: "status".into(),
                span: Span::default(),
            },
        ),
        literal(&p, ParamType::String, "Failed"),
    );
    let b = block(
        &mut p,
        BlockKind::If {
            condition: failed,
            otherwise: false,
        },
        Some(f),
        &[],
    );
    put(&mut p, b, &["cry"]);
    p
}

/// tests/parity/v2/nested.kfp: an `if` inside a `for`, reading the item,
/// a step of the same iteration and a step outside the loop.
pub(crate) fn nested() -> Pipeline {
    let mut p = checked(
        r#"pipeline v2_nested {
  param i: string = "x"
  step start { image = "alpine" command = "printf s > $KFP_OUTPUTS/output" }
  step a { image = "alpine" command = "printf '%s' \"$<i>\" > $KFP_OUTPUTS/output" }
  step b { image = "alpine" command = "printf '%s' \"b $<i> $<a.output> $<start.output>\" > $KFP_OUTPUTS/output" }
  step total { image = "alpine" command = "printf '%s' \"$<a.output>\" > $KFP_OUTPUTS/output" }
}"#,
    );
    rewrite(&mut p, "i", &item("i", None));
    let l = block(
        &mut p,
        BlockKind::For {
            var: "i".into(),
            items: Items::Fixed("[1,2,3]".into()),
            parallelism: None,
        },
        None,
        &[],
    );
    put(&mut p, l, &["a"]);
    let cond = compare(
        CompareOp::Ne,
        operand(&p, ParamType::String, output("a", "output")),
        literal(&p, ParamType::String, "2"),
    );
    let b = block(
        &mut p,
        BlockKind::If {
            condition: cond,
            otherwise: false,
        },
        Some(l),
        &["a"],
    );
    put(&mut p, b, &["b"]);
    p
}

/// A literal loop over `n` numbers around one step.
pub(crate) fn wide_loop(n: usize) -> Pipeline {
    let mut p = checked(
        r#"pipeline wide {
  param x: string = "x"
  step work { image = "alpine" command = "echo $<x>" }
}"#,
    );
    rewrite(&mut p, "x", &item("x", None));
    let items: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    let l = block(
        &mut p,
        BlockKind::For {
            var: "x".into(),
            items: Items::Fixed(format!("[{}]", items.join(","))),
            parallelism: None,
        },
        None,
        &[],
    );
    put(&mut p, l, &["work"]);
    p
}

/// tests/parity/v2/nested_loops.kfp: a loop in a loop, read from outside both.
pub(crate) fn nested_loops() -> Pipeline {
    let mut p = checked(
        r#"pipeline v2_nested_loops {
  param x: string = "x"
  param y: string = "y"
  step cell { image = "alpine" command = "printf '%s' \"$<x>$<y>\" > $KFP_OUTPUTS/output" }
  step grid { image = "alpine" command = "printf '%s' \"$<cell.output>\" > $KFP_OUTPUTS/output" }
}"#,
    );
    rewrite(&mut p, "x", &item("x", None));
    rewrite(&mut p, "y", &item("y", None));
    let outer = block(
        &mut p,
        BlockKind::For {
            var: "x".into(),
            items: Items::Fixed(r#"["a","b"]"#.into()),
            parallelism: None,
        },
        None,
        &[],
    );
    let inner = block(
        &mut p,
        BlockKind::For {
            var: "y".into(),
            items: Items::Fixed("[1,2,3]".into()),
            parallelism: Some(2),
        },
        Some(outer),
        &[],
    );
    put(&mut p, inner, &["cell"]);
    p
}
