//! Test-only helper that gives every test a real, private PostgreSQL database.
//!
//! The database crates of this workspace are tested against a real server,
//! never a mock. [`TestDb::new`] hands each test its own database, created
//! from `template0`, so tests run in parallel without seeing each other's rows:
//!
//! - if `DATABASE_URL` is set, databases are created on that server (the role
//!   needs `CREATEDB`) and dropped again when the [`TestDb`] is dropped;
//! - otherwise a throwaway server is started from the local PostgreSQL
//!   binaries (`initdb` and `postgres` on `PATH`, in `pg_config --bindir`, or
//!   in `/usr/lib/postgresql/<version>/bin`), in a temporary directory, on a
//!   free loopback port with a private socket directory and `fsync=off`. It is
//!   shared by every test of the process and stopped, with its directory
//!   removed, when the last [`TestDb`] is dropped — also when a test panics,
//!   and (through a small watchdog process) when the test process is killed.
//!
//! PostgreSQL refuses to run as root, so when the tests run as root the server
//! is started as the `postgres` user (set with `CommandExt::uid`/`gid`, no
//! `sudo` needed). As an ordinary user it runs as that user.
//!
//! ```no_run
//! let db = novacron_testkit::TestDb::new()?;
//! // Hand `db.url()` to sqlx, tokio-postgres, deadpool-postgres, psql...
//! assert!(db.url().starts_with("postgres://"));
//! let answer = db.psql("SELECT 6 * 7")?;
//! assert_eq!(answer, "42");
//! # Ok::<(), novacron_testkit::Error>(())
//! ```
//!
//! # Errors
//!
//! When no PostgreSQL binaries are found, [`TestDb::new`] returns
//! [`Error::BinariesNotFound`], whose message says exactly what to install: a
//! test using it fails loudly, it never passes silently.
//!
//! This crate is `publish = false` and only ever a dev-dependency.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
mod pgbouncer;
mod pgserver;
mod process;
mod testdb;

pub use error::Error;
pub use pgbouncer::{Pgbouncer, PoolMode};
pub use pgserver::PgServer;
pub use testdb::TestDb;

#[cfg(test)]
mod tests {
    use crate::process::*;
    use crate::*;

    #[test]
    fn replace_dbname_keeps_authority_and_query() {
        assert_eq!(
            replace_dbname("postgres://u:p@h:5432/app?sslmode=disable", "t1"),
            Ok("postgres://u:p@h:5432/t1?sslmode=disable".to_owned())
        );
        assert_eq!(
            replace_dbname("postgresql://h", "t2"),
            Ok("postgresql://h/t2".to_owned())
        );
        assert_eq!(
            replace_dbname("mysql://h/db", "t"),
            Err(Error::BadUrl("mysql://h/db".to_owned()))
        );
    }

    #[test]
    fn binaries_not_found_message_says_what_to_install() {
        let msg = Error::BinariesNotFound.to_string();
        assert!(msg.contains("apt-get install postgresql"), "{msg}");
        assert!(msg.contains("DATABASE_URL"), "{msg}");
    }
}
