//! Runs under the Argo model (../shared/tools/argo-sim) and under `kfpl
//! run`, each reduced to the same [`Summary`] so the two can be compared:
//! every step instance (`train[1]` for a loop's iteration, Argo's item
//! index; `next#2` for a repeat's pass) with its status, outputs and stdout.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// The Argo v3.3 model (README.md beside it).
pub(crate) const SIMULATOR: &str = "../shared/tools/argo-sim/argo_sim.py";

/// What a run means, as `key → value` lines: `run`, `step NAME`,
/// `step NAME output O`, `step NAME metric M`, `claim PATH`. Step names are
/// in their Kubernetes form (`after_slow` → `after-slow`), as Argo names them.
pub(crate) type Summary = BTreeMap<String, String>;

/// The simulator's tools: `bwrap` that can make a sandbox here (root, or
/// user namespaces allowed) and Python 3 with PyYAML. Missing, the test
/// fails under CI and is skipped with a notice elsewhere.
pub(crate) fn simulator_can_run() -> bool {
    super::require_tool("bwrap")
        && super::require("`bwrap` able to make a sandbox", bwrap_works())
        && super::require("python3 with PyYAML", has_pyyaml())
}

fn bwrap_works() -> bool {
    Command::new("bwrap")
        .args([
            "--ro-bind",
            "/",
            "/",
            "--dev",
            "/dev",
            "--proc",
            "/proc",
            "true",
        ])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn has_pyyaml() -> bool {
    Command::new("python3")
        .args(["-c", "import yaml"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Argo's phases in `kfpl run`'s words: an Error (a pod that failed before
/// its main container, say) is a failure to kfpl.
pub(crate) fn argo_phase(phase: &Value) -> String {
    match phase.as_str().unwrap_or("?") {
        "Error" => "failed".into(),
        other => lower(other),
    }
}

/// A value on one line, every character visible.
pub(crate) fn quoted(value: &str) -> String {
    format!("{value:?}")
}

pub(crate) fn lower(text: &str) -> String {
    text.to_lowercase()
}

pub(crate) fn kubernetes_name(step: &str) -> String {
    step.replace('_', "-")
}

/// The lines where the two summaries differ.
pub(crate) fn mismatches(ours: &Summary, argo: &Summary) -> Vec<String> {
    let keys: std::collections::BTreeSet<&String> = ours.keys().chain(argo.keys()).collect();
    keys.into_iter()
        .filter(|key| ours.get(*key) != argo.get(*key))
        .map(|key| {
            let side = |s: &Summary| s.get(key).map_or("(absent)", String::as_str).to_string();
            format!(
                "  {key}:\n    kfpl run: {}\n    argo:     {}",
                side(ours),
                side(argo)
            )
        })
        .collect()
}

pub(crate) fn render(summary: &Summary) -> String {
    summary
        .iter()
        .map(|(key, value)| format!("{key} = {value}\n"))
        .collect()
}

/// The step names a program declares (in Kubernetes form), read from its
/// text: `step NAME {` (the v2 checker is not needed for that).
pub(crate) fn step_names(source: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|line| line.trim().strip_prefix("step "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(kubernetes_name)
        .collect()
}

/// The run as lines: `run`, then for each step node `step NAME[i]#p` (its
/// loop indexes outermost first, its repeat pass when in one) with its
/// status, outputs and stdout; a step no node stands for is `not run`;
/// kfpl's helper pods (a repeat out of passes) with their stderr.
pub(crate) fn argo_instances(result: &Value, steps: &[String]) -> Summary {
    let mut summary = Summary::new();
    summary.insert("run".into(), argo_phase(&result["workflow"]["phase"]));
    let mut seen = std::collections::BTreeSet::new();
    let nodes: &[Value] = result["nodes"].as_array().map_or(&[], Vec::as_slice);
    for node in nodes {
        let kind = node["type"].as_str().unwrap_or("");
        let segments = node_segments(node["name"].as_str().unwrap_or(""));
        let Some(last) = segments.last() else {
            continue;
        };
        if !matches!(kind, "Pod" | "Skipped" | "Retry") || last.contains('(') {
            continue;
        }
        let phase = node["phase"].as_str().unwrap_or("?");
        if !steps.contains(last) {
            if kind == "Pod" {
                let stderr = node["stderr"].as_str().unwrap_or("");
                summary.insert(
                    format!("helper {last}"),
                    format!("{} {}", argo_phase(&node["phase"]), quoted(stderr)),
                );
            }
            continue;
        }
        seen.insert(last.clone());
        let key = format!("step {last}{}", node_path(&segments));
        let attempts = match kind {
            "Retry" => node["children"].as_array().map_or(0, Vec::len),
            // A node whose `when` could not be evaluated ran no pod.
            "Skipped" => 0,
            _ => 1,
        };
        let status = match phase {
            "Skipped" | "Omitted" => "not run".to_string(),
            _ => format!("{} attempts={attempts}", argo_phase(&node["phase"])),
        };
        if phase == "Succeeded" {
            let parameters = &node["outputs"]["parameters"];
            for (output, value) in parameters.as_object().into_iter().flatten() {
                let value = value.as_str().unwrap_or("?");
                summary.insert(format!("{key} output {output}"), quoted(value));
            }
            let artifacts = &node["outputs"]["artifacts"];
            for (output, tree) in artifacts.as_object().into_iter().flatten() {
                // KFP's own artifacts are compared where they are read: metrics
                // as metrics, UI metadata by `v2_visuals_keep_the_same_metadata`.
                if output != "mlpipeline-metrics" && output != "mlpipeline-ui-metadata" {
                    summary.insert(format!("{key} file {output}"), argo_file(tree));
                }
            }
            // A step with retries is a Retry node; its last attempt printed.
            let last_attempt = node["children"]
                .as_array()
                .and_then(|children| children.last())
                .and_then(|id| nodes.iter().find(|n| n["id"] == *id));
            let printed = if kind == "Retry" {
                last_attempt
            } else {
                Some(node)
            };
            if let Some(stdout) = printed.and_then(|n| n["stdout"].as_str()) {
                summary.insert(format!("{key} stdout"), quoted(stdout));
            }
        }
        summary.insert(key, status);
    }
    for step in steps {
        if !seen.contains(step) {
            summary.insert(format!("step {step}"), "not run".into());
        }
    }
    summary
}

/// A node's name in segments, the workflow's name dropped: `.` splits,
/// except inside a loop child's `(index:item)`.
fn node_segments(name: &str) -> Vec<String> {
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    for c in name.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            '.' if depth == 0 => {
                segments.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    segments.push(current);
    segments.remove(0);
    segments
}

/// `[i]` for each loop child on the way (Argo's `T(i:item)`), then `#p`
/// inside a repeat: its pass, counted by the guards (`…-next`) passed.
fn node_path(segments: &[String]) -> String {
    let mut out = String::new();
    let mut passes = 0;
    let mut in_repeat = false;
    for segment in &segments[..segments.len() - 1] {
        if let Some((_, rest)) = segment.split_once('(') {
            let index = rest.split(':').next().unwrap_or("?");
            out.push_str(&format!("[{index}]"));
        } else if segment.starts_with("repeat-") && segment.ends_with("-next") {
            passes += 1;
        } else if segment.starts_with("repeat-") {
            in_repeat = true;
        }
    }
    if in_repeat {
        out.push_str(&format!("#{}", passes + 1));
    }
    out
}

/// `work#2[1] k=2` → `work[1]#2`, in Kubernetes form.
fn instance_key(record: &str) -> String {
    let head = record.split(' ').next().unwrap_or(record);
    let step_end = head.find(['[', '#']).unwrap_or(head.len());
    let (step, marks) = head.split_at(step_end);
    let mut loops = String::new();
    let mut pass = String::new();
    let mut rest = marks;
    while let Some(c) = rest.chars().next() {
        let end = rest[1..].find(['[', '#']).map_or(rest.len(), |n| n + 1);
        match c {
            '[' => loops.push_str(&rest[..end]),
            _ => pass.push_str(&rest[..end]),
        }
        rest = &rest[end..];
    }
    format!("{}{loops}{pass}", kubernetes_name(step))
}

/// A run `kfpl runs show --format json` printed, as the lines
/// [`argo_instances`] writes for Argo: a record `train[1] lr=0.1` or
/// `work#2[1] k=2` is `step train[1]` or `step work[1]#2` (loop indexes
/// outermost first, then the pass).
pub(crate) fn kfpl_instances(run: &Value) -> Summary {
    let mut summary = Summary::new();
    summary.insert("run".into(), lower(run["status"].as_str().unwrap_or("?")));
    for step in run["steps"].as_array().into_iter().flatten() {
        let name = step["name"].as_str().unwrap_or("?");
        let key = format!("step {}", instance_key(name));
        let status = match step["status"].as_str().unwrap_or("?") {
            "skipped" => "not run".to_string(),
            other => format!("{other} attempts={}", step["attempts"]),
        };
        if status.starts_with("succeeded") {
            for (output, value) in step["outputs"].as_object().into_iter().flatten() {
                let value = value.as_str().unwrap_or("?");
                match kfpl_file(value) {
                    Some(file) => summary.insert(format!("{key} file {output}"), file),
                    None => summary.insert(format!("{key} output {output}"), quoted(value)),
                };
            }
            let stdout = step["stdout_log"]
                .as_str()
                .and_then(|p| std::fs::read_to_string(p).ok())
                .unwrap_or_default();
            summary.insert(format!("{key} stdout"), quoted(&stdout));
        }
        summary.insert(key, status);
    }
    summary
}

/// Runs `workflow` under the Argo model with `params`, claims under
/// `dir/claims`: the simulator's result.
pub(crate) fn simulate(
    workflow: &Path,
    params: &[(String, String)],
    dir: &Path,
) -> Result<Value, String> {
    let result = dir.join("result.json");
    let out = Command::new("python3")
        .arg(super::root().join(SIMULATOR))
        .arg(workflow)
        .args(
            params
                .iter()
                .flat_map(|(n, v)| ["-p".to_string(), format!("{n}={v}")]),
        )
        .arg("--claims")
        .arg(dir.join("claims"))
        .arg("--out")
        .arg(&result)
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    if !matches!(out.status.code(), Some(0 | 1)) {
        return Err(format!(
            "the simulator refused the workflow or broke ({}):\n{}",
            out.status,
            super::text(&out.stderr)
        ));
    }
    let bytes = std::fs::read(&result).map_err(|e| format!("{}: {e}", result.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("result.json: {e}"))
}

/// The lines of a summary that both sides have: kfpl's helper pods (a
/// repeat out of passes) exist only on Argo.
pub(crate) fn without_helpers(summary: Summary) -> Summary {
    summary
        .into_iter()
        .filter(|(key, _)| !key.starts_with("helper "))
        .collect()
}

/// A `file` output the Argo model uploaded (its summary of the artifact's
/// tree), as [`kfpl_file`] writes kfpl's record: `file, 3 bytes` or
/// `folder, 2 files, 8 bytes`.
fn argo_file(tree: &Value) -> String {
    let size = |leaf: &Value| leaf["content"].as_str().map_or(0, str::len);
    match tree["files"].as_object() {
        Some(files) => {
            let bytes: usize = files.values().map(size).sum();
            match files.len() {
                1 => format!("folder, 1 file, {bytes} bytes"),
                n => format!("folder, {n} files, {bytes} bytes"),
            }
        }
        None => format!("file, {} bytes", size(tree)),
    }
}

/// The size part of kfpl's record of a `file` output
/// (`train/outputs/model (file, 3 bytes)`), `None` for any other value.
fn kfpl_file(value: &str) -> Option<String> {
    let (_, size) = value.rsplit_once(" (")?;
    let size = size.strip_suffix(')')?;
    (size.starts_with("file, ") || size.starts_with("folder, ")).then(|| size.to_string())
}
