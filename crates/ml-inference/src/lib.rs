//! Memory-bounded ONNX inference on tract.
mod budget;
mod error;
mod model;
pub use budget::{Backpressure, Budget, Reclaim, Reservation, Thresholds};
pub use error::{Error, Result};
pub use model::{
    DEFAULT_BATCH_CLASSES, Dim, MAX_BATCH_CLASS, Model, ModelOptions, ModelSource, TensorSpec,
};
mod features;
pub use features::{
    FeatureConfig, FeatureExtractor, MAX_METRICS, MAX_SAMPLES, NonFinitePolicy, Scratch,
};
mod registry;
pub use registry::{Registry, RegistryConfig, RegistryStats};
mod cache;
mod metrics;
pub use cache::{FeatureCache, History, RequestSummary};
pub use metrics::{LatencyHistogram, Metrics};
mod engine;
pub use engine::{
    Engine, EngineConfig, InferenceResult, Input, MemoryUse, ModelPolicy, Request, confidence,
};
mod batcher;
pub use batcher::{BatchConfig, Batcher};
