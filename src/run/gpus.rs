//! The GPU inventory: how many devices `kfpl run` may hand out.
//!
//! `KFPL_GPUS=N` declares N devices (ids `0..N`), which tests and machines
//! without `nvidia-smi` use; otherwise `nvidia-smi -L` is asked and each
//! `GPU i: …` line is one device; without either there are none. Steps get
//! their share as `CUDA_VISIBLE_DEVICES` ("0,1"); steps that ask for no GPU
//! get `CUDA_VISIBLE_DEVICES=""` so they cannot take one that another step
//! holds (as on Kubernetes, where a pod without `nvidia.com/gpu` sees none).
//!
//! A step whose `gpus` reads an upstream output learns its need when it is
//! ready ([`start_values`]), where its other resource values read from
//! outputs are checked too.

use std::process::{Command, Stdio};

use super::StepProblem;
use crate::check::cluster::{
    limits_and_requests, quantity_value, resource_templates, runtime_value_problem,
};
use crate::check::ir::{self, Count, Part, Template};
use crate::check::params::whole_number;
use crate::diagnostics::Code;

/// Where the inventory came from and how many devices it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Inventory {
    /// Devices, ids `0..count`.
    pub(crate) count: u32,
    /// `KFPL_GPUS`, `nvidia-smi -L` or `none found`.
    pub(crate) source: &'static str,
}

/// Reads `KFPL_GPUS`, else counts `nvidia-smi -L` lines; `Err` holds the bad `KFPL_GPUS` value.
pub(crate) fn inventory() -> Result<Inventory, String> {
    if let Some(value) = std::env::var_os("KFPL_GPUS") {
        let text = value.to_string_lossy().into_owned();
        return match text.trim().parse::<u32>() {
            Ok(count) => Ok(Inventory {
                count,
                source: "KFPL_GPUS",
            }),
            Err(_) => Err(text),
        };
    }
    let listed = Command::new("nvidia-smi")
        .arg("-L")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    match listed {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            let count = text.lines().filter(|l| l.starts_with("GPU ")).count();
            Ok(Inventory {
                count: u32::try_from(count).unwrap_or(u32::MAX),
                source: "nvidia-smi -L",
            })
        }
        _ => Ok(Inventory {
            count: 0,
            source: "none found",
        }),
    }
}

/// `CUDA_VISIBLE_DEVICES` for a share of GPUs: `"0,1"`, or `""` for none.
pub(crate) fn visible_devices(ids: &[u32]) -> String {
    ids.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

/// A step's resource values that read upstream outputs, checked when the
/// step is ready (the outputs are known then, and before any pod or
/// process is made): each must hold what its attribute takes, a request no
/// more than its limit, and `gpus` no more than the machine's `total`.
/// `Ok` holds the step's GPU need (`fixed` when `gpus` reads no output);
/// `render` gives a value's text, `None` when it cannot be made.
pub(crate) fn start_values(
    step: &ir::Step,
    fixed: u32,
    total: u32,
    render: &dyn Fn(&Template) -> Option<String>,
) -> Result<u32, StepProblem> {
    for (field, template) in resource_templates(step) {
        if !reads_output(template) {
            continue; // fixed: checked when checking; a param's: when bound
        }
        let text = render(template).unwrap_or_default();
        if let Some(problem) = runtime_value_problem(field, &text) {
            return Err(invalid(format!("{problem} ({})", sources(template))));
        }
    }
    request_within_limit(step, render)?;
    let Count::Output(count) = &step.gpus else {
        return Ok(fixed);
    };
    let (from, output, span) = (&count.step, &count.output, &count.span);
    let part = Part::Output {
        step: from.clone(),
        output: output.clone(),
        span: *span,
    };
    let text = render(&Template {
        parts: Box::new([part]),
        span: *span,
    })
    .unwrap_or_default();
    let from = format!("from `{from}.{output}`");
    if let Some(problem) = runtime_value_problem("gpus", &text) {
        return Err(invalid(format!("{problem} ({from})")));
    }
    let need = whole_number(&text).unwrap_or(0);
    if need > total {
        return Err(StepProblem {
            code: Code::E0602,
            message: format!(
                "`gpus` is {need} ({from}), but this machine has {total}; declare them with `KFPL_GPUS=N`"
            ),
        });
    }
    Ok(need)
}

/// E0358 when a request read at start is above its limit (both read now:
/// a fixed or param side is rendered the same way).
fn request_within_limit(
    step: &ir::Step,
    render: &dyn Fn(&Template) -> Option<String>,
) -> Result<(), StepProblem> {
    for (limit_name, limit, request) in limits_and_requests(step) {
        if !reads_output(limit) && !reads_output(request) {
            continue; // compared when checking, or with the params
        }
        let limit_text = render(limit).unwrap_or_default();
        let request_text = render(request).unwrap_or_default();
        if quantity_value(&request_text) > quantity_value(&limit_text) {
            return Err(invalid(format!(
                "`{limit_name}_request` is `{request_text}`, more than its `{limit_name}` `{limit_text}`"
            )));
        }
    }
    Ok(())
}

fn reads_output(template: &Template) -> bool {
    template
        .references()
        .iter()
        .any(|part| matches!(part, Part::Output { .. }))
}

/// `from `size.cpu``: the outputs a value read.
fn sources(template: &Template) -> String {
    let outputs: Vec<String> = template
        .references()
        .iter()
        .filter_map(|part| match part {
            Part::Output { step, output, .. } => Some(format!("`{step}.{output}`")),
            _ => None,
        })
        .collect();
    format!("from {}", outputs.join(", "))
}

fn invalid(message: String) -> StepProblem {
    StepProblem {
        code: Code::E0358,
        message,
    }
}
