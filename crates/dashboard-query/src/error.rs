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

/// The kind of integrity rule a statement broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConstraintKind {
    /// A unique or primary key already holds the value.
    Unique,
    /// The row refers to a row that does not exist (or is referred to).
    ForeignKey,
    /// A column that must have a value got none.
    NotNull,
    /// A `CHECK` constraint failed.
    Check,
}

impl fmt::Display for ConstraintKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConstraintKind::Unique => "unique",
            ConstraintKind::ForeignKey => "foreign-key",
            ConstraintKind::NotNull => "not-null",
            ConstraintKind::Check => "check",
        })
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
    /// A statement failed for a reason that may pass (the connection
    /// dropped, the database went away, a timeout, a serialization
    /// failure): retrying can succeed.
    Database(DatabaseError),
    /// A statement broke an integrity rule of the schema (a duplicate key,
    /// a reference to a row that does not exist): retrying the same call
    /// fails the same way; fix the data.
    Constraint {
        /// Which kind of rule.
        kind: ConstraintKind,
        /// The database's error (the driver's error is its source).
        error: DatabaseError,
    },
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
            Error::Constraint { kind, error } => write!(
                f,
                "{} violates a {kind} constraint: {}; retrying will not help, fix the data \
                 (an id that exists, a name not yet taken)",
                error.operation, error.message
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
            Error::Constraint { error, .. } => Some(error.source.as_ref()),
            _ => None,
        }
    }
}

impl Error {
    /// Whether the same call may succeed if retried: connection and
    /// statement failures (a dropped connection, a restart, a timeout), not
    /// bad input, constraint violations or configuration errors.
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Connect(_) | Error::Database(_))
    }
}

/// Maps a driver error for `operation`: integrity violations to
/// [`Error::Constraint`], everything else to [`Error::Database`].
pub(crate) fn db(operation: &'static str) -> impl FnOnce(sqlx::Error) -> Error {
    move |e| {
        let kind = match &e {
            sqlx::Error::Database(d) => match d.kind() {
                sqlx::error::ErrorKind::UniqueViolation => Some(ConstraintKind::Unique),
                sqlx::error::ErrorKind::ForeignKeyViolation => Some(ConstraintKind::ForeignKey),
                sqlx::error::ErrorKind::NotNullViolation => Some(ConstraintKind::NotNull),
                sqlx::error::ErrorKind::CheckViolation => Some(ConstraintKind::Check),
                _ => None,
            },
            _ => None,
        };
        let error = DatabaseError::new(operation, e);
        match kind {
            Some(kind) => Error::Constraint { kind, error },
            None => Error::Database(error),
        }
    }
}
