//! VM placement as a QUBO: the encoder, the decoder with its violation
//! list, a greedy repair, and the first-fit-decreasing baseline.
//!
//! One file per idea: the problem and its checks (`problem.rs`),
//! first-fit decreasing and the affinity groups (`ffd.rs`), the host-level
//! local search (`search.rs`), the encoder (`encode.rs`), decoding and
//! repair (`decode.rs`).

mod decode;
mod encode;
mod ffd;
mod problem;
mod search;

pub use decode::Encoding;
pub use encode::EncoderConfig;
pub use problem::{Decoded, HostSpec, Placement, PlacementProblem, Violation, VmDemand};
