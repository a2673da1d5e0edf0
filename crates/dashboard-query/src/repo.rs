//! The repository: connection, migrations, the dashboard (single query and
//! N+1 baseline), the write API and the bulk loader.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::Error;
use crate::cursor::{CursorKey, Position};
use crate::error::{DatabaseError, db};
use crate::model::{
    BulkData, DashboardPage, DashboardQuery, DashboardRow, LatestMetrics, LatestScores, LoadReport,
    MetricSample, MetricsSource, NewAlert, NewVm, ScoreSample, Severity, TimestampMs, now_ms,
};
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

/// Multi-row INSERTs of `$rows` in chunks of [`CHUNK`], each row's values
/// bound by `$bind` on the separated builder `$b`.
macro_rules! insert_chunks {
    ($self:expr, $tx:ident, $op:literal, $rows:expr, $head:expr, $tail:expr, |$b:ident, $row:ident| $bind:expr) => {
        for chunk in $rows.chunks(CHUNK) {
            let mut qb = sqlx::QueryBuilder::new($head);
            qb.push_values(chunk, |mut $b, $row| {
                $bind;
            });
            qb.push($tail);
            $self.issue(1);
            qb.build().execute(&mut *$tx).await.map_err(db($op))?;
        }
    };
}

/// Inserts metric samples (repeated keys already removed) into the history
/// and the latest-value table inside the transaction `$tx`.
macro_rules! push_metrics {
    ($self:expr, $tx:ident, $op:literal, $samples:expr) => {{
        let samples: &[MetricSample] = $samples;
        let latest = latest_per_vm(samples);
        for (rows, head, tail) in [
            (samples, sql::METRICS_INSERT, sql::METRICS_UPSERT),
            (&latest[..], sql::LATEST_INSERT, sql::LATEST_UPSERT),
        ] {
            insert_chunks!($self, $tx, $op, rows, head, tail, |b, m| b
                .push_bind(m.vm_id)
                .push_bind(m.ts_ms)
                .push_bind(m.cpu)
                .push_bind(m.memory)
                .push_bind(m.disk)
                .push_bind(m.net_rx)
                .push_bind(m.net_tx)
                .push_bind(m.performance_score));
        }
    }};
}

/// Inserts alerts inside the transaction `$tx`.
macro_rules! push_alerts {
    ($self:expr, $tx:ident, $op:literal, $alerts:expr) => {{
        let alerts: &[NewAlert] = $alerts;
        insert_chunks!($self, $tx, $op, alerts, sql::ALERTS_INSERT, "", |b, a| b
            .push_bind(a.vm_id)
            .push_bind(a.severity as i32)
            .push_bind(a.alert_type.clone())
            .push_bind(if a.resolved_at_ms.is_some() {
                "resolved"
            } else {
                "active"
            })
            .push_bind(a.created_at_ms)
            .push_bind(a.resolved_at_ms));
    }};
}

/// Inserts scores (repeated keys already removed) inside the transaction `$tx`.
macro_rules! push_scores {
    ($self:expr, $tx:ident, $op:literal, $scores:expr) => {{
        let scores: &[ScoreSample] = $scores;
        insert_chunks!(
            $self,
            $tx,
            $op,
            scores,
            sql::SCORES_INSERT,
            sql::SCORES_UPSERT,
            |b, s| b
                .push_bind(s.vm_id)
                .push_bind(s.calculated_at_ms)
                .push_bind(s.overall)
                .push_bind(s.efficiency)
                .push_bind(s.reliability)
        );
    }};
}

/// The row counts of the five tables, read inside the transaction `$tx`.
macro_rules! count_rows {
    ($self:expr, $tx:ident) => {{
        $self.issue(1);
        let c: (i64, i64, i64, i64, i64) = sqlx::query_as(sql::COUNTS)
            .fetch_one(&mut *$tx)
            .await
            .map_err(db("count rows"))?;
        load_report(c)
    }};
}

/// Binds a dashboard statement's seven parameters (see `sql.rs`).
macro_rules! bind_page {
    ($query:expr, $first:expr, $p:expr) => {
        $query
            .bind($first)
            .bind($p.status.clone())
            .bind($p.after_name.clone())
            .bind($p.after_id)
            .bind($p.metrics_since)
            .bind($p.scores_since)
            .bind($p.limit)
    };
}

/// Connection settings.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Pool size (default 8; an in-memory SQLite database always uses 1).
    pub max_connections: u32,
    /// How long to wait for a connection (default 5 s).
    pub acquire_timeout: Duration,
    /// Key that signs cursors. Default: random per repository, so cursors
    /// do not survive a restart; pass one shared key to every instance of a
    /// service whose clients page across instances.
    pub cursor_key: Option<[u8; 32]>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(5),
            cursor_key: None,
        }
    }
}

/// The VM dashboard over PostgreSQL or SQLite (see the crate docs).
#[derive(Debug)]
pub struct DashboardRepository {
    pool: Pool,
    key: CursorKey,
    statements: AtomicU64,
}

#[derive(sqlx::FromRow)]
struct RawRow {
    id: i64,
    name: String,
    status: String,
    cpu_cores: i32,
    memory_mib: i64,
    created_at_ms: i64,
    m_ts_ms: Option<i64>,
    m_cpu: Option<f64>,
    m_memory: Option<f64>,
    m_disk: Option<f64>,
    m_net_rx: Option<f64>,
    m_net_tx: Option<f64>,
    m_performance_score: Option<f64>,
    active_alerts: Option<i64>,
    max_severity: Option<i32>,
    alert_types: Option<String>,
    s_calculated_at_ms: Option<i64>,
    s_overall: Option<f64>,
    s_efficiency: Option<f64>,
    s_reliability: Option<f64>,
}

impl RawRow {
    fn into_row(self) -> DashboardRow {
        let metrics = self.m_ts_ms.map(|ts_ms| LatestMetrics {
            ts_ms,
            cpu: self.m_cpu.unwrap_or(f64::NAN),
            memory: self.m_memory.unwrap_or(f64::NAN),
            disk: self.m_disk.unwrap_or(f64::NAN),
            net_rx: self.m_net_rx.unwrap_or(f64::NAN),
            net_tx: self.m_net_tx.unwrap_or(f64::NAN),
            performance_score: self.m_performance_score,
        });
        let scores = self
            .s_calculated_at_ms
            .map(|calculated_at_ms| LatestScores {
                calculated_at_ms,
                overall: self.s_overall.unwrap_or(f64::NAN),
                efficiency: self.s_efficiency.unwrap_or(f64::NAN),
                reliability: self.s_reliability.unwrap_or(f64::NAN),
            });
        let mut alert_types: Vec<String> = self
            .alert_types
            .map(|t| {
                t.split('\u{1f}')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        alert_types.sort_unstable();
        alert_types.dedup();
        DashboardRow {
            vm_id: self.id,
            name: self.name,
            status: self.status,
            cpu_cores: self.cpu_cores,
            memory_mib: self.memory_mib,
            created_at_ms: self.created_at_ms,
            metrics,
            active_alerts: self.active_alerts.unwrap_or(0),
            max_severity: self.max_severity.and_then(Severity::from_level),
            alert_types,
            scores,
        }
    }
}

type VmTuple = (i64, String, String, i32, i64, i64);
type MetricsTuple = (i64, f64, f64, f64, f64, f64, Option<f64>);
type ScoresTuple = (i64, f64, f64, f64);

/// Bind values shared by the dashboard statements.
struct Params {
    organization_id: i64,
    status: Option<String>,
    after_name: String,
    after_id: i64,
    metrics_since: i64,
    scores_since: i64,
    limit: i64,
    page_size: usize,
}

impl DashboardRepository {
    /// Connects to `postgres://…` or `sqlite:…` (`sqlite::memory:` for an
    /// in-memory database) and applies the schema migrations.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Self::connect_with(url, &ConnectOptions::default()).await
    }

    /// [`connect`](Self::connect) with explicit options.
    pub async fn connect_with(url: &str, options: &ConnectOptions) -> Result<Self, Error> {
        let connect = |e: sqlx::Error| Error::Connect(DatabaseError::new("connect", e));
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            #[cfg(feature = "postgres")]
            {
                // JIT compilation pays for long analytical queries; a
                // dashboard page is short, and at 10,000 VMs its plan cost
                // crosses jit_above_cost, adding tens of milliseconds of
                // compilation to every call. Off for this pool's sessions.
                let opts = sqlx::postgres::PgConnectOptions::from_str(url)
                    .map_err(connect)?
                    .options([("jit", "off")]);
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(options.max_connections.max(1))
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
                    .max_connections(if memory {
                        1
                    } else {
                        options.max_connections.max(1)
                    })
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
    /// connection options, hooks, TLS); applies the migrations. The pool
    /// settings of `options` are not used, its cursor key is.
    #[cfg(feature = "postgres")]
    pub async fn from_postgres_pool(
        pool: sqlx::PgPool,
        options: &ConnectOptions,
    ) -> Result<Self, Error> {
        sqlx::migrate!("migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| Error::Migrate(DatabaseError::new("migrate", e)))?;
        Ok(Self::with_pool(Pool::Postgres(pool), options))
    }

    /// A repository over a SQLite pool the caller built (enable foreign
    /// keys on its connections: the schema relies on them); applies the
    /// migrations. The pool settings of `options` are not used, its cursor
    /// key is.
    #[cfg(feature = "sqlite")]
    pub async fn from_sqlite_pool(
        pool: sqlx::SqlitePool,
        options: &ConnectOptions,
    ) -> Result<Self, Error> {
        sqlx::migrate!("migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| Error::Migrate(DatabaseError::new("migrate", e)))?;
        Ok(Self::with_pool(Pool::Sqlite(pool), options))
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

    fn params(&self, organization_id: i64, q: &DashboardQuery) -> Result<Params, Error> {
        if q.page_size == 0 || q.page_size > MAX_PAGE_SIZE {
            return Err(Error::InvalidPageSize { got: q.page_size });
        }
        let (after_name, after_id) = match &q.cursor {
            Some(c) => {
                let p = self.key.decode(c)?;
                if p.organization_id != organization_id || p.status != q.status {
                    return Err(Error::InvalidCursor {
                        reason: "issued for another organization or filter",
                    });
                }
                (p.last_name, p.last_id)
            }
            None => (String::new(), i64::MIN),
        };
        let now = q.now_ms.unwrap_or_else(now_ms);
        let since =
            |w: Duration| now.saturating_sub(i64::try_from(w.as_millis()).unwrap_or(i64::MAX));
        Ok(Params {
            organization_id,
            status: q.status.clone(),
            after_name,
            after_id,
            metrics_since: since(q.metrics_window),
            scores_since: since(q.scores_window),
            limit: q.page_size as i64 + 1,
            page_size: q.page_size,
        })
    }

    fn page(&self, p: &Params, mut rows: Vec<DashboardRow>) -> DashboardPage {
        let next_cursor = if rows.len() > p.page_size {
            rows.truncate(p.page_size);
            rows.last().map(|last| {
                self.key.encode(&Position {
                    organization_id: p.organization_id,
                    status: p.status.clone(),
                    last_name: last.name.clone(),
                    last_id: last.vm_id,
                })
            })
        } else {
            None
        };
        DashboardPage { rows, next_cursor }
    }

    /// One page of an organization's dashboard in **one statement** (one
    /// round trip), ordered by VM name then id. An unknown organization
    /// gives an empty page.
    pub async fn dashboard(
        &self,
        organization_id: i64,
        query: &DashboardQuery,
    ) -> Result<DashboardPage, Error> {
        let p = self.params(organization_id, query)?;
        self.issue(1);
        let raw: Vec<RawRow> = on_pool!(self, pool, sql => {
            let text = match query.metrics_source {
                MetricsSource::History => sql.dashboard,
                MetricsSource::LatestTable => sql.dashboard_latest,
            };
            bind_page!(sqlx::query_as(text), p.organization_id, p)
                .fetch_all(pool)
                .await
                .map_err(db("dashboard"))?
        });
        Ok(self.page(&p, raw.into_iter().map(RawRow::into_row).collect()))
    }

    /// The dashboard rows of the given live VMs (any organization), in one
    /// statement, ordered by name then id. At most [`MAX_PAGE_SIZE`] ids;
    /// the query's status filter and windows apply, its page size and cursor do not.
    pub async fn dashboard_for_vms(
        &self,
        ids: &[i64],
        query: &DashboardQuery,
    ) -> Result<Vec<DashboardRow>, Error> {
        if ids.len() > MAX_PAGE_SIZE {
            return Err(Error::InvalidInput {
                reason: format!("{} ids; pass at most {MAX_PAGE_SIZE} per call", ids.len()),
            });
        }
        let p = self.params(
            0,
            &DashboardQuery {
                cursor: None,
                page_size: MAX_PAGE_SIZE,
                ..query.clone()
            },
        )?;
        self.issue(1);
        let raw: Vec<RawRow> = match &self.pool {
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => bind_page!(
                sqlx::query_as(sql::POSTGRES.dashboard_for_vms),
                ids.to_vec(),
                p
            )
            .fetch_all(pool)
            .await
            .map_err(db("dashboard"))?,
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => {
                let list = format!(
                    "[{}]",
                    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
                );
                bind_page!(sqlx::query_as(sql::SQLITE.dashboard_for_vms), list, p)
                    .fetch_all(pool)
                    .await
                    .map_err(db("dashboard"))?
            }
        };
        Ok(raw.into_iter().map(RawRow::into_row).collect())
    }

    /// The platform's original `GetVMDashboardData`, kept as the baseline:
    /// one statement for the VMs, then per VM one each for its latest
    /// metrics, its active alerts and its latest scores (1 + 3N round
    /// trips). Returns exactly what [`dashboard`](Self::dashboard) returns.
    pub async fn naive_dashboard(
        &self,
        organization_id: i64,
        query: &DashboardQuery,
    ) -> Result<DashboardPage, Error> {
        let p = self.params(organization_id, query)?;
        let rows = on_pool!(self, pool, sql => {
            self.issue(1);
            let vms: Vec<VmTuple> = sqlx::query_as(sql.naive_vms)
                .bind(p.organization_id)
                .bind(p.status.clone())
                .bind(p.after_name.clone())
                .bind(p.after_id)
                .bind(p.limit)
                .fetch_all(pool)
                .await
                .map_err(db("naive dashboard"))?;
            let mut rows = Vec::with_capacity(vms.len());
            for (vm_id, name, status, cpu_cores, memory_mib, created_at_ms) in vms {
                self.issue(3);
                let m: Option<MetricsTuple> = sqlx::query_as(sql.naive_metrics)
                    .bind(vm_id)
                    .bind(p.metrics_since)
                    .fetch_optional(pool)
                    .await
                    .map_err(db("naive dashboard"))?;
                let alerts: Vec<(i32, String)> = sqlx::query_as(sql.naive_alerts)
                    .bind(vm_id)
                    .fetch_all(pool)
                    .await
                    .map_err(db("naive dashboard"))?;
                let s: Option<ScoresTuple> = sqlx::query_as(sql.naive_scores)
                    .bind(vm_id)
                    .bind(p.scores_since)
                    .fetch_optional(pool)
                    .await
                    .map_err(db("naive dashboard"))?;
                let mut alert_types: Vec<String> = alerts.iter().map(|(_, t)| t.clone()).collect();
                alert_types.sort_unstable();
                alert_types.dedup();
                rows.push(DashboardRow {
                    vm_id,
                    name,
                    status,
                    cpu_cores,
                    memory_mib,
                    created_at_ms,
                    metrics: m.map(|(ts_ms, cpu, memory, disk, net_rx, net_tx, performance_score)| LatestMetrics {
                        ts_ms, cpu, memory, disk, net_rx, net_tx, performance_score,
                    }),
                    active_alerts: alerts.len() as i64,
                    max_severity: alerts.iter().filter_map(|(s, _)| Severity::from_level(*s)).max(),
                    alert_types,
                    scores: s.map(|(calculated_at_ms, overall, efficiency, reliability)| LatestScores {
                        calculated_at_ms, overall, efficiency, reliability,
                    }),
                });
            }
            rows
        });
        Ok(self.page(&p, rows))
    }

    /// The database's plan of the dashboard statement for these arguments:
    /// `EXPLAIN (FORMAT JSON)` on PostgreSQL, `EXPLAIN QUERY PLAN` lines on SQLite.
    pub async fn explain_dashboard(
        &self,
        organization_id: i64,
        query: &DashboardQuery,
    ) -> Result<String, Error> {
        let p = self.params(organization_id, query)?;
        self.issue(1);
        match &self.pool {
            #[cfg(feature = "postgres")]
            Pool::Postgres(pool) => {
                let plan: (sqlx::types::JsonValue,) =
                    bind_page!(sqlx::query_as(sql::POSTGRES_EXPLAIN), p.organization_id, p)
                        .fetch_one(pool)
                        .await
                        .map_err(db("explain"))?;
                Ok(plan.0.to_string())
            }
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(pool) => {
                let lines: Vec<(i64, i64, i64, String)> =
                    bind_page!(sqlx::query_as(sql::SQLITE_EXPLAIN), p.organization_id, p)
                        .fetch_all(pool)
                        .await
                        .map_err(db("explain"))?;
                Ok(lines
                    .into_iter()
                    .map(|l| l.3)
                    .collect::<Vec<_>>()
                    .join("\n"))
            }
        }
    }

    /// Creates an organization and returns its id.
    pub async fn create_organization(&self, name: &str) -> Result<i64, Error> {
        check_text("organization name", name, 1024)?;
        self.issue(1);
        on_pool!(self, pool, sql => sqlx::query_scalar(sql.insert_organization)
            .bind(name.to_string())
            .fetch_one(pool)
            .await
            .map_err(db("create organization")))
    }

    /// Creates a VM and returns its id: `vm.id` when given (later VMs
    /// without one then get ids above it, on both backends), else the next
    /// free id.
    pub async fn create_vm(&self, vm: &NewVm) -> Result<i64, Error> {
        check_vm(vm)?;
        let advance = vm.id.is_some() && self.backend() == Backend::Postgres;
        let id: i64;
        in_transaction!(self, "create vm", tx => {
            self.issue(1);
            id = on_pool!(self, _pool, sql => sqlx::query_scalar(sql.insert_vm)
                .bind(vm.id)
                .bind(vm.organization_id)
                .bind(vm.name.clone())
                .bind(vm.status.clone())
                .bind(vm.cpu_cores)
                .bind(vm.memory_mib)
                .bind(vm.created_at_ms)
                .fetch_one(&mut *tx)
                .await
                .map_err(db("create vm"))?);
            if advance {
                // An explicit id does not move PostgreSQL's identity sequence.
                self.issue(1);
                sqlx::query(sql::ADVANCE_VM_IDS).execute(&mut *tx).await.map_err(db("create vm"))?;
            }
        });
        Ok(id)
    }

    /// Soft-deletes a VM (it leaves the dashboard); false if it was not live.
    pub async fn delete_vm(&self, vm_id: i64, at_ms: TimestampMs) -> Result<bool, Error> {
        self.issue(1);
        let done = on_pool!(self, pool, sql => sqlx::query(sql.soft_delete_vm)
            .bind(vm_id)
            .bind(at_ms)
            .execute(pool)
            .await
            .map_err(db("delete vm"))?
            .rows_affected());
        Ok(done == 1)
    }

    /// Resolves an alert; false if it was not active.
    pub async fn resolve_alert(&self, alert_id: i64, at_ms: TimestampMs) -> Result<bool, Error> {
        self.issue(1);
        let done = on_pool!(self, pool, sql => sqlx::query(sql.resolve_alert)
            .bind(alert_id)
            .bind(at_ms)
            .execute(pool)
            .await
            .map_err(db("resolve alert"))?
            .rows_affected());
        Ok(done == 1)
    }

    /// Records metric samples in one transaction, batched (2,000 rows a
    /// statement), and keeps the latest-value table current. A sample at an
    /// existing (vm, time) replaces it, and so does a later sample of the
    /// same (vm, time) within the batch.
    pub async fn record_metrics(&self, samples: &[MetricSample]) -> Result<(), Error> {
        samples.iter().try_for_each(check_metric)?;
        if samples.is_empty() {
            return Ok(());
        }
        let samples = last_per_key(samples, |m| (m.vm_id, m.ts_ms));
        in_transaction!(self, "record metrics", tx => {
            push_metrics!(self, tx, "record metrics", &samples);
        });
        Ok(())
    }

    /// Records alerts in one transaction, batched.
    pub async fn record_alerts(&self, alerts: &[NewAlert]) -> Result<(), Error> {
        alerts.iter().try_for_each(check_alert)?;
        if alerts.is_empty() {
            return Ok(());
        }
        in_transaction!(self, "record alerts", tx => {
            push_alerts!(self, tx, "record alerts", alerts);
        });
        Ok(())
    }

    /// Records performance scores in one transaction, batched. A score at an
    /// existing (vm, time) replaces it, as does a later one within the batch.
    pub async fn record_scores(&self, scores: &[ScoreSample]) -> Result<(), Error> {
        scores.iter().try_for_each(check_score)?;
        if scores.is_empty() {
            return Ok(());
        }
        let scores = last_per_key(scores, |s| (s.vm_id, s.calculated_at_ms));
        in_transaction!(self, "record scores", tx => {
            push_scores!(self, tx, "record scores", &scores);
        });
        Ok(())
    }

    /// Loads a whole fleet (organizations, VMs with explicit ids, metrics,
    /// alerts, scores) with multi-row inserts in **one transaction**: it
    /// checks that every table grew by exactly the rows sent (repeated keys
    /// within the batch counted once), advances the id sequences past the
    /// explicit ids and updates the planner's statistics before it commits.
    /// A load that fails anywhere, or whose rows would replace rows already
    /// stored ([`Error::LoadMismatch`]), leaves nothing behind.
    pub async fn bulk_load(&self, data: &BulkData) -> Result<LoadReport, Error> {
        for (_, name) in &data.organizations {
            check_text("organization name", name, 1024)?;
        }
        for vm in &data.vms {
            check_vm(vm)?;
            if vm.id.is_none() {
                return Err(Error::InvalidInput {
                    reason: "bulk loads need an explicit id on every VM".into(),
                });
            }
        }
        data.metrics.iter().try_for_each(check_metric)?;
        data.alerts.iter().try_for_each(check_alert)?;
        data.scores.iter().try_for_each(check_score)?;
        let metrics = last_per_key(&data.metrics, |m| (m.vm_id, m.ts_ms));
        let scores = last_per_key(&data.scores, |s| (s.vm_id, s.calculated_at_ms));
        let sent = LoadReport {
            organizations: data.organizations.len() as u64,
            vms: data.vms.len() as u64,
            metrics: metrics.len() as u64,
            alerts: data.alerts.len() as u64,
            scores: scores.len() as u64,
        };
        let postgres = self.backend() == Backend::Postgres;
        in_transaction!(self, "bulk load", tx => {
            let before = count_rows!(self, tx);
            insert_chunks!(self, tx, "bulk load", data.organizations, sql::ORGS_INSERT, "", |b, o| b
                .push_bind(o.0)
                .push_bind(o.1.clone()));
            insert_chunks!(self, tx, "bulk load", data.vms, sql::VMS_INSERT, "", |b, vm| b
                .push_bind(vm.id)
                .push_bind(vm.organization_id)
                .push_bind(vm.name.clone())
                .push_bind(vm.status.clone())
                .push_bind(vm.cpu_cores)
                .push_bind(vm.memory_mib)
                .push_bind(vm.created_at_ms));
            push_metrics!(self, tx, "bulk load", &metrics);
            push_alerts!(self, tx, "bulk load", &data.alerts);
            push_scores!(self, tx, "bulk load", &scores);
            let after = count_rows!(self, tx);
            for (table, before, after, sent) in [
                ("organizations", before.organizations, after.organizations, sent.organizations),
                ("vms", before.vms, after.vms, sent.vms),
                ("vm_metrics", before.metrics, after.metrics, sent.metrics),
                ("alerts", before.alerts, after.alerts, sent.alerts),
                ("performance_scores", before.scores, after.scores, sent.scores),
            ] {
                if after != before + sent {
                    // Returning drops the transaction: the whole load rolls back.
                    return Err(Error::LoadMismatch {
                        table,
                        expected: before + sent,
                        found: after,
                    });
                }
            }
            let statements: &[&'static str] = if postgres {
                &[sql::ADVANCE_ORG_IDS, sql::ADVANCE_VM_IDS, "ANALYZE"]
            } else {
                &["ANALYZE"]
            };
            for &s in statements {
                self.issue(1);
                sqlx::query(s).execute(&mut *tx).await.map_err(db("bulk load"))?;
            }
        });
        Ok(sent)
    }

    /// Row counts of the five tables (one statement).
    pub async fn counts(&self) -> Result<LoadReport, Error> {
        self.issue(1);
        let c: (i64, i64, i64, i64, i64) = on_pool!(self, pool, _sql => sqlx::query_as(sql::COUNTS).fetch_one(pool).await.map_err(db("count rows"))?);
        Ok(load_report(c))
    }
}

fn load_report(c: (i64, i64, i64, i64, i64)) -> LoadReport {
    let u = |v: i64| u64::try_from(v).unwrap_or(0);
    LoadReport {
        organizations: u(c.0),
        vms: u(c.1),
        metrics: u(c.2),
        alerts: u(c.3),
        scores: u(c.4),
    }
}

/// The newest sample of each VM in a batch (one upsert row per VM: a
/// multi-row upsert may not touch one row twice).
fn latest_per_vm(samples: &[MetricSample]) -> Vec<MetricSample> {
    let mut by_vm: std::collections::HashMap<i64, MetricSample> = std::collections::HashMap::new();
    for s in samples {
        by_vm
            .entry(s.vm_id)
            .and_modify(|cur| {
                if s.ts_ms >= cur.ts_ms {
                    *cur = *s
                }
            })
            .or_insert(*s);
    }
    let mut out: Vec<MetricSample> = by_vm.into_values().collect();
    out.sort_by_key(|s| s.vm_id);
    out
}

fn check_text(what: &str, text: &str, max: usize) -> Result<(), Error> {
    if text.is_empty() || text.len() > max {
        return Err(Error::InvalidInput {
            reason: format!("{what} must have 1..={max} bytes, got {}", text.len()),
        });
    }
    if text.contains('\0') {
        return Err(Error::InvalidInput {
            reason: format!("{what} contains a NUL character; remove it"),
        });
    }
    Ok(())
}

fn check_vm(vm: &NewVm) -> Result<(), Error> {
    check_text("vm name", &vm.name, 1024)?;
    check_text("vm status", &vm.status, 64)
}

fn finite(what: &str, v: f64) -> Result<(), Error> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(Error::InvalidInput {
            reason: format!("{what} is {v}; pass finite values"),
        })
    }
}

fn check_metric(m: &MetricSample) -> Result<(), Error> {
    for (what, v) in [
        ("cpu", m.cpu),
        ("memory", m.memory),
        ("disk", m.disk),
        ("net_rx", m.net_rx),
        ("net_tx", m.net_tx),
    ] {
        finite(what, v)?;
    }
    m.performance_score
        .map_or(Ok(()), |v| finite("performance_score", v))
}

fn check_alert(a: &NewAlert) -> Result<(), Error> {
    check_text("alert type", &a.alert_type, 256)?;
    if a.alert_type.chars().any(char::is_control) {
        return Err(Error::InvalidInput {
            reason: "alert type contains control characters; remove them".into(),
        });
    }
    Ok(())
}

fn check_score(s: &ScoreSample) -> Result<(), Error> {
    finite("overall", s.overall)?;
    finite("efficiency", s.efficiency)?;
    finite("reliability", s.reliability)
}

/// The URL without a password (WHATWG parsing: a password may hold `@`,
/// `:` or `/`); text that does not parse as a URL is not echoed at all.
fn redact(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut parsed) => {
            let has_userinfo = parsed.password().is_some() || !parsed.username().is_empty();
            // An `@` after the authority means a password with an unescaped
            // `/`, `?` or `#` in it: where it ends is unknowable, so show
            // only the scheme.
            let tail_has_at = parsed.path().contains('@')
                || parsed.query().is_some_and(|q| q.contains('@'))
                || parsed.fragment().is_some_and(|f| f.contains('@'));
            if has_userinfo && tail_has_at {
                return format!("{}://***", parsed.scheme());
            }
            if parsed.password().is_some() {
                // Cannot fail: a URL with a password has a host.
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => match text.split_once(':') {
            Some((scheme, _))
                if !scheme.is_empty()
                    && scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
            {
                format!("{scheme}:<not a valid URL>")
            }
            _ => "<not a valid URL>".to_string(),
        },
    }
}

/// The rows of a batch with every repeated key but the last removed: within
/// one batch, as across batches, a later row replaces an earlier one with
/// the same key. (PostgreSQL refuses a multi-row upsert that touches one row
/// twice.) Borrows the batch when no key repeats.
fn last_per_key<T: Copy, K: std::hash::Hash + Eq>(
    rows: &[T],
    key: impl Fn(&T) -> K,
) -> std::borrow::Cow<'_, [T]> {
    let mut last = std::collections::HashMap::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        last.insert(key(r), i);
    }
    if last.len() == rows.len() {
        return std::borrow::Cow::Borrowed(rows);
    }
    std::borrow::Cow::Owned(
        rows.iter()
            .enumerate()
            .filter(|(i, r)| last.get(&key(r)) == Some(i))
            .map(|(_, r)| *r)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_passwords_that_contain_at_signs_and_colons() {
        // Was: cut at the first `@`, showing `ss:w@rd`.
        let shown = redact("postgres://admin:p@ss:w@rd@db.example:5432/fleet");
        assert_eq!(shown, "postgres://admin:***@db.example:5432/fleet");
        // A `/` in a password hides where it ends: only the scheme is shown.
        let shown = redact("postgres://admin:p@ss/w@rd@db.example/fleet");
        assert_eq!(shown, "postgres://***");
        assert_eq!(redact("mysql://u:secret@h/db"), "mysql://u:***@h/db");
        assert_eq!(redact("mysql://u@h/db"), "mysql://u@h/db");
        assert!(!redact("mysql://u:se cret@[bad/db").contains("se cret"));
        assert_eq!(redact("no url at all, secret"), "<not a valid URL>");
    }

    #[test]
    fn last_per_key_keeps_the_last_row_of_each_key_in_batch_order() {
        let rows = [(1, 'a'), (2, 'b'), (1, 'c'), (3, 'd'), (2, 'e')];
        assert_eq!(
            &*last_per_key(&rows, |r| r.0),
            &[(1, 'c'), (3, 'd'), (2, 'e')]
        );
        assert!(matches!(
            last_per_key(&rows[..2], |r| r.0),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
