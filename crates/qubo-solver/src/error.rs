//! The crate's one error type.

use std::fmt;

/// Everything that can go wrong; every message says what was wrong, then what to do.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A variable index at or beyond the model's number of variables.
    IndexOutOfRange {
        /// The index given.
        index: usize,
        /// The model's number of variables.
        num_variables: usize,
    },
    /// A quadratic term that joins a variable with itself.
    SelfLoop {
        /// The variable.
        index: usize,
    },
    /// A coefficient that is NaN or infinite.
    NonFiniteCoefficient {
        /// Where it was found (a term or a parameter).
        what: String,
    },
    /// Integer arithmetic on coefficients overflowed `i64`.
    Overflow {
        /// The operation that overflowed.
        what: &'static str,
    },
    /// A vartype conversion whose coefficients are not representable in the
    /// coefficient type (for example `i64` binary to spin needs quarters).
    InexactConversion,
    /// A state of the wrong length or with values outside the vartype.
    InvalidState {
        /// What was wrong with it.
        reason: String,
    },
    /// A sampler parameter outside its valid range.
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// The value given, as text.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// The exact solver was asked for more variables than it can enumerate.
    TooManyVariables {
        /// Variables in the model.
        num_variables: usize,
        /// The solver's limit.
        limit: usize,
    },
    /// An instance file that does not follow its format.
    Parse {
        /// 1-based line number of the offending token (0: end of input).
        line: usize,
        /// What was wrong.
        message: String,
    },
    /// An instance file lists the same pair (or variable) twice.
    DuplicateEntry {
        /// 1-based line of the second occurrence.
        line: usize,
        /// First index (0-based).
        i: usize,
        /// Second index (0-based).
        j: usize,
    },
    /// Reading or writing an instance failed at the I/O level; the
    /// [`std::io::Error`] is the [`source`](std::error::Error::source).
    Io(IoError),
    /// A placement problem that is malformed (mismatched resource counts,
    /// bad indices, negative or non-finite costs).
    InvalidProblem {
        /// What was wrong.
        reason: String,
    },
    /// A placement problem that no assignment can satisfy.
    Infeasible {
        /// Why.
        reason: String,
    },
    /// A size that would allocate far more than the input justifies (a
    /// declared variable count, a number of reads or replicas, the terms of an
    /// encoding); refused before anything is allocated.
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// The size asked for.
        size: u64,
        /// The largest size accepted.
        limit: u64,
    },
    /// A sampler backend failed (for example a remote annealer).
    Backend {
        /// The backend's name.
        backend: String,
        /// Its error message.
        message: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::IndexOutOfRange {
                index,
                num_variables,
            } => write!(
                f,
                "variable index {index} is out of range for a model with {num_variables} variables; \
                 add variables first or use indices below {num_variables}"
            ),
            Error::SelfLoop { index } => write!(
                f,
                "quadratic term ({index}, {index}) joins a variable with itself; \
                 add it as a linear bias instead"
            ),
            Error::NonFiniteCoefficient { what } => {
                write!(f, "{what} is NaN or infinite; pass finite coefficients")
            }
            Error::Overflow { what } => write!(
                f,
                "{what} overflowed i64; scale the coefficients down or use an f64 model"
            ),
            Error::InexactConversion => write!(
                f,
                "the converted coefficients are not integers; convert the model with to_f64() first"
            ),
            Error::InvalidState { reason } => write!(f, "invalid state: {reason}"),
            Error::InvalidParameter {
                name,
                value,
                expected,
            } => {
                write!(f, "parameter {name} = {value} is invalid; pass {expected}")
            }
            Error::TooManyVariables {
                num_variables,
                limit,
            } => write!(
                f,
                "the exact solver enumerates at most {limit} variables, the model has {num_variables}; \
                 use a heuristic sampler for larger models"
            ),
            Error::Parse { line, message } => {
                if *line == 0 {
                    write!(
                        f,
                        "unexpected end of input: {message}; check that the file is complete"
                    )
                } else {
                    write!(f, "line {line}: {message}; fix the instance file")
                }
            }
            Error::DuplicateEntry { line, i, j } => write!(
                f,
                "line {line}: entry ({i}, {j}) (0-based) appears twice; list each pair once"
            ),
            Error::Io(e) => write!(
                f,
                "reading or writing the instance failed: {}; check the file and the disk",
                e.message
            ),
            Error::InvalidProblem { reason } => write!(f, "invalid placement problem: {reason}"),
            Error::Infeasible { reason } => {
                write!(
                    f,
                    "the placement is infeasible: {reason}; add capacity or remove demand"
                )
            }
            Error::TooLarge { what, size, limit } => write!(
                f,
                "{what} is {size}, above the limit of {limit}; split the work or pass a smaller size"
            ),
            Error::Backend { backend, message } => write!(
                f,
                "sampler backend {backend} failed: {message}; retry or fall back to a classical sampler"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e.source.as_ref()),
            _ => None,
        }
    }
}

/// An I/O failure with the original [`std::io::Error`] kept as the source
/// (shared, so that [`Error`] stays `Clone`).
#[derive(Debug, Clone)]
pub struct IoError {
    message: String,
    source: std::sync::Arc<std::io::Error>,
}

impl IoError {
    /// The I/O error's message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The I/O error's kind.
    pub fn kind(&self) -> std::io::ErrorKind {
        self.source.kind()
    }
}

impl PartialEq for IoError {
    fn eq(&self, other: &Self) -> bool {
        self.kind() == other.kind() && self.message == other.message
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(IoError {
            message: e.to_string(),
            source: std::sync::Arc::new(e),
        })
    }
}

/// `Err(Error::TooLarge { .. })` when `size > limit`; sizes saturate at `u64::MAX`.
pub(crate) fn check_size(what: &'static str, size: u128, limit: u64) -> Result<(), Error> {
    if size > u128::from(limit) {
        return Err(Error::TooLarge {
            what,
            size: u64::try_from(size).unwrap_or(u64::MAX),
            limit,
        });
    }
    Ok(())
}

/// Shorthand for `Err(Error::InvalidParameter { .. })`.
pub(crate) fn invalid<T>(
    name: &'static str,
    value: impl fmt::Display,
    expected: &'static str,
) -> Result<T, Error> {
    Err(Error::InvalidParameter {
        name,
        value: value.to_string(),
        expected,
    })
}
