//! The HTML pages, as pure functions of run records. maud escapes every
//! `(expression)`; nothing here uses `PreEscaped`, so no recorded text
//! (param, output, log line, metric name) can become markup.

use std::collections::{BTreeMap, BTreeSet};

use maud::{DOCTYPE, Markup, html};

use super::data::RunView;
use super::files::StepFiles;
use super::launch::Request;
use super::query::{self, encode};
use super::svg::{self, Point, duration};
use crate::run::RunStatus;
use crate::run::display::{metric_text, short_time};
use crate::run::store::{MetricRecord, RunRecord, StepRecord};

/// The frame of every page. `live` marks a page the script refreshes.
fn layout(title: &str, live: Option<&str>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · kfpl" }
                link rel="icon" href="/assets/favicon.svg" type="image/svg+xml";
                link rel="stylesheet" href="/assets/style.css";
                script src="/assets/live.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/" { span.logo { "kfpl" } " runs" }
                    nav { a href="/" { "Runs" } }
                }
                main data-live=[live] { (body) }
            }
        }
    }
}

/// A page saying what went wrong.
pub(super) fn error(title: &str, message: &str) -> Markup {
    layout(
        title,
        None,
        html! { section.card.error { h1 { (title) } p { (message) } p { a href="/" { "All runs" } } } },
    )
}

/// A status word as a coloured badge.
fn badge(status: &str) -> Markup {
    html! { span class={"badge st-" (status)} { (status) } }
}

/// `step.metric`: the one key of a metric across runs.
fn metric_key(metric: &MetricRecord) -> String {
    format!("{}.{}", metric.step, metric.name)
}

/// The runs page's query: filters and order.
#[derive(Debug, Default)]
pub(super) struct ListQuery {
    experiment: Option<String>,
    status: Option<String>,
    text: Option<String>,
    sort: String,
    descending: bool,
}

impl ListQuery {
    /// From `?experiment=&status=&q=&sort=&dir=`.
    pub(super) fn from_pairs(pairs: &[(String, String)]) -> ListQuery {
        let given = |key| {
            query::first(pairs, key)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        ListQuery {
            experiment: given("experiment"),
            status: given("status"),
            text: given("q"),
            sort: given("sort").unwrap_or_else(|| "started".into()),
            descending: given("dir").is_none_or(|d| d != "asc"),
        }
    }

    fn keeps(&self, run: &RunRecord) -> bool {
        let experiment = self
            .experiment
            .as_ref()
            .is_none_or(|e| *e == run.experiment);
        let status = self
            .status
            .as_ref()
            .is_none_or(|s| s == run.status.as_str());
        let text = self.text.as_ref().is_none_or(|t| {
            let t = t.to_lowercase();
            run.id.to_lowercase() == t
                || run.pipeline.to_lowercase().contains(&t)
                || run
                    .params
                    .iter()
                    .any(|(k, v)| format!("{k}={v}").to_lowercase().contains(&t))
        });
        experiment && status && text
    }

    /// The value a run is sorted by: a number when it has one, else text.
    fn sort_value(&self, run: &RunRecord) -> (Option<f64>, String) {
        match self.sort.as_str() {
            "id" | "started" => (Some(run.started_ms as f64), String::new()),
            "status" => (None, run.status.as_str().into()),
            "duration" => (run.duration_s, String::new()),
            key => {
                if let Some(name) = key.strip_prefix("param:") {
                    let value = run.params.get(name).cloned().unwrap_or_default();
                    (value.trim().parse().ok(), value)
                } else if let Some(name) = key.strip_prefix("metric:") {
                    let value = run
                        .metrics
                        .iter()
                        .find(|m| metric_key(m) == name)
                        .and_then(|m| m.value);
                    (value, String::new())
                } else {
                    (Some(run.started_ms as f64), String::new())
                }
            }
        }
    }

    /// A link to this listing sorted by `key` (flipping the order when it already is).
    fn sort_link(&self, key: &str) -> String {
        let dir = if self.sort == key && self.descending {
            "asc"
        } else {
            "desc"
        };
        let mut link = format!("/?sort={}&dir={dir}", encode(key));
        for (name, value) in [
            ("experiment", &self.experiment),
            ("status", &self.status),
            ("q", &self.text),
        ] {
            if let Some(value) = value {
                link.push_str(&format!("&{name}={}", encode(value)));
            }
        }
        link
    }

    fn arrow(&self, key: &str) -> &'static str {
        match (self.sort == key, self.descending) {
            (false, _) => "",
            (true, true) => " ▾",
            (true, false) => " ▴",
        }
    }
}

/// Sorts runs by the query's key; runs without a value go last either way.
fn sort_runs(runs: &mut [&RunRecord], query: &ListQuery) {
    runs.sort_by(|a, b| {
        let (a, b) = (query.sort_value(a), query.sort_value(b));
        let order = match (a.0, b.0) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => return std::cmp::Ordering::Less,
            (None, Some(_)) => return std::cmp::Ordering::Greater,
            (None, None) => a.1.cmp(&b.1),
        };
        if query.descending {
            order.reverse()
        } else {
            order
        }
    });
}

/// The runs page: a filter bar, then one table per experiment.
pub(super) fn runs(all: &[RunRecord], query: &ListQuery) -> Markup {
    let experiments: BTreeSet<&str> = all.iter().map(|r| r.experiment.as_str()).collect();
    let mut groups: BTreeMap<&str, Vec<&RunRecord>> = BTreeMap::new();
    for run in all.iter().filter(|r| query.keeps(r)) {
        groups.entry(run.experiment.as_str()).or_default().push(run);
    }
    let live = all.iter().any(|r| r.status == RunStatus::Running);
    let shown: usize = groups.values().map(Vec::len).sum();
    let body = html! {
        div.heading {
            h1 { "Runs" }
            p.muted { (shown) " of " (all.len()) " runs" @if live { " · " span.live-dot {} " live" } }
        }
        form.filters method="get" action="/" {
            label { "Experiment "
                select name="experiment" {
                    option value="" { "all" }
                    @for e in &experiments { option value=(e) selected[query.experiment.as_deref() == Some(*e)] { (e) } }
                }
            }
            label { "Status "
                select name="status" {
                    option value="" { "any" }
                    @for s in ["running", "succeeded", "failed", "cancelled", "interrupted"] {
                        option value=(s) selected[query.status.as_deref() == Some(s)] { (s) }
                    }
                }
            }
            label { "Search " input type="search" name="q" value=[query.text.as_deref()] placeholder="run id, pipeline, lr=0.1"; }
            input type="hidden" name="sort" value=(query.sort);
            input type="hidden" name="dir" value=(if query.descending { "desc" } else { "asc" });
            button type="submit" { "Filter" }
            a.button.quiet href="/" { "Reset" }
        }
        @if all.is_empty() {
            section.card.empty {
                h2 { "No runs recorded yet" }
                p { "Start one with " code { "kfpl run pipeline.kfp" } "; it appears here as it runs." }
            }
        }
        form #compare method="get" action="/compare" {
            @for (experiment, runs) in &groups {
                (experiment_table(experiment, runs, query))
            }
            @if shown > 0 {
                div.actions { button type="submit" { "Compare selected" } span.muted { " tick two or more runs" } }
            }
        }
    };
    layout("Runs", live.then_some("list"), body)
}

fn experiment_table(experiment: &str, runs: &[&RunRecord], query: &ListQuery) -> Markup {
    let mut runs = runs.to_vec();
    sort_runs(&mut runs, query);
    let mut metrics: Vec<(String, String)> = Vec::new();
    for run in &runs {
        for m in &run.metrics {
            let key = metric_key(m);
            if !metrics.iter().any(|(k, _)| *k == key) {
                metrics.push((key, m.name.clone()));
            }
        }
    }
    let header = |label: &str, key: &str| {
        html! { th { a href=(query.sort_link(key)) { (label) (query.arrow(key)) } } }
    };
    html! {
        section.card {
            h2 { "Experiment " span.name { (experiment) } span.muted { " · " (runs.len()) " runs" } }
            div.scroll {
                table.runs {
                    thead { tr {
                        th.pick { span.sr { "select" } }
                        (header("Run", "id"))
                        (header("Status", "status"))
                        (header("Started (UTC)", "started"))
                        (header("Duration", "duration"))
                        th { "Pipeline" }
                        th { "Params" }
                        @for (key, name) in &metrics {
                            th.num title=(key) { a href=(query.sort_link(&format!("metric:{key}"))) { (name) (query.arrow(&format!("metric:{key}"))) } }
                        }
                    } }
                    tbody {
                        @for run in &runs {
                            tr data-run=(run.id) {
                                td.pick { input type="checkbox" name="run" value=(run.id) aria-label={"select " (run.id)}; }
                                td { a.run-id href={"/runs/" (encode(&run.id))} { (run.id) } }
                                td { (badge(run.status.as_str())) }
                                td.time { (short_time(&run.started_at)) }
                                td.num { (run.duration_s.map(duration).unwrap_or_else(|| "—".into())) }
                                td { (run.pipeline_name) }
                                td.params { @for (k, v) in &run.params { span.chip { span.k { (k) } "=" span.v { (v) } } " " } }
                                @for (key, _) in &metrics {
                                    @let metric = run.metrics.iter().find(|m| metric_key(m) == *key);
                                    td.num.missing[metric.is_some_and(|m| m.missing)] {
                                        (metric.map(|m| metric_text(m.value, &m.format)).unwrap_or_default())
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// What the run page may offer besides reading.
#[derive(Debug)]
pub(super) struct Actions<'a> {
    /// The CSRF token its forms carry.
    pub(super) token: &'a str,
    /// Whether "Run again" can start this run's pipeline.
    pub(super) again: bool,
}

/// One run: summary, step graph, and the selected step's details.
pub(super) fn run(
    view: &RunView,
    selected: Option<&str>,
    files: Option<&StepFiles>,
    actions: &Actions<'_>,
) -> Markup {
    let run = &view.record;
    let base = format!("/runs/{}", encode(&run.id));
    let live = run.status == RunStatus::Running;
    let step = selected.and_then(|name| run.steps.iter().find(|s| s.name == name));
    let body = html! {
        div.heading {
            h1 { "Run " (run.id) " " (badge(run.status.as_str())) }
            p.muted { (run.pipeline_name) " · experiment " (run.experiment) " · " (run.source_path) }
            div.run-actions {
                @if live {
                    form method="post" action={(base) "/cancel?csrf=" (actions.token)} {
                        button.danger type="submit" { "Cancel run" }
                    }
                }
                @if actions.again { a.button href={(base) "/again"} { "Run again…" } }
            }
        }
        section.card.summary {
            dl {
                dt { "Started" } dd { (short_time(&run.started_at)) " UTC" }
                dt { "Duration" } dd { (run.duration_s.map(duration).unwrap_or_else(|| "running…".into())) }
                @if let Some(from) = &run.resumed_from { dt { "Resumed from" } dd { a href={"/runs/" (encode(from))} { (from) } } }
                @if let Some(message) = &run.message { dt { "Message" } dd.message { (message) } }
                dt { "Params" } dd.params { @for (k, v) in &run.params { span.chip { span.k { (k) } "=" span.v { (v) } } " " } }
                dt { "Folder" } dd { code { (run.run_dir) } }
            }
        }
        div.split {
            section.card.graph-card {
                h2 { "Steps" }
                div.scroll { (svg::step_graph(&run.id, view.pipeline.as_ref(), &run.steps, selected)) }
                p.legend { @for s in ["pending", "running", "succeeded", "failed", "skipped", "reused", "cached"] { (badge(s)) " " } }
            }
            section.card.metrics-card {
                h2 { "Metrics" }
                @if run.metrics.is_empty() { p.muted { "No metrics declared." } }
                @else {
                    table { tbody { @for m in &run.metrics {
                        tr { td { span.muted { (m.step) "." } (m.name) } td.num.missing[m.missing] { (metric_text(m.value, &m.format)) } }
                    } } }
                }
            }
        }
        @match (selected, step.zip(files)) {
            (_, Some((step, files))) => (step_details(run, step, files)),
            (Some(name), None) => section.card #step { p { "No step " code { (name) } " in this run." } },
            (None, None) => section.card.hint #step { p.muted { "Click a step to see its logs, outputs, metrics and attempts." } },
        }
    };
    layout(&format!("Run {}", run.id), live.then_some("run"), body)
}

fn step_details(run: &RunRecord, step: &StepRecord, files: &StepFiles) -> Markup {
    let metrics: Vec<&MetricRecord> = run.metrics.iter().filter(|m| m.step == step.name).collect();
    let log_url = |stream: &str| {
        format!(
            "/runs/{}/log/{}/{stream}",
            encode(&run.id),
            encode(&step.name)
        )
    };
    html! {
        section.card #step data-step=(step.name) {
            h2 { "Step " span.name { (step.name) } " " (badge(step.status.as_str())) }
            dl.grid {
                dt { "Image" } dd { code { (step.image) } }
                dt { "Attempts" } dd { (step.attempts) }
                dt { "Started" } dd { (step.started_at.as_deref().map(short_time).unwrap_or_else(|| "—".into())) }
                dt { "Ended" } dd { (step.ended_at.as_deref().map(short_time).unwrap_or_else(|| "—".into())) }
                dt { "Duration" } dd { (step.duration_s.map(duration).unwrap_or_else(|| "—".into())) }
                dt { "Exit" } dd { (step.exit_code.map(|c| c.to_string()).unwrap_or_else(|| "—".into()))
                    @if let Some(signal) = step.signal { " (signal " (signal) ")" } }
                dt { "GPUs" } dd { (if step.gpus.is_empty() { "none" } else { &step.gpus }) }
                @if let Some(message) = &step.message { dt { "Message" } dd.message { (message) } }
                @if let Some(from) = &step.cached_from { dt { "Cached from" } dd { a href={"/runs/" (encode(&from.run))} { (from.run) } " step " (from.step) } }
            }
            @if !step.outputs.is_empty() || !files.outputs.is_empty() {
                h3 { "Outputs" }
                table { tbody {
                    @for (name, value) in &step.outputs { tr { td { (name) } td { code.value { (value) } } } }
                    @for file in &files.outputs { tr { td { "file" } td { a href={"/runs/" (encode(&run.id)) "/files/" (file)} { (file) } } } }
                } }
            }
            @if !metrics.is_empty() {
                h3 { "Metrics" }
                table { tbody { @for m in &metrics { tr { td { (m.name) } td.num.missing[m.missing] { (metric_text(m.value, &m.format)) } } } } }
            }
            (super::visuals::step_visuals(run, step))
            @for (stream, chunk) in [("stdout", &files.stdout), ("stderr", &files.stderr)] {
                h3 { (stream) " " a.quiet href=(log_url(stream)) { "raw" } }
                pre.log #{"log-" (stream)} data-log=(log_url(stream)) data-next=(chunk.next) { (chunk.text) }
            }
        }
    }
}

/// The "Run again" form: each param of the pipeline, typed as declared,
/// filled with `request`'s values; `problems` above it when there are any.
pub(super) fn again(view: &RunView, token: &str, request: &Request, problems: &[String]) -> Markup {
    let run = &view.record;
    let base = format!("/runs/{}", encode(&run.id));
    let body = html! {
        div.heading { h1 { "Run again: " (run.pipeline_name) } p.muted { "from " a href=(base) { (run.id) } " · " (run.source_path) } }
        @if !problems.is_empty() {
            section.card.error { h2 { "Cannot start the run" } ul { @for p in problems { li { (p) } } } }
        }
        @if let Some(pipeline) = &view.pipeline {
            form.card.again method="post" action={(base) "/again?csrf=" (token)} {
                table { tbody {
                    @for param in &pipeline.params {
                        @let number = param.ty == crate::check::ir::ParamType::Number;
                        tr {
                            th { label for={"p-" (param.name)} { (param.name) } }
                            td.muted { (if number { "number" } else { "string" }) }
                            td { input #{"p-" (param.name)} name={"param." (param.name)}
                                inputmode=[number.then_some("decimal")]
                                value=[request.params.get(&param.name)]; }
                        }
                    }
                    tr {
                        th { label for="experiment" { "experiment" } }
                        td.muted { "name" }
                        td { input #experiment name="experiment" value=(request.experiment); }
                    }
                } }
                div.actions { button type="submit" { "Start run" } " " a.button.quiet href=(base) { "Back" } }
            }
        }
    };
    layout("Run again", None, body)
}

/// What the run page's script polls: the run's and each step's status.
pub(super) fn state(view: &RunView) -> serde_json::Value {
    let steps: serde_json::Map<String, serde_json::Value> = view
        .record
        .steps
        .iter()
        .map(|s| {
            let text = match s.duration_s {
                Some(seconds) => format!("{} · {}", s.status, duration(seconds)),
                None => s.status.to_string(),
            };
            (
                s.name.clone(),
                serde_json::json!({ "status": s.status.as_str(), "text": text }),
            )
        })
        .collect();
    serde_json::json!({ "status": view.record.status.as_str(), "steps": steps })
}

/// The axes of the parallel-coordinates view: each param that differs, then each metric.
fn parallel_axes(
    runs: &[RunRecord],
    differing: &[&str],
    metrics: &[(String, &MetricRecord)],
) -> Vec<svg::Axis> {
    let params = differing.iter().map(|p| svg::Axis {
        name: (*p).to_string(),
        values: runs.iter().map(|r| r.params.get(*p).cloned()).collect(),
    });
    let metrics = metrics.iter().map(|(key, _)| svg::Axis {
        name: key.clone(),
        values: runs
            .iter()
            .map(|r| {
                let value = r.metrics.iter().find(|m| metric_key(m) == *key);
                value.and_then(|m| m.value).map(|v| v.to_string())
            })
            .collect(),
    });
    params.chain(metrics).collect()
}

/// Runs side by side: params and metrics (differences marked), charts of
/// each metric against each param that differs, and step durations.
pub(super) fn compare(runs: &[RunRecord]) -> Markup {
    let ids: Vec<&str> = runs.iter().map(|r| r.id.as_str()).collect();
    let params: BTreeSet<&str> = runs
        .iter()
        .flat_map(|r| r.params.keys().map(String::as_str))
        .collect();
    let mut metrics: Vec<(String, &MetricRecord)> = Vec::new();
    for run in runs {
        for m in &run.metrics {
            if !metrics.iter().any(|(k, _)| *k == metric_key(m)) {
                metrics.push((metric_key(m), m));
            }
        }
    }
    let param_of = |run: &RunRecord, name: &str| run.params.get(name).cloned().unwrap_or_default();
    let metric_of = |run: &RunRecord, key: &str| {
        run.metrics
            .iter()
            .find(|m| metric_key(m) == key)
            .and_then(|m| m.value)
    };
    let differing: Vec<&str> = params
        .iter()
        .copied()
        .filter(|p| {
            runs.iter()
                .map(|r| param_of(r, p))
                .collect::<BTreeSet<_>>()
                .len()
                > 1
        })
        .collect();
    let body = html! {
        div.heading { h1 { "Compare " (ids.len()) " runs" } p.muted { (ids.join(", ")) } }
        @if runs.len() < 2 {
            section.card.empty { p { "Tick two or more runs on the " a href="/" { "runs page" } " and press Compare." } }
        }
        @if !runs.is_empty() {
            section.card {
                h2 { "Params and metrics" }
                div.scroll { table.compare {
                    thead { tr { th {} @for run in runs { th { a href={"/runs/" (encode(&run.id))} { (run.id) } " " (badge(run.status.as_str())) } } } }
                    tbody {
                        tr.section { th colspan=(runs.len() + 1) { "Params" } }
                        @for p in &params {
                            @let differs = differing.contains(p);
                            tr.diff[differs] { th { @if differs { span.marker title="differs" { "≠ " } } (p) } @for run in runs { td { (param_of(run, p)) } } }
                        }
                        tr.section { th colspan=(runs.len() + 1) { "Metrics" } }
                        @for (key, m) in &metrics {
                            @let values: Vec<Option<f64>> = runs.iter().map(|r| metric_of(r, key)).collect();
                            @let differs = values.iter().collect::<Vec<_>>().windows(2).any(|w| w[0] != w[1]);
                            tr.diff[differs] {
                                th { @if differs { span.marker title="differs" { "≠ " } } (key) }
                                @for value in &values {
                                    td.num.missing[value.is_none()] { (metric_text(*value, &m.format)) }
                                }
                            }
                        }
                        tr.section { th colspan=(runs.len() + 1) { "Run" } }
                        tr { th { "Duration" } @for run in runs { td.num { (run.duration_s.map(duration).unwrap_or_else(|| "—".into())) } } }
                        tr { th { "Pipeline" } @for run in runs { td { (run.pipeline_name) } } }
                    }
                } }
            }
        }
        @if runs.len() >= 2 {
            section.card {
                h2 { "Metrics against params that differ" }
                @if differing.is_empty() || metrics.is_empty() {
                    p.muted { "No param differs between these runs, or no metric was recorded." }
                }
                div.charts {
                    @for (key, _) in &metrics {
                        @for p in &differing {
                            @let points: Vec<Point> = runs.iter().filter_map(|r| metric_of(r, key).map(|y| Point { x: param_of(r, p), y, run: r.id.clone() })).collect();
                            @if !points.is_empty() { (svg::scatter(key, p, &points)) }
                        }
                    }
                }
            }
            @if !differing.is_empty() {
                section.card {
                    h2 { "Parallel coordinates" }
                    @let axes = parallel_axes(runs, &differing, &metrics);
                    div.scroll { (svg::parallel(&ids, &axes)) }
                }
            }
            section.card {
                h2 { "Step durations" }
                div.scroll { (svg::durations(runs)) }
            }
        }
    };
    layout("Compare", None, body)
}
