//! The dependency graph: cycles (E0401) and the topological order.
//!
//! Kahn's algorithm with a min-heap on declaration order gives a stable,
//! deterministic order in O(E + V log V). Steps left over sit on or behind a
//! cycle; each cycle is found by walking dependencies among them and
//! reported once, naming every step on it in order.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::hash::FxHashMap;
use super::ir::{Block, BlockKind, Step};
use crate::diagnostics::{Code, Diagnostic, Diagnostics};

/// Sorts steps (given in declaration order) so dependencies come first; `None` on a cycle.
pub(super) fn sort(diagnostics: &mut Diagnostics, mut steps: Vec<Step>) -> Option<Vec<Step>> {
    let index: FxHashMap<&str, usize> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let mut deps = Lists::with_capacity(steps.len());
    for step in &steps {
        let known = step.dependencies.iter();
        deps.push(known.filter_map(|d| index.get(d.step.as_str()).copied()));
    }
    let dependents = deps.reversed();
    let mut waiting: Vec<usize> = (0..steps.len()).map(|i| deps.of(i).len()).collect();
    let mut ready: BinaryHeap<Reverse<usize>> = (0..steps.len())
        .filter(|&i| waiting[i] == 0)
        .map(Reverse)
        .collect();
    let mut order = Vec::with_capacity(steps.len());
    while let Some(Reverse(i)) = ready.pop() {
        order.push(i);
        for &j in dependents.of(i) {
            waiting[j] -= 1;
            if waiting[j] == 0 {
                ready.push(Reverse(j));
            }
        }
    }
    if order.len() < steps.len() {
        report_cycles(diagnostics, &steps, &deps, &waiting);
        return None;
    }
    if diagnostics.has_errors() {
        return None;
    }
    drop(index);
    permute(&mut steps, order);
    Some(steps)
}

/// A cycle among blocks and steps that the step graph alone does not show:
/// a step outside a block that reads one of the block's steps, while a step
/// in the block reads it (on Argo the block is one task, which would wait for
/// itself). Each dependency is seen at the innermost block holding both ends,
/// between the two members of that block that hold them.
pub(super) fn check_blocks(diagnostics: &mut Diagnostics, steps: &[Step], blocks: &[Block]) {
    if blocks.is_empty() {
        return;
    }
    let index: FxHashMap<&str, usize> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let path = |block: Option<usize>| {
        let mut out = super::ir::ancestors(block, |id| blocks.get(id).and_then(|b| b.parent));
        out.reverse();
        out
    };
    // Nodes: steps are 0..n, block b is n + b.
    let n = steps.len();
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); n + blocks.len()];
    let mut crosses_block = false;
    for (i, step) in steps.iter().enumerate() {
        let from_path = path(step.block);
        for dependency in &step.dependencies {
            let Some(&d) = index.get(dependency.step.as_str()) else {
                continue;
            };
            let to_path = path(steps[d].block);
            let common = from_path
                .iter()
                .zip(&to_path)
                .take_while(|(a, b)| a == b)
                .count();
            let from = from_path.get(common).map_or(i, |b| n + b);
            let to = to_path.get(common).map_or(d, |b| n + b);
            if from != to {
                crosses_block |= from >= n || to >= n;
                edges[from].push(to);
            }
        }
    }
    if !crosses_block {
        return;
    }
    if let Some(cycle) = find_cycle(&edges) {
        let name = |node: usize| {
            if node < n {
                format!("step `{}`", steps[node].name)
            } else {
                format!("the `{}` block", block_word(&blocks[node - n].kind))
            }
        };
        let names: Vec<String> = cycle.iter().map(|&node| name(node)).collect();
        let mut drawn = names.clone();
        drawn.push(names[0].clone());
        let span = |node: usize| {
            if node < n {
                steps[node].name_span
            } else {
                blocks[node - n].keyword
            }
        };
        let mut diagnostic = Diagnostic::new(
            Code::E0401,
            format!("{} depend on each other in a cycle", names.join(" and ")),
        );
        for (k, &node) in cycle.iter().enumerate() {
            let label = format!("{} waits for the next", name(node));
            diagnostic = if k == 0 {
                diagnostic.primary(span(node), label)
            } else {
                diagnostic.secondary(span(node), label)
            };
        }
        diagnostics.push(
            diagnostic
                .help("a block runs as one unit: a step outside it cannot both read the block's steps and be read inside it")
                .note(format!("cycle: {}", drawn.join(" → "))),
        );
    }
}

fn block_word(kind: &BlockKind) -> &'static str {
    match kind {
        BlockKind::If {
            otherwise: false, ..
        } => "if",
        BlockKind::If { .. } => "else",
        BlockKind::For { .. } => "for",
        BlockKind::Repeat { .. } => "repeat",
        BlockKind::Finally => "finally",
    }
}

/// One cycle of a directed graph, as its nodes in order, if it has one.
fn find_cycle(edges: &[Vec<usize>]) -> Option<Vec<usize>> {
    // Iterative depth-first search: 0 unseen, 1 on the stack, 2 done.
    let mut state = vec![0u8; edges.len()];
    for start in 0..edges.len() {
        if state[start] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        state[start] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&to) = edges[node].get(*next) {
                *next += 1;
                match state[to] {
                    0 => {
                        state[to] = 1;
                        stack.push((to, 0));
                    }
                    1 => {
                        let from = stack.iter().position(|&(n, _)| n == to).unwrap_or(0);
                        return Some(stack[from..].iter().map(|&(n, _)| n).collect());
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
                stack.pop();
            }
        }
    }
    None
}

/// Reorders `items` in place so that position k holds the item that was at
/// `order[k]`: follows each cycle of the permutation with swaps, so no
/// second vector of (large) steps is ever allocated.
fn permute<T>(items: &mut [T], mut order: Vec<usize>) {
    for start in 0..items.len() {
        let mut k = start;
        while order[k] != start {
            let from = order[k];
            items.swap(k, from);
            order[k] = k;
            k = from;
        }
        order[k] = k;
    }
}

/// A list of steps (indices) for each step, all in two allocations: a
/// `Vec` a step would cost an allocation and a free each.
struct Lists {
    /// Where each step's list starts in `items`, and where the last ends.
    starts: Vec<usize>,
    items: Vec<usize>,
}

impl Lists {
    fn with_capacity(steps: usize) -> Lists {
        let mut starts = Vec::with_capacity(steps + 1);
        starts.push(0);
        Lists {
            starts,
            items: Vec::new(),
        }
    }

    /// Adds the next step's list.
    fn push(&mut self, list: impl Iterator<Item = usize>) {
        self.items.extend(list);
        self.starts.push(self.items.len());
    }

    /// Step `step`'s list.
    fn of(&self, step: usize) -> &[usize] {
        &self.items[self.starts[step]..self.starts[step + 1]]
    }

    /// The lists the other way round: for each step, the steps whose lists
    /// name it, in order.
    fn reversed(&self) -> Lists {
        let steps = self.starts.len() - 1;
        let mut starts = vec![0; steps + 1];
        for &named in &self.items {
            starts[named + 1] += 1;
        }
        for step in 0..steps {
            starts[step + 1] += starts[step];
        }
        let mut next = starts.clone();
        let mut items = vec![0; self.items.len()];
        for step in 0..steps {
            for &named in self.of(step) {
                items[next[named]] = step;
                next[named] += 1;
            }
        }
        Lists { starts, items }
    }
}

/// Every step still waiting has a dependency that is also waiting, so walking
/// those edges from any of them must come back to a step already on the walk.
fn report_cycles(diagnostics: &mut Diagnostics, steps: &[Step], deps: &Lists, waiting: &[usize]) {
    const UNSEEN: usize = usize::MAX;
    let mut walk_id = vec![UNSEEN; steps.len()];
    for start in (0..steps.len()).filter(|&i| waiting[i] > 0) {
        if walk_id[start] != UNSEEN {
            continue;
        }
        let mut path: Vec<usize> = Vec::new();
        let mut at = start;
        loop {
            if walk_id[at] == start {
                let from = path.iter().position(|&p| p == at).unwrap_or(0);
                diagnostics.push(cycle_diagnostic(steps, &path[from..]));
                break;
            }
            if walk_id[at] != UNSEEN {
                break; // joins a walk already reported
            }
            walk_id[at] = start;
            path.push(at);
            match deps.of(at).iter().copied().find(|&d| waiting[d] > 0) {
                Some(next) => at = next,
                None => break,
            }
        }
    }
}

fn cycle_diagnostic(steps: &[Step], cycle: &[usize]) -> Diagnostic {
    let names: Vec<&str> = cycle.iter().map(|&i| steps[i].name.as_str()).collect();
    let listed = match names.as_slice() {
        [one] => format!("`{one}`"),
        [init @ .., last] => format!(
            "{} and `{last}`",
            init.iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        [] => String::new(),
    };
    let mut drawn: Vec<&str> = names.clone();
    drawn.push(names[0]);
    let mut diagnostic = Diagnostic::new(
        Code::E0401,
        format!("steps {listed} depend on each other in a cycle"),
    );
    for (k, &i) in cycle.iter().enumerate() {
        let next = &steps[cycle[(k + 1) % cycle.len()]].name;
        let span = steps[i]
            .dependencies
            .iter()
            .find(|d| d.step == *next)
            .map(|d| d.span);
        if let Some(span) = span {
            let message = format!("`{}` depends on `{next}` here", steps[i].name);
            diagnostic = if k == 0 {
                diagnostic.primary(span, message)
            } else {
                diagnostic.secondary(span, message)
            };
        }
    }
    diagnostic
        .help("remove one of these dependencies; steps must form a graph without cycles")
        .note(format!(
            "cycle: {} (each step needs the next)",
            drawn.join(" → ")
        ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn permute_applies_any_order() {
        for order in [
            vec![2, 0, 1],
            vec![0, 1, 2],
            vec![1, 2, 0],
            vec![2, 1, 0],
            vec![3, 0, 2, 1],
        ] {
            let mut items: Vec<usize> = (0..order.len()).collect();
            super::permute(&mut items, order.clone());
            assert_eq!(items, order);
        }
    }
}
