//! Criterion suite of novacron-gpu-compute: each kernel on the GPU (data
//! resident, and with its transfers) beside its CPU twin, in the same group
//! and run, then the cost-model sweep with the regret at every point.
//!
//! The adapter is chosen as the library chooses it (hardware only); set
//! `NOVACRON_GPU=software` to bench Mesa's lavapipe, which only shows what
//! the cost model must know: on a CPU driver the CPU twin wins. Sizes are
//! small under a software adapter (`quick`) and reach 256 MiB / 4096³ on
//! hardware.
//!
//! Run: `NOVACRON_GPU=software cargo bench --bench gpu` (add `-- gpu_sgemm`
//! for one group).

#[path = "../examples/common/gpu_sweep.rs"]
mod gpu_sweep;

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput};
use novacron_gpu_compute::{Executor, ExecutorConfig, GpuContext, HistogramSpec, Placement};

struct Setup {
    executor: Executor,
    ctx: GpuContext,
    quick: bool,
}

fn setup() -> Option<Setup> {
    let executor = match Executor::new(ExecutorConfig::default().require_gpu(true)) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("gpu bench: no adapter ({e}); set NOVACRON_GPU=software to use lavapipe");
            return None;
        }
    };
    let ctx = executor.gpu()?.clone();
    let quick = ctx.adapter().is_software;
    eprintln!("gpu bench on {:?}", ctx.adapter());
    Some(Setup {
        executor,
        ctx,
        quick,
    })
}

fn stream_sizes(quick: bool) -> Vec<usize> {
    if quick {
        vec![1 << 12, 1 << 16, 1 << 20]
    } else {
        vec![1 << 12, 1 << 16, 1 << 20, 1 << 24, 1 << 26]
    }
}

fn label(n: usize) -> String {
    if n >= 1 << 20 {
        format!("{}Mi", n >> 20)
    } else {
        format!("{}Ki", n >> 10)
    }
}

fn stats(c: &mut Criterion, s: &Setup) {
    let mut group = c.benchmark_group("gpu_stats");
    group.sample_size(10);
    let gpu = s.executor.with_placement(Placement::Gpu);
    let cpu = s.executor.with_placement(Placement::Cpu);
    for n in stream_sizes(s.quick) {
        let x = gpu_sweep::data(n);
        let t = s.ctx.upload(&x).expect("upload");
        group.throughput(Throughput::Bytes(4 * n as u64));
        let id = label(n);
        group.bench_function(BenchmarkId::new("gpu_resident", &id), |b| {
            b.iter(|| s.ctx.stats(black_box(&t)).expect("stats"))
        });
        group.bench_function(BenchmarkId::new("gpu_with_upload", &id), |b| {
            b.iter(|| gpu.stats(black_box(&x)).expect("stats"))
        });
        group.bench_function(BenchmarkId::new("cpu", &id), |b| {
            b.iter(|| cpu.stats(black_box(&x)).expect("stats"))
        });
    }
    group.finish();
}

fn histogram(c: &mut Criterion, s: &Setup) {
    let mut group = c.benchmark_group("gpu_histogram");
    group.sample_size(10);
    let spec = HistogramSpec::new(0.0, 100.0, 256).expect("spec");
    let gpu = s.executor.with_placement(Placement::Gpu);
    let cpu = s.executor.with_placement(Placement::Cpu);
    for n in stream_sizes(s.quick) {
        let x = gpu_sweep::data(n);
        let t = s.ctx.upload(&x).expect("upload");
        group.throughput(Throughput::Bytes(4 * n as u64));
        let id = label(n);
        group.bench_function(BenchmarkId::new("gpu_resident", &id), |b| {
            b.iter(|| s.ctx.histogram(&t, &spec).expect("histogram"))
        });
        group.bench_function(BenchmarkId::new("gpu_with_upload", &id), |b| {
            b.iter(|| gpu.histogram(&x, &spec).expect("histogram"))
        });
        group.bench_function(BenchmarkId::new("cpu", &id), |b| {
            b.iter(|| cpu.histogram(&x, &spec).expect("histogram"))
        });
    }
    group.finish();
}

fn sort(c: &mut Criterion, s: &Setup) {
    let mut group = c.benchmark_group("gpu_sort");
    group.sample_size(10);
    let gpu = s.executor.with_placement(Placement::Gpu);
    let cpu = s.executor.with_placement(Placement::Cpu);
    let sizes = if s.quick {
        vec![1 << 12, 1 << 16]
    } else {
        vec![1 << 12, 1 << 16, 1 << 20, 1 << 24]
    };
    for n in sizes {
        let x = gpu_sweep::data(n);
        let t = s.ctx.upload(&x).expect("upload");
        group.throughput(Throughput::Elements(n as u64));
        let id = label(n);
        group.bench_function(BenchmarkId::new("gpu_resident", &id), |b| {
            b.iter(|| {
                s.ctx
                    .sort(&t)
                    .and_then(|r| r.slice_to_vec(0, 1))
                    .expect("sort")
            })
        });
        group.bench_function(BenchmarkId::new("gpu_with_transfers", &id), |b| {
            b.iter(|| gpu.sort(&x).expect("sort"))
        });
        group.bench_function(BenchmarkId::new("cpu", &id), |b| {
            b.iter(|| cpu.sort(&x).expect("sort"))
        });
    }
    group.finish();
}

fn sgemm(c: &mut Criterion, s: &Setup) {
    let mut group = c.benchmark_group("gpu_sgemm");
    group.sample_size(10);
    let gpu = s.executor.with_placement(Placement::Gpu);
    let cpu = s.executor.with_placement(Placement::Cpu);
    let sizes = if s.quick {
        vec![64, 128, 256]
    } else {
        vec![256, 1024, 2048, 4096]
    };
    for n in sizes {
        let a = gpu_sweep::data(n * n);
        let t = s.ctx.upload_matrix(&a, n, n).expect("upload");
        group.throughput(Throughput::Elements(2 * (n * n * n) as u64)); // flops
        let id = n.to_string();
        group.bench_function(BenchmarkId::new("gpu_resident", &id), |b| {
            b.iter(|| {
                s.ctx
                    .matmul(&t, &t)
                    .and_then(|c| c.slice_to_vec(0, 1))
                    .expect("matmul")
            })
        });
        group.bench_function(BenchmarkId::new("gpu_with_transfers", &id), |b| {
            b.iter(|| gpu.matmul(&a, &a, (n, n, n)).expect("matmul"))
        });
        if n <= 2048 {
            group.bench_function(BenchmarkId::new("cpu", &id), |b| {
                b.iter(|| cpu.matmul(&a, &a, (n, n, n)).expect("matmul"))
            });
        }
    }
    group.finish();
}

fn transfers(c: &mut Criterion, s: &Setup) {
    let mut group = c.benchmark_group("gpu_transfer");
    group.sample_size(10);
    let sizes = if s.quick {
        vec![1 << 10, 1 << 20, 1 << 22]
    } else {
        vec![1 << 10, 1 << 20, 1 << 26]
    };
    for n in sizes {
        let x = gpu_sweep::data(n);
        let t = s.ctx.upload(&x).expect("upload");
        group.throughput(Throughput::Bytes(4 * n as u64));
        let id = label(n);
        group.bench_function(BenchmarkId::new("upload", &id), |b| {
            b.iter(|| {
                s.ctx
                    .upload(&x)
                    .and_then(|t| t.slice_to_vec(0, 1))
                    .expect("upload")
            })
        });
        group.bench_function(BenchmarkId::new("download", &id), |b| {
            b.iter(|| t.to_vec().expect("download"))
        });
    }
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let Some(s) = setup() else { return };
    stats(&mut c, &s);
    histogram(&mut c, &s);
    sort(&mut c, &s);
    sgemm(&mut c, &s);
    transfers(&mut c, &s);
    c.final_summary();
    // The sweep is timed by hand (median of 5 per side per point): what it
    // reports is the model's choice against both measured paths.
    match gpu_sweep::sweep(&s.executor, s.quick, 5) {
        Ok(points) => print!("cost-model sweep:\n{}", gpu_sweep::report(&points)),
        Err(e) => eprintln!("cost-model sweep failed: {e}"),
    }
}
