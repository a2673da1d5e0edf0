//! The crate's one error type.

use std::time::Duration;

/// Everything that can go wrong, with what to do about it.
///
/// `Clone` so that one failed load can be handed to every request that waited
/// on it (single-flight loading). Engine errors are kept as their message (the
/// `tract` types are not part of this crate's API).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration value is out of range.
    #[error("invalid {field}: {problem}")]
    InvalidConfig {
        /// The setting.
        field: &'static str,
        /// What is wrong and what to pass instead.
        problem: String,
    },
    /// The bytes are not a valid ONNX model (corrupt, truncated, or not ONNX at all).
    #[error(
        "model {model:?} could not be parsed ({cause}); check that the file is a complete ONNX model"
    )]
    Corrupt {
        /// The model's name.
        model: String,
        /// The parser's message.
        cause: String,
    },
    /// The model uses an operator the engine does not implement.
    #[error(
        "model {model:?} uses the operator {op:?}, which tract does not support; re-export the model without it"
    )]
    UnsupportedOperator {
        /// The model's name.
        model: String,
        /// The ONNX operator type.
        op: String,
    },
    /// The model parsed but could not be typed, optimized or planned.
    #[error("model {model:?} could not be prepared for inference ({cause})")]
    Load {
        /// The model's name.
        model: String,
        /// The engine's message.
        cause: String,
    },
    /// The engine panicked while loading or running the model; the panic was caught.
    #[error(
        "the inference engine panicked on model {model:?} ({cause}); this is an engine bug, report the model"
    )]
    EnginePanic {
        /// The model's name.
        model: String,
        /// The panic message.
        cause: String,
    },
    /// A model file could not be read.
    #[error("model file {path:?} could not be read ({cause})")]
    Io {
        /// The path.
        path: String,
        /// The operating system's message.
        cause: String,
    },
    /// No model of that name is registered.
    #[error("no model named {0:?} is registered; register it first")]
    UnknownModel(String),
    /// An input does not have the shape, rank or count the model declares.
    #[error("model {model:?} input {input:?}: expected shape {expected}, got {got:?}")]
    InputShape {
        /// The model's name.
        model: String,
        /// The input's name.
        input: String,
        /// The declared shape (`N` for the batch, `?` for a free dimension).
        expected: String,
        /// The shape that was passed.
        got: Vec<usize>,
    },
    /// An input has an element type this crate does not feed (only `f32` inputs are supported).
    #[error(
        "model {model:?} input {input:?} has element type {dtype}; only f32 inputs are supported"
    )]
    UnsupportedInput {
        /// The model's name.
        model: String,
        /// The input's name.
        input: String,
        /// The declared element type.
        dtype: String,
    },
    /// A metric window holds NaN or infinity and the policy is to reject it.
    #[error(
        "metric {metric} sample {sample_idx} is {value}; clean the window or use NonFinitePolicy::FillPrevious"
    )]
    NonFinite {
        /// Row (metric) index in the window.
        metric: usize,
        /// Sample index in the row.
        sample_idx: usize,
        /// The value (NaN or ±inf).
        value: f64,
    },
    /// A model input holds NaN or infinity (refused: tract's ReLU maps NaN to 0,
    /// so a NaN would come out as a plausible score).
    #[error("model {model:?} input {input:?} element {index} is {value}; inputs must be finite")]
    NonFiniteInput {
        /// The model's name.
        model: String,
        /// The input's name.
        input: String,
        /// Flat (row-major) index of the first bad element.
        index: usize,
        /// The value.
        value: f32,
    },
    /// A window or batch with no samples.
    #[error("{0} is empty; pass at least one sample")]
    Empty(&'static str),
    /// Taking `requested` more bytes would exceed the budget; nothing was allocated.
    #[error(
        "{what} needs {requested} bytes but the budget has {available} of {budget} free; raise the budget or send smaller requests"
    )]
    OverBudget {
        /// Bytes asked for.
        requested: u64,
        /// Bytes that were free under the refusal threshold.
        available: u64,
        /// The budget, bytes.
        budget: u64,
        /// What the bytes were for.
        what: &'static str,
    },
    /// Room in the budget did not free up before the deadline.
    #[error("waited {waited:?} for {requested} bytes for {what}; the budget stayed full")]
    BudgetTimeout {
        /// Bytes asked for.
        requested: u64,
        /// How long the request waited.
        waited: Duration,
        /// What the bytes were for.
        what: &'static str,
    },
    /// The micro-batching queue is full.
    #[error(
        "the batching queue of model {model:?} is full ({capacity} requests); retry later or raise max_queue"
    )]
    QueueFull {
        /// The model's name.
        model: String,
        /// The queue's capacity.
        capacity: usize,
    },
    /// The micro-batcher has shut down.
    #[error("the batcher of model {0:?} has shut down")]
    Closed(String),
}

impl Error {
    /// Whether retrying the same call later can succeed (room in the budget, a queue slot).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::OverBudget { .. } | Error::BudgetTimeout { .. } | Error::QueueFull { .. }
        )
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
