//! Compiler benchmarks: each stage at 1k, 10k and 100k steps on programs
//! from `kfpl::generate` (a layered DAG with lets, params, outputs, metrics
//! and claims). Run with `cargo bench --bench compiler`; figures are in
//! docs/performance.md.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kfpl::SourceFile;

const SIZES: [usize; 3] = [1_000, 10_000, 100_000];

fn stages(c: &mut Criterion) {
    let mut group = c.benchmark_group("stages");
    group.sample_size(10);
    for steps in SIZES {
        let file = SourceFile::new("bench.kfp", kfpl::generate::program(steps));
        group.throughput(Throughput::Elements(steps as u64));
        group.bench_with_input(BenchmarkId::new("parse", steps), &file, |b, file| {
            b.iter(|| black_box(kfpl::parse(file)))
        });
        group.bench_with_input(BenchmarkId::new("check", steps), &file, |b, file| {
            b.iter(|| black_box(kfpl::check(file)))
        });
    }
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
