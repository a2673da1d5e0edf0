//! The kernels: each family's WGSL beside the Rust that dispatches it and
//! its CPU twin (rayon), which the [`Executor`](crate::Executor) runs when
//! the GPU is absent or slower.

pub(crate) mod elementwise;
pub(crate) mod gemm;
pub(crate) mod histogram;
pub(crate) mod reduce;
pub(crate) mod sort;

/// Threads per workgroup of every 1-D kernel (the WGSL's `WG`).
pub(crate) const WG: u32 = 256;

/// Inputs at least this long use rayon on the CPU; below it one thread is faster.
pub(crate) const PARALLEL_MIN: usize = 1 << 16;

/// NaN by its bits (the test the kernels use).
pub(crate) fn is_nan(v: f32) -> bool {
    v.to_bits() & 0x7fff_ffff > 0x7f80_0000
}

/// Activation applied after an elementwise op or a dense layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Activation {
    /// `x`.
    #[default]
    Identity,
    /// `max(x, 0)`.
    Relu,
    /// `1 / (1 + e^(-x))`, with `x` clamped to ±80 (the result is the same
    /// in f32; the clamp keeps `exp` finite on every GPU).
    Sigmoid,
    /// `tanh(x)`, with `x` clamped to ±15 (the same in f32).
    Tanh,
}

impl Activation {
    /// The code the gemm kernel's epilogue reads.
    pub(crate) fn code(self) -> u32 {
        match self {
            Self::Identity => 0,
            Self::Relu => 1,
            Self::Sigmoid => 2,
            Self::Tanh => 3,
        }
    }

    /// The CPU twin of the WGSL `activate`: NaN stays NaN.
    pub(crate) fn apply(self, v: f32) -> f32 {
        if is_nan(v) {
            return v;
        }
        match self {
            Self::Identity => v,
            Self::Relu => v.max(0.0),
            Self::Sigmoid => 1.0 / (1.0 + (-v.clamp(-80.0, 80.0)).exp()),
            Self::Tanh => v.clamp(-15.0, 15.0).tanh(),
        }
    }
}

/// Workgroups for a grid-stride kernel over `n` elements: one per 1,024
/// elements up to 4,096 workgroups (about a million threads; more only adds
/// partials to combine).
pub(crate) fn stride_groups(n: usize) -> u32 {
    n.div_ceil(1024).clamp(1, 4096) as u32
}
