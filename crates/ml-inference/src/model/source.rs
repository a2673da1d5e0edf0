//! Where a model's bytes come from, and the options of loading it.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::error::{Error, Result};

/// Where a model's bytes come from.
#[derive(Clone)]
#[non_exhaustive]
pub enum ModelSource {
    /// A file, read again whenever a new batch plan is built (nothing kept in memory).
    Path(PathBuf),
    /// Bytes in memory, shared (the registry charges them to the budget).
    Bytes(Arc<[u8]>),
}

impl fmt::Debug for ModelSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelSource::Path(p) => f.debug_tuple("Path").field(p).finish(),
            ModelSource::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
        }
    }
}

impl ModelSource {
    /// A source reading `path`.
    pub fn path(path: impl Into<PathBuf>) -> ModelSource {
        ModelSource::Path(path.into())
    }

    /// A source holding `bytes`.
    pub fn bytes(bytes: impl Into<Arc<[u8]>>) -> ModelSource {
        ModelSource::Bytes(bytes.into())
    }

    /// Size of the serialized model, bytes (the weights dominate it).
    pub fn len(&self) -> Result<u64> {
        match self {
            ModelSource::Bytes(b) => Ok(b.len() as u64),
            ModelSource::Path(p) => std::fs::metadata(p)
                .map(|m| m.len())
                .map_err(|e| io_error(p, &e)),
        }
    }

    /// Whether the source holds no bytes.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Bytes this source keeps in memory.
    pub fn resident_bytes(&self) -> u64 {
        match self {
            ModelSource::Bytes(b) => b.len() as u64,
            ModelSource::Path(_) => 0,
        }
    }

    pub(super) fn read(&self) -> Result<std::borrow::Cow<'_, [u8]>> {
        match self {
            ModelSource::Bytes(b) => Ok(std::borrow::Cow::Borrowed(b)),
            ModelSource::Path(p) => std::fs::read(p)
                .map(std::borrow::Cow::Owned)
                .map_err(|e| io_error(p, &e)),
        }
    }
}

pub(super) fn io_error(path: &std::path::Path, e: &std::io::Error) -> Error {
    Error::Io {
        path: path.display().to_string(),
        cause: e.to_string(),
    }
}

/// The batch classes used unless configured: one plan each, built on first use.
pub const DEFAULT_BATCH_CLASSES: [usize; 5] = [1, 8, 32, 128, 256];

/// The largest batch class accepted (a plan's buffers grow with it).
pub const MAX_BATCH_CLASS: usize = 65_536;

/// How a model is loaded.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ModelOptions {
    pub(super) batch_classes: Vec<usize>,
    pub(super) load_peak_factor: f64,
    pub(super) warmup: bool,
}

impl Default for ModelOptions {
    /// Batch classes [`DEFAULT_BATCH_CLASSES`]; a load reserves 6× the model
    /// size (tract 0.23.9 peaked at 4.0–5.5× loading a 16 MiB MatMul here:
    /// the file, its protobuf, the decoded tensors, the typed graph and the
    /// packed weights overlap; see docs/benchmarks.md); warm-up on (one run
    /// of the smallest batch plan at load).
    fn default() -> Self {
        ModelOptions {
            batch_classes: DEFAULT_BATCH_CLASSES.to_vec(),
            load_peak_factor: 6.0,
            warmup: true,
        }
    }
}

impl ModelOptions {
    /// The concrete batch sizes to plan for (sorted and deduplicated here).
    /// A request larger than the largest is split.
    pub fn batch_classes(mut self, classes: impl IntoIterator<Item = usize>) -> Self {
        let mut v: Vec<usize> = classes.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        self.batch_classes = v;
        self
    }

    /// Bytes reserved while a plan is built, as a multiple of the model's size.
    pub fn load_peak_factor(mut self, factor: f64) -> Self {
        self.load_peak_factor = factor;
        self
    }

    /// Whether a load runs the first plan once on zeros.
    pub fn warmup(mut self, on: bool) -> Self {
        self.warmup = on;
        self
    }

    /// The batch classes.
    pub fn batch_class_sizes(&self) -> &[usize] {
        &self.batch_classes
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.batch_classes.is_empty()
            || self.batch_classes[0] == 0
            || self
                .batch_classes
                .last()
                .is_some_and(|&c| c > MAX_BATCH_CLASS)
        {
            return Err(Error::InvalidConfig {
                field: "batch_classes",
                problem: format!(
                    "{:?} must be non-empty sizes in 1..={MAX_BATCH_CLASS}, e.g. [1, 8, 32, 128, 256]",
                    self.batch_classes
                ),
            });
        }
        if !(self.load_peak_factor.is_finite() && (1.0..=16.0).contains(&self.load_peak_factor)) {
            return Err(Error::InvalidConfig {
                field: "load_peak_factor",
                problem: format!(
                    "{} is outside [1, 16]; tract peaks at 4-5.5x the model size",
                    self.load_peak_factor
                ),
            });
        }
        Ok(())
    }
}
