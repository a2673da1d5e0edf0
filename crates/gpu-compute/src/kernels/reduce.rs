//! Reductions to [`Stats`] (sum, min, max, mean, variance, NaN count) and
//! their CPU twin.
//!
//! The GPU accumulates in f32 per thread, combines a workgroup by a
//! shared-memory tree (or subgroup operations), and the host combines the
//! partials in f64. Exactness: `count`, `nan_count`, `min` and `max` equal
//! the CPU's (as values: `-0.0 == 0.0`); `sum` is within
//! [`Stats::sum_error_bound`] of the exact sum, which the CPU (f64
//! throughout) meets with room to spare. NaN is skipped and counted; ±inf
//! enter the sum as IEEE arithmetic says.

use rayon::prelude::*;

use super::{PARALLEL_MIN, WG, is_nan};
use crate::context::{GpuContext, KernelSpec, Slot};
use crate::dispatch::Batch;
use crate::error::{Error, Result};
use crate::tensor::GpuTensor;

static TREE: KernelSpec = KernelSpec {
    name: "stats_tree",
    source: concat!(
        include_str!("reduce_common.wgsl"),
        include_str!("reduce.wgsl")
    ),
    entry: "main",
    slots: &[Slot::Read, Slot::ReadWrite],
};

static SUBGROUP: KernelSpec = KernelSpec {
    name: "stats_subgroup",
    source: concat!(
        include_str!("reduce_common.wgsl"),
        include_str!("reduce_subgroup.wgsl")
    ),
    entry: "main",
    slots: &[Slot::Read, Slot::ReadWrite],
};

/// Summary statistics of f32 data; NaN elements are counted, not summed.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Stats {
    /// Non-NaN elements.
    pub count: u64,
    /// NaN elements.
    pub nan_count: u64,
    /// Sum of the non-NaN elements.
    pub sum: f64,
    /// Smallest non-NaN element (NaN when there is none).
    pub min: f32,
    /// Largest non-NaN element (NaN when there is none).
    pub max: f32,
    /// `sum / count` (NaN when `count` is 0).
    pub mean: f64,
    /// Population variance (divides by `count`, numpy's default; NaN when
    /// `count` is 0 or an infinity is present).
    pub variance: f64,
}

impl Stats {
    /// The most the GPU's `sum` may differ from the exact sum of `n`
    /// elements whose absolute values sum to `sum_abs`, while partial sums
    /// stay below `f32::MAX`: `(max(4, ⌈n / 2²⁰⌉) + 136) · 2⁻²⁴ · sum_abs`.
    /// The first term is each thread's run (4,096 workgroups of 256 threads
    /// at most); 136 covers the workgroup combine even when an adapter adds
    /// a subgroup's up to 128 lanes and the slots in sequence.
    pub fn sum_error_bound(n: usize, sum_abs: f64) -> f64 {
        let per_thread = n.div_ceil(1 << 20).max(4) as f64;
        (per_thread + 136.0) * f64::from(f32::EPSILON) / 2.0 * sum_abs
    }
}

/// Count, sum, second central moment, extremes: merged by Chan's formula.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Moments {
    count: u64,
    nan: u64,
    sum: f64,
    m2: f64,
    min: f32,
    max: f32,
}

impl Moments {
    const EMPTY: Self = Self {
        count: 0,
        nan: 0,
        sum: 0.0,
        m2: 0.0,
        min: f32::INFINITY,
        max: f32::NEG_INFINITY,
    };

    /// From sums about a shift: `dsum = Σ(x − s)`, `dsq = Σ(x − s)²`.
    fn from_shifted(
        count: u64,
        nan: u64,
        sum: f64,
        dsum: f64,
        dsq: f64,
        min: f32,
        max: f32,
    ) -> Self {
        let m2 = if count == 0 {
            0.0
        } else {
            dsq - dsum * dsum / count as f64
        };
        Self {
            count,
            nan,
            sum,
            // Rounding can leave a tiny negative for constant data.
            m2: if m2 < 0.0 { 0.0 } else { m2 },
            min,
            max,
        }
    }

    fn merge(self, other: Self) -> Self {
        if self.count == 0 {
            return Self {
                nan: self.nan + other.nan,
                ..other
            };
        }
        if other.count == 0 {
            return Self {
                nan: self.nan + other.nan,
                ..self
            };
        }
        let (na, nb) = (self.count as f64, other.count as f64);
        let delta = other.sum / nb - self.sum / na;
        Self {
            count: self.count + other.count,
            nan: self.nan + other.nan,
            sum: self.sum + other.sum,
            m2: self.m2 + other.m2 + delta * delta * na * nb / (na + nb),
            min: self.min.min(other.min),
            max: self.max.max(other.max),
        }
    }

    pub(crate) fn finish(self) -> Stats {
        let n = self.count as f64;
        let none = self.count == 0;
        Stats {
            count: self.count,
            nan_count: self.nan,
            sum: self.sum,
            min: if none { f32::NAN } else { self.min },
            max: if none { f32::NAN } else { self.max },
            mean: if none { f64::NAN } else { self.sum / n },
            variance: if none { f64::NAN } else { self.m2 / n },
        }
    }

    /// The moments of one run, the way a GPU workgroup takes them (shift
    /// = the first element when finite), in f64.
    fn of_run(x: &[f32]) -> Self {
        let first = x.first().copied().unwrap_or(0.0);
        let shift = if first.is_finite() {
            f64::from(first)
        } else {
            0.0
        };
        let (mut count, mut nan) = (0u64, 0u64);
        let (mut sum, mut dsum, mut dsq) = (0.0f64, 0.0f64, 0.0f64);
        let (mut min, mut max) = (f32::INFINITY, f32::NEG_INFINITY);
        for &v in x {
            if is_nan(v) {
                nan += 1;
                continue;
            }
            count += 1;
            let w = f64::from(v);
            sum += w;
            let d = w - shift;
            dsum += d;
            dsq += d * d;
            min = min.min(v);
            max = max.max(v);
        }
        Self::from_shifted(count, nan, sum, dsum, dsq, min, max)
    }

    /// Merges runs of one input (the executor's chunks).
    pub(crate) fn merge_all(parts: impl IntoIterator<Item = Self>) -> Self {
        parts.into_iter().fold(Self::EMPTY, Self::merge)
    }
}

/// The CPU twin: exact count, NaN count, min and max; f64 sums.
pub(crate) fn cpu(x: &[f32]) -> Result<Stats> {
    if x.is_empty() {
        return Err(Error::Empty("stats"));
    }
    let moments = if x.len() >= PARALLEL_MIN {
        x.par_chunks(PARALLEL_MIN)
            .map(Moments::of_run)
            .reduce(|| Moments::EMPTY, Moments::merge)
    } else {
        Moments::of_run(x)
    };
    Ok(moments.finish())
}

impl GpuContext {
    /// The moments of a resident tensor (one submit, one small readback).
    pub(crate) fn moments(&self, x: &GpuTensor) -> Result<Moments> {
        self.same_context(x)?;
        let n = x.len();
        let groups = super::stride_groups(n);
        let partials = self.alloc(1, groups as usize * 8, "stats partials")?;
        let spec = if self.inner.summary.subgroups {
            &SUBGROUP
        } else {
            &TREE
        };
        let mut batch = Batch::new(self);
        batch.dispatch(
            spec,
            &[n as u32, groups * WG, f32::INFINITY.to_bits(), 0],
            &[x.raw(), partials.raw()],
            groups,
        )?;
        batch.submit()?;
        let values = partials.to_vec()?;
        // The partials are workgroup sums about the tensor's first element:
        // the shift cancels in dsq − dsum²/count, so combine them as one run.
        let mut nan = 0u64;
        let (mut sum, mut dsum, mut dsq) = (0.0f64, 0.0f64, 0.0f64);
        let (mut min, mut max) = (f32::INFINITY, f32::NEG_INFINITY);
        for p in values.chunks_exact(8) {
            let k = u64::from(p[5].to_bits());
            nan += k;
            sum += f64::from(p[0]);
            dsum += f64::from(p[1]);
            dsq += f64::from(p[2]);
            min = min.min(p[3]);
            max = max.max(p[4]);
        }
        let count = n as u64 - nan;
        Ok(Moments::from_shifted(count, nan, sum, dsum, dsq, min, max))
    }

    /// [`Stats`] of a resident tensor.
    ///
    /// # Errors
    ///
    /// [`Error::ForeignTensor`] or a device error.
    pub fn stats(&self, x: &GpuTensor) -> Result<Stats> {
        Ok(self.moments(x)?.finish())
    }
}
