//! The GPU inventory: how many devices `kfpl run` may hand out.
//!
//! `KFPL_GPUS=N` declares N devices (ids `0..N`), which tests and machines
//! without `nvidia-smi` use; otherwise `nvidia-smi -L` is asked and each
//! `GPU i: …` line is one device; without either there are none. Steps get
//! their share as `CUDA_VISIBLE_DEVICES` ("0,1"); steps that ask for no GPU
//! get `CUDA_VISIBLE_DEVICES=""` so they cannot take one that another step
//! holds (as on Kubernetes, where a pod without `nvidia.com/gpu` sees none).

use std::process::{Command, Stdio};

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
