//! The pictures, as inline SVG drawn on the server: the step graph of a run,
//! a scatter of a metric against a param, and step durations side by side.
//! Pure functions from records to markup; every text goes through maud, so
//! it is escaped. (SVG elements are always closed with `{}`: inside HTML, a
//! start tag without its end would swallow the next shapes.)

use maud::{Markup, html};

use crate::check::ir;
use crate::graph::{EdgeKind, edges};
use crate::run::store::{RunRecord, StepRecord};

use super::query::encode;

const NODE_W: f64 = 190.0;
const NODE_H: f64 = 50.0;
const GAP_X: f64 = 36.0;
const GAP_Y: f64 = 48.0;

/// Each step's layer (longest path from a source) and place in its layer.
fn layout(pipeline: &ir::Pipeline) -> Vec<(usize, usize)> {
    let mut layer = vec![0usize; pipeline.steps.len()];
    let mut all = edges(pipeline);
    // Dependencies come first in the IR's order, so by the time a step is
    // the target, every edge into its upstream has been seen.
    all.sort_by_key(|&(_, to, _)| to);
    for &(from, to, _) in &all {
        layer[to] = layer[to].max(layer[from] + 1);
    }
    let mut filled = Vec::<usize>::new();
    layer
        .iter()
        .map(|&l| {
            if filled.len() <= l {
                filled.resize(l + 1, 0);
            }
            filled[l] += 1;
            (l, filled[l] - 1)
        })
        .collect()
}

/// `text` cut to `max` characters with an ellipsis (the full text is the title).
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Seconds as `45ms`, `1.4s`, `12s`, `3m05s`.
pub(super) fn duration(seconds: f64) -> String {
    if seconds < 1.0 {
        format!("{:.0}ms", seconds * 1000.0)
    } else if seconds < 10.0 {
        format!("{seconds:.1}s")
    } else if seconds < 60.0 {
        format!("{seconds:.0}s")
    } else {
        let whole = seconds.round() as u64;
        format!("{}m{:02}s", whole / 60, whole % 60)
    }
}

/// The run's steps as a graph (the pipeline's, as `kfpl graph` draws it),
/// each node coloured by its status and linking to its details. Without the
/// pipeline (its source no longer checks) the steps stand in a column.
pub(super) fn step_graph(
    run_id: &str,
    pipeline: Option<&ir::Pipeline>,
    steps: &[StepRecord],
    selected: Option<&str>,
) -> Markup {
    let names: Vec<&str> = match pipeline {
        Some(p) => p.steps.iter().map(|s| s.name.as_str()).collect(),
        None => steps.iter().map(|s| s.name.as_str()).collect(),
    };
    let places = match pipeline {
        Some(p) => layout(p),
        None => (0..names.len()).map(|i| (i, 0)).collect(),
    };
    let links = pipeline.map(edges).unwrap_or_default();
    let columns = places.iter().map(|&(_, i)| i + 1).max().unwrap_or(1);
    let rows = places.iter().map(|&(l, _)| l + 1).max().unwrap_or(1);
    let width = columns as f64 * (NODE_W + GAP_X) + GAP_X;
    let height = rows as f64 * (NODE_H + GAP_Y) + GAP_Y / 2.0;
    let corner = |index: usize| {
        let (layer, slot) = places[index];
        let in_layer = places.iter().filter(|&&(l, _)| l == layer).count();
        // Centre each layer.
        let offset = (columns - in_layer) as f64 * (NODE_W + GAP_X) / 2.0;
        (
            GAP_X + offset + slot as f64 * (NODE_W + GAP_X),
            GAP_Y / 2.0 + layer as f64 * (NODE_H + GAP_Y),
        )
    };
    html! {
        svg.graph xmlns="http://www.w3.org/2000/svg" width=(width) height=(height)
            viewBox={"0 0 " (width) " " (height)} role="img" aria-label="step graph" {
            defs {
                marker #arrow viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse" {
                    path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead" {}
                }
            }
            @for &(from, to, kind) in &links {
                @let (x1, y1) = corner(from);
                @let (x2, y2) = corner(to);
                @let (x1, y1, x2, y2) = (x1 + NODE_W / 2.0, y1 + NODE_H, x2 + NODE_W / 2.0, y2);
                path.edge.after[kind == EdgeKind::Explicit] marker-end="url(#arrow)"
                    d={"M " (x1) " " (y1) " C " (x1) " " ((y1 + y2) / 2.0) ", " (x2) " " ((y1 + y2) / 2.0) ", " (x2) " " (y2 - 2.0)} {}
            }
            @for (index, name) in names.iter().enumerate() {
                @let record = steps.iter().find(|s| s.name == *name);
                @let status = record.map_or("pending", |s| s.status.as_str());
                @let (x, y) = corner(index);
                a href={"/runs/" (encode(run_id)) "?step=" (encode(name)) "#step"} {
                    g class={"node st-" (status) @if selected == Some(*name) { " selected" }} data-step=(name) data-status=(status) {
                        title { (name) ": " (status) }
                        rect x=(x) y=(y) width=(NODE_W) height=(NODE_H) rx="8" {}
                        circle.dot cx=(x + 16.0) cy=(y + NODE_H / 2.0) r="6" {}
                        text.name x=(x + 30.0) y=(y + 21.0) { (clip(name, 20)) }
                        text.sub x=(x + 30.0) y=(y + 38.0) {
                            (status)
                            @if let Some(seconds) = record.and_then(|s| s.duration_s) { " · " (duration(seconds)) }
                        }
                    }
                }
            }
        }
    }
}

/// A point of a scatter chart.
#[derive(Debug, Clone)]
pub(super) struct Point {
    /// The param's value as recorded.
    pub(super) x: String,
    /// The metric's value.
    pub(super) y: f64,
    /// The run it comes from.
    pub(super) run: String,
}

const CHART_W: f64 = 380.0;
const CHART_H: f64 = 250.0;
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 40.0;
const TOP: f64 = 16.0;
const RIGHT: f64 = 18.0;

/// Where `value` falls on an axis from `low` to `high` drawn `from`..`to`.
fn scale(value: f64, low: f64, high: f64, from: f64, to: f64) -> f64 {
    if (high - low).abs() < f64::EPSILON {
        (from + to) / 2.0
    } else {
        from + (value - low) / (high - low) * (to - from)
    }
}

/// A short label for an axis value.
fn tick(value: f64) -> String {
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

/// `metric` against `param`, one point per run. Numeric params get a
/// numeric axis; other params one slot per distinct value.
pub(super) fn scatter(metric: &str, param: &str, points: &[Point]) -> Markup {
    let numbers: Option<Vec<f64>> = points.iter().map(|p| p.x.trim().parse().ok()).collect();
    let mut categories: Vec<&str> = points.iter().map(|p| p.x.as_str()).collect();
    categories.sort_unstable();
    categories.dedup();
    let (x_low, x_high) = match &numbers {
        Some(xs) => bounds(xs),
        None => (-0.5, categories.len() as f64 - 0.5),
    };
    let x_of = |index: usize| match &numbers {
        Some(xs) => xs[index],
        None => categories
            .iter()
            .position(|c| *c == points[index].x)
            .unwrap_or(0) as f64,
    };
    let ys: Vec<f64> = points.iter().map(|p| p.y).collect();
    let (y_low, y_high) = bounds(&ys);
    let px = |x: f64| scale(x, x_low, x_high, LEFT + 12.0, CHART_W - RIGHT - 12.0);
    let py = |y: f64| scale(y, y_low, y_high, CHART_H - BOTTOM - 10.0, TOP + 10.0);
    let y_ticks: Vec<f64> = (0..=4)
        .map(|i| y_low + (y_high - y_low) * f64::from(i) / 4.0)
        .collect();
    html! {
        figure.chart {
            figcaption { (metric) " vs " (param) }
            svg.scatter xmlns="http://www.w3.org/2000/svg" width=(CHART_W) height=(CHART_H)
                viewBox={"0 0 " (CHART_W) " " (CHART_H)} role="img"
                aria-label={(metric) " against " (param)} {
                rect.plot x=(LEFT) y=(TOP) width=(CHART_W - LEFT - RIGHT) height=(CHART_H - TOP - BOTTOM) {}
                @for y in &y_ticks {
                    line.grid x1=(LEFT) x2=(CHART_W - RIGHT) y1=(py(*y)) y2=(py(*y)) {}
                    text.tick x=(LEFT - 6.0) y=(py(*y) + 4.0) text-anchor="end" { (tick(*y)) }
                }
                @match &numbers {
                    Some(_) => {
                        @for i in 0..=4 {
                            @let x = x_low + (x_high - x_low) * f64::from(i) / 4.0;
                            text.tick x=(px(x)) y=(CHART_H - BOTTOM + 16.0) text-anchor="middle" { (tick(x)) }
                        }
                    }
                    None => {
                        @for (i, category) in categories.iter().enumerate() {
                            text.tick x=(px(i as f64)) y=(CHART_H - BOTTOM + 16.0) text-anchor="middle" { (clip(category, 14)) }
                        }
                    }
                }
                text.axis x=((LEFT + CHART_W - RIGHT) / 2.0) y=(CHART_H - 6.0) text-anchor="middle" { (clip(param, 40)) }
                @for (i, point) in points.iter().enumerate() {
                    circle.point cx=(px(x_of(i))) cy=(py(point.y)) r="6" data-run=(point.run) {
                        title { (point.run) ": " (param) "=" (point.x) ", " (metric) "=" (tick(point.y)) }
                    }
                    text.label x=(px(x_of(i)) + 9.0) y=(py(point.y) - 7.0) { (point.run) }
                }
            }
        }
    }
}

/// The smallest and largest value, widened a little so no point sits on the frame.
fn bounds(values: &[f64]) -> (f64, f64) {
    let low = values.iter().copied().fold(f64::INFINITY, f64::min);
    let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !low.is_finite() || !high.is_finite() {
        return (0.0, 1.0);
    }
    if (high - low).abs() < f64::EPSILON {
        return (low - 1.0, high + 1.0);
    }
    (low, high)
}

/// Each step's duration in each run, as bars grouped by step.
pub(super) fn durations(runs: &[RunRecord]) -> Markup {
    let mut steps: Vec<&str> = Vec::new();
    for run in runs {
        for step in &run.steps {
            if !steps.contains(&step.name.as_str()) {
                steps.push(&step.name);
            }
        }
    }
    let longest = runs
        .iter()
        .flat_map(|r| r.steps.iter().filter_map(|s| s.duration_s))
        .fold(0.0f64, f64::max);
    let bar_h = 14.0;
    let group_h = runs.len() as f64 * (bar_h + 3.0) + 14.0;
    let label_w = 150.0;
    let width = 640.0;
    let height = steps.len() as f64 * group_h + 10.0;
    let length = |seconds: f64| {
        scale(
            seconds,
            0.0,
            longest.max(0.001),
            0.0,
            width - label_w - 80.0,
        )
    };
    html! {
        svg.durations xmlns="http://www.w3.org/2000/svg" width=(width) height=(height)
            viewBox={"0 0 " (width) " " (height)} role="img" aria-label="step durations" {
            @for (s, step) in steps.iter().enumerate() {
                @let top = s as f64 * group_h + 6.0;
                text.step x="0" y=(top + 12.0) { (clip(step, 22)) }
                @for (r, run) in runs.iter().enumerate() {
                    @let y = top + r as f64 * (bar_h + 3.0);
                    @let seconds = run.steps.iter().find(|x| x.name == *step).and_then(|x| x.duration_s);
                    text.run x=(label_w - 6.0) y=(y + 11.0) text-anchor="end" { (run.id) }
                    @if let Some(seconds) = seconds {
                        rect class={"bar c" (r % 8)} x=(label_w) y=(y) width=(length(seconds).max(1.0)) height=(bar_h) rx="2" {
                            title { (run.id) " " (step) ": " (duration(seconds)) }
                        }
                        text.value x=(label_w + length(seconds) + 6.0) y=(y + 11.0) { (duration(seconds)) }
                    } @else {
                        text.value x=(label_w) y=(y + 11.0) { "—" }
                    }
                }
            }
        }
    }
}

/// One axis of a parallel-coordinates view: its name and each run's value.
#[derive(Debug, Clone)]
pub(super) struct Axis {
    pub(super) name: String,
    pub(super) values: Vec<Option<String>>,
}

impl Axis {
    /// Each run's position on the axis, 0 (bottom) to 1 (top), and the
    /// labels of its two ends. Numbers are scaled; other values get one
    /// evenly spaced slot each, in sorted order.
    fn positions(&self) -> (Vec<Option<f64>>, String, String) {
        let numbers: Option<Vec<Option<f64>>> = self
            .values
            .iter()
            .map(|v| match v {
                Some(text) => text.trim().parse().ok().map(Some),
                None => Some(None),
            })
            .collect();
        if let Some(numbers) = numbers {
            let present: Vec<f64> = numbers.iter().flatten().copied().collect();
            let (low, high) = bounds(&present);
            let at = numbers
                .iter()
                .map(|n| n.map(|x| scale(x, low, high, 0.0, 1.0)))
                .collect();
            return (at, tick(low), tick(high));
        }
        let mut categories: Vec<&str> = self.values.iter().flatten().map(String::as_str).collect();
        categories.sort_unstable();
        categories.dedup();
        let last = categories.len().saturating_sub(1).max(1) as f64;
        let at = self
            .values
            .iter()
            .map(|v| {
                let index = categories.iter().position(|c| Some(*c) == v.as_deref())?;
                Some(if categories.len() == 1 {
                    0.5
                } else {
                    index as f64 / last
                })
            })
            .collect();
        let first = categories.first().map(|c| clip(c, 12)).unwrap_or_default();
        let top = categories.last().map(|c| clip(c, 12)).unwrap_or_default();
        (at, first, top)
    }
}

/// Runs as lines across one vertical axis per param and metric.
pub(super) fn parallel(run_ids: &[&str], axes: &[Axis]) -> Markup {
    let gap = 150.0;
    let width = LEFT + gap * (axes.len().max(2) - 1) as f64 + 90.0;
    let height = 280.0;
    let (top, bottom) = (36.0, height - 36.0);
    let x = |i: usize| LEFT + gap * i as f64;
    let placed: Vec<(Vec<Option<f64>>, String, String)> =
        axes.iter().map(Axis::positions).collect();
    let y = |at: f64| scale(at, 0.0, 1.0, bottom, top);
    html! {
        svg.parallel xmlns="http://www.w3.org/2000/svg" width=(width) height=(height)
            viewBox={"0 0 " (width) " " (height)} role="img" aria-label="parallel coordinates" {
            @for (r, run) in run_ids.iter().enumerate() {
                @let points: Vec<String> = placed.iter().enumerate()
                    .filter_map(|(i, (at, _, _))| at.get(r).copied().flatten().map(|a| format!("{:.1},{:.1}", x(i), y(a))))
                    .collect();
                polyline class={"line c" (r % 8)} points=(points.join(" ")) data-run=(run) { title { (run) } }
                @if let Some(a) = placed.last().and_then(|(at, _, _)| at.get(r).copied().flatten()) {
                    text.run x=(x(placed.len() - 1) + 8.0) y=(y(a) + 4.0) { (run) }
                }
            }
            @for (i, (axis, (_, low, high))) in axes.iter().zip(&placed).enumerate() {
                line.axis-line x1=(x(i)) x2=(x(i)) y1=(top) y2=(bottom) {}
                text.axis x=(x(i)) y=(top - 18.0) text-anchor="middle" { (clip(&axis.name, 22)) }
                text.tick x=(x(i)) y=(top - 5.0) text-anchor="middle" { (high) }
                text.tick x=(x(i)) y=(bottom + 15.0) text-anchor="middle" { (low) }
            }
        }
    }
}
