//! The crate's error type.

use std::fmt;

/// What went wrong while providing a test database.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// No `initdb`/`postgres` binaries were found and `DATABASE_URL` is unset.
    BinariesNotFound,
    /// Tests run as root but the system has no `postgres` user to run the server as.
    NoPostgresUser,
    /// A command (initdb, postgres, psql) could not run or failed.
    Command {
        /// The command that failed.
        what: String,
        /// Its output or the OS error.
        detail: String,
    },
    /// The server did not accept connections in time.
    StartTimeout {
        /// The server log, for diagnosis.
        log: String,
    },
    /// Creating the temporary directory or a file in it failed.
    Io(String),
    /// `DATABASE_URL` is not a `postgres://` or `postgresql://` URL.
    BadUrl(String),
    /// No `pgbouncer` binary was found.
    PgbouncerNotFound,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BinariesNotFound => write!(
                f,
                "no PostgreSQL server binaries (initdb, postgres) found on PATH, in `pg_config --bindir` \
                 or in /usr/lib/postgresql/*/bin; install them (Debian: `apt-get install postgresql`) \
                 or set DATABASE_URL to a server where the role may CREATE DATABASE"
            ),
            Error::NoPostgresUser => write!(
                f,
                "tests run as root but there is no `postgres` user to run the server as; \
                 install Debian's `postgresql` package (it creates the user) or run the tests as an ordinary user"
            ),
            Error::Command { what, detail } => write!(f, "`{what}` failed: {detail}"),
            Error::StartTimeout { log } => write!(
                f,
                "the throwaway PostgreSQL server did not accept connections within 60 s; its log says:\n{log}"
            ),
            Error::Io(e) => write!(f, "cannot prepare the server's temporary directory: {e}"),
            Error::PgbouncerNotFound => write!(
                f,
                "no pgbouncer binary in /usr/sbin, /usr/bin or /usr/local/bin; \
                 install it (Debian: `apt-get install pgbouncer`)"
            ),
            Error::BadUrl(url) => write!(
                f,
                "DATABASE_URL `{url}` is not a postgres:// URL; set it like postgres://user:pass@host:5432/db"
            ),
        }
    }
}

impl std::error::Error for Error {}
