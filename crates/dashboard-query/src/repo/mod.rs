//! The repository: connection and migrations (`connect.rs`), the
//! dashboard reads (`read.rs`), the write API and bulk loader
//! (`write.rs`), input checks and URL redaction (`validate.rs`).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::cursor::CursorKey;
use crate::sql::{self, Sql};

#[cfg(not(any(feature = "postgres", feature = "sqlite")))]
compile_error!("novacron-dashboard-query needs the `postgres` or the `sqlite` feature");

/// The largest page (and the most ids [`DashboardRepository::dashboard_for_vms`] takes).
pub const MAX_PAGE_SIZE: usize = 10_000;

/// Rows per multi-row INSERT: 2,000 × 8 columns stays below both backends'
/// bind-parameter limits (PostgreSQL 65,535; SQLite 32,766).
const CHUNK: usize = 2000;

/// The database behind a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// PostgreSQL (LATERAL single query).
    Postgres,
    /// SQLite (correlated subqueries).
    Sqlite,
}

#[derive(Debug, Clone)]
enum Pool {
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
}

/// Runs `$body` with `$pool` bound to the concrete pool and `$sql` to its statements.
macro_rules! on_pool {
    ($self:expr, $pool:ident, $sql:ident => $body:expr) => {
        match &$self.pool {
            #[cfg(feature = "postgres")]
            Pool::Postgres($pool) => {
                let $sql: &Sql = &sql::POSTGRES;
                $body
            }
            #[cfg(feature = "sqlite")]
            Pool::Sqlite($pool) => {
                let $sql: &Sql = &sql::SQLITE;
                $body
            }
        }
    };
}

/// Runs `$body` inside a transaction on the concrete pool (`BEGIN` and
/// `COMMIT` are counted); `$tx` names the transaction.
macro_rules! in_transaction {
    ($self:expr, $op:literal, $tx:ident => $body:block) => {
        on_pool!($self, pool, _sql => {
            $self.issue(1);
            let mut $tx = pool.begin().await.map_err(db($op))?;
            $body
            $self.issue(1);
            $tx.commit().await.map_err(db($op))?;
        })
    };
}

mod connect;
mod read;
mod validate;
mod write;

pub use connect::ConnectOptions;

/// The VM dashboard over PostgreSQL or SQLite (see the crate docs).
#[derive(Debug)]
pub struct DashboardRepository {
    pool: Pool,
    key: CursorKey,
    statements: AtomicU64,
}

impl DashboardRepository {
    /// Which database this is.
    pub fn backend(&self) -> Backend {
        match self.pool {
            #[cfg(feature = "postgres")]
            Pool::Postgres(_) => Backend::Postgres,
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// Statements sent to the database so far (each is one round trip;
    /// `BEGIN` and `COMMIT` count). Compare before and after a call.
    pub fn statements_issued(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    fn issue(&self, n: u64) {
        self.statements.fetch_add(n, Ordering::Relaxed);
    }

    /// Closes the pool.
    pub async fn close(&self) {
        on_pool!(self, pool, _sql => pool.close().await)
    }
}
