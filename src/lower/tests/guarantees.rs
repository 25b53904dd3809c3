//! What lint catches, how clashing names are resolved, and E05xx.

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::containers::METRICS;
use super::*;

/// The entrypoint's template (after the step templates).
fn entry(workflow: &mut Workflow) -> &mut Template {
    let name = workflow.spec.entrypoint.clone();
    let found = workflow.spec.templates.iter_mut().find(|t| t.name == name);
    found.expect("the entrypoint's template")
}

#[test]
fn lint_reports_each_broken_guarantee() {
    let good = compile_src(METRICS, &[]);
    let mnist = std::fs::read_to_string("examples/mnist.kfp").expect("examples/mnist.kfp");
    let mnist = compile_src(&mnist, &[]);
    type Breaker = Box<dyn Fn(&mut Workflow)>;
    let cases: Vec<(&str, Breaker)> = vec![
        (
            "defined twice",
            Box::new(|w| {
                let copy = w.spec.templates[0].clone();
                w.spec.templates.push(copy);
            }),
        ),
        (
            "does not match ^[a-zA-Z0-9]",
            Box::new(|w| w.spec.templates[0].name = "bad_name".into()),
        ),
        (
            "is not a DAG template",
            Box::new(|w| w.spec.entrypoint = "nowhere".into()),
        ),
        (
            "is not another task",
            Box::new(|w| {
                if let Some(dag) = &mut entry(w).dag {
                    dag.tasks[1].dependencies = vec!["ghost".into()];
                }
            }),
        ),
        (
            "cycle",
            Box::new(|w| {
                if let Some(dag) = &mut entry(w).dag {
                    dag.tasks[0].dependencies = vec!["export-model".into()];
                }
            }),
        ),
        (
            "does not resolve",
            Box::new(|w| {
                if let Some(dag) = &mut entry(w).dag {
                    dag.tasks[2].dependencies.clear();
                }
            }),
        ),
        (
            "mounted but not declared",
            Box::new(|w| {
                w.spec.volumes.pop();
            }),
        ),
        (
            "field unknown",
            Box::new(|w| {
                if let Some(c) = &mut w.spec.templates[0].container {
                    c.tty = Some(true);
                }
            }),
        ),
        (
            "does not resolve",
            Box::new(|w| {
                if let Some(c) = &mut w.spec.templates[0].container {
                    c.image = Some("x:{{inputs.parameters.nope}}".into());
                }
            }),
        ),
        (
            "does not resolve",
            Box::new(|w| {
                if let Some(dag) = &mut entry(w).dag
                    && let Some(a) = &mut dag.tasks[1].arguments
                {
                    a.parameters[0].value =
                        Some("{{=sprig.upper(workflow.parameters['commit'])}}".into());
                }
            }),
        ),
        (
            "does not resolve",
            Box::new(|w| {
                if let Some(c) = &mut w.spec.templates[0].container {
                    c.image = Some("{{=sprig.b64dec(inputs.parameters['nope'])}}".into());
                }
            }),
        ),
        (
            "`{{` in",
            Box::new(|w| {
                if let Some(a) = &mut w.spec.arguments {
                    a.parameters[0].value = Some("{{x}}".into());
                }
            }),
        ),
        (
            "do not match the inputs",
            Box::new(|w| {
                if let Some(dag) = &mut entry(w).dag {
                    dag.tasks[1].arguments = None;
                }
            }),
        ),
        (
            "not a Kubernetes quantity",
            Box::new(|w| {
                let resources = w.spec.templates[1]
                    .container
                    .as_mut()
                    .map(|c| &mut c.resources);
                if let Some(Some(r)) = resources
                    && let Some(limits) = r.limits.as_mut()
                {
                    limits.insert(
                        "cpu".into(),
                        Quantity("{{inputs.parameters.commit}}".into()),
                    );
                }
            }),
        ),
        (
            "starts with a digit",
            Box::new(|w| {
                if let Some(dag) = &mut entry(w).dag {
                    dag.tasks[0].name = "1st".into();
                }
            }),
        ),
    ];
    assert!(lint(&good).is_empty());
    for (expected, break_it) in cases {
        let mut broken = mnist.clone();
        break_it(&mut broken);
        let problems = lint(&broken);
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "expected `{expected}` in {problems:#?}"
        );
    }
}

#[test]
fn names_clash_with_kfpl_names_get_suffixes() {
    let workflow = compile_src(
        r#"pipeline train {
  step train {
    image = "alpine"
    data = ["kfpl-outputs:/a", "kfpl-work:/b", "other:/c"]
    sync_source = "https://example.com/x.git"
    command = "true"
  }
}"#,
        &[],
    );
    assert_eq!(workflow.spec.entrypoint, "train-2");
    let volumes: Vec<&str> = workflow
        .spec
        .volumes
        .iter()
        .map(|v| v.name.as_str())
        .collect();
    assert_eq!(
        volumes,
        [
            "kfpl-outputs",
            "kfpl-work",
            "kfpl-outputs-2",
            "kfpl-work-2",
            "other"
        ]
    );
}

#[test]
fn lowering_errors_have_codes() {
    let file = SourceFile::new(
        "e.kfp",
        r#"pipeline e {
  param p: string = "{{x}}"
  step s {
    image = "alpine:{{tag}}"
    data = ["c:/kfp/outputs"]
    command = "echo $<p>"
  }
}"#,
    );
    let errors = compile(&file, &CompileOptions::default()).expect_err("refused");
    let codes: Vec<&str> = errors.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["E0501", "E0501", "E0502"]);
}

/// `spec.templates`' names, in order.
fn template_names(workflow: &Workflow) -> Vec<&str> {
    workflow
        .spec
        .templates
        .iter()
        .map(|t| t.name.as_str())
        .collect()
}

#[test]
fn steps_with_identical_templates_share_one() {
    let workflow = compile_src(
        r#"
pipeline p {
  step a { image = "alpine" command = "echo same" }
  step b { image = "alpine" command = "echo same" }
  step c { image = "alpine" command = "echo other" after = [a, b] }
}
"#,
        &[],
    );
    let names = template_names(&workflow);
    assert_eq!(names, ["a", "c", "p"]);
    let dag = workflow.spec.templates[2].dag.as_ref().expect("dag");
    let uses: Vec<(&str, &str)> = dag
        .tasks
        .iter()
        .map(|t| (t.name.as_str(), t.template.as_str()))
        .collect();
    assert_eq!(uses, [("a", "a"), ("b", "a"), ("c", "c")]);
}

/// Sharing is decided by the laid-out text of the whole template but its
/// name: steps alike in image and command but not in resources, mounts or
/// tolerations keep their own templates.
#[test]
fn steps_alike_but_for_one_field_keep_their_templates() {
    let workflow = compile_src(
        r#"
pipeline p {
  step a { image = "alpine" command = "echo same" }
  step b { image = "alpine" command = "echo same" cpu = 2 }
  step c { image = "alpine" command = "echo same" data = ["claim:/data"] }
  step d { image = "alpine" command = "echo same" tolerations = [{ key = "gpu", operator = "Exists" }] }
  step e { image = "alpine" command = "echo same" }
  step f { image = "alpine" command = "echo same" cpu = 2 }
  step g { image = "alpine" command = "echo same" tolerations = [{ key = "gpu", operator = "Exists" }] }
}
"#,
        &[],
    );
    let names = template_names(&workflow);
    assert_eq!(names, ["a", "b", "c", "d", "p"]);
    let dag = workflow.spec.templates[4].dag.as_ref().expect("dag");
    let uses: Vec<&str> = dag.tasks.iter().map(|t| t.template.as_str()).collect();
    assert_eq!(uses, ["a", "b", "c", "d", "a", "b", "d"]);
}

/// A program with every kind of block (the v2 parity programs).
const BLOCKS: &str = r#"pipeline blocks {
  param deploy: bool = true
  step flip { image = "alpine" command = "echo heads > $KFP_OUTPUTS/output" }
  if $<flip.output> == "heads" {
    step heads { image = "alpine" command = "echo heads" }
  }
  for lr in [1, 2] {
    parallelism = 1
    step train { image = "alpine" output accuracy command = "echo $<lr> > $KFP_OUTPUTS/accuracy" }
  }
  step pick { image = "alpine" when = $<deploy> command = "echo $<train.accuracy>" }
  repeat max 3 {
    carry n = 0 then $<next.output>
    step next { image = "alpine" output: number command = "echo $(( $<n> + 1 )) > $KFP_OUTPUTS/output" }
  } until $<next.output> >= 2
  finally {
    step bye { image = "alpine" command = "echo $<workflow.status>" }
  }
}"#;

#[test]
fn lint_reports_broken_blocks() {
    let good = compile_src(BLOCKS, &[]);
    type Breaker = Box<dyn Fn(&mut Workflow)>;
    let cases: Vec<(&str, Breaker)> = vec![
        (
            "starts with an expression tag",
            Box::new(|w| {
                let template = w.spec.templates.iter_mut().find(|t| t.name == "if-1");
                if let Some(dag) = template.and_then(|t| t.dag.as_mut()) {
                    dag.tasks[0].when = Some("{{=true}} == true".into());
                }
            }),
        ),
        (
            "not one of its DAG's inputs",
            Box::new(|w| {
                let template = w.spec.templates.iter_mut().find(|t| t.name == "if-1");
                if let Some(dag) = template.and_then(|t| t.dag.as_mut()) {
                    dag.tasks[0].when = Some("{{workflow.parameters.deploy}} == true".into());
                }
            }),
        ),
        (
            "is not a function kfpl writes",
            Box::new(|w| {
                if let Some(dag) = &mut entry(w).dag
                    && let Some(a) = dag.tasks.iter_mut().find(|t| t.name == "if-1")
                    && let Some(args) = &mut a.arguments
                {
                    args.parameters[0].value = Some("{{=sprig.env('HOME')}}".into());
                }
            }),
        ),
        (
            "outputs: `{{tasks.ghost.outputs.parameters.x}}` does not resolve",
            Box::new(|w| {
                let template = w.spec.templates.iter_mut().find(|t| t.name == "for-2");
                if let Some(outputs) = template.and_then(|t| t.outputs.as_mut())
                    && let Some(from) = outputs.parameters[0].value_from.as_mut()
                {
                    from.parameter = Some("{{tasks.ghost.outputs.parameters.x}}".into());
                }
            }),
        ),
        (
            "onExit `nowhere` is not a DAG template",
            Box::new(|w| w.spec.on_exit = Some("nowhere".into())),
        ),
        (
            "`{{item}}` does not resolve",
            Box::new(|w| {
                if let Some(dag) = &mut entry(w).dag
                    && let Some(a) = dag.tasks.iter_mut().find(|t| t.name == "if-1")
                    && let Some(args) = &mut a.arguments
                {
                    args.parameters[0].value = Some("{{item}}".into());
                }
            }),
        ),
    ];
    assert_eq!(lint(&good), Vec::<String>::new());
    for (expected, break_it) in cases {
        let mut broken = good.clone();
        break_it(&mut broken);
        let problems = lint(&broken);
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "expected `{expected}` in {problems:#?}"
        );
    }
}
