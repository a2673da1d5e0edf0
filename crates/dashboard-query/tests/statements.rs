//! "One statement per dashboard", observed where the statements run: at the
//! PostgreSQL server (pg_stat_statements) and inside SQLite (its trace hook),
//! not by the repository's own counter.

#![allow(clippy::unwrap_used)]

mod common;

use std::ffi::{c_int, c_uint, c_void};
use std::sync::atomic::{AtomicU64, Ordering};

use common::{NOW, fleet, load};
use novacron_dashboard_query::{BulkData, ConnectOptions, DashboardQuery, DashboardRepository};
use novacron_testkit::TestDb;

fn query() -> DashboardQuery {
    DashboardQuery::default().now_ms(Some(NOW))
}

/// Org 1 holds 10 VMs, org 2 holds 1,000.
fn two_orgs() -> (BulkData, Vec<i64>) {
    let (mut data, deleted) = fleet(2, 1010, 3, 7);
    for (k, vm) in data.vms.iter_mut().enumerate() {
        vm.organization_id = if k < 10 { 1 } else { 2 };
    }
    (data, deleted)
}

fn live(org: i64, deleted: &[i64]) -> u64 {
    let n = if org == 1 { 10 } else { 1000 };
    n - deleted
        .iter()
        .filter(|&&id| (if id <= 10 { 1 } else { 2 }) == org)
        .count() as u64
}

/// Statements the server executed in this test's database since the last
/// reset, not counting the bookkeeping queries on pg_stat_statements itself.
fn server_statements(db: &TestDb) -> u64 {
    let out = db
        .psql(
            "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements \
             WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
             AND query NOT LIKE '%pg_stat_statements%'",
        )
        .unwrap();
    out.trim()
        .parse()
        .unwrap_or_else(|_| panic!("count from psql: {out:?}"))
}

fn reset(db: &TestDb) {
    db.psql(
        "SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)",
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_executes_one_statement_per_dashboard_at_10_and_1000_vms() {
    let db = TestDb::new().expect("PostgreSQL test database");
    db.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .expect(
            "pg_stat_statements: the throwaway server preloads it; a DATABASE_URL server needs \
         shared_preload_libraries = 'pg_stat_statements'",
        );
    let repo = DashboardRepository::connect(db.url()).await.unwrap();
    let (data, deleted) = two_orgs();
    load(&repo, &data, &deleted).await;
    for org in [1, 2] {
        reset(&db);
        let page = repo.dashboard(org, &query()).await.unwrap();
        assert_eq!(page.rows.len() as u64, live(org, &deleted));
        assert_eq!(server_statements(&db), 1, "org {org}: the dashboard");
        reset(&db);
        let naive = repo.naive_dashboard(org, &query()).await.unwrap();
        assert_eq!(
            server_statements(&db),
            1 + 3 * live(org, &deleted),
            "org {org}: naive"
        );
        assert_eq!(naive.rows, page.rows);
    }
}

/// Statements SQLite started on the traced connections.
static SQLITE_STATEMENTS: AtomicU64 = AtomicU64::new(0);

unsafe extern "C" fn on_statement(
    _: c_uint,
    _: *mut c_void,
    _: *mut c_void,
    sql: *mut c_void,
) -> c_int {
    // SAFETY: for SQLITE_TRACE_STMT the last argument is the statement's
    // expanded SQL text, NUL-terminated, valid during the callback.
    let text = unsafe { std::ffi::CStr::from_ptr(sql.cast()) };
    // Lines starting "--" are trigger programs inside a statement, not statements.
    if !text.to_bytes().starts_with(b"--") {
        SQLITE_STATEMENTS.fetch_add(1, Ordering::SeqCst);
    }
    0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_runs_one_statement_per_dashboard_at_10_and_1000_vms() {
    let opts = "sqlite::memory:"
        .parse::<sqlx::sqlite::SqliteConnectOptions>()
        .unwrap()
        .foreign_keys(true);
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .after_connect(|conn, _| {
            Box::pin(async move {
                let mut handle = conn.lock_handle().await?;
                // SAFETY: the handle is locked (no other thread uses the
                // connection) and the callback is a plain function that
                // lives for the whole program.
                let rc = unsafe {
                    libsqlite3_sys::sqlite3_trace_v2(
                        handle.as_raw_handle().as_ptr(),
                        libsqlite3_sys::SQLITE_TRACE_STMT as c_uint,
                        Some(on_statement),
                        std::ptr::null_mut(),
                    )
                };
                assert_eq!(rc, libsqlite3_sys::SQLITE_OK);
                Ok(())
            })
        })
        .connect_with(opts)
        .await
        .unwrap();
    let repo = DashboardRepository::from_sqlite_pool(pool, &ConnectOptions::default())
        .await
        .unwrap();
    let (data, deleted) = two_orgs();
    load(&repo, &data, &deleted).await;
    assert!(
        SQLITE_STATEMENTS.load(Ordering::SeqCst) > 0,
        "the trace hook sees statements"
    );
    for org in [1, 2] {
        let before = SQLITE_STATEMENTS.load(Ordering::SeqCst);
        let page = repo.dashboard(org, &query()).await.unwrap();
        assert_eq!(page.rows.len() as u64, live(org, &deleted));
        assert_eq!(
            SQLITE_STATEMENTS.load(Ordering::SeqCst) - before,
            1,
            "org {org}: the dashboard"
        );
        let before = SQLITE_STATEMENTS.load(Ordering::SeqCst);
        let naive = repo.naive_dashboard(org, &query()).await.unwrap();
        assert_eq!(
            SQLITE_STATEMENTS.load(Ordering::SeqCst) - before,
            1 + 3 * live(org, &deleted),
            "org {org}: naive"
        );
        assert_eq!(naive.rows, page.rows);
    }
}
