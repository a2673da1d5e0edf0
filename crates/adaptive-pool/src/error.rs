//! The one error type of this crate.

use std::fmt;
use std::time::Duration;

/// Everything that can go wrong in this crate.
///
/// Messages say what was wrong, then what to do. Errors of the PostgreSQL
/// driver are kept as the [`source`](std::error::Error::source) of
/// [`Error::Query`] and [`Error::Connect`], not as fields, so a driver upgrade
/// does not change this type.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A [`Config`](crate::Config) value is out of range or contradicts another.
    InvalidConfig {
        /// The setting, as its setter is named.
        field: &'static str,
        /// What is wrong with it and what would be accepted.
        problem: String,
    },
    /// The connection string could not be parsed.
    BadConnectionString(String),
    /// Connecting failed: the server is unreachable, refused us, or did not
    /// answer within the connect timeout.
    Connect {
        /// Where we tried to connect (hosts and ports, never the password).
        target: String,
        /// What went wrong, in the driver's words.
        cause: String,
        /// The driver's error, when there is one.
        source: Option<Box<tokio_postgres::Error>>,
    },
    /// No connection could be handed out within the acquire timeout.
    Timeout {
        /// How long the caller waited.
        waited: Duration,
        /// The last connect error, when the pool was failing to connect.
        last_connect_error: Option<String>,
    },
    /// The pool was closed: no more connections are handed out.
    Closed,
    /// A query failed; the server's SQLSTATE is in [`Error::code`].
    Query(Box<tokio_postgres::Error>),
}

impl Error {
    /// The SQLSTATE of a server error (for example `"23505"` for a unique
    /// violation), `None` for every other kind of error.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Query(e) => e.code().map(|c| c.code()),
            Error::Connect {
                source: Some(e), ..
            } => e.code().map(|c| c.code()),
            _ => None,
        }
    }

    /// Whether retrying the same call later may succeed: timeouts, connect
    /// failures, and query failures that are the connection's fault (closed
    /// connection, server shutting down, serialization failure, deadlock).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Timeout { .. } | Error::Connect { .. } => true,
            Error::Query(e) => {
                e.is_closed()
                    || matches!(
                        e.code().map(|c| c.code()),
                        None | Some(
                            "57P01" | "57P02" | "57P03" | "40001" | "40P01" | "08006" | "08003"
                        )
                    )
            }
            _ => false,
        }
    }

    pub(crate) fn config(field: &'static str, problem: impl Into<String>) -> Error {
        Error::InvalidConfig {
            field,
            problem: problem.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidConfig { field, problem } => {
                write!(f, "invalid pool setting `{field}`: {problem}")
            }
            Error::BadConnectionString(e) => write!(
                f,
                "cannot parse the connection string: {e}; pass a URL such as \
                 postgres://user@host:5432/db or key=value pairs such as `host=localhost dbname=db`"
            ),
            Error::Connect { target, cause, .. } => write!(
                f,
                "cannot connect to PostgreSQL at {target}: {cause}; check that the server runs and \
                 accepts connections there, and the user, password and database name"
            ),
            Error::Timeout {
                waited,
                last_connect_error,
            } => {
                write!(
                    f,
                    "no connection became available within {} ms",
                    waited.as_millis()
                )?;
                match last_connect_error {
                    Some(e) => write!(f, "; the pool cannot connect to the server: {e}"),
                    None => write!(
                        f,
                        "; every connection was busy: raise the acquire timeout or `max_size`, \
                         or hold connections for less time"
                    ),
                }
            }
            Error::Closed => write!(f, "the pool is closed; build a new `Pool` to connect again"),
            Error::Query(e) => match e.as_db_error() {
                Some(db) => write!(
                    f,
                    "query failed: {} (SQLSTATE {})",
                    db.message(),
                    db.code().code()
                ),
                None => write!(f, "query failed: {e}"),
            },
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Query(e) => Some(e.as_ref()),
            Error::Connect {
                source: Some(e), ..
            } => Some(e.as_ref()),
            _ => None,
        }
    }
}

impl From<tokio_postgres::Error> for Error {
    fn from(e: tokio_postgres::Error) -> Error {
        Error::Query(Box::new(e))
    }
}
