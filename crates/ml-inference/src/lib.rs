//! Memory-bounded ONNX inference on tract.
mod budget;
mod error;
mod model;
pub use budget::{Backpressure, Budget, Reclaim, Reservation, Thresholds};
pub use error::{Error, Result};
pub use model::{DEFAULT_BATCH_CLASSES, Dim, MAX_BATCH_CLASS, Model, ModelOptions, ModelSource, TensorSpec};
mod features;
pub use features::{FeatureConfig, FeatureExtractor, MAX_METRICS, MAX_SAMPLES, NonFinitePolicy, Scratch};
