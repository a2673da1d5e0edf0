//! Sorting f32 by their total order and exact percentiles from the sorted
//! data. The GPU's bitonic network and the CPU twin's `sort_unstable_by`
//! with `f32::total_cmp` produce the same bits (keys are values, so
//! stability does not matter), and percentiles interpolate the same two
//! elements the same way.

use rayon::prelude::*;

use super::{PARALLEL_MIN, WG, is_nan};
use crate::context::{GpuContext, KernelSpec, Slot};
use crate::dispatch::Batch;
use crate::error::{Error, Result};
use crate::tensor::GpuTensor;

const SLOTS: &[Slot] = &[Slot::Read, Slot::ReadWrite, Slot::ReadWrite];
const SOURCE: &str = include_str!("sort.wgsl");
/// Keys sorted in shared memory by one workgroup (the WGSL's `BLOCK`).
const BLOCK: usize = 512;

static TO_KEYS: KernelSpec = KernelSpec {
    name: "sort_to_keys",
    source: SOURCE,
    entry: "to_keys",
    slots: SLOTS,
};
static FROM_KEYS: KernelSpec = KernelSpec {
    name: "sort_from_keys",
    source: SOURCE,
    entry: "from_keys",
    slots: SLOTS,
};
static SORT_BLOCKS: KernelSpec = KernelSpec {
    name: "sort_blocks",
    source: SOURCE,
    entry: "sort_blocks",
    slots: SLOTS,
};
static MERGE_GLOBAL: KernelSpec = KernelSpec {
    name: "sort_merge_global",
    source: SOURCE,
    entry: "merge_global",
    slots: SLOTS,
};
static MERGE_BLOCKS: KernelSpec = KernelSpec {
    name: "sort_merge_blocks",
    source: SOURCE,
    entry: "merge_blocks",
    slots: SLOTS,
};

/// The CPU twin: a copy sorted by `f32::total_cmp` (−NaN first, then −inf
/// … −0.0, 0.0 … +inf, +NaN last).
pub(crate) fn cpu(x: &[f32]) -> Result<Vec<f32>> {
    if x.is_empty() {
        return Err(Error::Empty("sort"));
    }
    let mut sorted = x.to_vec();
    if sorted.len() >= PARALLEL_MIN {
        sorted.par_sort_unstable_by(f32::total_cmp);
    } else {
        sorted.sort_unstable_by(f32::total_cmp);
    }
    Ok(sorted)
}

/// Checks quantiles and returns, per quantile, the two ranks it
/// interpolates and the weight of the upper one (numpy's default "linear"
/// method: rank `h = (n − 1)·q`).
pub(crate) fn ranks(n: usize, quantiles: &[f64]) -> Result<Vec<(usize, usize, f64)>> {
    if n == 0 {
        return Err(Error::Empty("percentiles"));
    }
    quantiles
        .iter()
        .map(|&q| {
            if !(0.0..=1.0).contains(&q) {
                return Err(Error::InvalidArgument {
                    what: "quantile",
                    problem: format!("{q} is outside [0, 1]; pass a fraction such as 0.99"),
                });
            }
            let h = (n - 1) as f64 * q;
            let lo = (h.floor() as usize).min(n - 1);
            let hi = (lo + 1).min(n - 1);
            Ok((lo, hi, h - lo as f64))
        })
        .collect()
}

/// Linear interpolation between the two ranks, in f64. Between an infinite
/// and a finite neighbour the answer is the infinite one (the limit, where
/// `lo + (hi − lo)·w` would give NaN from `inf − inf`); between `−inf` and
/// `+inf` it is NaN, as there is no value to give.
pub(crate) fn interpolate(lo: f32, hi: f32, weight: f64) -> f64 {
    let (lo, hi) = (f64::from(lo), f64::from(hi));
    if weight == 0.0 {
        lo
    } else if weight == 1.0 || lo == hi {
        hi
    } else if lo.is_infinite() && hi.is_infinite() {
        f64::NAN
    } else if lo.is_infinite() {
        lo
    } else if hi.is_infinite() {
        hi
    } else {
        lo + (hi - lo) * weight
    }
}

/// Exact percentiles of sorted data; refuses NaN (they would sort to the ends).
pub(crate) fn percentiles_of_sorted(sorted: &[f32], quantiles: &[f64]) -> Result<Vec<f64>> {
    let ranks = ranks(sorted.len(), quantiles)?;
    if sorted.iter().any(|&v| is_nan(v)) {
        return Err(Error::NanInput {
            what: "percentiles",
        });
    }
    Ok(ranks
        .into_iter()
        .map(|(lo, hi, w)| interpolate(sorted[lo], sorted[hi], w))
        .collect())
}

/// The CPU twin of [`GpuContext::percentiles`]: a full sort, the same ranks.
pub(crate) fn cpu_percentiles(x: &[f32], quantiles: &[f64]) -> Result<Vec<f64>> {
    ranks(x.len(), quantiles)?;
    if x.iter().any(|&v| is_nan(v)) {
        return Err(Error::NanInput {
            what: "percentiles",
        });
    }
    percentiles_of_sorted(&cpu(x)?, quantiles)
}

impl GpuContext {
    /// A sorted copy of a resident tensor (by `f32::total_cmp`), on the GPU.
    ///
    /// # Errors
    ///
    /// [`Error::TooLarge`] when the tensor padded to a power of two (at
    /// least 512) exceeds one binding; [`Error::ForeignTensor`]; a device error.
    pub fn sort(&self, x: &GpuTensor) -> Result<GpuTensor> {
        self.same_context(x)?;
        let n = x.len();
        let padded = n.next_power_of_two().max(BLOCK);
        let keys = self.alloc(1, padded, "sort keys")?;
        let out = self.alloc(x.rows, x.cols, "sorted output")?;
        let (n32, p32) = (n as u32, padded as u32);
        let buffers = [x.raw(), keys.raw(), out.raw()];
        let element_groups = padded.div_ceil(WG as usize) as u32;
        let block_groups = (padded / BLOCK) as u32;
        let mut batch = Batch::new(self);
        batch.dispatch(&TO_KEYS, &[n32, p32, 0, 0], &buffers, element_groups)?;
        batch.dispatch(&SORT_BLOCKS, &[n32, p32, 0, 0], &buffers, block_groups)?;
        let mut k = 2 * BLOCK;
        while k <= padded {
            let mut j = k / 2;
            while j >= BLOCK {
                batch.dispatch(
                    &MERGE_GLOBAL,
                    &[n32, p32, k as u32, j as u32],
                    &buffers,
                    block_groups,
                )?;
                j /= 2;
            }
            batch.dispatch(
                &MERGE_BLOCKS,
                &[n32, p32, k as u32, 0],
                &buffers,
                block_groups,
            )?;
            k *= 2;
        }
        batch.dispatch(
            &FROM_KEYS,
            &[n32, p32, 0, 0],
            &buffers,
            n.div_ceil(WG as usize) as u32,
        )?;
        batch.submit()?;
        Ok(out)
    }

    /// Exact percentiles of a resident tensor: a GPU sort, then only the
    /// elements the quantiles need come back (numpy's "linear" method).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for a quantile outside `[0, 1]` (NaN
    /// included), [`Error::NanInput`] when the data holds NaN; as
    /// [`sort`](Self::sort) otherwise.
    pub fn percentiles(&self, x: &GpuTensor, quantiles: &[f64]) -> Result<Vec<f64>> {
        let ranks = ranks(x.len(), quantiles)?;
        let sorted = self.sort(x)?;
        // −NaN sorts first and +NaN last: the two ends tell whether any is present.
        let n = x.len();
        let mut wanted = vec![0, n - 1];
        for &(lo, hi, _) in &ranks {
            wanted.push(lo);
            wanted.push(hi);
        }
        let values = self.download_elements(sorted.raw(), &wanted)?;
        if is_nan(values[0]) || is_nan(values[1]) {
            return Err(Error::NanInput {
                what: "percentiles",
            });
        }
        Ok(ranks
            .iter()
            .enumerate()
            .map(|(i, &(_, _, w))| interpolate(values[2 + 2 * i], values[3 + 2 * i], w))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::interpolate;

    #[test]
    fn interpolation_next_to_an_infinity_gives_the_infinity_not_nan() {
        assert_eq!(interpolate(f32::NEG_INFINITY, 0.0, 0.5), f64::NEG_INFINITY);
        assert_eq!(interpolate(0.0, f32::INFINITY, 0.25), f64::INFINITY);
        assert_eq!(
            interpolate(f32::INFINITY, f32::INFINITY, 0.5),
            f64::INFINITY
        );
        assert_eq!(interpolate(f32::NEG_INFINITY, 3.0, 1.0), 3.0);
        assert_eq!(interpolate(f32::NEG_INFINITY, 3.0, 0.0), f64::NEG_INFINITY);
        assert!(interpolate(f32::NEG_INFINITY, f32::INFINITY, 0.5).is_nan());
        assert_eq!(interpolate(1.0, 3.0, 0.5), 2.0);
    }
}
