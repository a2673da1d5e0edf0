//! The cost-model sweep of `novacron-gpu-compute`: at each point (operation,
//! size, where the data lives) time the GPU and the CPU path, ask the
//! executor's model which it would pick, and report the regret (time of the
//! choice ÷ time of the faster path). Shared by `benches/gpu.rs` and
//! `examples/gpu_check.rs`.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use novacron_gpu_compute::{Device, Executor, HistogramSpec, Layer, Mlp, Placement, Result};

/// One sweep point.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Point {
    pub(crate) op: &'static str,
    pub(crate) size: usize,
    pub(crate) resident: bool,
    pub(crate) cpu_ms: f64,
    pub(crate) gpu_ms: f64,
    pub(crate) chosen: &'static str,
    pub(crate) regret: f64,
}

/// Median wall time of `reps` runs of `f` after one warm-up run.
pub(crate) fn median(reps: usize, mut f: impl FnMut() -> Result<()>) -> Result<Duration> {
    f()?;
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed());
    }
    times.sort();
    Ok(times[times.len() / 2])
}

pub(crate) fn data(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i.wrapping_mul(2_654_435_761) >> 9) % 100_000) as f32 * 1e-3)
        .collect()
}

/// Sizes per operation: small enough for a software adapter when `quick`.
struct Sizes {
    stream: Vec<usize>,
    sort: Vec<usize>,
    gemm: Vec<usize>,
    mlp_rows: Vec<usize>,
}

fn sizes(quick: bool) -> Sizes {
    let pow = |lo: u32, hi: u32, step: usize| {
        (lo..=hi)
            .step_by(step)
            .map(|p| 1usize << p)
            .collect::<Vec<_>>()
    };
    if quick {
        Sizes {
            stream: pow(10, 22, 2),
            sort: pow(10, 18, 2),
            gemm: vec![16, 64, 128, 256],
            mlp_rows: vec![1, 64, 1024],
        }
    } else {
        Sizes {
            stream: pow(10, 28, 2),
            sort: pow(10, 24, 2),
            gemm: vec![16, 64, 256, 1024, 2048, 4096],
            mlp_rows: vec![1, 64, 1024, 16_384],
        }
    }
}

/// Runs the sweep; `reps` timed runs per side per point.
pub(crate) fn sweep(executor: &Executor, quick: bool, reps: usize) -> Result<Vec<Point>> {
    let gpu = executor.with_placement(Placement::Gpu);
    let cpu = executor.with_placement(Placement::Cpu);
    let auto = executor.with_placement(Placement::Auto);
    let Some(ctx) = executor.gpu() else {
        return Ok(Vec::new());
    };
    let s = sizes(quick);
    let mut points = Vec::new();
    let mut push = |op, size, resident, c: Duration, g: Duration, chosen: Device| {
        let (c, g) = (c.as_secs_f64(), g.as_secs_f64());
        let t = if chosen == Device::Gpu { g } else { c };
        points.push(Point {
            op,
            size,
            resident,
            cpu_ms: c * 1e3,
            gpu_ms: g * 1e3,
            chosen: if chosen == Device::Gpu { "gpu" } else { "cpu" },
            regret: t / c.min(g),
        });
    };
    let spec = HistogramSpec::new(0.0, 100.0, 64)?;
    for &n in &s.stream {
        let x = data(n);
        let t = ctx.upload(&x)?;
        for resident in [false, true] {
            let c = if resident {
                median(reps, || cpu.stats(&t).map(drop))?
            } else {
                median(reps, || cpu.stats(&x).map(drop))?
            };
            let g = if resident {
                median(reps, || gpu.stats(&t).map(drop))?
            } else {
                median(reps, || gpu.stats(&x).map(drop))?
            };
            let chosen = if resident {
                auto.stats(&t)?.report.device
            } else {
                auto.stats(&x)?.report.device
            };
            push("stats", n, resident, c, g, chosen);
        }
        let c = median(reps, || cpu.histogram(&x, &spec).map(drop))?;
        let g = median(reps, || gpu.histogram(&x, &spec).map(drop))?;
        push(
            "histogram",
            n,
            false,
            c,
            g,
            auto.histogram(&x, &spec)?.report.device,
        );
    }
    for &n in &s.sort {
        let x = data(n);
        let qs = [0.5, 0.95, 0.99];
        let c = median(reps, || cpu.percentiles(&x, &qs).map(drop))?;
        let g = median(reps, || gpu.percentiles(&x, &qs).map(drop))?;
        push(
            "percentiles",
            n,
            false,
            c,
            g,
            auto.percentiles(&x, &qs)?.report.device,
        );
    }
    for &n in &s.gemm {
        let a = data(n * n);
        let reps = if n >= 1024 { reps.min(3) } else { reps };
        let c = median(reps, || cpu.matmul(&a, &a, (n, n, n)).map(drop))?;
        let g = median(reps, || gpu.matmul(&a, &a, (n, n, n)).map(drop))?;
        push(
            "matmul",
            n,
            false,
            c,
            g,
            auto.matmul(&a, &a, (n, n, n))?.report.device,
        );
    }
    // The anomaly scorer's shape (110 → 64 → 32 → 1), weights resident.
    let sizes_mlp = [110usize, 64, 32, 1];
    let layers = sizes_mlp
        .windows(2)
        .map(|w| {
            Layer::new(
                data(w[0] * w[1]),
                data(w[1]),
                w[0],
                w[1],
                Default::default(),
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let mlp = Mlp::new(layers)?;
    let resident = ctx.upload_mlp(&mlp)?;
    for &rows in &s.mlp_rows {
        let x = data(rows * 110);
        let c = median(reps, || cpu.mlp_forward(&mlp, None, &x, rows).map(drop))?;
        let g = median(reps, || {
            gpu.mlp_forward(&mlp, Some(&resident), &x, rows).map(drop)
        })?;
        push(
            "mlp_forward",
            rows,
            false,
            c,
            g,
            auto.mlp_forward(&mlp, Some(&resident), &x, rows)?
                .report
                .device,
        );
    }
    Ok(points)
}

/// A table of the points and the summary line the target reads.
pub(crate) fn report(points: &[Point]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<12} {:>10} {:>8} {:>12} {:>12} {:>6} {:>7}",
        "op", "size", "resident", "cpu ms", "gpu ms", "chose", "regret"
    );
    for p in points {
        let _ = writeln!(
            out,
            "{:<12} {:>10} {:>8} {:>12.3} {:>12.3} {:>6} {:>7.3}",
            p.op, p.size, p.resident, p.cpu_ms, p.gpu_ms, p.chosen, p.regret
        );
    }
    let within = points.iter().filter(|p| p.regret <= 1.15).count();
    let worst = points.iter().map(|p| p.regret).fold(1.0, f64::max);
    let _ = writeln!(
        out,
        "regret <= 1.15 at {within} of {} points ({:.1} %); worst {worst:.3}",
        points.len(),
        100.0 * within as f64 / points.len().max(1) as f64
    );
    out
}
