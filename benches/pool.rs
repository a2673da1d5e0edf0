//! Connection pools under 1,000 concurrent tasks: this workspace's adaptive
//! pool against raw deadpool-postgres (static 25, the report's size), bb8
//! and sqlx, on `SELECT 1` and on a query holding the connection 2 ms; and
//! the static-size sweep of deadpool as the yardstick.
//!
//! Each criterion iteration is one operation ("get, run, put back"); a
//! sample spreads its iterations over 1,000 tasks and times the whole, so
//! the reported rate is the pool's throughput at that concurrency. Needs the
//! PostgreSQL server binaries (a throwaway server is started).
//!
//! `cargo bench --bench pool`

#[path = "../examples/common/pools.rs"]
mod pools;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use novacron_adaptive_pool::Config;
use pools::{AnyPool, Kind, Query};

const TASKS: usize = 1000;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"))
}

/// Runs `iters` operations spread over `TASKS` tasks; returns the wall time.
fn spread(
    rt: &tokio::runtime::Runtime,
    pool: &AnyPool,
    query: &Arc<Query>,
    iters: u64,
) -> Duration {
    rt.block_on(async {
        let left = Arc::new(AtomicU64::new(iters));
        let started = Instant::now();
        let handles: Vec<_> = (0..TASKS)
            .map(|i| {
                let (pool, query, left) = (pool.clone(), Arc::clone(query), Arc::clone(&left));
                tokio::spawn(async move {
                    while left
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                        .is_ok()
                    {
                        if let Err((_, e)) = pool.run(&query, i as u64).await {
                            panic!("pool benchmark operation failed: {e}");
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            let _ = h.await;
        }
        started.elapsed()
    })
}

fn build(rt: &tokio::runtime::Runtime, kind: Kind, url: &str, size: usize) -> AnyPool {
    rt.block_on(AnyPool::build(
        kind,
        url,
        size,
        Config::default()
            .min_size(2)
            .max_size(200)
            .initial_size(Some(2)),
        Duration::from_secs(60),
    ))
    .unwrap_or_else(|e| panic!("{} pool: {e}", kind.name()))
}

fn bench_pools(c: &mut Criterion) {
    let db = novacron_testkit::TestDb::new().unwrap_or_else(|e| panic!("{e}"));
    let rt = runtime();
    for (name, query) in [("select1", Query::Select1), ("sleep2ms", Query::SleepMs(2))] {
        let query = Arc::new(query);
        let mut group = c.benchmark_group(format!("pool_1000_tasks_{name}"));
        group.throughput(Throughput::Elements(1));
        group.sample_size(10);
        group.warm_up_time(Duration::from_secs(3));
        group.measurement_time(Duration::from_secs(8));
        for kind in [Kind::Adaptive, Kind::Deadpool, Kind::Bb8, Kind::Sqlx] {
            let pool = build(&rt, kind, db.url(), 25);
            group.bench_function(BenchmarkId::new(kind.name(), 25), |b| {
                b.iter_custom(|iters| spread(&rt, &pool, &query, iters))
            });
        }
        group.finish();
    }
    let query = Arc::new(Query::Select1);
    let mut sweep = c.benchmark_group("pool_static_sweep_select1");
    sweep.throughput(Throughput::Elements(1));
    sweep.sample_size(10);
    sweep.measurement_time(Duration::from_secs(5));
    for size in [2usize, 5, 25, 100, 200] {
        let pool = build(&rt, Kind::Deadpool, db.url(), size);
        sweep.bench_function(BenchmarkId::new("deadpool", size), |b| {
            b.iter_custom(|iters| spread(&rt, &pool, &query, iters))
        });
    }
    sweep.finish();
}

criterion_group!(benches, bench_pools);
criterion_main!(benches);
