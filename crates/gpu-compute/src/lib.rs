//! GPU compute on wgpu (Vulkan, Metal, DX12) that decides honestly when the
//! GPU is worth it: device-resident tensors, pooled buffers, WGSL kernels
//! with an exact CPU twin each, and a cost model calibrated at start-up.
//!
//! The platform's GPU framework promised 10–100× on every workload. Moving
//! data to a GPU costs a launch and a transfer, so small or host-resident
//! work is faster on the CPU — on a software adapter nearly everything is.
//! Start at [`Executor`]: it measures both devices once, then runs each
//! call where the model predicts it is faster and says so:
//!
//! ```
//! use novacron_gpu_compute::{Executor, ExecutorConfig, HistogramSpec};
//!
//! let executor = Executor::new(ExecutorConfig::default())?; // no GPU: the CPU runs everything
//! let cpu_load: Vec<f32> = (0..100_000).map(|i| (i % 100) as f32).collect();
//! let stats = executor.stats(&cpu_load)?;
//! assert_eq!(stats.value.count, 100_000);
//! assert_eq!(stats.value.max, 99.0);
//! let p = executor.percentiles(&cpu_load, &[0.5, 1.0])?;
//! assert_eq!(p.value, vec![49.5, 99.0]);
//! let hist = executor.histogram(&cpu_load, &HistogramSpec::new(0.0, 100.0, 10)?)?;
//! assert_eq!(hist.value.counts, vec![10_000; 10]);
//! println!("ran on {:?}: predicted CPU {:?}, measured {:?}",
//!     stats.report.device, stats.report.predicted_cpu, stats.report.measured);
//! # Ok::<(), novacron_gpu_compute::Error>(())
//! ```
//!
//! Chained kernels stay on the device: [`GpuContext::upload`] returns a
//! [`GpuTensor`], kernels ([`GpuContext::dense`], [`GpuContext::sort`],
//! [`GpuMlp::forward`], …) take and return tensors, and only
//! [`GpuTensor::to_vec`] or a statistic comes back.
//!
//! # Guarantees
//!
//! - **Every kernel has a CPU twin** (rayon) that the executor runs when
//!   there is no adapter or the CPU is predicted faster. Exact kernels give
//!   identical results on both sides: histograms (same f32 bin formula,
//!   integer atomics), sort (the bitonic network and `sort_unstable_by`
//!   with `f32::total_cmp` yield the same bits), percentiles (the same two
//!   elements, interpolated alike), min, max and counts. The rest have a
//!   documented bound: sums within [`Stats::sum_error_bound`], GEMM within
//!   `K · 2⁻²⁴ · Σ|a·b|` per element, add/scale/ReLU bit-identical, axpy
//!   within one rounding of `a·x`, sigmoid/tanh within 1e-6. All tested on
//!   shapes 1, 63, 65, 257 and tile/workgroup non-multiples.
//! - **NaN**: reductions skip and count it ([`Stats::nan_count`]),
//!   histograms count it apart, sort orders it by `total_cmp` (−NaN first,
//!   +NaN last), percentiles refuse it ([`Error::NanInput`]), elementwise
//!   ops and activations return NaN for NaN, GEMM propagates it.
//! - **No hangs**: every wait has a deadline ([`ContextConfig::wait_timeout`],
//!   then [`Error::Timeout`]); a lost device is [`Error::DeviceLost`] on
//!   the next call; wgpu's asynchronous validation and out-of-memory errors
//!   come back as [`Error::Backend`] instead of its default panic.
//! - **Bounded memory**: buffers come from a pool by size class (≤ 25 %
//!   waste above 1 KiB) under a byte cap ([`ContextConfig::pool_byte_cap`]),
//!   idle buffers past [`ContextConfig::pool_idle_cap`] are destroyed and
//!   [`GpuContext::trim`] frees the rest. After warm-up, 10,000 mixed
//!   operations create no new buffer (tested). Transfers go through reused
//!   staging buffers in 8 MiB chunks; host inputs larger than one binding
//!   are split by the executor (reductions and histograms merge the parts).
//! - **Adapters**: hardware first (discrete, integrated, virtual);
//!   software adapters (Mesa's lavapipe) only with
//!   [`AdapterPolicy::AllowSoftware`] or `NOVACRON_GPU=software`; the
//!   device is created with every limit the adapter offers, subgroup
//!   operations where present (never assuming a subgroup size), and
//!   timestamp queries where present.
//! - [`GpuContext`], [`GpuTensor`], [`Executor`] and [`GpuMlp`] are `Send + Sync`.
//!
//! # Errors
//!
//! One [`Error`]. No adapter: [`Error::NoAdapter`] (the executor falls back
//! to the CPU unless [`ExecutorConfig::require_gpu`]); mismatched shapes:
//! [`Error::Shape`]; empty input: [`Error::Empty`]; a buffer past a device
//! limit or the pool's cap: [`Error::TooLarge`], before anything is
//! allocated; bad arguments (quantiles, histogram ranges): [`Error::InvalidArgument`].
//! Nothing panics on input.
//!
//! # Performance
//!
//! The headline is the cost model's **regret** (time of its choice ÷ time
//! of the faster path): ≤ 1.15 at 33 of 33 sweep points, worst 1.093, on
//! this project's CI machines, whose only adapter is Mesa's lavapipe (a CPU
//! driver: the GPU path is 3–50× slower than the CPU twin there, and the
//! model picked the CPU at every point). Real-GPU figures (SGEMM TFLOPS,
//! resident-sum and transfer bandwidth) come from
//! `benches/scripts/device_check.sh`; none has been measured yet. Figures
//! and commands: `docs/benchmarks.md`, "novacron-gpu-compute".
//!
//! # Crate features
//!
//! None; wgpu's default backends (Vulkan, Metal, DX12, GL) are built.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod context;
mod cost;
mod dispatch;
mod error;
mod executor;
mod kernels;
mod mlp;
mod pool;
mod tensor;
mod transfer;

pub use context::{AdapterPolicy, AdapterSummary, ContextConfig, GpuContext};
pub use cost::{CostModel, GpuRates, Rates};
pub use error::{Error, Result};
pub use executor::{Device, Executed, Executor, ExecutorConfig, Operand, Placement, Report};
pub use kernels::Activation;
pub use kernels::histogram::{Histogram, HistogramSpec, MAX_BINS};
pub use kernels::reduce::Stats;
pub use mlp::{GpuMlp, Layer, Mlp};
pub use pool::PoolStats;
pub use tensor::GpuTensor;

#[cfg(test)]
mod send_sync {
    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        assert_send_sync::<crate::GpuContext>();
        assert_send_sync::<crate::GpuTensor>();
        assert_send_sync::<crate::Executor>();
        assert_send_sync::<crate::GpuMlp>();
        assert_send_sync::<crate::Error>();
    }
}
