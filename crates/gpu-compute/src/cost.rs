//! The GPU-vs-CPU cost model: rates measured at start-up, a prediction per
//! call from the bytes it moves and the work it does.

use std::time::{Duration, Instant};

use crate::context::GpuContext;
use crate::error::Result;
use crate::kernels::{histogram, reduce, sort};
use crate::tensor::GpuTensor;

/// What a call costs in units the model has rates for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Work {
    /// Bytes copied host → device.
    pub(crate) upload: f64,
    /// Bytes copied device → host.
    pub(crate) download: f64,
    pub(crate) kind: Kind,
    /// Elements (stream and sort kinds) or flops (gemm).
    pub(crate) amount: f64,
}

impl Work {
    /// The units the rate of `kind` counts on one side.
    fn units(&self, gpu: bool) -> f64 {
        match self.kind {
            Kind::Sort => sort_units(self.amount as usize, gpu),
            _ => self.amount,
        }
    }
}

/// Which measured rate applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Stats,
    Histogram,
    Sort,
    Gemm,
}

/// Rates of one device: elements (or flops) per second per kind.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Rates {
    /// Elements per second of a reduction to [`Stats`](crate::Stats).
    pub stats: f64,
    /// Elements per second of a histogram.
    pub histogram: f64,
    /// Sort work per second: `n·log2(n)` units on the CPU,
    /// `p·log2(p)·(log2(p)+1)/2` (the bitonic network, `p` padded) on the GPU.
    pub sort: f64,
    /// Flops per second of SGEMM.
    pub gemm: f64,
}

impl Rates {
    fn of(&self, kind: Kind) -> f64 {
        match kind {
            Kind::Stats => self.stats,
            Kind::Histogram => self.histogram,
            Kind::Sort => self.sort,
            Kind::Gemm => self.gemm,
        }
    }
}

/// The model: measured rates of both devices plus the GPU's fixed costs.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct CostModel {
    /// CPU rates.
    pub cpu: Rates,
    /// GPU rates (`None` without a GPU).
    pub gpu: Option<GpuRates>,
}

/// The GPU side of a [`CostModel`].
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct GpuRates {
    /// Kernel rates on resident data.
    pub kernels: Rates,
    /// Seconds of one submit and wait with a tiny readback.
    pub latency: f64,
    /// Host → device bytes per second.
    pub upload: f64,
    /// Device → host bytes per second.
    pub download: f64,
}

/// Sort work units of `n` keys on each side.
pub(crate) fn sort_units(n: usize, gpu: bool) -> f64 {
    if gpu {
        let p = n.next_power_of_two().max(512) as f64;
        let lg = p.log2();
        p * lg * (lg + 1.0) / 2.0
    } else {
        let n = n.max(2) as f64;
        n * n.log2()
    }
}

/// Longest a calibration of one kind may take on one device.
const STEP_BUDGET: Duration = Duration::from_millis(60);

/// Times `f(size)` at doubling sizes until one run takes a few times the
/// fixed cost or the budget is spent; returns `(units, seconds)` of the
/// last run minus `fixed`.
fn ramp(
    mut size: usize,
    max_size: usize,
    fixed: f64,
    units: impl Fn(usize) -> f64,
    mut f: impl FnMut(usize) -> Result<()>,
) -> Result<f64> {
    let started = Instant::now();
    loop {
        f(size)?; // warm: compiles kernels, fills the pool
        let t0 = Instant::now();
        f(size)?;
        let t = t0.elapsed().as_secs_f64();
        let enough = t > 8.0 * fixed.max(20e-6) && t > 2e-3;
        if enough || size * 2 > max_size || started.elapsed() > STEP_BUDGET {
            return Ok(units(size) / (t - fixed).max(t * 0.1).max(1e-9));
        }
        size *= 2;
    }
}

/// The rate of `run` on resident tensors of `shape(size)` cut from `host`
/// (uploaded once per size, outside the timing).
fn resident_rate(
    ctx: &GpuContext,
    host: &[f32],
    (start, max): (usize, usize),
    fixed: f64,
    shape: impl Fn(usize) -> (usize, usize),
    units: impl Fn(usize) -> f64,
    run: impl Fn(&GpuTensor) -> Result<()>,
) -> Result<f64> {
    // The ramp doubles from `start`: stop at the last size the host data holds.
    let fits = |n: usize| {
        let (r, c) = shape(n);
        r * c <= host.len()
    };
    let mut last = start;
    while last * 2 <= max && fits(last * 2) {
        last *= 2;
    }
    let max = last;
    let mut cached: Option<(usize, GpuTensor)> = None;
    ramp(start, max, fixed, units, |n| {
        let tensor = match &cached {
            Some((m, t)) if *m == n => t.clone(),
            _ => {
                let (r, c) = shape(n);
                let t = ctx.upload_matrix(&host[..r * c], r, c)?;
                cached = Some((n, t.clone()));
                t
            }
        };
        run(&tensor)
    })
}

fn data(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i.wrapping_mul(2_654_435_761) >> 7) % 10_000) as f32 * 0.01)
        .collect()
}

impl CostModel {
    /// Measures the CPU twins (tens of milliseconds).
    pub(crate) fn calibrate_cpu() -> Result<Rates> {
        let spec = histogram::HistogramSpec::new(0.0, 100.0, 64)?;
        let big = data(1 << 22);
        Ok(Rates {
            stats: ramp(
                1 << 14,
                1 << 22,
                0.0,
                |n| n as f64,
                |n| reduce::cpu(&big[..n]).map(drop),
            )?,
            histogram: ramp(
                1 << 14,
                1 << 22,
                0.0,
                |n| n as f64,
                |n| histogram::cpu(&big[..n], &spec).map(drop),
            )?,
            sort: ramp(
                1 << 12,
                1 << 20,
                0.0,
                |n| sort_units(n, false),
                |n| sort::cpu(&big[..n]).map(drop),
            )?,
            gemm: ramp(
                32,
                512,
                0.0,
                |n| 2.0 * (n * n * n) as f64,
                |n| {
                    crate::kernels::gemm::cpu(
                        &big[..n * n],
                        &big[..n * n],
                        None,
                        (n, n, n),
                        Default::default(),
                    )
                    .map(drop)
                },
            )?,
        })
    }

    /// Measures a GPU: latency, both transfer directions, each kernel kind
    /// on resident data (a fraction of a second on a software adapter).
    pub(crate) fn calibrate_gpu(ctx: &GpuContext) -> Result<GpuRates> {
        let tiny = ctx.upload(&[1.0; 64])?;
        ctx.stats(&tiny)?;
        let mut latency = f64::INFINITY;
        for _ in 0..5 {
            let t0 = Instant::now();
            ctx.stats(&tiny)?;
            latency = latency.min(t0.elapsed().as_secs_f64());
        }
        let max = (ctx.max_tensor_bytes() / 4).min(1 << 24) as usize;
        let host = data(max.min(1 << 22));
        let cap = host.len();
        let upload = ramp(
            1 << 16,
            cap,
            latency,
            |n| 4.0 * n as f64,
            |n| {
                let t = ctx.upload(&host[..n])?;
                ctx.wait_idle("calibration")?;
                drop(t);
                Ok(())
            },
        )?;
        let resident = ctx.upload(&host)?;
        let download = ramp(
            1 << 16,
            cap,
            latency,
            |n| 4.0 * n as f64,
            |n| resident.slice_to_vec(0, n).map(drop),
        )?;
        let spec = histogram::HistogramSpec::new(0.0, 100.0, 64)?;
        let vector = |n: usize| (1, n);
        let square = |n: usize| (n, n);
        let elements = |n: usize| n as f64;
        let kernels = Rates {
            stats: resident_rate(ctx, &host, (1 << 14, cap), latency, vector, elements, |t| {
                ctx.stats(t).map(drop)
            })?,
            histogram: resident_rate(ctx, &host, (1 << 14, cap), latency, vector, elements, |t| {
                ctx.histogram(t, &spec).map(drop)
            })?,
            sort: resident_rate(
                ctx,
                &host,
                (1 << 12, cap.min(1 << 22)),
                latency,
                vector,
                |n| sort_units(n, true),
                |t| ctx.sort(t)?.slice_to_vec(0, 1).map(drop),
            )?,
            gemm: resident_rate(
                ctx,
                &host,
                (32, 2048),
                latency,
                square,
                |n| 2.0 * (n * n * n) as f64,
                |t| ctx.matmul(t, t)?.slice_to_vec(0, 1).map(drop),
            )?,
        };
        drop(resident);
        Ok(GpuRates {
            kernels,
            latency,
            upload,
            download,
        })
    }

    /// Predicted CPU time; `resident` inputs must first come back from the GPU.
    pub(crate) fn predict_cpu(&self, work: &Work, resident_bytes: f64) -> Duration {
        let mut s = work.units(false) / self.cpu.of(work.kind);
        if resident_bytes > 0.0
            && let Some(gpu) = &self.gpu
        {
            s += gpu.latency + resident_bytes / gpu.download;
        }
        Duration::from_secs_f64(s)
    }

    /// Predicted GPU time, transfers included; `None` without a GPU.
    pub(crate) fn predict_gpu(&self, work: &Work) -> Option<Duration> {
        let gpu = self.gpu.as_ref()?;
        let s = gpu.latency
            + work.upload / gpu.upload
            + work.download / gpu.download
            + work.units(true) / gpu.kernels.of(work.kind);
        Some(Duration::from_secs_f64(s))
    }
}
