//! The pool against a real PostgreSQL (the testkit's throwaway server, or a
//! private one where the test restarts it) and a real PgBouncer.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use novacron_adaptive_pool::{
    Config, Connection, Error, Mode, Pool, ScalingPolicy, ThroughputPolicy,
};
use novacron_testkit::{PgServer, Pgbouncer, PoolMode, TestDb};

fn assert_send_sync<T: Send + Sync>() {}
fn assert_send<T: Send>(_: &T) {}

#[test]
fn public_types_are_send_and_sync_and_get_is_a_send_future() {
    assert_send_sync::<Pool>();
    assert_send_sync::<Connection>();
    assert_send_sync::<Error>();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let db = TestDb::new().unwrap_or_else(|e| panic!("{e}"));
        let pool = Pool::connect(db.url(), Config::default()).await.unwrap();
        let future = pool.get();
        assert_send(&future);
        drop(future.await.unwrap());
    });
}

fn static_config(size: usize) -> Config {
    Config::default()
        .min_size(size)
        .max_size(size)
        .initial_size(Some(size))
        .policy(ScalingPolicy::Static)
}

async fn value(conn: &Connection, sql: &str) -> i64 {
    conn.query_one(sql, &[]).await.unwrap().get::<_, i64>(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_run_and_the_server_limit_caps_the_size() {
    let db = TestDb::new().unwrap_or_else(|e| panic!("{e}"));
    let pool = Pool::connect(db.url(), Config::default().max_size(100_000))
        .await
        .unwrap();
    let conn = pool.get().await.unwrap();
    let row = conn
        .query_one("SELECT $1::int8 * 2", &[&21i64])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 42);
    assert_eq!(conn.execute("SELECT 1", &[]).await.unwrap(), 1);
    let none = conn.query_one("SELECT 1 WHERE false", &[]).await;
    assert!(
        matches!(none, Err(Error::Query(_))),
        "no row is an error: {none:?}"
    );
    let two = conn
        .query_one("SELECT * FROM (VALUES (1), (2)) v", &[])
        .await;
    assert!(
        matches!(two, Err(Error::Query(_))),
        "two rows are an error: {two:?}"
    );
    drop(conn);
    let limit = pool.server_limit().expect("read at start");
    let max_connections: usize = db.psql("SHOW max_connections").unwrap().parse().unwrap();
    assert_eq!(limit.max_connections, max_connections);
    let stats = pool.stats();
    assert!(
        stats.max_open <= limit.available(),
        "{stats:?} vs {limit:?}"
    );
    assert_eq!(stats.acquired, 1);
    assert_eq!(stats.completed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acquire_past_its_timeout_is_a_timeout_error_with_the_wait() {
    let db = TestDb::new().unwrap_or_else(|e| panic!("{e}"));
    let pool = Pool::connect(
        db.url(),
        static_config(1).acquire_timeout(Duration::from_millis(150)),
    )
    .await
    .unwrap();
    let held = pool.get().await.unwrap();
    let started = Instant::now();
    match pool.get().await {
        Err(Error::Timeout {
            waited,
            last_connect_error,
        }) => {
            assert!(waited >= Duration::from_millis(150), "{waited:?}");
            assert!(started.elapsed() < Duration::from_secs(2));
            assert_eq!(last_connect_error, None);
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(pool.stats().timeouts, 1);
    drop(held);
    assert!(
        pool.get().await.is_ok(),
        "served again once the connection is back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_after_close_is_an_error_and_close_drains_in_flight_work() {
    let db = TestDb::new().unwrap_or_else(|e| panic!("{e}"));
    let pool = Pool::connect(db.url(), static_config(2)).await.unwrap();
    let busy = pool.get().await.unwrap();
    let worker = tokio::spawn(async move {
        busy.query("SELECT pg_sleep(0.2)", &[]).await.unwrap();
        drop(busy);
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    let outcome = pool.close(Duration::from_secs(5)).await;
    assert!(outcome.drained, "{outcome:?}");
    worker.await.unwrap();
    let started = Instant::now();
    assert!(matches!(pool.get().await, Err(Error::Closed)));
    assert!(started.elapsed() < Duration::from_millis(100), "no hang");
    assert_eq!(pool.stats().open, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_reports_work_still_running_at_its_deadline() {
    let db = TestDb::new().unwrap_or_else(|e| panic!("{e}"));
    let pool = Pool::connect(db.url(), static_config(2)).await.unwrap();
    let held = pool.get().await.unwrap();
    let outcome = pool.close(Duration::from_millis(50)).await;
    assert!(!outcome.drained);
    assert_eq!(outcome.still_in_use, 1);
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_broken_mid_query_is_discarded_and_never_handed_out_again() {
    let db = TestDb::new().unwrap_or_else(|e| panic!("{e}"));
    let pool = Pool::connect(db.url(), static_config(3)).await.unwrap();
    let victim = pool.get().await.unwrap();
    let victim_pid = value(&victim, "SELECT pg_backend_pid()::int8").await;
    let killer = pool.get().await.unwrap();
    let query = tokio::spawn(async move {
        let result = victim.query("SELECT pg_sleep(10)", &[]).await;
        (result.is_err(), victim)
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    killer
        .query(
            "SELECT pg_terminate_backend($1::int4)",
            &[&(victim_pid as i32)],
        )
        .await
        .unwrap();
    drop(killer);
    let (failed, victim) = query.await.unwrap();
    assert!(failed, "the terminated query must fail");
    drop(victim);
    for _ in 0..20 {
        let conn = pool.get().await.unwrap();
        assert_ne!(
            value(&conn, "SELECT pg_backend_pid()::int8").await,
            victim_pid
        );
    }
    assert_eq!(pool.stats().broken, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_waiter_is_served_under_contention() {
    let db = TestDb::new().unwrap_or_else(|e| panic!("{e}"));
    let pool = Pool::connect(db.url(), static_config(4)).await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..300)
        .map(|_| {
            let pool = pool.clone();
            let stop = Arc::clone(&stop);
            tokio::spawn(async move {
                let mut ops = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let conn = pool.get().await.unwrap();
                    conn.simple_query("SELECT 1").await.unwrap();
                    ops += 1;
                }
                ops
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    let mut ops = Vec::new();
    for t in tasks {
        ops.push(t.await.unwrap());
    }
    ops.sort_unstable();
    let median = ops[ops.len() / 2];
    assert!(ops[0] > 0, "a task starved: {:?}", &ops[..5]);
    assert!(
        ops[0] * 2 >= median,
        "FIFO service keeps tasks within 2x of the median: min {} median {median}",
        ops[0]
    );
}

async fn load(pool: &Pool, tasks: usize, sql: &'static str, for_how_long: Duration) -> u64 {
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + for_how_long;
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let pool = pool.clone();
            let done = Arc::clone(&done);
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    if let Ok(conn) = pool.get().await
                        && conn.simple_query(sql).await.is_ok()
                    {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    done.load(Ordering::Relaxed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grows_under_load_and_shrinks_when_idle() {
    let db = TestDb::new().unwrap_or_else(|e| panic!("{e}"));
    let mut policy = ThroughputPolicy::default();
    policy.shrink_after = Duration::from_millis(600);
    let config = Config::default()
        .min_size(2)
        .max_size(40)
        .initial_size(Some(2))
        .min_idle(0)
        .control_interval(Duration::from_millis(200))
        .policy(ScalingPolicy::Throughput(policy));
    let pool = Pool::connect(db.url(), config).await.unwrap();
    // Holding a connection 5 ms each, 200 callers: throughput scales with size.
    let ops = load(&pool, 200, "SELECT pg_sleep(0.005)", Duration::from_secs(4)).await;
    assert!(ops > 0);
    let busy = pool.stats();
    assert!(
        busy.max_open >= 8,
        "grew from 2 under waiting callers: {busy:?}"
    );
    assert!(busy.resizes >= 2, "{busy:?}");
    let grown = busy.max_open;
    let deadline = Instant::now() + Duration::from_secs(20);
    while pool.stats().max_open > 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let idle = pool.stats();
    assert_eq!(
        idle.max_open, 2,
        "shrank back to min from {grown}: {idle:?}"
    );
    assert!(idle.open <= 2, "{idle:?}");
    assert!(idle.closed_max_idle >= (grown - 2) as u64 / 2, "{idle:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifetime_and_idle_expiry_are_counted() {
    let db = TestDb::new().unwrap_or_else(|e| panic!("{e}"));
    let config = static_config(6)
        .min_idle(1)
        .max_lifetime(Duration::from_millis(400))
        .idle_timeout(Duration::from_millis(150))
        .control_interval(Duration::from_millis(50));
    let pool = Pool::connect(db.url(), config).await.unwrap();
    // Six at once, then all idle: five close for idle time (one stays warm).
    let held: Vec<_> = futures_join(&pool, 6).await;
    drop(held);
    tokio::time::sleep(Duration::from_millis(350)).await;
    let after_idle = pool.stats();
    assert!(after_idle.closed_max_idle_time >= 4, "{after_idle:?}");
    assert!(after_idle.open >= 1, "min_idle kept warm: {after_idle:?}");
    // Keep using it past the lifetime: old connections are replaced.
    let until = Instant::now() + Duration::from_millis(1200);
    while Instant::now() < until {
        let conn = pool.get().await.unwrap();
        conn.simple_query("SELECT 1").await.unwrap();
        drop(conn);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let after_life = pool.stats();
    assert!(after_life.closed_max_lifetime >= 2, "{after_life:?}");
    assert!(after_life.created >= 8, "{after_life:?}");
}

async fn futures_join(pool: &Pool, n: usize) -> Vec<Connection> {
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move { pool.get().await.unwrap() })
        })
        .collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_statement_cache_is_bounded_by_count() {
    let db = TestDb::new().unwrap_or_else(|e| panic!("{e}"));
    let pool = Pool::connect(db.url(), static_config(1).statement_cache_capacity(2))
        .await
        .unwrap();
    let conn = pool.get().await.unwrap();
    for k in 0..5i64 {
        let sql = format!("SELECT {k}::int8 + $1::int8");
        let row = conn.query_one(&sql, &[&1i64]).await.unwrap();
        assert_eq!(row.get::<_, i64>(0), k + 1);
    }
    assert_eq!(conn.cached_statements(), 2);
    let on_server = value(&conn, "SELECT count(*) FROM pg_prepared_statements").await;
    assert!(
        on_server <= 3,
        "evicted statements are closed on the server: {on_server}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_invalidated_by_a_schema_change_is_prepared_again_once() {
    let db = TestDb::new().unwrap_or_else(|e| panic!("{e}"));
    db.psql("CREATE TABLE t (a int); INSERT INTO t VALUES (1)")
        .unwrap();
    let pool = Pool::connect(db.url(), static_config(1)).await.unwrap();
    let conn = pool.get().await.unwrap();
    assert_eq!(
        conn.query("SELECT * FROM t", &[]).await.unwrap()[0].len(),
        1
    );
    db.psql("ALTER TABLE t ADD COLUMN b int").unwrap();
    let rows = conn.query("SELECT * FROM t", &[]).await.unwrap();
    assert_eq!(rows[0].len(), 2, "the new column is seen");
    assert_eq!(pool.stats().statements_reprepared, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_the_server_lost_is_prepared_again_once() {
    let db = TestDb::new().unwrap_or_else(|e| panic!("{e}"));
    let pool = Pool::connect(db.url(), static_config(1)).await.unwrap();
    let conn = pool.get().await.unwrap();
    assert_eq!(value(&conn, "SELECT 7::int8").await, 7);
    conn.batch_execute("DEALLOCATE ALL").await.unwrap();
    assert_eq!(value(&conn, "SELECT 7::int8").await, 7);
    assert_eq!(pool.stats().statements_reprepared, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn works_through_pgbouncer_in_transaction_mode() {
    let server = PgServer::start().unwrap_or_else(|e| panic!("{e}"));
    let bouncer =
        Pgbouncer::start(server.port(), PoolMode::Transaction, 2).unwrap_or_else(|e| panic!("{e}"));
    let config = static_config(10).mode(Mode::Transaction);
    let pool = Pool::connect(&bouncer.url("postgres"), config)
        .await
        .unwrap();
    let handles: Vec<_> = (0..20i64)
        .map(|task| {
            let pool = pool.clone();
            tokio::spawn(async move {
                for i in 0..25i64 {
                    let conn = pool.get().await.unwrap();
                    let row = conn
                        .query_one("SELECT $1::int8 * 1000 + $2::int8", &[&task, &i])
                        .await
                        .unwrap();
                    assert_eq!(row.get::<_, i64>(0), task * 1000 + i);
                    let plain = conn.query("SELECT 42::int8", &[]).await.unwrap();
                    assert_eq!(plain[0].get::<_, i64>(0), 42);
                    let typed = conn
                        .query_typed(
                            "SELECT $1 + 1",
                            &[(
                                &i,
                                novacron_adaptive_pool::tokio_postgres::types::Type::INT8,
                            )],
                        )
                        .await
                        .unwrap();
                    assert_eq!(typed[0].get::<_, i64>(0), i + 1);
                }
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    // Ten clients shared two server connections: each query above crossed
    // server connections, which named statements outside a transaction do not
    // survive.
    let server_side: usize = server
        .psql(
            "postgres",
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND application_name <> 'psql'",
        )
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        server_side <= 2,
        "{server_side} server connections behind the bouncer"
    );
    assert_eq!(pool.stats().broken, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_fails_only_in_flight_queries_and_recovers_without_a_connect_storm() {
    let server = PgServer::start().unwrap_or_else(|e| panic!("{e}"));
    let config = static_config(10).acquire_timeout(Duration::from_secs(10));
    let pool = Pool::connect(&server.url("postgres"), config.clone())
        .await
        .unwrap();
    let errors = Arc::new(AtomicU64::new(0));
    let ok_after_restart = Arc::new(AtomicU64::new(0));
    let restarted = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let first_ok_after: Arc<std::sync::Mutex<Option<Instant>>> = Arc::default();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (pool, errors, ok_after_restart, restarted, stop, first_ok_after) = (
                pool.clone(),
                Arc::clone(&errors),
                Arc::clone(&ok_after_restart),
                Arc::clone(&restarted),
                Arc::clone(&stop),
                Arc::clone(&first_ok_after),
            );
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let result = match pool.get().await {
                        Ok(conn) => conn.simple_query("SELECT pg_sleep(0.002)").await.map(drop),
                        Err(e) => Err(e),
                    };
                    match result {
                        Ok(()) if restarted.load(Ordering::Relaxed) => {
                            ok_after_restart.fetch_add(1, Ordering::Relaxed);
                            first_ok_after
                                .lock()
                                .unwrap()
                                .get_or_insert_with(Instant::now);
                        }
                        Ok(()) => {}
                        Err(_) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let in_flight = pool.stats().in_use;
    let before = pool.stats();
    let outage_started = Instant::now();
    let srv = tokio::task::spawn_blocking(move || {
        server.stop().unwrap();
        std::thread::sleep(Duration::from_millis(700));
        server.start_again().unwrap();
        server
    });
    let server = srv.await.unwrap();
    let accepting = Instant::now();
    restarted.store(true, Ordering::Relaxed);
    let outage = accepting - outage_started;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    let after = pool.stats();
    let errors = errors.load(Ordering::Relaxed);
    let attempts = after.connect_attempts - before.connect_attempts;
    eprintln!(
        "restart: {errors} errors, {in_flight} in flight, outage {outage:?}, {attempts} connect attempts, \
         first success {:?} after accepting",
        first_ok_after
            .lock()
            .unwrap()
            .map(|t| t.duration_since(accepting))
    );
    // Each of the pool's 10 connections can fail at most the one query it
    // was running: connections dialled during the outage wait, they do not fail.
    assert!(
        errors <= 10,
        "{errors} errors with {in_flight} queries in flight on a pool of 10 (raw deadpool: 580-850)"
    );
    let first = first_ok_after.lock().unwrap().expect("recovered");
    assert!(
        first.duration_since(accepting) < Duration::from_secs(1),
        "first success {:?} after the server accepted again",
        first.duration_since(accepting)
    );
    assert!(ok_after_restart.load(Ordering::Relaxed) > 100);
    // While refused: at most one probe at a time, each after a backoff drawn
    // uniformly below min(25 ms x 2^n, 500 ms). The bound allows the first
    // five doublings plus six probes per 500 ms cap of outage.
    let bound = 5 + 6 * (outage.as_millis() as u64 / 500 + 1) + 2 * 10;
    assert!(
        attempts <= bound,
        "{attempts} connect attempts during a {outage:?} outage (bound {bound})"
    );
    assert!(after.create_errors >= 1, "the outage was seen: {after:?}");
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_with_an_unrepresentable_deadline_waits_without_overflowing() {
    let db = TestDb::new().unwrap_or_else(|e| panic!("{e}"));
    let pool = Pool::connect(db.url(), static_config(2)).await.unwrap();
    let held = pool.get().await.unwrap();
    let giver = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(held);
    });
    let outcome = pool.close(Duration::MAX).await;
    assert!(outcome.drained, "{outcome:?}");
    giver.await.unwrap();
}
