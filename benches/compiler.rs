//! Compiler benchmarks: each stage at 1k, 10k and 100k steps on programs
//! from `kfpl::generate` (a layered DAG with lets, params, outputs, metrics
//! and claims). Run with `cargo bench --bench compiler`; figures are in
//! docs/performance.md.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kfpl::SourceFile;

/// Program sizes: all three under `cargo bench`; only the smallest when
/// `cargo test --all-targets` runs the benchmarks once as a smoke test
/// (a debug build of the 100k case would take minutes).
fn sizes() -> &'static [usize] {
    if std::env::args().any(|a| a == "--bench") {
        &[1_000, 10_000, 100_000]
    } else {
        &[1_000]
    }
}

fn stages(c: &mut Criterion) {
    let mut group = c.benchmark_group("stages");
    group.sample_size(10);
    for &steps in sizes() {
        let file = SourceFile::new("bench.kfp", kfpl::generate::program(steps));
        group.throughput(Throughput::Elements(steps as u64));
        group.bench_with_input(BenchmarkId::new("parse", steps), &file, |b, file| {
            b.iter(|| black_box(kfpl::parse(file)))
        });
        group.bench_with_input(BenchmarkId::new("check", steps), &file, |b, file| {
            b.iter(|| black_box(kfpl::check(file)))
        });
        let pipeline = kfpl::check(&file)
            .pipeline
            .expect("generated programs check clean");
        let values =
            kfpl::params::bind(&pipeline, &[], kfpl::params::Missing::Error).expect("defaults");
        let git_image = kfpl::lower::DEFAULT_GIT_IMAGE;
        group.bench_with_input(
            BenchmarkId::new("lower", steps),
            &pipeline,
            |b, pipeline| b.iter(|| black_box(kfpl::lower::lower(pipeline, &values, git_image))),
        );
        // The whole library path `kfpl compile` takes: check, lower and
        // write one template at a time.
        group.bench_with_input(
            BenchmarkId::new("compile_streamed", steps),
            &file,
            |b, file| {
                b.iter(|| {
                    let options = kfpl::CompileOptions::default();
                    black_box(kfpl::lower::compile_streamed(file, &options, |workflow| {
                        kfpl::lower::yaml::write_streamed(workflow, std::io::sink())
                    }))
                })
            },
        );
        let workflow = kfpl::lower::lower(&pipeline, &values, git_image).expect("lowers");
        group.bench_with_input(
            BenchmarkId::new("serialise", steps),
            &workflow,
            |b, workflow| {
                b.iter(|| {
                    let mut sink = std::io::sink();
                    black_box(kfpl::lower::yaml::write_yaml(workflow, &mut sink))
                })
            },
        );
    }
    group.finish();
}

/// The whole `kfpl compile` process on each shipped example.
fn whole_process(c: &mut Criterion) {
    let mut group = c.benchmark_group("kfpl_compile_process");
    group.sample_size(20);
    let mut examples: Vec<_> = std::fs::read_dir("examples")
        .expect("examples/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "kfp"))
        .collect();
    examples.sort();
    for path in examples {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        group.bench_function(name, |b| {
            b.iter(|| {
                let out = std::process::Command::new(env!("CARGO_BIN_EXE_kfpl"))
                    .arg("compile")
                    .arg(&path)
                    .output()
                    .expect("kfpl runs");
                assert!(out.status.success());
            })
        });
    }
    group.finish();
}

criterion_group!(benches, stages, whole_process);
criterion_main!(benches);
