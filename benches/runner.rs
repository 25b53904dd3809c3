//! Runner overhead: the whole `kfpl run` process on 200 steps that run
//! `true`, as a chain (each step after the previous) and as a fan-out (199
//! steps after one). Time per iteration / 200 is the per-step overhead:
//! process start, log files, output and metric collection, SQLite records.
//! Run with `cargo bench --bench runner`; figures in docs/performance.md.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use criterion::{Criterion, criterion_group, criterion_main};

const STEPS: usize = 200;

/// A pipeline of `STEPS` steps running `command` (`true`, or a short sleep).
fn program(chain: bool, command: &str) -> String {
    let mut out = String::from("pipeline overhead {\n");
    for i in 0..STEPS {
        let after = match (i, chain) {
            (0, _) => String::new(),
            (_, true) => format!("    after = [s{}]\n", i - 1),
            (_, false) => "    after = [s0]\n".to_string(),
        };
        let _ = write!(
            out,
            "  step s{i} {{\n    image = \"alpine:3.20\"\n{after}    command = \"{command}\"\n  }}\n"
        );
    }
    out.push_str("}\n");
    out
}

fn workdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kfpl-bench-runner-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn run_once(dir: &Path, file: &Path, parallelism: &str) {
    let status = Command::new(env!("CARGO_BIN_EXE_kfpl"))
        .arg("run")
        .arg(file)
        .args(["--parallelism", parallelism])
        .current_dir(dir)
        .env("KFPL_HOME", dir.join("home"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("kfpl runs");
    assert!(status.success());
}

fn runner(c: &mut Criterion) {
    let dir = workdir();
    let mut group = c.benchmark_group("run_200_true_steps");
    group.sample_size(10);
    for (name, chain) in [("chain", true), ("fanout", false)] {
        let file = dir.join(format!("{name}.kfp"));
        std::fs::write(&file, program(chain, "true")).expect("write program");
        group.bench_function(name, |b| b.iter(|| run_once(&dir, &file, "2")));
    }
    group.finish();
    // Slot use: 199 steps of 50 ms after one, 8 at a time. With every slot
    // kept busy this takes 199 × 50 ms / 8 ≈ 1.24 s plus the overhead.
    let mut group = c.benchmark_group("run_fanout_sleep_50ms");
    group.sample_size(10);
    let file = dir.join("fanout_sleep.kfp");
    std::fs::write(&file, program(false, "sleep 0.05")).expect("write program");
    group.bench_function("parallelism_8", |b| b.iter(|| run_once(&dir, &file, "8")));
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, runner);
criterion_main!(benches);
