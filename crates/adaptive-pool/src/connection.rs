//! The handle `get()` returns: queries through the bounded statement cache,
//! with the evict-and-retry-once rule for invalidated statements.

use std::sync::atomic::Ordering;
use std::time::Instant;

use deadpool::managed::Object;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, Row, SimpleQueryMessage, Statement};

use crate::config::Mode;
use crate::error::Error;
use crate::manager::Manager;
use crate::stats::{CloseReason, Counters};

/// A connection handed out by [`Pool::get`](crate::Pool::get); it goes back to
/// the pool when dropped, or is discarded if it broke.
///
/// Queries go through its statement cache (in [`Mode::Session`]): a
/// statement is prepared once per connection and kept, least recently used
/// evicted beyond the configured capacity. When the server says a cached
/// statement is no longer valid — SQLSTATE `0A000` "cached plan must not
/// change result type" after a schema change, or `26000` "prepared
/// statement … does not exist" behind a pooler — the entry is dropped and the
/// query prepared and run once more.
pub struct Connection {
    object: Option<Object<Manager>>,
    checked_out: Instant,
    mode: Mode,
    cache_capacity: usize,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("mode", &self.mode)
            .field("cached_statements", &self.cached_statements())
            .finish_non_exhaustive()
    }
}

/// A server error that means "this cached statement is gone or stale".
fn invalidates_statement(e: &tokio_postgres::Error) -> bool {
    match e.code().map(|c| c.code()) {
        Some("26000") => true,
        Some("0A000") => e
            .as_db_error()
            .is_some_and(|db| db.message().contains("cached plan")),
        _ => false,
    }
}

impl Connection {
    pub(crate) fn new(object: Object<Manager>, mode: Mode, cache_capacity: usize) -> Connection {
        Connection {
            object: Some(object),
            checked_out: Instant::now(),
            mode,
            cache_capacity,
        }
    }

    fn conn(&self) -> &crate::manager::Conn {
        match &self.object {
            Some(o) => o,
            // `object` is only taken in `drop`.
            None => unreachable!("connection used after drop"),
        }
    }

    fn counters(&self) -> &Counters {
        self.conn().counters_ref()
    }

    /// The underlying `tokio_postgres` client, for what this handle does not
    /// wrap (transactions, `COPY`, notifications). Errors there are not seen
    /// by the pool: call [`mark_broken`](Self::mark_broken) when the connection
    /// should not be reused.
    pub fn client(&self) -> &Client {
        &self.conn().client
    }

    /// Marks the connection broken: it is closed instead of returned.
    pub fn mark_broken(&self) {
        self.conn().broken.store(true, Ordering::Relaxed);
    }

    /// Statements cached on this connection now.
    pub fn cached_statements(&self) -> usize {
        self.object.as_ref().map_or(0, |o| {
            o.statements.lock().unwrap_or_else(|e| e.into_inner()).len()
        })
    }

    /// Notes a failed call: a closed connection, a failure that was not the
    /// server's answer, or the server saying the session ends (SQLSTATE
    /// classes 57P "operator intervention" and 08 "connection exception") is
    /// not reused — the client may not have seen the socket close yet.
    fn track<T>(&self, result: Result<T, tokio_postgres::Error>) -> Result<T, Error> {
        result.map_err(|e| {
            let session_ends = e
                .code()
                .is_some_and(|c| c.code().starts_with("57P") || c.code().starts_with("08"));
            if session_ends
                || e.is_closed()
                || e.as_db_error().is_none()
                || self.client().is_closed()
            {
                self.mark_broken();
            }
            Error::from(e)
        })
    }

    /// The cached prepared statement for `sql`, prepared on a miss.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] when the server cannot prepare it. In
    /// [`Mode::Transaction`] the statement is prepared but not cached (a
    /// transaction pooler would lose it).
    pub async fn prepare_cached(&self, sql: &str) -> Result<Statement, Error> {
        if self.mode == Mode::Session && self.cache_capacity > 0 {
            let hit = self
                .conn()
                .statements
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(sql)
                .cloned();
            if let Some(statement) = hit {
                return Ok(statement);
            }
        }
        let statement = self.track(self.client().prepare(sql).await)?;
        if self.mode == Mode::Session && self.cache_capacity > 0 {
            // Dropping an evicted statement closes it on the server.
            self.conn()
                .statements
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .put(sql.to_owned(), statement.clone());
        }
        Ok(statement)
    }

    fn evict(&self, sql: &str) {
        self.conn()
            .statements
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop(sql);
        self.counters().reprepared.fetch_add(1, Ordering::Relaxed);
    }

    /// Runs `run` with the cached statement for `sql`; when the server says
    /// the statement is stale or gone, evicts it, prepares it again and
    /// runs once more.
    async fn with_statement<T, F, Fut>(&self, sql: &str, run: F) -> Result<T, Error>
    where
        F: Fn(Statement) -> Fut,
        Fut: Future<Output = Result<T, tokio_postgres::Error>>,
    {
        let statement = self.prepare_cached(sql).await?;
        match run(statement).await {
            Err(e) if invalidates_statement(&e) => {
                self.evict(sql);
                let statement = self.prepare_cached(sql).await?;
                self.track(run(statement).await)
            }
            other => self.track(other),
        }
    }

    /// Runs a statement and returns its rows.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] with the server's SQLSTATE ([`Error::code`]).
    pub async fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Error> {
        let client = self.client();
        match self.mode {
            Mode::Transaction if params.is_empty() => {
                self.track(client.query_typed(sql, &[]).await)
            }
            Mode::Transaction => self.in_own_transaction(client.query(sql, params)).await,
            Mode::Session => {
                self.with_statement(sql, |st| async move { client.query(&st, params).await })
                    .await
            }
        }
    }

    /// Runs a statement that returns exactly one row.
    ///
    /// # Errors
    ///
    /// As [`query`](Self::query), and [`Error::Query`] when the statement
    /// returns no row or several.
    pub async fn query_one(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Row, Error> {
        let client = self.client();
        match self.mode {
            Mode::Transaction if params.is_empty() => {
                self.track(client.query_typed_one(sql, &[]).await)
            }
            Mode::Transaction => self.in_own_transaction(client.query_one(sql, params)).await,
            Mode::Session => {
                self.with_statement(sql, |st| async move { client.query_one(&st, params).await })
                    .await
            }
        }
    }

    /// Runs a statement and returns the number of rows it changed.
    ///
    /// # Errors
    ///
    /// As [`query`](Self::query).
    pub async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, Error> {
        let client = self.client();
        match self.mode {
            Mode::Transaction => self.in_own_transaction(client.execute(sql, params)).await,
            Mode::Session => {
                self.with_statement(sql, |st| async move { client.execute(&st, params).await })
                    .await
            }
        }
    }

    /// Runs a statement whose parameter types are given: one round trip with
    /// the unnamed statement, nothing prepared or cached — the fast path
    /// behind a transaction-pooling PgBouncer.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] with the server's SQLSTATE.
    pub async fn query_typed(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<Vec<Row>, Error> {
        self.track(self.client().query_typed(sql, params).await)
    }

    /// Runs one or more statements over the simple-query protocol.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] with the server's SQLSTATE.
    pub async fn simple_query(&self, sql: &str) -> Result<Vec<SimpleQueryMessage>, Error> {
        self.track(self.client().simple_query(sql).await)
    }

    /// Runs statements over the simple-query protocol, ignoring their rows.
    ///
    /// # Errors
    ///
    /// [`Error::Query`] with the server's SQLSTATE.
    pub async fn batch_execute(&self, sql: &str) -> Result<(), Error> {
        self.track(self.client().batch_execute(sql).await)
    }

    /// Prepare and execute pinned to one server connection of a transaction
    /// pooler: inside a transaction of their own.
    async fn in_own_transaction<T>(
        &self,
        work: impl Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T, Error> {
        self.track(self.client().batch_execute("BEGIN").await)?;
        match work.await {
            Ok(value) => {
                self.track(self.client().batch_execute("COMMIT").await)?;
                Ok(value)
            }
            Err(e) => {
                let _ = self.client().batch_execute("ROLLBACK").await;
                self.track(Err(e))
            }
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(object) = self.object.take() {
            let counters = object.counters_ref();
            Counters::add_nanos(&counters.hold_nanos, self.checked_out.elapsed());
            counters.completed.fetch_add(1, Ordering::Relaxed);
            counters.in_use.fetch_sub(1, Ordering::Relaxed);
            if object.broken.load(Ordering::Relaxed) || object.client.is_closed() {
                object.mark(CloseReason::Broken);
                // Taken out of the pool: it is never handed out again.
                drop(Object::take(object));
            }
        }
    }
}
