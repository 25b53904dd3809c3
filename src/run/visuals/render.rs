//! The one drawing of each visual type, as maud markup (every text is
//! escaped): a table as an HTML table, markdown as HTML, a confusion matrix
//! as an SVG grid of counts with its labels, a ROC curve as an SVG line
//! chart (fpr across, tpr up, with the diagonal), a web app as its own page
//! (shown in a sandboxed frame), TensorBoard as the command to run. The
//! files `kfpl runs visuals` writes and the run page of `kfpl ui` both come
//! from [`render`].

use std::collections::BTreeMap;
use std::path::Path;

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::{Kind, Source, Visual};

/// A drawn visual: the file's whole text, and the part a page embeds.
#[derive(Debug, Clone)]
pub struct Drawing {
    pub file: String,
    pub fragment: Markup,
}

/// Draws `visual`, reading a local source from `work` (the step's working
/// directory); `Err` says why it cannot be drawn here.
pub fn render(visual: &Visual, work: &Path) -> Result<Drawing, String> {
    if visual.kind == Kind::Tensorboard {
        return Ok(page_drawing(visual, tensorboard(&visual.source, work)));
    }
    let data = visual.source.read(work)?;
    match visual.kind {
        Kind::Markdown => Ok(page_drawing(visual, super::markdown::to_html(&data))),
        Kind::Table => Ok(page_drawing(
            visual,
            table(&visual.header, &csv_rows(&data)),
        )),
        Kind::ConfusionMatrix => confusion_matrix(visual, &csv_rows(&data)).map(svg_drawing),
        Kind::Roc => roc(visual, &csv_rows(&data)).map(svg_drawing),
        Kind::WebApp | Kind::Tensorboard => Ok(Drawing {
            fragment: html! { iframe.web-app sandbox="" srcdoc=(data) {} },
            file: data,
        }),
    }
}

/// A visual drawn as HTML: its own page around the fragment.
fn page_drawing(visual: &Visual, fragment: Markup) -> Drawing {
    Drawing {
        file: page(visual.kind.as_str(), fragment.clone()).into_string(),
        fragment,
    }
}

/// A chart: the SVG file is the fragment itself.
fn svg_drawing(svg: Markup) -> Drawing {
    Drawing {
        file: format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}\n", svg.0),
        fragment: svg,
    }
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}\
th{background:#f3f3f3}iframe.web-app{width:100%;height:480px;border:1px solid #ccc}\
section{margin-bottom:2em}pre{background:#f6f6f6;padding:.6em}";

fn page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html {
            head { meta charset="utf-8"; title { (title) } style { (PreEscaped(STYLE)) } }
            body { (body) }
        }
    }
}

/// One step's visuals for the index.
pub struct Section {
    pub step: String,
    pub items: Vec<Item>,
}

/// One visual for the index: its file (relative to the index) and drawing.
pub struct Item {
    pub visual: Visual,
    pub file: String,
    pub drawing: Result<Drawing, String>,
}

/// `index.html`: every step's visuals, drawn in place, each with a link to its file.
pub fn index(run: &str, sections: &[Section]) -> Markup {
    let body = html! {
        h1 { "Visuals of run " (run) }
        @if sections.is_empty() { p { "No step of this run wrote UI metadata." } }
        @for section in sections {
            section {
                h2 { "Step " (section.step) }
                @for item in &section.items {
                    h3 { (item.visual.describe()) }
                    @match &item.drawing {
                        Ok(drawing) => { p { a href=(item.file) { (item.file) } } (drawing.fragment) }
                        Err(why) => p.not-drawn { "Not drawn: " (why) }
                    }
                }
            }
        }
    };
    page(&format!("Visuals of run {run}"), body)
}

/// The rows of CSV text (RFC 4180: quoted fields may hold commas, `""` and
/// newlines); blank lines are skipped.
pub fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', true) => quoted = false,
            ('"', false) if field.is_empty() => quoted = true,
            (',', false) => row.push(std::mem::take(&mut field)),
            ('\n', false) => end_row(&mut rows, &mut row, &mut field),
            ('\r', false) => {}
            _ => field.push(c),
        }
    }
    end_row(&mut rows, &mut row, &mut field);
    rows
}

fn end_row(rows: &mut Vec<Vec<String>>, row: &mut Vec<String>, field: &mut String) {
    row.push(std::mem::take(field));
    let row = std::mem::take(row);
    if !(row.len() == 1 && row[0].trim().is_empty()) {
        rows.push(row);
    }
}

fn table(header: &[String], rows: &[Vec<String>]) -> Markup {
    html! {
        table.visual-table {
            @if !header.is_empty() { thead { tr { @for name in header { th { (name) } } } } }
            tbody { @for row in rows { tr { @for cell in row { td { (cell) } } } } }
        }
    }
}

fn tensorboard(source: &Source, work: &Path) -> Markup {
    let dir = match source {
        Source::Inline(text) | Source::Remote(text) => text.clone(),
        Source::Local(path) => work.join(path).display().to_string(),
    };
    html! {
        p.tensorboard {
            "TensorBoard logs are in " code { (dir) } "; see them with "
            code { "tensorboard --logdir " (crate::run::shell_quote(&dir)) }
        }
    }
}

/// The index of column `name` in the visual's `schema`, else `default`.
fn column(visual: &Visual, name: &str, default: usize) -> usize {
    visual
        .schema
        .iter()
        .position(|c| c == name)
        .unwrap_or(default)
}

fn cell<'r>(row: &'r [String], index: usize, line: usize, what: &str) -> Result<&'r str, String> {
    row.get(index)
        .map(|text| text.trim())
        .ok_or_else(|| format!("row {line} of its data has no {what} column"))
}

fn number(text: &str, line: usize, what: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .ok_or_else(|| format!("row {line} of its data has {what} `{text}`, not a number"))
}

/// A number as short text: `200`, `0.25`.
fn short(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{n:.0}")
    } else {
        format!("{n}")
    }
}

const CELL: f64 = 64.0;

/// More classes than this make a grid no one can read (and a huge file).
const MOST_LABELS: usize = 100;

/// An SVG grid: a row per target (true) label, a column per predicted one,
/// each cell the count, shaded by its share of the largest count.
fn confusion_matrix(visual: &Visual, rows: &[Vec<String>]) -> Result<Markup, String> {
    let (target, predicted, count) = (
        column(visual, "target", 0),
        column(visual, "predicted", 1),
        column(visual, "count", 2),
    );
    let mut labels: Vec<String> = visual.labels.clone();
    let mut counts: BTreeMap<(String, String), f64> = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        let t = cell(row, target, i + 1, "target")?.to_string();
        let p = cell(row, predicted, i + 1, "predicted")?.to_string();
        let n = number(cell(row, count, i + 1, "count")?, i + 1, "count")?;
        for label in [&t, &p] {
            if !labels.contains(label) {
                labels.push(label.clone());
            }
        }
        *counts.entry((t, p)).or_default() += n;
    }
    if labels.len() > MOST_LABELS {
        return Err(format!(
            "its data has {} labels; kfpl draws at most {MOST_LABELS}",
            labels.len()
        ));
    }
    let most = counts.values().copied().fold(0.0_f64, f64::max);
    let widest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) as f64;
    let left = 40.0 + widest * 8.0;
    let top = 60.0;
    let side = CELL * labels.len() as f64;
    let (width, height) = (left + side + 20.0, top + side + 40.0);
    Ok(html! {
        svg.confusion-matrix xmlns="http://www.w3.org/2000/svg" width=(width) height=(height) viewBox=(format!("0 0 {width} {height}")) font-family="sans-serif" font-size="13" {
            text x=(left + side / 2.0) y="20" text-anchor="middle" font-weight="bold" { "predicted" }
            text x="14" y=(top + side / 2.0) text-anchor="middle" font-weight="bold" transform=(format!("rotate(-90 14 {})", top + side / 2.0)) { "true" }
            @for (col, label) in labels.iter().enumerate() {
                text.label.predicted x=(left + CELL * col as f64 + CELL / 2.0) y=(top - 10.0) text-anchor="middle" { (label) }
            }
            @for (row, truth) in labels.iter().enumerate() {
                text.label.target x=(left - 8.0) y=(top + CELL * row as f64 + CELL / 2.0 + 4.0) text-anchor="end" { (truth) }
                @for (col, guess) in labels.iter().enumerate() {
                    @let n = counts.get(&(truth.clone(), guess.clone())).copied().unwrap_or(0.0);
                    @let share = if most > 0.0 { n / most } else { 0.0 };
                    @let (x, y) = (left + CELL * col as f64, top + CELL * row as f64);
                    rect x=(x) y=(y) width=(CELL) height=(CELL) fill=(format!("rgba(41,98,168,{:.3})", 0.08 + 0.82 * share)) stroke="#fff" {}
                    text.count data-target=(truth) data-predicted=(guess) x=(x + CELL / 2.0) y=(y + CELL / 2.0 + 4.0) text-anchor="middle" fill=(if share > 0.5 { "#fff" } else { "#222" }) { (short(n)) }
                }
            }
        }
    })
}

/// Where the ROC plot's unit square sits in the picture.
pub const ROC_LEFT: f64 = 60.0;
pub const ROC_TOP: f64 = 20.0;
pub const ROC_SIDE: f64 = 300.0;

/// A point of the unit square in picture coordinates, as the path writes it.
pub fn roc_point(fpr: f64, tpr: f64) -> String {
    format!(
        "{:.2},{:.2}",
        ROC_LEFT + fpr * ROC_SIDE,
        ROC_TOP + (1.0 - tpr) * ROC_SIDE
    )
}

/// An SVG line chart of tpr against fpr, in the data's order, over the diagonal.
fn roc(visual: &Visual, rows: &[Vec<String>]) -> Result<Markup, String> {
    let (fpr, tpr) = (column(visual, "fpr", 0), column(visual, "tpr", 1));
    let mut points = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let x = number(cell(row, fpr, i + 1, "fpr")?, i + 1, "fpr")?;
        let y = number(cell(row, tpr, i + 1, "tpr")?, i + 1, "tpr")?;
        points.push(roc_point(x, y));
    }
    if points.is_empty() {
        return Err("its data has no rows".into());
    }
    let path = format!("M{}", points.join(" L"));
    let bottom = ROC_TOP + ROC_SIDE;
    let right = ROC_LEFT + ROC_SIDE;
    Ok(html! {
        svg.roc xmlns="http://www.w3.org/2000/svg" width="400" height="380" viewBox="0 0 400 380" font-family="sans-serif" font-size="12" {
            rect x=(ROC_LEFT) y=(ROC_TOP) width=(ROC_SIDE) height=(ROC_SIDE) fill="none" stroke="#999" {}
            line.diagonal x1=(ROC_LEFT) y1=(bottom) x2=(right) y2=(ROC_TOP) stroke="#aaa" stroke-dasharray="4 4" {}
            path.curve d=(path) fill="none" stroke="#2962a8" stroke-width="2" {}
            @for tick in [0.0, 0.5, 1.0] {
                text x=(ROC_LEFT + tick * ROC_SIDE) y=(bottom + 16.0) text-anchor="middle" { (short(tick)) }
                text x=(ROC_LEFT - 6.0) y=(ROC_TOP + (1.0 - tick) * ROC_SIDE + 4.0) text-anchor="end" { (short(tick)) }
            }
            text x=(ROC_LEFT + ROC_SIDE / 2.0) y=(bottom + 36.0) text-anchor="middle" { "false positive rate" }
            text x="16" y=(ROC_TOP + ROC_SIDE / 2.0) text-anchor="middle" transform=(format!("rotate(-90 16 {})", ROC_TOP + ROC_SIDE / 2.0)) { "true positive rate" }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visual(kind: Kind, source: &str) -> Visual {
        Visual {
            kind,
            source: Source::Inline(source.into()),
            header: vec!["a".into(), "b<".into()],
            schema: Vec::new(),
            labels: Vec::new(),
        }
    }

    #[test]
    fn csv_quotes_hold_commas_and_quotes() {
        assert_eq!(
            csv_rows("a,\"b,c\",\"d\"\"e\"\n\n1,2,3\n"),
            [vec!["a", "b,c", "d\"e"], vec!["1", "2", "3"]]
        );
    }

    #[test]
    fn tables_escape_their_cells() {
        let drawn =
            render(&visual(Kind::Table, "<b>x</b>,2"), Path::new("/")).map(|d| d.fragment.0);
        let html = drawn.unwrap_or_default();
        assert!(html.contains("<th>b&lt;</th>"), "{html}");
        assert!(
            html.contains("<td>&lt;b&gt;x&lt;/b&gt;</td><td>2</td>"),
            "{html}"
        );
    }

    #[test]
    fn a_confusion_matrix_sums_counts_into_its_cells() {
        let drawn = render(
            &visual(Kind::ConfusionMatrix, "a,a,3\na,b,1\nb,a,2\na,a,1\n"),
            Path::new("/"),
        );
        let svg = drawn.map(|d| d.file).unwrap_or_default();
        assert!(
            svg.contains(r#"data-target="a" data-predicted="a""#),
            "{svg}"
        );
        assert!(svg.contains(">4</text>"), "{svg}");
        assert!(svg.contains(">0</text>"), "b,b is drawn as 0: {svg}");
    }

    #[test]
    fn roc_rejects_a_point_that_is_not_a_number() {
        let drawn = render(&visual(Kind::Roc, "0,0\nx,1\n"), Path::new("/"));
        assert!(drawn.is_err_and(|why| why.contains("row 2") && why.contains("`x`")));
    }

    #[test]
    fn a_missing_local_file_or_a_remote_uri_is_not_drawn() {
        let mut missing = visual(Kind::Table, "");
        missing.source = Source::Local("no-such.csv".into());
        let drawn = render(&missing, Path::new("/nonexistent-kfpl-work"));
        assert!(drawn.is_err_and(|why| why.starts_with("its source `no-such.csv` cannot be read")));
        missing.source = Source::Remote("s3://b/t.csv".into());
        let drawn = render(&missing, Path::new("/"));
        assert!(drawn.is_err_and(|why| why.contains("`s3://b/t.csv` is remote")));
    }

    #[test]
    fn a_web_app_is_kept_as_is_and_framed_in_a_sandbox() {
        let drawn = render(&visual(Kind::WebApp, "<h1>Hi</h1>"), Path::new("/"));
        let drawn = drawn.unwrap_or_else(|why| panic!("{why}"));
        assert_eq!(drawn.file, "<h1>Hi</h1>");
        assert!(
            drawn
                .fragment
                .0
                .contains("sandbox=\"\" srcdoc=\"&lt;h1&gt;Hi&lt;/h1&gt;\"")
        );
    }
}
