//! The crate's one error type.

use std::time::Duration;

/// Everything that can go wrong in this crate.
///
/// Backend failures (a wgpu validation or out-of-memory error, a device that
/// was lost) are kept as their message, so the type stays `Clone + PartialEq`
/// and a wgpu upgrade does not change our API.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No adapter satisfied the [`AdapterPolicy`](crate::AdapterPolicy).
    #[error(
        "no GPU adapter is available ({detail}); install a Vulkan, Metal or DX12 driver \
         (Mesa's mesa-vulkan-drivers gives a software one), allow software adapters, \
         or run on the CPU with Executor::cpu_only"
    )]
    NoAdapter {
        /// What was looked for and what was found.
        detail: String,
    },
    /// The adapter refused to create a device.
    #[error(
        "the GPU adapter {adapter:?} could not create a device ({cause}); update the driver or run on the CPU"
    )]
    DeviceCreation {
        /// The adapter's name.
        adapter: String,
        /// wgpu's message.
        cause: String,
    },
    /// The device was lost (driver reset, GPU removed, [`GpuContext::destroy`](crate::GpuContext::destroy)).
    #[error("the GPU device was lost ({reason}); create a new GpuContext or run on the CPU")]
    DeviceLost {
        /// Why, as the driver put it.
        reason: String,
    },
    /// A wait for the GPU ran past its deadline.
    #[error(
        "waited {waited:?} for the GPU to finish {what}; raise ContextConfig::wait_timeout or use smaller inputs"
    )]
    Timeout {
        /// The operation that was waited for.
        what: &'static str,
        /// How long the wait lasted.
        waited: Duration,
    },
    /// wgpu reported an error it raised asynchronously (validation, out of memory).
    #[error(
        "the GPU backend reported an error ({message}); this is a bug in novacron-gpu-compute unless it says out of memory"
    )]
    Backend {
        /// wgpu's message.
        message: String,
    },
    /// A buffer would exceed what the device or the pool allows.
    #[error(
        "{what} needs {requested} bytes but at most {limit} are allowed ({which}); split the input or run on the CPU"
    )]
    TooLarge {
        /// What was being allocated.
        what: &'static str,
        /// Bytes asked for.
        requested: u64,
        /// The limit that stops it.
        limit: u64,
        /// The name of the limit.
        which: &'static str,
    },
    /// Operand shapes do not fit together.
    #[error("{what}: {detail}")]
    Shape {
        /// The operation.
        what: &'static str,
        /// What did not match.
        detail: String,
    },
    /// An operation that needs at least one element got none.
    #[error("{0} got an empty input; pass at least one element")]
    Empty(&'static str),
    /// The input holds NaN where the operation has no defined answer for it.
    #[error("{what}: the input holds NaN, which has no rank; remove or replace NaN first")]
    NanInput {
        /// The operation.
        what: &'static str,
    },
    /// An argument is outside its valid range.
    #[error("invalid {what}: {problem}")]
    InvalidArgument {
        /// The argument.
        what: &'static str,
        /// Why it is invalid and what to pass instead.
        problem: String,
    },
    /// A tensor belongs to another [`GpuContext`](crate::GpuContext).
    #[error("a tensor of another GpuContext was passed; upload it to this context first")]
    ForeignTensor,
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
