//! Register-tiled SGEMM with a fused bias + activation epilogue (dense
//! layers), and its CPU twin.
//!
//! Error bound (both sides against exact arithmetic, so between them twice
//! it): `|C − exact| ≤ K · 2⁻²⁴ · Σₖ |aᵢₖ · bₖⱼ|` per element before the
//! activation (sequential f32 accumulation over `k`; the GPU may fuse the
//! multiply-add, the CPU does not). NaN and ±inf propagate as IEEE
//! arithmetic says; activations keep NaN.

use rayon::prelude::*;

use super::Activation;
use crate::context::{GpuContext, KernelSpec, Slot};
use crate::dispatch::Batch;
use crate::error::{Error, Result};
use crate::tensor::GpuTensor;

static SPEC: KernelSpec = KernelSpec {
    name: "gemm",
    source: include_str!("gemm.wgsl"),
    entry: "main",
    slots: &[Slot::Read, Slot::Read, Slot::Read, Slot::ReadWrite],
};

/// Output rows and columns one workgroup computes (the WGSL's `TILE`).
const TILE: usize = 64;

/// Checks `m × k` by `k × n` (+ bias of `n`) and returns the output size.
pub(crate) fn check_shapes(
    a: (usize, usize),
    b: (usize, usize),
    bias: Option<usize>,
) -> Result<(usize, usize)> {
    if a.0 == 0 || a.1 == 0 || b.1 == 0 {
        return Err(Error::Empty("matmul"));
    }
    if a.1 != b.0 {
        return Err(Error::Shape {
            what: "matmul",
            detail: format!(
                "a is {} × {} and b is {} × {}; a's columns must equal b's rows",
                a.0, a.1, b.0, b.1
            ),
        });
    }
    if let Some(len) = bias
        && len != b.1
    {
        return Err(Error::Shape {
            what: "dense bias",
            detail: format!(
                "the bias holds {len} values for {} outputs; pass one per output",
                b.1
            ),
        });
    }
    Ok((a.0, b.1))
}

/// Checks host operands: shapes, then that the slices hold them.
pub(crate) fn check_host(
    a: &[f32],
    b: &[f32],
    bias: Option<&[f32]>,
    (m, k, n): (usize, usize, usize),
) -> Result<()> {
    check_shapes((m, k), (k, n), bias.map(<[f32]>::len))?;
    if a.len() != m.saturating_mul(k) || b.len() != k.saturating_mul(n) {
        return Err(Error::Shape {
            what: "matmul",
            detail: format!(
                "a holds {} and b {} elements for {m} × {k} by {k} × {n}",
                a.len(),
                b.len()
            ),
        });
    }
    Ok(())
}

/// The CPU twin: `act(A · B + bias)`, rows in parallel, `k` ascending.
pub(crate) fn cpu(
    a: &[f32],
    b: &[f32],
    bias: Option<&[f32]>,
    (m, k, n): (usize, usize, usize),
    act: Activation,
) -> Result<Vec<f32>> {
    check_host(a, b, bias, (m, k, n))?;
    // An outer product's output may dwarf its inputs: refuse what cannot be
    // allocated instead of aborting.
    let len = m
        .checked_mul(n)
        .filter(|&len| len <= isize::MAX as usize / 4);
    let mut c = Vec::new();
    if len.is_none_or(|len| c.try_reserve_exact(len).is_err()) {
        return Err(Error::TooLarge {
            what: "matmul output",
            requested: (m as u64).saturating_mul(n as u64).saturating_mul(4),
            limit: isize::MAX as u64,
            which: "the memory this process can allocate",
        });
    }
    c.resize(m * n, 0.0f32);
    let row = |(i, c_row): (usize, &mut [f32])| {
        let a_row = &a[i * k..(i + 1) * k];
        for (p, &a_ip) in a_row.iter().enumerate() {
            let b_row = &b[p * n..(p + 1) * n];
            for (c, &b_pj) in c_row.iter_mut().zip(b_row) {
                *c += a_ip * b_pj;
            }
        }
        for (j, c) in c_row.iter_mut().enumerate() {
            let v = match bias {
                Some(bias) => *c + bias[j],
                None => *c,
            };
            *c = act.apply(v);
        }
    };
    if (m * n).saturating_mul(k) >= 1 << 18 {
        c.par_chunks_mut(n).enumerate().for_each(row);
    } else {
        c.chunks_mut(n).enumerate().for_each(row);
    }
    Ok(c)
}

impl GpuContext {
    pub(crate) fn record_gemm<'a>(
        &self,
        batch: &mut Batch<'a>,
        a: &'a GpuTensor,
        b: &'a GpuTensor,
        bias: Option<&'a GpuTensor>,
        act: Activation,
        out: &'a GpuTensor,
    ) -> Result<()> {
        let (m, k, n) = (a.rows, a.cols, b.cols);
        let flags = u32::from(bias.is_some()) | (act.code() << 8);
        let groups_x = n.div_ceil(TILE) as u32;
        let groups_y = m.div_ceil(TILE) as u32;
        // The tiles are laid out 2-D by the kernel itself (wid.x: columns,
        // wid.y: rows); the grid helper's linearization is not used here.
        batch.dispatch_grid(
            &SPEC,
            &[m as u32, n as u32, k as u32, flags],
            &[a.raw(), b.raw(), bias.unwrap_or(a).raw(), out.raw()],
            [groups_x, groups_y, 1],
        )
    }

    /// `act(x · w + bias)`: a dense layer on resident tensors.
    ///
    /// # Errors
    ///
    /// [`Error::Shape`] for mismatched shapes, [`Error::TooLarge`] when a
    /// dimension needs more than 65,535 tiles, [`Error::ForeignTensor`], or a
    /// device error.
    pub fn dense(
        &self,
        x: &GpuTensor,
        w: &GpuTensor,
        bias: Option<&GpuTensor>,
        act: Activation,
    ) -> Result<GpuTensor> {
        for t in [Some(x), Some(w), bias].into_iter().flatten() {
            self.same_context(t)?;
        }
        let (m, n) = check_shapes(x.shape(), w.shape(), bias.map(GpuTensor::len))?;
        check_tiles(m, n)?;
        let out = self.alloc(m, n, "matmul output")?;
        let mut batch = Batch::new(self);
        self.record_gemm(&mut batch, x, w, bias, act, &out)?;
        batch.submit()?;
        Ok(out)
    }

    /// `a · b` on resident tensors.
    ///
    /// # Errors
    ///
    /// As [`dense`](Self::dense).
    pub fn matmul(&self, a: &GpuTensor, b: &GpuTensor) -> Result<GpuTensor> {
        self.dense(a, b, None, Activation::Identity)
    }
}

pub(crate) fn check_tiles(m: usize, n: usize) -> Result<()> {
    let most = 65_535 * TILE;
    if m > most || n > most {
        return Err(Error::TooLarge {
            what: "matmul output",
            requested: m.max(n) as u64,
            limit: most as u64,
            which: "65,535 workgroups of 64 rows or columns",
        });
    }
    Ok(())
}
