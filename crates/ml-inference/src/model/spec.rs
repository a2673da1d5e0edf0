//! What a model takes and returns: tensor specs with symbolic dimensions.

use std::fmt;

/// One dimension of a declared input or output.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dim {
    /// The batch dimension.
    Batch,
    /// A fixed size.
    Fixed(usize),
    /// A free size bound per call (e.g. a sequence length), by name.
    Free(String),
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::Batch => f.write_str("N"),
            Dim::Fixed(n) => write!(f, "{n}"),
            Dim::Free(s) => f.write_str(s),
        }
    }
}

/// A declared input or output: name and shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSpec {
    /// The graph's name for it.
    pub name: String,
    /// Its dimensions.
    pub dims: Vec<Dim>,
}

impl TensorSpec {
    /// Index of the batch dimension, if it has one.
    pub fn batch_axis(&self) -> Option<usize> {
        self.dims.iter().position(|d| *d == Dim::Batch)
    }

    pub(super) fn shape_string(&self) -> String {
        let d: Vec<String> = self.dims.iter().map(ToString::to_string).collect();
        format!("[{}]", d.join(", "))
    }
}
