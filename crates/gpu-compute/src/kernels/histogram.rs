//! Histograms over equal bins, exact on both sides: the GPU classifies
//! each value with the same f32 formula as the CPU twin and counts with
//! integer atomics, so the counts are identical.

use rayon::prelude::*;

use super::{PARALLEL_MIN, WG, is_nan};
use crate::context::{GpuContext, KernelSpec, Slot};
use crate::dispatch::Batch;
use crate::error::{Error, Result};
use crate::tensor::GpuTensor;

static SPEC: KernelSpec = KernelSpec {
    name: "histogram",
    source: include_str!("histogram.wgsl"),
    entry: "main",
    slots: &[Slot::Read, Slot::ReadWrite],
};

/// The most bins a histogram may have: bins and three counters fill the
/// 16 KiB of workgroup memory every adapter offers.
pub const MAX_BINS: u32 = 4000;

/// `bins` equal bins over `[lo, hi)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HistogramSpec {
    lo: f32,
    hi: f32,
    bins: u32,
    scale: f32,
}

impl HistogramSpec {
    /// Bins of width `(hi − lo) / bins`; value `v` goes to bin
    /// `min(⌊(v − lo) · (bins / (hi − lo))⌋, bins − 1)` computed in f32.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] unless `lo < hi`, both finite with a
    /// finite width, and `1 ≤ bins ≤` [`MAX_BINS`].
    pub fn new(lo: f32, hi: f32, bins: u32) -> Result<Self> {
        let width = hi - lo;
        if !(lo.is_finite() && hi.is_finite() && width.is_finite() && lo < hi) {
            return Err(Error::InvalidArgument {
                what: "histogram range",
                problem: format!("[{lo}, {hi}) must be finite with lo < hi and a finite width"),
            });
        }
        if bins == 0 || bins > MAX_BINS {
            return Err(Error::InvalidArgument {
                what: "histogram bins",
                problem: format!("{bins} is outside 1..={MAX_BINS}"),
            });
        }
        let scale = bins as f32 / width;
        if !(scale.is_finite() && scale > 0.0) {
            return Err(Error::InvalidArgument {
                what: "histogram range",
                problem: format!("[{lo}, {hi}) is too narrow for {bins} bins in f32"),
            });
        }
        Ok(Self {
            lo,
            hi,
            bins,
            scale,
        })
    }

    /// The number of bins.
    pub fn bins(&self) -> u32 {
        self.bins
    }

    /// The range `(lo, hi)`.
    pub fn range(&self) -> (f32, f32) {
        (self.lo, self.hi)
    }

    /// The slot of `v`: a bin, or `bins` (below, −inf), `bins + 1` (at or
    /// above `hi`, +inf), `bins + 2` (NaN). The WGSL does the same.
    fn slot(&self, v: f32) -> usize {
        let bins = self.bins as usize;
        if is_nan(v) {
            bins + 2
        } else if v == f32::NEG_INFINITY || v < self.lo {
            bins
        } else if v == f32::INFINITY || v >= self.hi {
            bins + 1
        } else {
            (((v - self.lo) * self.scale).floor() as usize).min(bins - 1)
        }
    }
}

/// Counts per bin plus what fell outside.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Histogram {
    /// One count per bin.
    pub counts: Vec<u64>,
    /// Values below `lo` (−inf included).
    pub below: u64,
    /// Values at or above `hi` (+inf included).
    pub above: u64,
    /// NaN values.
    pub nan: u64,
}

impl Histogram {
    fn from_slots(slots: &[u64]) -> Self {
        let bins = slots.len() - 3;
        Self {
            counts: slots[..bins].to_vec(),
            below: slots[bins],
            above: slots[bins + 1],
            nan: slots[bins + 2],
        }
    }

    /// Adds another histogram of the same spec (the executor's chunks).
    pub(crate) fn merge(&mut self, other: &Self) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.below += other.below;
        self.above += other.above;
        self.nan += other.nan;
    }

    /// Every element counted somewhere.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum::<u64>() + self.below + self.above + self.nan
    }
}

fn count_run(spec: &HistogramSpec, x: &[f32]) -> Vec<u64> {
    let mut slots = vec![0u64; spec.bins as usize + 3];
    for &v in x {
        slots[spec.slot(v)] += 1;
    }
    slots
}

/// The CPU twin.
pub(crate) fn cpu(x: &[f32], spec: &HistogramSpec) -> Result<Histogram> {
    if x.is_empty() {
        return Err(Error::Empty("histogram"));
    }
    let slots = if x.len() >= PARALLEL_MIN {
        x.par_chunks(PARALLEL_MIN)
            .map(|run| count_run(spec, run))
            .reduce_with(|mut a, b| {
                a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
                a
            })
            .unwrap_or_default()
    } else {
        count_run(spec, x)
    };
    Ok(Histogram::from_slots(&slots))
}

impl GpuContext {
    /// The histogram of a resident tensor.
    ///
    /// # Errors
    ///
    /// [`Error::ForeignTensor`] or a device error.
    pub fn histogram(&self, x: &GpuTensor, spec: &HistogramSpec) -> Result<Histogram> {
        self.same_context(x)?;
        let n = x.len();
        let groups = super::stride_groups(n);
        let slots = spec.bins as usize + 3;
        let counts = self.alloc(1, slots, "histogram counts")?;
        let mut batch = Batch::new(self);
        batch.clear(counts.raw());
        batch.dispatch(
            &SPEC,
            &[
                n as u32,
                spec.bins,
                spec.lo.to_bits(),
                spec.hi.to_bits(),
                spec.scale.to_bits(),
                groups * WG,
            ],
            &[x.raw(), counts.raw()],
            groups,
        )?;
        batch.submit()?;
        let bytes = self.download_bytes(counts.raw(), 0, slots as u64 * 4)?;
        let words: Vec<u32> = bytemuck::pod_collect_to_vec(&bytes);
        let wide: Vec<u64> = words.into_iter().map(u64::from).collect();
        Ok(Histogram::from_slots(&wide))
    }
}
