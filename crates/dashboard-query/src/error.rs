//! The crate's one error type.

use std::fmt;
use std::sync::Arc;

/// A database-level failure; the driver's error is its
/// [`source`](std::error::Error::source), so upgrading sqlx does not change
/// this crate's API.
#[derive(Debug, Clone)]
pub struct DatabaseError {
    operation: &'static str,
    message: String,
    source: Arc<dyn std::error::Error + Send + Sync>,
}

impl DatabaseError {
    pub(crate) fn new(
        operation: &'static str,
        e: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        DatabaseError {
            operation,
            message: e.to_string(),
            source: Arc::new(e),
        }
    }

    /// What the repository was doing (`"dashboard"`, `"connect"`, …).
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// The driver's message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl PartialEq for DatabaseError {
    fn eq(&self, other: &Self) -> bool {
        self.operation == other.operation && self.message == other.message
    }
}

/// Everything that can go wrong; every message says what was wrong, then what to do.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The URL names no supported backend.
    UnsupportedUrl {
        /// The URL with any password removed.
        url: String,
    },
    /// Connecting failed (server unreachable, bad credentials, missing file).
    Connect(DatabaseError),
    /// Applying the migrations failed; the migrator's error is the source.
    Migrate(DatabaseError),
    /// A statement failed (the connection dropped, the database vanished, a
    /// constraint was violated).
    Database(DatabaseError),
    /// A page size of 0 or above [`MAX_PAGE_SIZE`](crate::MAX_PAGE_SIZE).
    InvalidPageSize {
        /// The size asked for.
        got: usize,
    },
    /// A cursor that is not one this repository issued for this query.
    InvalidCursor {
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A value the schema cannot hold (NaN metrics, control characters in an
    /// alert type, an empty name, too many ids).
    InvalidInput {
        /// What was wrong.
        reason: String,
    },
    /// A bulk load whose row counts differ from what was sent.
    LoadMismatch {
        /// The table.
        table: &'static str,
        /// Rows sent.
        expected: u64,
        /// Rows found after loading.
        found: u64,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::UnsupportedUrl { url } => write!(
                f,
                "unsupported database URL `{url}`; use postgres://… or sqlite:… (sqlite::memory: for tests)"
            ),
            Error::Connect(e) => write!(
                f,
                "cannot connect to the database: {}; check that the server runs and the URL is right",
                e.message
            ),
            Error::Migrate(e) => write!(
                f,
                "applying the schema migrations failed: {}; check the role may create tables",
                e.message
            ),
            Error::Database(e) => write!(
                f,
                "{} failed: {}; retry, or check the database's health",
                e.operation, e.message
            ),
            Error::InvalidPageSize { got } => write!(
                f,
                "page size {got} is invalid; pass 1..={}",
                crate::MAX_PAGE_SIZE
            ),
            Error::InvalidCursor { reason } => write!(
                f,
                "invalid cursor ({reason}); pass a cursor from this query's previous page, or none"
            ),
            Error::InvalidInput { reason } => write!(f, "invalid input: {reason}"),
            Error::LoadMismatch {
                table,
                expected,
                found,
            } => write!(
                f,
                "bulk load of {table}: sent {expected} rows but found {found}; load into an empty database"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Connect(e) | Error::Database(e) | Error::Migrate(e) => Some(e.source.as_ref()),
            _ => None,
        }
    }
}

/// Maps a driver error for `operation`.
pub(crate) fn db(operation: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
    move |e| Error::Database(DatabaseError::new(operation, e))
}
