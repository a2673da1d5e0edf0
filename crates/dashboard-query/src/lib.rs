//! The VM dashboard in one round trip on PostgreSQL and SQLite — the end of
//! the platform's 1 + 3N `GetVMDashboardData`.
//!
//! The original issued one query for an organization's VMs and three more per
//! VM (latest metrics, active alerts, latest score): 301 round trips at 100
//! VMs. [`DashboardRepository::dashboard`] returns the same rows in **one
//! statement** at any fleet size: on PostgreSQL each VM's latest sample is one
//! index probe (`LEFT JOIN LATERAL … ORDER BY ts DESC LIMIT 1`, not DISTINCT
//! ON or window functions, which read every sample), on SQLite a correlated
//! `max()` joined on the primary key. The N+1 version is kept as
//! [`DashboardRepository::naive_dashboard`] and tested to return identical
//! dashboards. Start at [`DashboardRepository`]:
//!
//! ```
//! use novacron_dashboard_query::{DashboardQuery, DashboardRepository, MetricSample, NewVm, now_ms};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let repo = DashboardRepository::connect("sqlite::memory:").await?; // or postgres://…
//! let org = repo.create_organization("acme").await?;
//! let vm = repo
//!     .create_vm(&NewVm {
//!         id: None,
//!         organization_id: org,
//!         name: "web-1".into(),
//!         status: "running".into(),
//!         cpu_cores: 4,
//!         memory_mib: 8192,
//!         created_at_ms: now_ms(),
//!     })
//!     .await?;
//! let sample = MetricSample {
//!     vm_id: vm,
//!     ts_ms: now_ms(),
//!     cpu: 42.0,
//!     memory: 61.5,
//!     disk: 20.0,
//!     net_rx: 3.2,
//!     net_tx: 1.1,
//!     performance_score: None,
//! };
//! repo.record_metrics(&[sample]).await?;
//!
//! let before = repo.statements_issued();
//! let page = repo.dashboard(org, &DashboardQuery::default()).await?;
//! assert_eq!(repo.statements_issued() - before, 1);
//! assert_eq!(page.rows[0].metrics.map(|m| m.cpu), Some(42.0));
//! # Ok::<(), novacron_dashboard_query::Error>(())
//! # }).unwrap();
//! ```
//!
//! # Guarantees
//!
//! - **One statement per page**, whatever the number of VMs (up to
//!   [`MAX_PAGE_SIZE`] rows a page): the tests count it where it runs —
//!   PostgreSQL's `pg_stat_statements` and SQLite's trace hook — at 10 and
//!   at 1,000 VMs (the 1 + 3N baseline: one more per VM and table).
//!   [`DashboardRepository::statements_issued`] counts what the repository
//!   sends. sqlx caches prepared statements per connection, so after a
//!   connection's first use one statement is one round trip.
//! - **Writes.** Each write call is one transaction. A sample or score at
//!   an existing (vm, time) replaces it, and so does a later one of the same
//!   (vm, time) within a batch, on both backends.
//!   [`DashboardRepository::bulk_load`] is one transaction that checks every
//!   table's row count before it commits: a load that fails or mismatches
//!   leaves nothing behind. An explicit VM id moves later generated ids past
//!   it on both backends.
//! - **Same answer as the N+1 baseline** on random fleets, on both backends,
//!   with either metrics source ([`MetricsSource::History`] or the
//!   latest-value table the write API keeps current).
//! - **Keyset pagination** by `(name, id)`: a page costs the same at any
//!   depth. Cursors are opaque, bound to the organization and status filter,
//!   and signed with HMAC-SHA-256; altered or foreign cursors are errors.
//! - **Everything is bound.** Every statement is a `&'static str` assembled
//!   at compile time from fixed fragments; values are parameters, never text.
//! - Timestamps are milliseconds since the Unix epoch on both backends.
//! - **Tenants stay apart**: every read takes an organization;
//!   [`DashboardRepository::dashboard_for_vms`] returns only that
//!   organization's VMs whatever ids it is given (tested).
//! - **Migrations** run at connect by default; a read-only role connects
//!   with [`ConnectOptions::run_migrations`] off (tested with a role that
//!   may only `SELECT`), and [`DashboardRepository::migrate`] runs them on
//!   demand. [`ConnectOptions::statement_timeout`] bounds every statement
//!   on PostgreSQL.
//! - [`DashboardRepository`] and every public type are `Send + Sync`, and
//!   every async method's future is `Send` (tested): share the repository
//!   behind an `Arc` and call it from `tokio::spawn`.
//!
//! # Errors
//!
//! Page size 0 or above the cap, malformed, altered or foreign cursors, NaN
//! or infinite metrics, control characters in alert types, empty names, an
//! unsupported URL (its password redacted, whatever characters it holds), an
//! unreachable database and a failing statement all come back as
//! [`Error`], with the driver's error as `source()`. A broken integrity
//! rule (a duplicate key, a reference to a missing organization or VM) is
//! [`Error::Constraint`] with its [`ConstraintKind`]: retrying will not
//! help. A dropped connection, a vanished database or a statement timeout
//! is [`Error::Database`]: [`Error::is_transient`] says a retry may
//! succeed. Options the pool cannot honour (`max_connections` 0, a
//! statement timeout under 1 ms) are [`Error::InvalidInput`] from connect,
//! never coerced. Nothing panics on input. An unknown organization is an
//! empty dashboard.
//!
//! # Performance
//!
//! At 1,000 VMs × 100 samples the one-statement dashboard is **102×** faster
//! than the 1 + 3N baseline over PostgreSQL's Unix socket (72× over TCP, 34×
//! on SQLite); 10,000 VMs take 9.0× the 1,000-VM time, and a keyset page
//! costs 0.76–1.01 ms at any depth. Figures and commands: `docs/benchmarks.md`
//! ("novacron-dashboard-query"; criterion suite `benches/dashboard.rs`).
//!
//! # Crate features
//!
//! - `postgres` (default): the PostgreSQL backend.
//! - `sqlite` (default): the SQLite backend (bundled SQLite), the embedded default.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cursor;
mod error;
mod model;
mod repo;
mod sql;

pub use cursor::Cursor;
pub use error::{ConstraintKind, DatabaseError, Error};
pub use model::{
    BulkData, DashboardPage, DashboardQuery, DashboardRow, LatestMetrics, LatestScores, LoadReport,
    MetricSample, MetricsSource, NewAlert, NewVm, ScoreSample, Severity, TimestampMs, now_ms,
};
pub use repo::{Backend, ConnectOptions, DashboardRepository, MAX_PAGE_SIZE};
#[cfg(feature = "postgres")]
pub use sql::POSTGRES_DASHBOARD_SQL;
pub use sql::{POSTGRES_DASHBOARD_PARAMS, Param};
