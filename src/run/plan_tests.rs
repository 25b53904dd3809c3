//! The instance graph on hand-built IR: conditions, loops, repeats, finally.

use std::collections::BTreeMap;

use super::*;
use crate::ir::{
    Block, Carry, Command, CompareOp, Count, Dependency, Operand, ParamType, Pipeline, Step,
};
use crate::source::Span;

const NO: Span = Span::DETACHED;

fn text(t: &str) -> Template {
    Template::text(t, NO)
}

fn template(parts: Vec<Part>) -> Template {
    Template {
        parts: parts.into(),
        span: NO,
    }
}

fn out(step: &str, output: &str) -> Part {
    Part::Output {
        step: step.into(),
        output: output.into(),
        span: NO,
    }
}

fn item(var: &str, field: Option<&str>) -> Part {
    Part::Item {
        var: var.into(),
        field: field.map(Into::into),
        span: NO,
    }
}

fn operand(ty: ParamType, parts: Vec<Part>, literal: bool) -> Operand {
    Operand {
        ty,
        value: template(parts),
        literal,
        span: NO,
    }
}

fn compare(op: CompareOp, ty: ParamType, left: Part, right: &str) -> Condition {
    Condition::Compare(
        op,
        operand(ty, vec![left], false),
        operand(ty, vec![Part::Text(right.into())], true),
    )
}

/// A step in `block` reading `command`, depending on `deps`.
fn step(name: &str, block: Option<BlockId>, deps: &[&str], command: Vec<Part>) -> Step {
    Step {
        name: name.into(),
        name_span: NO,
        span: NO,
        description: None,
        image: text("alpine"),
        command: Command::Shell(template(command)),
        data: Default::default(),
        sync_source: None,
        env: Box::default(),
        secret_env: Box::default(),
        secret_volumes: Box::default(),
        gpus: Count::Fixed(0),
        cpu: None,
        memory: None,
        retries: Count::Fixed(0),
        timeout: None,
        metrics: Box::default(),
        cluster: Default::default(),
        visuals: false,
        cache: false,
        sidecars: Box::default(),
        outputs: Box::default(),
        dependencies: deps
            .iter()
            .map(|d| Dependency {
                step: (*d).into(),
                implied: true,
                explicit: false,
                span: NO,
            })
            .collect(),
        block,
        when: None,
    }
}

fn block(kind: BlockKind, parent: Option<BlockId>, deps: &[&str]) -> Block {
    Block {
        kind,
        parent,
        dependencies: deps.iter().map(|d| (*d).to_string()).collect(),
        keyword: NO,
        span: NO,
    }
}

fn pipeline(steps: Vec<Step>, blocks: Vec<Block>) -> Pipeline {
    Pipeline {
        ident: "demo".into(),
        name: "demo".into(),
        description: None,
        params: Vec::new(),
        step_index: steps
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i))
            .collect(),
        steps,
        blocks,
        span: NO,
        cluster: Default::default(),
        volumes: Vec::new(),
    }
}

/// What happened to each record, in order: `run NAME`, `skip NAME: why`,
/// `fail NAME: why`, `run fails: why`.
struct Trace {
    log: Vec<String>,
}

impl Trace {
    /// Runs the plan to its end, one instance at a time; `result` says how
    /// each instance that runs ends (its state and outputs).
    fn run(
        plan: &mut Plan<'_>,
        mut result: impl FnMut(&Plan<'_>, InstanceId) -> (State, BTreeMap<String, String>),
    ) -> Trace {
        let mut log = Vec::new();
        let mut queue = Vec::new();
        loop {
            for action in plan.advance() {
                match action {
                    Action::Created(_) => {}
                    Action::Run(id) => queue.push(id),
                    Action::Skip(id, why) => {
                        log.push(format!("skip {}: {why}", plan.instances[id].name))
                    }
                    Action::Fail(id, why) => {
                        log.push(format!("fail {}: {why}", plan.instances[id].name))
                    }
                    Action::RunFails(why) => log.push(format!("run fails: {why}")),
                }
            }
            if queue.is_empty() {
                break;
            }
            let id = queue.remove(0);
            log.push(format!("run {}", plan.instances[id].name));
            let (state, outputs) = result(plan, id);
            plan.finish(id, state, outputs);
        }
        Trace { log }
    }
}

fn ok() -> (State, BTreeMap<String, String>) {
    (State::Succeeded, BTreeMap::new())
}

fn output(value: &str) -> (State, BTreeMap<String, String>) {
    (
        State::Succeeded,
        BTreeMap::from([("output".to_string(), value.to_string())]),
    )
}

/// The rendered command of an instance.
fn command(plan: &Plan<'_>, id: InstanceId) -> String {
    let instance = &plan.instances[id];
    let step = &plan.pipeline.steps[instance.step];
    let Command::Shell(t) = &step.command else {
        return String::new();
    };
    plan.render(t, &instance.scope, step.block, Some(id))
        .unwrap_or_else(|e| format!("error: {e}"))
}

/// flip; if flip.output == "heads" { heads; if … { deep } } else { tails }; last after heads
fn branches() -> Pipeline {
    let condition = compare(
        CompareOp::Eq,
        ParamType::String,
        out("flip", "output"),
        "heads",
    );
    pipeline(
        vec![
            step("flip", None, &[], vec![]),
            step("heads", Some(0), &["flip"], vec![]),
            step("deep", Some(2), &["flip"], vec![]),
            step("tails", Some(1), &["flip"], vec![]),
            step("last", None, &["heads"], vec![]),
        ],
        vec![
            block(
                BlockKind::If {
                    condition: condition.clone(),
                    otherwise: false,
                },
                None,
                &["flip"],
            ),
            block(
                BlockKind::If {
                    condition,
                    otherwise: true,
                },
                None,
                &["flip"],
            ),
            block(
                BlockKind::If {
                    condition: Condition::Truth(operand(
                        ParamType::Bool,
                        vec![Part::Text("true".into())],
                        true,
                    )),
                    otherwise: false,
                },
                Some(0),
                &[],
            ),
        ],
    )
}

#[test]
fn a_true_condition_runs_its_block_and_skips_the_else() {
    let p = branches();
    let mut plan = Plan::new(&p, BTreeMap::new(), "r1");
    let trace = Trace::run(&mut plan, |plan, id| {
        if plan.instances[id].name == "flip" {
            output("heads")
        } else {
            ok()
        }
    });
    assert_eq!(
        trace.log,
        [
            "run flip",
            "skip tails: its condition `$<flip.output> == \"heads\"` is true",
            "run heads",
            "run deep",
            "run last",
        ]
    );
}

#[test]
fn a_false_condition_skips_every_step_inside_and_an_after_still_runs() {
    let p = branches();
    let mut plan = Plan::new(&p, BTreeMap::new(), "r1");
    let trace = Trace::run(&mut plan, |plan, id| {
        if plan.instances[id].name == "flip" {
            output("tails")
        } else {
            ok()
        }
    });
    assert_eq!(
        trace.log,
        [
            "run flip",
            "skip heads: its condition `$<flip.output> == \"heads\"` is false",
            "skip deep: its condition `$<flip.output> == \"heads\"` is false",
            "run last",
            "run tails",
        ]
    );
    assert!(plan.instances.iter().all(|i| i.state != State::Waiting));
}

#[test]
fn a_hostile_value_is_compared_as_data() {
    let p = branches();
    let mut plan = Plan::new(&p, BTreeMap::new(), "r1");
    let hostile = "tails\" || \"a\" == \"a') or (1 == 1";
    let trace = Trace::run(&mut plan, |plan, id| {
        if plan.instances[id].name == "flip" {
            output(hostile)
        } else {
            ok()
        }
    });
    assert!(
        trace.log.contains(&"run tails".to_string()),
        "{:?}",
        trace.log
    );
    assert!(!trace.log.contains(&"run heads".to_string()));
}

#[test]
fn a_failed_condition_input_blocks_the_block_and_its_readers() {
    let p = branches();
    let mut plan = Plan::new(&p, BTreeMap::new(), "r1");
    let trace = Trace::run(&mut plan, |_, _| (State::Failed, BTreeMap::new()));
    assert_eq!(trace.log[0], "run flip");
    assert!(
        trace
            .log
            .contains(&"skip heads: it depends on `flip`, which failed".to_string())
    );
    assert!(
        trace
            .log
            .contains(&"skip last: it depends on `flip`, which failed".to_string())
    );
}

/// for lr in [0.1, "b"] { train; eval(train.output, lr) }; pick reads train.output
fn sweep(parallelism: Option<u32>, items: &str) -> Pipeline {
    pipeline(
        vec![
            step(
                "train",
                Some(0),
                &[],
                vec![Part::Text("lr=".into()), item("lr", None)],
            ),
            step("eval", Some(0), &["train"], vec![out("train", "output")]),
            step("pick", None, &["train"], vec![out("train", "output")]),
        ],
        vec![block(
            BlockKind::For {
                var: "lr".into(),
                items: Items::Fixed(items.into()),
                parallelism,
            },
            None,
            &[],
        )],
    )
}

#[test]
fn a_loop_runs_each_item_and_readers_outside_get_a_list() {
    let p = sweep(None, r#"[0.10,"b"]"#);
    let mut plan = Plan::new(&p, BTreeMap::new(), "r7");
    let mut commands = Vec::new();
    let trace = Trace::run(&mut plan, |plan, id| {
        commands.push(command(plan, id));
        output(&format!("acc{}", plan.instances[id].iteration.unwrap_or(9)))
    });
    assert_eq!(
        trace.log,
        [
            "run train[0] lr=0.10",
            "run train[1] lr=b",
            "run eval[0] lr=0.10",
            "run pick",
            "run eval[1] lr=b",
        ]
    );
    assert_eq!(
        commands,
        ["lr=0.10", "lr=b", "acc0", r#"["acc0","acc1"]"#, "acc1"]
    );
    let train1 = plan
        .instances
        .iter()
        .position(|i| i.name == "train[1] lr=b");
    assert_eq!(
        train1.map(|id| plan.pod_name(id)).as_deref(),
        Some("demo-r7-train-1")
    );
}

#[test]
fn a_failed_iteration_fails_the_loop_but_the_others_run() {
    let p = sweep(None, "[1,2,3]");
    let mut plan = Plan::new(&p, BTreeMap::new(), "r1");
    let trace = Trace::run(&mut plan, |plan, id| {
        if plan.instances[id].name == "train[1] lr=2" {
            (State::Failed, BTreeMap::new())
        } else {
            ok()
        }
    });
    assert!(trace.log.contains(&"run eval[0] lr=1".to_string()));
    assert!(trace.log.contains(&"run eval[2] lr=3".to_string()));
    assert!(
        trace.log.contains(
            &"skip eval[1] lr=2: it depends on `train[1] lr=2`, which failed".to_string()
        )
    );
    assert!(
        trace
            .log
            .contains(&"skip pick: it depends on `train[1] lr=2`, which failed".to_string())
    );
}

#[test]
fn an_empty_list_runs_no_iteration_and_readers_get_an_empty_list() {
    let p = sweep(None, "[]");
    let mut plan = Plan::new(&p, BTreeMap::new(), "r1");
    let mut commands = Vec::new();
    let trace = Trace::run(&mut plan, |plan, id| {
        commands.push(command(plan, id));
        ok()
    });
    assert_eq!(trace.log, ["run pick"]);
    assert_eq!(commands, ["[]"]);
}

#[test]
fn parallelism_caps_open_iterations() {
    let p = sweep(Some(1), "[1,2]");
    let mut plan = Plan::new(&p, BTreeMap::new(), "r1");
    let runs: Vec<String> = plan
        .advance()
        .into_iter()
        .filter_map(|a| match a {
            Action::Run(id) => Some(plan.instances[id].name.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(runs, ["train[0] lr=1"], "one iteration at a time");
    let train0 = plan
        .instances
        .iter()
        .position(|i| i.name == "train[0] lr=1")
        .unwrap_or(0);
    plan.finish(train0, State::Succeeded, BTreeMap::new());
    let names = |plan: &mut Plan<'_>| -> Vec<String> {
        plan.advance()
            .into_iter()
            .filter_map(|a| match a {
                Action::Run(id) => Some(plan.instances[id].name.clone()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(
        names(&mut plan),
        ["eval[0] lr=1"],
        "iteration 0 is still open"
    );
    let eval0 = plan
        .instances
        .iter()
        .position(|i| i.name == "eval[0] lr=1")
        .unwrap_or(0);
    plan.finish(eval0, State::Succeeded, BTreeMap::new());
    assert_eq!(names(&mut plan), ["train[1] lr=2"]);
}

#[test]
fn a_missing_field_fails_that_iteration_naming_its_index() {
    let p = pipeline(
        vec![step("show", Some(0), &[], vec![item("c", Some("name"))])],
        vec![block(
            BlockKind::For {
                var: "c".into(),
                items: Items::Fixed(r#"[{"name":"a"},{"other":"b"}]"#.into()),
                parallelism: None,
            },
            None,
            &[],
        )],
    );
    let mut plan = Plan::new(&p, BTreeMap::new(), "r1");
    let trace = Trace::run(&mut plan, |_, _| ok());
    assert_eq!(
        trace.log,
        [
            "fail show[1] c={\"other\":\"b\"}: item 1 of `for c` has no field `name`: {\"other\":\"b\"}",
            "run show[0] c={\"name\":\"a\"}",
        ]
    );
}

#[test]
fn a_loop_over_an_output_opens_when_its_producer_ends() {
    let p = pipeline(
        vec![
            step("list", None, &[], vec![]),
            step("each", Some(0), &["list"], vec![item("x", None)]),
        ],
        vec![block(
            BlockKind::For {
                var: "x".into(),
                items: Items::Output {
                    step: "list".into(),
                    output: "output".into(),
                },
                parallelism: None,
            },
            None,
            &["list"],
        )],
    );
    let mut plan = Plan::new(&p, BTreeMap::new(), "r1");
    let trace = Trace::run(&mut plan, |plan, id| {
        if plan.instances[id].name == "list" {
            output(r#"[{"a":1}, "two"]"#)
        } else {
            ok()
        }
    });
    assert_eq!(
        trace.log,
        ["run list", r#"run each[0] x={"a":1}"#, "run each[1] x=two"]
    );

    let mut plan = Plan::new(&p, BTreeMap::new(), "r1");
    let trace = Trace::run(&mut plan, |plan, id| {
        if plan.instances[id].name == "list" {
            output("not json")
        } else {
            ok()
        }
    });
    assert!(
        trace.log[1].starts_with("fail each: the list of `for x` is not JSON (")
            && trace.log[1].ends_with("): `not json`"),
        "{:?}",
        trace.log
    );
}

/// repeat max N { carry guess = 0 then next.output; next } until next.output >= 3; after reads next
fn counter(max: u32) -> Pipeline {
    let carry = Part::Carry {
        name: "guess".into(),
        span: NO,
    };
    pipeline(
        vec![
            step("next", Some(0), &[], vec![carry]),
            step("after", None, &["next"], vec![out("next", "output")]),
        ],
        vec![block(
            BlockKind::Repeat {
                max: Count::Fixed(max),
                carries: vec![Carry {
                    name: "guess".into(),
                    ty: ParamType::Number,
                    initial: text("0"),
                    next: ("next".into(), "output".into()),
                    span: NO,
                }],
                until: compare(CompareOp::Ge, ParamType::Number, out("next", "output"), "3"),
            },
            None,
            &[],
        )],
    )
}

#[test]
fn a_repeat_runs_passes_until_its_condition_holds() {
    let p = counter(5);
    let mut plan = Plan::new(&p, BTreeMap::new(), "r1");
    let mut commands = Vec::new();
    let trace = Trace::run(&mut plan, |plan, id| {
        let guess = command(plan, id);
        commands.push(guess.clone());
        let n: u32 = guess.trim().parse().unwrap_or(100);
        output(&(n + 1).to_string())
    });
    assert_eq!(
        trace.log,
        ["run next#1", "run next#2", "run next#3", "run after"]
    );
    assert_eq!(
        commands,
        ["0", "1", "2", "3"],
        "carried values, then the last pass"
    );
    let passes: Vec<Option<u32>> = plan.instances.iter().map(|i| i.pass).collect();
    assert_eq!(passes, [None, Some(1), Some(2), Some(3)]);
}

#[test]
fn a_repeat_that_reaches_max_fails_the_run_and_blocks_its_readers() {
    let p = counter(2);
    let mut plan = Plan::new(&p, BTreeMap::new(), "r1");
    let trace = Trace::run(&mut plan, |_, _| output("0"));
    assert_eq!(
        trace.log,
        [
            "run next#1",
            "run next#2",
            "run fails: the repeat reached its limit of 2 passes and `until $<next.output> >= 3` never held",
            "skip after: it depends on `next`, which failed",
        ]
    );
}

#[test]
fn finally_runs_after_a_stop_and_reads_run_information() {
    let status = Part::Workflow {
        field: "status".into(),
        span: NO,
    };
    let name = Part::Workflow {
        field: "name".into(),
        span: NO,
    };
    let p = pipeline(
        vec![
            step("a", None, &[], vec![]),
            step("b", None, &["a"], vec![]),
            step(
                "notify",
                Some(0),
                &[],
                vec![name, Part::Text(" ".into()), status],
            ),
        ],
        vec![block(BlockKind::Finally, None, &[])],
    );
    let mut plan = Plan::new(&p, BTreeMap::new(), "r4");
    let first = plan.advance();
    assert!(first.contains(&Action::Run(0)));
    assert!(
        !plan.instances.iter().any(|i| i.name == "notify"),
        "finally waits"
    );
    plan.finish(0, State::Failed, BTreeMap::new());
    assert_eq!(
        plan.advance(),
        [Action::Skip(1, "it depends on `a`, which failed".into())]
    );
    assert_eq!(plan.stop("the run was cancelled"), []);
    let actions = plan.advance();
    assert_eq!(actions, [], "nothing opens after a stop");
    let actions = plan.open_finally("Failed");
    let notify = plan.instances.iter().position(|i| i.name == "notify");
    assert!(notify.is_some_and(|id| actions.contains(&Action::Run(id))));
    assert_eq!(
        notify.map(|id| command(&plan, id)).as_deref(),
        Some("demo-r4 Failed")
    );
}
