//! The layered ASCII drawing of a step graph.
//!
//! Layout (a small Sugiyama-style scheme, no external crates):
//! - **Layers**: a step's layer is the length of the longest path from a root
//!   to it, so every edge points down. Each layer is one row of boxes,
//!   ordered by the mean position of their upstream steps (fewer crossings),
//!   ties in topological order, and centred on the widest layer.
//! - **Ports**: every edge leaves its upstream box through a column of its own
//!   on the box's bottom and enters its downstream box through a column of its
//!   own on the top, so lines never merge; a box is widened until its ports fit.
//! - **Regions**: between two layers, each edge that must move sideways gets a
//!   horizontal *track* (one text row; edges whose spans do not overlap share
//!   a row). An edge goes down from its port to its track, along it, and down
//!   to the arrow `v` above the box it enters. Where a vertical line crosses
//!   another edge's horizontal, the vertical is drawn, so a crossing reads
//!   `-|-` and only corners are `+`.
//! - **Long edges** (skipping layers) run in a lane of their own to the right
//!   of the boxes: along a track to the lane, down the lane past the layers in
//!   between, and back along a track to the box.
//!
//! Implied edges (`$<step.output>`) are drawn with `|`, `-`, `+`; explicit
//! `after` edges with `:`, `.`, `.`; a legend below says which is which.
//!
//! Control blocks are not drawn as boxes: layers follow dependencies, so a
//! block's steps may share layers with others and a box around them would
//! cut through unrelated boxes and edges. Instead each step inside a block
//! has a last label line naming its innermost block (`[3] for lr`), and
//! below the legend the blocks are listed as an indented tree, each with
//! its head and its steps, so nesting reads from the indentation.

use super::blocks::{self, Item};
use super::{EdgeKind, edges, label_lines};
use crate::check::ir::{self, BlockId};

/// Longest label line shown; longer ones are cut in the middle with `...`.
const MAX_LABEL: usize = 40;
/// Columns between boxes of one layer.
const GAP: usize = 4;

/// The characters one kind of edge is drawn with.
struct Pen {
    vertical: char,
    horizontal: char,
    corner: char,
}

fn pen(kind: EdgeKind) -> Pen {
    match kind {
        EdgeKind::Implied => Pen {
            vertical: '|',
            horizontal: '-',
            corner: '+',
        },
        EdgeKind::Explicit => Pen {
            vertical: ':',
            horizontal: '.',
            corner: '.',
        },
    }
}

/// One step's box.
struct Node {
    lines: Vec<String>,
    width: usize,
    layer: usize,
    /// Left column.
    x: usize,
}

impl Node {
    fn center(&self) -> usize {
        self.x + self.width / 2
    }

    /// The columns a line may enter or leave through (inside the corners).
    fn interior(&self) -> std::ops::RangeInclusive<usize> {
        self.x + 1..=self.x + self.width - 2
    }
}

/// A piece of an edge inside one region: from column `top` to column `bottom`.
#[derive(Clone)]
struct Segment {
    top: usize,
    bottom: usize,
    /// Ends in an arrow (it enters a box) rather than running on down a lane.
    arrow: bool,
    kind: EdgeKind,
    /// The track row (1-based); 0 for a straight segment.
    track: usize,
}

impl Segment {
    fn span(&self) -> (usize, usize) {
        (self.top.min(self.bottom), self.top.max(self.bottom))
    }

    fn straight(&self) -> bool {
        self.top == self.bottom
    }
}

/// An edge of the graph with where it sits.
struct Edge {
    from: usize,
    to: usize,
    kind: EdgeKind,
    /// The lane column of an edge that skips layers.
    lane: Option<usize>,
}

/// Draws the graph (with a legend when there are edges).
pub(super) fn render(pipeline: &ir::Pipeline) -> String {
    if pipeline.steps.is_empty() {
        return "(no steps)\n".into();
    }
    let mut edges: Vec<Edge> = edges(pipeline)
        .into_iter()
        .map(|(from, to, kind)| Edge {
            from,
            to,
            kind,
            lane: None,
        })
        .collect();
    let mut nodes = nodes(pipeline, &edges);
    let layers = order_layers(&mut nodes, &edges);
    let area = layers
        .iter()
        .map(|layer| layer_width(&nodes, layer))
        .max()
        .unwrap_or(0);
    place(&mut nodes, &layers, area);
    assign_lanes(&mut edges, &nodes, area);
    let regions: Vec<Vec<Segment>> = (0..layers.len().saturating_sub(1))
        .map(|r| region(r, &nodes, &edges))
        .collect();
    let mut canvas = Canvas::default();
    let mut y = 0;
    for (r, layer) in layers.iter().enumerate() {
        let height = layer
            .iter()
            .map(|&i| nodes[i].lines.len())
            .max()
            .unwrap_or(1)
            + 2;
        for &i in layer {
            draw_box(&mut canvas, &nodes[i], y, height);
        }
        for edge in &edges {
            if let Some(lane) = edge.lane
                && nodes[edge.from].layer < r
                && r < nodes[edge.to].layer
            {
                for row in y..y + height {
                    canvas.put(row, lane, pen(edge.kind).vertical);
                }
            }
        }
        y += height;
        if let Some(segments) = regions.get(r) {
            y += draw_region(&mut canvas, segments, y);
        }
    }
    let mut out = canvas.into_string();
    let kinds: Vec<EdgeKind> = {
        let mut kinds: Vec<EdgeKind> = edges.iter().map(|e| e.kind).collect();
        kinds.sort();
        kinds.dedup();
        kinds
    };
    if !kinds.is_empty() {
        out.push('\n');
        for kind in kinds {
            let (line, meaning) = match kind {
                EdgeKind::Implied => ("|", "uses an output of the step above ($<step.output>)"),
                EdgeKind::Explicit => (":", "runs after the step above (`after`)"),
            };
            out.push_str(&format!("  {line}  {meaning}\n"));
        }
    }
    if !pipeline.blocks.is_empty() {
        out.push_str("\nblocks (a step's box names the innermost one):\n");
        block_tree(&mut out, pipeline, None, 2);
    }
    out
}

/// The tag a block goes by in boxes and in the tree: `[3]`.
fn tag(block: BlockId) -> String {
    format!("[{}]", block + 1)
}

/// Lists the contents of `block` at `indent` columns: a step by name, a
/// block as its tag and head with its own contents under the head.
fn block_tree(out: &mut String, pipeline: &ir::Pipeline, block: Option<BlockId>, indent: usize) {
    let pad = " ".repeat(indent);
    for item in blocks::contents(pipeline, block) {
        match item {
            Item::Step(index) => {
                out.push_str(&format!("{pad}{}\n", pipeline.steps[index].name));
            }
            Item::Block(id) => {
                let (tag, head) = (tag(id), blocks::head(pipeline, id));
                out.push_str(&format!("{pad}{tag} {head}\n"));
                block_tree(out, pipeline, Some(id), indent + tag.len() + 1);
            }
        }
    }
}

/// The boxes, with layers by longest path (steps come in topological order).
fn nodes(pipeline: &ir::Pipeline, edges: &[Edge]) -> Vec<Node> {
    let mut layer = vec![0usize; pipeline.steps.len()];
    // Steps are in topological order, so every upstream layer is final
    // before the steps that depend on it are looked at.
    for to in 0..pipeline.steps.len() {
        for edge in edges.iter().filter(|e| e.to == to) {
            layer[to] = layer[to].max(layer[edge.from] + 1);
        }
    }
    pipeline
        .steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let mut lines = label_lines(step);
            if let Some(block) = step.block {
                lines.push(format!(
                    "{} {}",
                    tag(block),
                    blocks::keyword(pipeline, block)
                ));
            }
            let lines: Vec<String> = lines.iter().map(|l| shorten(l)).collect();
            let content = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
            let outgoing = edges.iter().filter(|e| e.from == i).count();
            let incoming = edges.iter().filter(|e| e.to == i).count();
            let ports = outgoing.max(incoming);
            Node {
                lines,
                width: (content + 4).max(2 * ports + 5),
                layer: layer[i],
                x: 0,
            }
        })
        .collect()
}

/// Cuts a long label in the middle.
fn shorten(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= MAX_LABEL {
        return line.to_string();
    }
    let keep = MAX_LABEL - 3;
    let head: String = chars[..keep / 2].iter().collect();
    let tail: String = chars[chars.len() - (keep - keep / 2)..].iter().collect();
    format!("{head}...{tail}")
}

/// Groups steps into layers and orders each layer by the mean centre of the
/// steps it depends on (computed on the layers above, already placed).
fn order_layers(nodes: &mut [Node], edges: &[Edge]) -> Vec<Vec<usize>> {
    let depth = nodes.iter().map(|n| n.layer).max().unwrap_or(0) + 1;
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); depth];
    for (i, node) in nodes.iter().enumerate() {
        layers[node.layer].push(i);
    }
    let area = layers
        .iter()
        .map(|layer| layer_width(nodes, layer))
        .max()
        .unwrap_or(0);
    for r in 0..depth {
        if r > 0 {
            let mut keyed: Vec<(usize, usize)> = layers[r]
                .iter()
                .map(|&i| {
                    let parents: Vec<usize> = edges
                        .iter()
                        .filter(|e| e.to == i)
                        .map(|e| nodes[e.from].center())
                        .collect();
                    let mean = parents.iter().sum::<usize>() / parents.len().max(1);
                    (mean, i)
                })
                .collect();
            keyed.sort();
            layers[r] = keyed.into_iter().map(|(_, i)| i).collect();
        }
        place(nodes, &layers[r..=r], area);
    }
    layers
}

fn layer_width(nodes: &[Node], layer: &[usize]) -> usize {
    let boxes: usize = layer.iter().map(|&i| nodes[i].width).sum();
    boxes + GAP * layer.len().saturating_sub(1)
}

/// Sets each box's column: the layer packed left to right, centred in `area`.
fn place(nodes: &mut [Node], layers: &[Vec<usize>], area: usize) {
    for layer in layers {
        let mut x = (area - layer_width(nodes, layer)) / 2;
        for &i in layer {
            nodes[i].x = x;
            x += nodes[i].width + GAP;
        }
    }
}

/// Gives every edge that skips a layer its own lane right of the boxes.
fn assign_lanes(edges: &mut [Edge], nodes: &[Node], area: usize) {
    let mut long: Vec<usize> = (0..edges.len())
        .filter(|&e| nodes[edges[e].to].layer > nodes[edges[e].from].layer + 1)
        .collect();
    long.sort_by_key(|&e| {
        let edge = &edges[e];
        (
            nodes[edge.from].layer,
            nodes[edge.from].x,
            nodes[edge.to].layer,
        )
    });
    for (k, e) in long.into_iter().enumerate() {
        edges[e].lane = Some(area + 3 + 2 * k);
    }
}

/// The segments between layer `r` and layer `r + 1`, with ports and tracks.
fn region(r: usize, nodes: &[Node], edges: &[Edge]) -> Vec<Segment> {
    // (edge index, top column, bottom column, arrow), ports still to come.
    let mut segments: Vec<(usize, Option<usize>, Option<usize>, bool)> = Vec::new();
    for (e, edge) in edges.iter().enumerate() {
        let (from, to) = (nodes[edge.from].layer, nodes[edge.to].layer);
        match edge.lane {
            None if from == r => segments.push((e, None, None, true)),
            Some(lane) if from == r => segments.push((e, None, Some(lane), false)),
            Some(lane) if to == r + 1 => segments.push((e, Some(lane), None, true)),
            Some(lane) if from < r && to > r + 1 => {
                segments.push((e, Some(lane), Some(lane), false));
            }
            _ => {}
        }
    }
    // Ports on the bottom of each upper box, ordered by where the edges go.
    for (i, node) in nodes.iter().enumerate().filter(|(_, n)| n.layer == r) {
        let mut leaving: Vec<(usize, usize)> = segments
            .iter()
            .enumerate()
            .filter(|(_, s)| s.1.is_none() && edges[s.0].from == i)
            .map(|(k, s)| (s.2.unwrap_or_else(|| nodes[edges[s.0].to].center()), k))
            .collect();
        leaving.sort();
        let ports = spread(node, leaving.len());
        for ((_, k), port) in leaving.into_iter().zip(ports) {
            segments[k].1 = Some(port);
        }
    }
    // Ports on the top of each lower box: straight down where possible, never
    // on a column another edge comes down from or enters through.
    let tops: Vec<(usize, usize)> = segments
        .iter()
        .enumerate()
        .filter_map(|(k, s)| s.1.map(|top| (k, top)))
        .collect();
    let mut taken: Vec<usize> = Vec::new();
    for (i, node) in nodes.iter().enumerate().filter(|(_, n)| n.layer == r + 1) {
        let mut entering: Vec<(usize, usize)> = segments
            .iter()
            .enumerate()
            .filter(|(_, s)| s.2.is_none() && edges[s.0].to == i)
            .map(|(k, s)| (s.1.unwrap_or(0), k))
            .collect();
        entering.sort();
        let spread_ports = spread(node, entering.len());
        for ((top, k), fallback) in entering.into_iter().zip(spread_ports) {
            // Best a column with no other line in it or next to it; failing
            // that (a narrow box under many lines), one with none in it.
            let free = |x: usize, room: usize| {
                node.interior().contains(&x)
                    && !taken.iter().any(|&t| t.abs_diff(x) < room)
                    && !tops
                        .iter()
                        .any(|&(other, t)| other != k && t.abs_diff(x) < room)
            };
            let search = |room: usize| {
                (0..node.width)
                    .flat_map(|d| [fallback + d, fallback.saturating_sub(d)])
                    .find(|&x| free(x, room))
            };
            let port = if free(top, 2) {
                top
            } else {
                search(2).or_else(|| search(1)).unwrap_or(fallback)
            };
            taken.push(port);
            segments[k].2 = Some(port);
        }
    }
    let mut out: Vec<Segment> = segments
        .into_iter()
        .map(|(e, top, bottom, arrow)| Segment {
            top: top.unwrap_or(0),
            bottom: bottom.unwrap_or(0),
            arrow,
            kind: edges[e].kind,
            track: 0,
        })
        .collect();
    assign_tracks(&mut out);
    out
}

/// `n` columns spread evenly across a box's interior.
fn spread(node: &Node, n: usize) -> Vec<usize> {
    (0..n)
        .map(|k| node.x + (k + 1) * node.width / (n + 1))
        .map(|x| x.clamp(node.x + 1, node.x + node.width - 2))
        .collect()
}

/// Puts each sideways segment on a track. A segment whose top column lies
/// under another's horizontal goes on an earlier track (its vertical ends
/// above that horizontal); one whose bottom column lies under it goes on a
/// later one. Segments whose spans do not touch may share a track.
fn assign_tracks(segments: &mut [Segment]) {
    let moving: Vec<usize> = (0..segments.len())
        .filter(|&k| !segments[k].straight())
        .collect();
    let inside = |x: usize, (lo, hi): (usize, usize)| lo <= x && x <= hi;
    // before[a] lists the segments that must sit on an earlier track than a.
    let mut before: Vec<Vec<usize>> = vec![Vec::new(); segments.len()];
    for &a in &moving {
        for &b in &moving {
            if a == b {
                continue;
            }
            let span = segments[a].span();
            if inside(segments[b].top, span) {
                before[a].push(b);
            } else if inside(segments[b].bottom, span) {
                before[b].push(a);
            }
        }
    }
    // Kahn's order; on a cycle take the segment with the fewest unmet constraints.
    let mut order = Vec::new();
    let mut left = moving.clone();
    while !left.is_empty() {
        let pick = left
            .iter()
            .copied()
            .min_by_key(|&k| before[k].iter().filter(|b| left.contains(b)).count())
            .unwrap_or(left[0]);
        order.push(pick);
        left.retain(|&k| k != pick);
    }
    let mut rows: Vec<Vec<(usize, usize)>> = Vec::new();
    for k in order {
        let lowest = before[k]
            .iter()
            .map(|&b| segments[b].track)
            .max()
            .unwrap_or(0)
            + 1;
        let (lo, hi) = segments[k].span();
        let mut track = lowest;
        while rows
            .get(track - 1)
            .is_some_and(|row| row.iter().any(|&(l, h)| lo <= h + 1 && l <= hi + 1))
        {
            track += 1;
        }
        if rows.len() < track {
            rows.resize(track, Vec::new());
        }
        rows[track - 1].push((lo, hi));
        segments[k].track = track;
    }
}

/// Draws one region starting at row `y`; returns its height.
fn draw_region(canvas: &mut Canvas, segments: &[Segment], y: usize) -> usize {
    let tracks = segments.iter().map(|s| s.track).max().unwrap_or(0);
    let last = y + tracks + 1;
    // Horizontals first, verticals over them (a crossing shows the vertical), corners last.
    for s in segments.iter().filter(|s| !s.straight()) {
        let (lo, hi) = s.span();
        for x in lo + 1..hi {
            canvas.put(y + s.track, x, pen(s.kind).horizontal);
        }
    }
    for s in segments {
        let pen = pen(s.kind);
        let end = if s.arrow { 'v' } else { pen.vertical };
        if s.straight() {
            for row in y..last {
                canvas.put(row, s.top, pen.vertical);
            }
        } else {
            for row in y..y + s.track {
                canvas.put(row, s.top, pen.vertical);
            }
            for row in y + s.track + 1..last {
                canvas.put(row, s.bottom, pen.vertical);
            }
        }
        canvas.put(last, s.bottom, end);
    }
    for s in segments.iter().filter(|s| !s.straight()) {
        let corner = pen(s.kind).corner;
        canvas.put(y + s.track, s.top, corner);
        canvas.put(y + s.track, s.bottom, corner);
    }
    tracks + 2
}

fn draw_box(canvas: &mut Canvas, node: &Node, y: usize, height: usize) {
    let inner = node.width - 2;
    let border = format!("+{}+", "-".repeat(inner));
    canvas.text(y, node.x, &border);
    for row in 1..height - 1 {
        let line = node.lines.get(row - 1).map_or("", String::as_str);
        let len = line.chars().count();
        let left = (inner - len) / 2;
        let text = format!(
            "|{}{line}{}|",
            " ".repeat(left),
            " ".repeat(inner - len - left)
        );
        canvas.text(y + row, node.x, &text);
    }
    canvas.text(y + height - 1, node.x, &border);
}

/// A grid of characters that grows as it is drawn on.
#[derive(Default)]
struct Canvas {
    rows: Vec<Vec<char>>,
}

impl Canvas {
    fn put(&mut self, y: usize, x: usize, c: char) {
        if self.rows.len() <= y {
            self.rows.resize(y + 1, Vec::new());
        }
        let row = &mut self.rows[y];
        if row.len() <= x {
            row.resize(x + 1, ' ');
        }
        row[x] = c;
    }

    fn text(&mut self, y: usize, x: usize, text: &str) {
        for (k, c) in text.chars().enumerate() {
            self.put(y, x + k, c);
        }
    }

    fn into_string(self) -> String {
        let mut out = String::new();
        for row in self.rows {
            let line: String = row.into_iter().collect();
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
pub(super) fn shorten_for_tests(line: &str) -> String {
    shorten(line)
}
