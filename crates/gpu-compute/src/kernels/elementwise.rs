//! Elementwise kernels (axpy, add, scale, activation) and their CPU twins.
//!
//! Exactness: add, scale and ReLU are one correctly rounded operation on
//! both sides, so GPU and CPU agree bit for bit. axpy's CPU twin rounds
//! `a·x + y` once (what a fused multiply-add gives); a GPU that does not
//! fuse rounds `a·x` first, at most one rounding of `|a·x|` apart. Sigmoid
//! and tanh use each side's `exp`/`tanh`: within 1e-6 absolute (tested).
//! NaN in, NaN out for every op.

use rayon::prelude::*;

use super::{Activation, PARALLEL_MIN, WG};
use crate::context::{GpuContext, KernelSpec, Slot};
use crate::dispatch::Batch;
use crate::error::{Error, Result};
use crate::tensor::GpuTensor;

static SPEC: KernelSpec = KernelSpec {
    name: "elementwise",
    source: include_str!("elementwise.wgsl"),
    entry: "main",
    slots: &[Slot::Read, Slot::Read, Slot::ReadWrite],
};

/// An elementwise operation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Op {
    Axpy(f32),
    Add,
    Scale(f32),
    Activate(Activation),
}

impl Op {
    fn code(self) -> (u32, f32) {
        match self {
            Self::Axpy(a) => (0, a),
            Self::Add => (1, 0.0),
            Self::Scale(a) => (2, a),
            Self::Activate(Activation::Identity) => (6, 0.0),
            Self::Activate(act) => (act.code() + 2, 0.0),
        }
    }

    fn binary(self) -> bool {
        matches!(self, Self::Axpy(_) | Self::Add)
    }

    fn apply(self, x: f32, y: f32) -> f32 {
        match self {
            Self::Axpy(a) => (f64::from(a) * f64::from(x) + f64::from(y)) as f32,
            Self::Add => x + y,
            Self::Scale(a) => a * x,
            Self::Activate(act) => act.apply(x),
        }
    }
}

pub(crate) fn check_lengths(what: &'static str, x: usize, y: usize) -> Result<()> {
    if x == 0 {
        return Err(Error::Empty(what));
    }
    if x != y {
        return Err(Error::Shape {
            what,
            detail: format!("the operands hold {x} and {y} elements; pass equal lengths"),
        });
    }
    Ok(())
}

/// The CPU twin.
pub(crate) fn cpu(op: Op, x: &[f32], y: &[f32]) -> Result<Vec<f32>> {
    let y = if op.binary() {
        check_lengths("elementwise", x.len(), y.len())?;
        y
    } else {
        if x.is_empty() {
            return Err(Error::Empty("elementwise"));
        }
        x
    };
    let mut out = vec![0.0; x.len()];
    let body = |(o, (&x, &y)): (&mut f32, (&f32, &f32))| *o = op.apply(x, y);
    if x.len() >= PARALLEL_MIN {
        out.par_iter_mut().zip(x.par_iter().zip(y)).for_each(body);
    } else {
        out.iter_mut().zip(x.iter().zip(y)).for_each(body);
    }
    Ok(out)
}

impl GpuContext {
    pub(crate) fn elementwise(
        &self,
        op: Op,
        x: &GpuTensor,
        y: Option<&GpuTensor>,
    ) -> Result<GpuTensor> {
        self.same_context(x)?;
        let y = match (op.binary(), y) {
            (true, Some(y)) => {
                self.same_context(y)?;
                check_lengths("elementwise", x.len(), y.len())?;
                y
            }
            _ => x,
        };
        let out = self.alloc(x.rows, x.cols, "elementwise output")?;
        let groups = super::stride_groups(x.len());
        let (code, a) = op.code();
        let mut batch = Batch::new(self);
        batch.dispatch(
            &SPEC,
            &[x.len() as u32, code, a.to_bits(), groups * WG],
            &[x.raw(), y.raw(), out.raw()],
            groups,
        )?;
        batch.submit()?;
        Ok(out)
    }

    /// `a·x + y`, a new tensor.
    ///
    /// # Errors
    ///
    /// [`Error::Shape`] when `x` and `y` differ in length,
    /// [`Error::ForeignTensor`], or a device error.
    pub fn axpy(&self, a: f32, x: &GpuTensor, y: &GpuTensor) -> Result<GpuTensor> {
        self.elementwise(Op::Axpy(a), x, Some(y))
    }

    /// `x + y`, a new tensor.
    ///
    /// # Errors
    ///
    /// As [`axpy`](Self::axpy).
    pub fn add(&self, x: &GpuTensor, y: &GpuTensor) -> Result<GpuTensor> {
        self.elementwise(Op::Add, x, Some(y))
    }

    /// `a·x`, a new tensor.
    ///
    /// # Errors
    ///
    /// [`Error::ForeignTensor`] or a device error.
    pub fn scale(&self, a: f32, x: &GpuTensor) -> Result<GpuTensor> {
        self.elementwise(Op::Scale(a), x, None)
    }

    /// `act(x)`, a new tensor.
    ///
    /// # Errors
    ///
    /// As [`scale`](Self::scale).
    pub fn activate(&self, act: Activation, x: &GpuTensor) -> Result<GpuTensor> {
        self.elementwise(Op::Activate(act), x, None)
    }
}
