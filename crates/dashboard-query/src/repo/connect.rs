//! Connection setup: options, pools for each backend, migrations.

use super::validate::*;
use super::*;
use std::str::FromStr;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use crate::Error;
use crate::cursor::CursorKey;
use crate::error::DatabaseError;

/// Connection settings; every field has a default, set the ones you need
/// with the chained setters.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// Pool size (default 8; an in-memory SQLite database always uses 1).
    pub max_connections: u32,
    /// How long to wait for a connection (default 5 s).
    pub acquire_timeout: Duration,
    /// Key that signs cursors. Default: random per repository, so cursors
    /// do not survive a restart; pass one shared key to every instance of a
    /// service whose clients page across instances.
    pub cursor_key: Option<[u8; 32]>,
    /// Apply the schema migrations at connect (default true). Off for a
    /// read-only role, or when the caller runs
    /// [`DashboardRepository::migrate`] itself (say, once per deployment).
    pub run_migrations: bool,
    /// PostgreSQL's `statement_timeout` for this pool's sessions (default
    /// none): a statement running longer is cancelled and fails as a
    /// transient [`Error::Database`]. SQLite has no statement timeout; the
    /// option is ignored there.
    pub statement_timeout: Option<Duration>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(5),
            cursor_key: None,
            run_migrations: true,
            statement_timeout: None,
        }
    }
}

impl ConnectOptions {
    /// Pool size, at least 1 ([`DashboardRepository::connect_with`] refuses 0).
    #[must_use]
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n;
        self
    }

    /// How long to wait for a connection.
    #[must_use]
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// The key that signs cursors.
    #[must_use]
    pub fn cursor_key(mut self, key: [u8; 32]) -> Self {
        self.cursor_key = Some(key);
        self
    }

    /// Whether connecting applies the migrations.
    #[must_use]
    pub fn run_migrations(mut self, run: bool) -> Self {
        self.run_migrations = run;
        self
    }

    /// PostgreSQL's statement timeout (at least 1 ms when set).
    #[must_use]
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = Some(timeout);
        self
    }

    fn check(&self) -> Result<(), Error> {
        if self.max_connections == 0 {
            return Err(Error::InvalidInput {
                reason: "max_connections is 0; pass at least 1".into(),
            });
        }
        if self.statement_timeout.is_some_and(|t| t.as_millis() == 0) {
            return Err(Error::InvalidInput {
                reason: "statement_timeout is under 1 ms (PostgreSQL reads 0 as no timeout); \
                         pass at least 1 ms, or leave it unset"
                    .into(),
            });
        }
        Ok(())
    }
}

impl DashboardRepository {
    /// Connects to `postgres://…` or `sqlite:…` (`sqlite::memory:` for an
    /// in-memory database) and applies the schema migrations.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Self::connect_with(url, &ConnectOptions::default()).await
    }

    /// [`connect`](Self::connect) with explicit options.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for `max_connections == 0` or a statement
    /// timeout under 1 ms, [`Error::UnsupportedUrl`], [`Error::Connect`],
    /// [`Error::Migrate`].
    pub async fn connect_with(url: &str, options: &ConnectOptions) -> Result<Self, Error> {
        options.check()?;
        let connect = |e: sqlx::Error| Error::Connect(DatabaseError::new("connect", e));
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            #[cfg(feature = "postgres")]
            {
                // JIT compilation pays for long analytical queries; a
                // dashboard page is short, and at 10,000 VMs its plan cost
                // crosses jit_above_cost, adding tens of milliseconds of
                // compilation to every call. Off for this pool's sessions.
                let mut opts = sqlx::postgres::PgConnectOptions::from_str(url)
                    .map_err(connect)?
                    .options([("jit", "off")]);
                if let Some(timeout) = options.statement_timeout {
                    let ms = timeout.as_millis().min(i32::MAX as u128).to_string();
                    opts = opts.options([("statement_timeout", ms.as_str())]);
                }
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(options.max_connections)
                    .acquire_timeout(options.acquire_timeout)
                    .connect_with(opts)
                    .await
                    .map_err(connect)?;
                return Self::from_postgres_pool(pool, options).await;
            }
            #[cfg(not(feature = "postgres"))]
            return Err(Error::UnsupportedUrl { url: redact(url) });
        } else if url.starts_with("sqlite:") {
            #[cfg(feature = "sqlite")]
            {
                let memory = url.contains(":memory:") || url.contains("mode=memory");
                let opts = sqlx::sqlite::SqliteConnectOptions::from_str(url)
                    .map_err(connect)?
                    .create_if_missing(true)
                    .foreign_keys(true)
                    // 64 MiB page cache per connection (SQLite's default is
                    // 2 MiB): a large fleet's time series then stays cached.
                    .pragma("cache_size", "-65536")
                    .journal_mode(if memory {
                        sqlx::sqlite::SqliteJournalMode::Memory
                    } else {
                        sqlx::sqlite::SqliteJournalMode::Wal
                    });
                let pool = sqlx::sqlite::SqlitePoolOptions::new()
                    .max_connections(if memory { 1 } else { options.max_connections })
                    .acquire_timeout(options.acquire_timeout)
                    // An in-memory database lives as long as its connection.
                    .idle_timeout(if memory {
                        None
                    } else {
                        Some(Duration::from_secs(600))
                    })
                    .max_lifetime(if memory {
                        None
                    } else {
                        Some(Duration::from_secs(1800))
                    })
                    .connect_with(opts)
                    .await
                    .map_err(connect)?;
                return Self::from_sqlite_pool(pool, options).await;
            }
            #[cfg(not(feature = "sqlite"))]
            return Err(Error::UnsupportedUrl { url: redact(url) });
        }
        Err(Error::UnsupportedUrl { url: redact(url) })
    }

    /// A repository over a PostgreSQL pool the caller built (its own
    /// connection options, hooks, TLS); applies the migrations unless
    /// `options` says not to. The pool settings of `options` (size,
    /// timeouts) are not used; its cursor key and migration switch are.
    #[cfg(feature = "postgres")]
    pub async fn from_postgres_pool(
        pool: sqlx::PgPool,
        options: &ConnectOptions,
    ) -> Result<Self, Error> {
        options.check()?;
        let repo = Self::with_pool(Pool::Postgres(pool), options);
        if options.run_migrations {
            repo.migrate().await?;
        }
        Ok(repo)
    }

    /// A repository over a SQLite pool the caller built (enable foreign
    /// keys on its connections: the schema relies on them); applies the
    /// migrations unless `options` says not to. The pool settings of
    /// `options` are not used; its cursor key and migration switch are.
    #[cfg(feature = "sqlite")]
    pub async fn from_sqlite_pool(
        pool: sqlx::SqlitePool,
        options: &ConnectOptions,
    ) -> Result<Self, Error> {
        options.check()?;
        let repo = Self::with_pool(Pool::Sqlite(pool), options);
        if options.run_migrations {
            repo.migrate().await?;
        }
        Ok(repo)
    }

    /// Applies the schema migrations that have not run yet (what connecting
    /// does unless [`ConnectOptions::run_migrations`] is off). Safe to call
    /// from several instances: the migrator takes a lock.
    ///
    /// # Errors
    ///
    /// [`Error::Migrate`], with the migrator's error as its source.
    pub async fn migrate(&self) -> Result<(), Error> {
        let migrate = |e| Error::Migrate(DatabaseError::new("migrate", e));
        match &self.pool {
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => sqlx::migrate!("migrations/postgres")
                .run(pool)
                .await
                .map_err(migrate)?,
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => sqlx::migrate!("migrations/sqlite")
                .run(pool)
                .await
                .map_err(migrate)?,
        }
        Ok(())
    }

    fn with_pool(pool: Pool, options: &ConnectOptions) -> Self {
        DashboardRepository {
            pool,
            key: options
                .cursor_key
                .map_or_else(CursorKey::random, CursorKey::new),
            statements: AtomicU64::new(0),
        }
    }
}
