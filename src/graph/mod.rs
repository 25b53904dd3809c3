//! The step graph of a checked pipeline as text: Graphviz dot, Mermaid, or
//! a layered ASCII drawing for the terminal.
//!
//! Pure: [`ir::Pipeline`] in, `String` out. Every format shows each step with
//! its image and GPUs, and draws the two kinds of edges differently: an
//! *implied* edge (the downstream step reads `$<step.output>`) is solid, an
//! *explicit* one (only `after = [step]`) is dashed. An edge that is both is
//! drawn as implied. Output is deterministic: steps come in the IR's
//! topological order and dependencies in the IR's (sorted) order.
//!
//! Control blocks (`if`, `else`, `for`, `repeat`, `finally`) are drawn as
//! clusters labelled by their heads written back as source
//! (`if $<flip.output> == "heads"`, `for lr in $<lrs>, parallelism 2`; see
//! [`blocks`]), nested as the blocks nest: a dot `subgraph cluster_N`, a
//! Mermaid `subgraph`. The ASCII drawing is layered by dependencies, so a
//! block's steps need not sit together; it tags each step's box with its
//! innermost block (`[2] else`) and lists the blocks below as an indented
//! tree with their steps. A step with `when = …` shows `when CONDITION` in
//! its label. Edges are the same with or without blocks, and a pipeline
//! without blocks draws exactly as before blocks existed.

mod ascii;
mod blocks;
#[cfg(test)]
mod test_ir;

use crate::check::ir::{self, BlockId, Count, Template};
use blocks::Item;

/// The output formats of `kfpl graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// A layered drawing with boxes and lines, for the terminal.
    #[default]
    Ascii,
    /// Graphviz `digraph` (`dot -Tsvg`).
    Dot,
    /// Mermaid `flowchart` (renders in GitHub markdown).
    Mermaid,
}

impl Format {
    /// Every format with its name, as the command line spells it.
    pub const ALL: &[(Format, &str)] = &[
        (Format::Ascii, "ascii"),
        (Format::Dot, "dot"),
        (Format::Mermaid, "mermaid"),
    ];

    /// The format called `name` (`ascii`, `dot`, `mermaid`).
    pub fn parse(name: &str) -> Option<Format> {
        Format::ALL
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name.trim()))
            .map(|(f, _)| *f)
    }
}

/// Draws the pipeline's step graph in `format` (ending with a newline).
pub fn render(pipeline: &ir::Pipeline, format: Format) -> String {
    match format {
        Format::Ascii => ascii::render(pipeline),
        Format::Dot => dot(pipeline),
        Format::Mermaid => mermaid(pipeline),
    }
}

/// How a dependency is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum EdgeKind {
    /// Through `$<step.…>` (with or without `after` as well).
    Implied,
    /// Only through `after`.
    Explicit,
}

impl EdgeKind {
    fn of(dependency: &ir::Dependency) -> EdgeKind {
        if dependency.implied {
            EdgeKind::Implied
        } else {
            EdgeKind::Explicit
        }
    }
}

/// The lines a step's node shows: its name, its image, its GPUs when it asks
/// for any, its `when` condition when it has one, the volumes it mounts and
/// its sidecars.
pub(crate) fn label_lines(step: &ir::Step) -> Vec<String> {
    let mut lines = vec![step.name.clone(), template_text(&step.image)];
    match &step.gpus {
        Count::Fixed(0) => {}
        Count::Fixed(1) => lines.push("1 GPU".into()),
        Count::Fixed(n) => lines.push(format!("{n} GPUs")),
        Count::Param(_) | Count::Output(_) => {
            lines.push(format!("GPUs: {}", step.gpus.written()));
        }
    }
    if let Some(when) = &step.when {
        lines.push(format!("when {}", blocks::condition_text(when)));
    }
    for mount in step.data.iter().filter(|m| m.volume) {
        lines.push(format!("volume {} at {}", mount.claim, mount.path));
    }
    for sidecar in &step.sidecars {
        lines.push(format!("sidecar {} ({})", sidecar.name, sidecar.image));
    }
    lines
}

/// How a clustered format writes steps and blocks.
struct Clusters<'a> {
    /// A step's line, by index into `steps`.
    step: &'a dyn Fn(usize) -> String,
    /// A block's opening lines (its label among them), from its id and head;
    /// lines after the first are indented one more level.
    open: &'a dyn Fn(BlockId, &str) -> Vec<String>,
    /// The line that closes a block.
    close: &'a str,
}

impl Clusters<'_> {
    /// Every step's line where it stands, each block opened and closed
    /// around its contents, indented two spaces a level (one at the top).
    fn lines(&self, pipeline: &ir::Pipeline) -> String {
        let mut out = String::new();
        self.write(&mut out, pipeline, None, 1);
        out
    }

    fn write(
        &self,
        out: &mut String,
        pipeline: &ir::Pipeline,
        block: Option<BlockId>,
        depth: usize,
    ) {
        let indent = "  ".repeat(depth);
        for item in blocks::contents(pipeline, block) {
            match item {
                Item::Step(index) => out.push_str(&format!("{indent}{}\n", (self.step)(index))),
                Item::Block(id) => {
                    let opening = (self.open)(id, &blocks::head(pipeline, id));
                    for (k, line) in opening.iter().enumerate() {
                        let inside = if k == 0 { "" } else { "  " };
                        out.push_str(&format!("{indent}{inside}{line}\n"));
                    }
                    self.write(out, pipeline, Some(id), depth + 1);
                    out.push_str(&format!("{indent}{}\n", self.close));
                }
            }
        }
    }
}

/// A template as the user would write it inside a string (`$<param>` kept).
fn template_text(template: &Template) -> String {
    let mut out = String::new();
    for part in &template.parts {
        out.push_str(&part.source());
    }
    out
}

/// Every edge as (upstream index, downstream index, kind), in a fixed order.
pub(crate) fn edges(pipeline: &ir::Pipeline) -> Vec<(usize, usize, EdgeKind)> {
    let mut out = Vec::new();
    for (to, step) in pipeline.steps.iter().enumerate() {
        for dependency in &step.dependencies {
            if let Some(from) = pipeline.step_position(&dependency.step) {
                out.push((from, to, EdgeKind::of(dependency)));
            }
        }
    }
    out.sort();
    out
}

fn dot(pipeline: &ir::Pipeline) -> String {
    let quote = |text: &str| {
        let mut out = String::from("\"");
        for c in text.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    };
    let mut out = format!("digraph {} {{\n", quote(&pipeline.ident));
    out.push_str("  rankdir=TB;\n");
    out.push_str("  node [shape=box, fontname=\"monospace\"];\n");
    out.push_str("  // solid: uses an output ($<step.output>); dashed: explicit `after`\n");
    let step = |index: usize| {
        let step = &pipeline.steps[index];
        format!(
            "{} [label={}];",
            quote(&step.name),
            quote(&label_lines(step).join("\n"))
        )
    };
    let open = |id: BlockId, head: &str| {
        // Left-aligned and monospace like the steps: a head reads as code.
        vec![
            format!("subgraph cluster_{id} {{"),
            format!("label={};", quote(head)),
            "labeljust=l;".into(),
            "fontname=\"monospace\";".into(),
        ]
    };
    out.push_str(
        &Clusters {
            step: &step,
            open: &open,
            close: "}",
        }
        .lines(pipeline),
    );
    for (from, to, kind) in edges(pipeline) {
        let style = match kind {
            EdgeKind::Implied => "",
            EdgeKind::Explicit => " [style=dashed, label=\"after\"]",
        };
        out.push_str(&format!(
            "  {} -> {}{style};\n",
            quote(&pipeline.steps[from].name),
            quote(&pipeline.steps[to].name)
        ));
    }
    out.push_str("}\n");
    out
}

/// Words Mermaid's flowchart parser reads as syntax when used as a node id.
const MERMAID_RESERVED: &[&str] = &[
    "end",
    "graph",
    "flowchart",
    "subgraph",
    "style",
    "class",
    "classdef",
    "click",
    "linkstyle",
    "direction",
    "call",
    "href",
    "default",
];

fn mermaid(pipeline: &ir::Pipeline) -> String {
    let ids: Vec<String> = pipeline
        .steps
        .iter()
        .map(|step| {
            let mut id = step.name.clone();
            while MERMAID_RESERVED.contains(&id.as_str())
                || (id != step.name && pipeline.step(&id).is_some())
            {
                id.push('_');
            }
            id
        })
        .collect();
    let escape = |text: &str| {
        text.replace('&', "#amp;")
            .replace('"', "#quot;")
            .replace('<', "#lt;")
            .replace('>', "#gt;")
    };
    let mut out = String::from("flowchart TD\n");
    out.push_str("  %% solid: uses an output ($<step.output>); dotted: explicit `after`\n");
    let step = |index: usize| {
        let label: Vec<String> = label_lines(&pipeline.steps[index])
            .iter()
            .map(|l| escape(l))
            .collect();
        format!("{}[\"{}\"]", ids[index], label.join("<br/>"))
    };
    let open = |id: BlockId, head: &str| {
        let mut block_id = format!("block{id}");
        while ids.contains(&block_id) {
            block_id.push('_');
        }
        vec![format!("subgraph {block_id}[\"{}\"]", escape(head))]
    };
    out.push_str(
        &Clusters {
            step: &step,
            open: &open,
            close: "end",
        }
        .lines(pipeline),
    );
    for (from, to, kind) in edges(pipeline) {
        let arrow = match kind {
            EdgeKind::Implied => "-->",
            EdgeKind::Explicit => "-. after .->",
        };
        out.push_str(&format!("  {} {arrow} {}\n", ids[from], ids[to]));
    }
    out
}

#[cfg(test)]
mod tests;
