//! A load generator for connection pools: N tokio tasks, each looping
//! "get a connection, run a query, put it back", through this workspace's
//! adaptive pool or a peer (raw deadpool-postgres, bb8, sqlx), printing a
//! line per second and a summary — the harness of the adaptive-pool figures
//! in docs/benchmarks.md.
//!
//! ```text
//! cargo run --release --example pool_load -- --pool adaptive --tasks 1000 --seconds 10 --query select1
//! cargo run --release --example pool_load -- --pool deadpool --size 25 --query sleep-ms:2 --json
//! cargo run --release --example pool_load -- --pool adaptive --step 10:1000:10 --seconds 30
//! cargo run --release --example pool_load -- --dashboard --tasks 1000
//! ```
//!
//! Without `--database-url` it starts a throwaway PostgreSQL (the testkit).
//! It keeps running through a restart of the database done by someone else
//! (`pg_ctl restart`) and counts what it saw, by kind.

#[path = "common/dashboard_data.rs"]
mod dashboard_data;
#[path = "common/fleet.rs"]
mod fleet;
#[path = "common/pools.rs"]
mod pools;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use novacron_adaptive_pool::Config;
use pools::{AnyPool, Kind, Query};

#[derive(Parser, Debug)]
#[command(about = "Concurrent load through a PostgreSQL connection pool")]
struct Args {
    /// Server to load; default: a throwaway PostgreSQL started for the run.
    #[arg(long)]
    database_url: Option<String>,
    /// adaptive | deadpool | bb8 | sqlx.
    #[arg(long, default_value = "adaptive")]
    pool: Kind,
    /// Size of a static pool (the peers; the adaptive pool with --min = --max = size when --static).
    #[arg(long, default_value_t = 25)]
    size: usize,
    /// The adaptive pool's lower bound.
    #[arg(long, default_value_t = 2)]
    min: usize,
    /// The adaptive pool's upper bound.
    #[arg(long, default_value_t = 200)]
    max: usize,
    /// Run the adaptive pool at a static --size (no controller).
    #[arg(long = "static")]
    fixed: bool,
    /// Concurrent tasks (ignored with --step).
    #[arg(long, default_value_t = 1000)]
    tasks: usize,
    /// Length of the run in seconds (after the warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Warm-up seconds excluded from the summary.
    #[arg(long, default_value_t = 1)]
    warmup: u64,
    /// select1 | sleep-ms:K | dashboard.
    #[arg(long, default_value = "select1")]
    query: String,
    /// Shorthand for --query dashboard (many concurrent dashboard readers
    /// on a fleet loaded by novacron-dashboard-query).
    #[arg(long)]
    dashboard: bool,
    /// Callers over time, e.g. 10:1000:10 (equal-length phases).
    #[arg(long)]
    step: Option<String>,
    /// One JSON object per second and a summary line, instead of a table.
    #[arg(long)]
    json: bool,
    /// How long a caller waits for a connection, in seconds.
    #[arg(long, default_value_t = 30)]
    acquire_timeout: u64,
}

struct Shared {
    active: AtomicUsize,
    stop: AtomicBool,
    measuring: AtomicBool,
    ops: AtomicU64,
    second_waits: Mutex<Vec<u32>>,
    all_waits: Mutex<Vec<u32>>,
    errors: Mutex<BTreeMap<&'static str, u64>>,
    last_error: Mutex<Option<String>>,
}

fn percentile(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    f64::from(sorted[rank - 1]) / 1000.0
}

fn main() -> Result<(), String> {
    let args = Args::parse();
    let query = Query::parse(if args.dashboard {
        "dashboard"
    } else {
        &args.query
    })?;
    let phases: Vec<usize> = match &args.step {
        Some(s) => s
            .split(':')
            .map(|p| {
                p.parse()
                    .map_err(|_| format!("--step `{s}`: pass counts like 10:1000:10"))
            })
            .collect::<Result<_, _>>()?,
        None => vec![args.tasks],
    };
    if phases.is_empty() || phases.contains(&0) {
        return Err("--step needs at least one positive caller count".into());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let _server;
    let url = match &args.database_url {
        Some(url) => url.clone(),
        None => {
            let db = novacron_testkit::TestDb::new().map_err(|e| e.to_string())?;
            let url = db.url().to_owned();
            _server = db;
            url
        }
    };
    runtime.block_on(run(args, query, phases, url))
}

async fn run(args: Args, mut query: Query, phases: Vec<usize>, url: String) -> Result<(), String> {
    if let Query::Dashboard { orgs, now_ms } = &mut query {
        let fleet = fleet::Fleet::generate(&fleet::FleetConfig {
            hours: 2,
            ..Default::default()
        });
        let data = dashboard_data::bulk_data(&fleet, 100);
        let repo = novacron_dashboard_query::DashboardRepository::connect(&url)
            .await
            .map_err(|e| e.to_string())?;
        if repo.bulk_load(&data).await.is_err() {
            eprintln!("fleet already loaded (or not loadable); reading what is there");
        }
        *orgs = data.organizations.iter().map(|o| o.0).collect();
        *now_ms = fleet.timestamps.last().copied().unwrap_or(fleet::EPOCH_S) * 1000 + 1;
    }
    let adaptive_config = if args.fixed {
        Config::default()
            .min_size(args.size)
            .max_size(args.size)
            .initial_size(Some(args.size))
            .policy(novacron_adaptive_pool::ScalingPolicy::Static)
    } else {
        Config::default()
            .min_size(args.min)
            .max_size(args.max)
            .initial_size(Some(args.min.max(1)))
    };
    let timeout = Duration::from_secs(args.acquire_timeout.max(1));
    let pool = AnyPool::build(args.pool, &url, args.size, adaptive_config, timeout).await?;
    let n_tasks = phases.iter().copied().max().unwrap_or(1);
    let shared = Arc::new(Shared {
        active: AtomicUsize::new(phases[0]),
        stop: AtomicBool::new(false),
        measuring: AtomicBool::new(args.warmup == 0),
        ops: AtomicU64::new(0),
        second_waits: Mutex::new(Vec::new()),
        all_waits: Mutex::new(Vec::new()),
        errors: Mutex::new(BTreeMap::new()),
        last_error: Mutex::new(None),
    });
    let per_task: Arc<Vec<AtomicU64>> = Arc::new((0..n_tasks).map(|_| AtomicU64::new(0)).collect());
    let query = Arc::new(query);
    let handles: Vec<_> = (0..n_tasks)
        .map(|i| {
            let (pool, shared, per_task, query) = (
                pool.clone(),
                Arc::clone(&shared),
                Arc::clone(&per_task),
                Arc::clone(&query),
            );
            tokio::spawn(async move {
                let mut pick = i as u64;
                while !shared.stop.load(Ordering::Relaxed) {
                    if i >= shared.active.load(Ordering::Relaxed) {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    }
                    pick = pick.wrapping_add(7919);
                    match pool.run(&query, pick).await {
                        Ok(wait) => {
                            let micros = u32::try_from(wait.as_micros()).unwrap_or(u32::MAX);
                            shared.ops.fetch_add(1, Ordering::Relaxed);
                            if let Ok(mut w) = shared.second_waits.lock() {
                                w.push(micros);
                            }
                            if shared.measuring.load(Ordering::Relaxed) {
                                per_task[i].fetch_add(1, Ordering::Relaxed);
                                if let Ok(mut w) = shared.all_waits.lock() {
                                    w.push(micros);
                                }
                            }
                        }
                        Err((kind, message)) => {
                            if let Ok(mut e) = shared.errors.lock() {
                                *e.entry(kind).or_default() += 1;
                            }
                            if let Ok(mut last) = shared.last_error.lock() {
                                *last = Some(message);
                            }
                            // A failing server is not hammered: pause briefly.
                            tokio::time::sleep(Duration::from_millis(1)).await;
                        }
                    }
                }
            })
        })
        .collect();

    let total = args.warmup + args.seconds;
    let phase_len = (total as f64 / phases.len() as f64).max(1.0);
    let started = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.tick().await;
    let mut last_ops = 0u64;
    let mut last_errors = 0u64;
    let mut series = Vec::new();
    if !args.json {
        println!(
            "pool {} · {:?} · callers {:?} · {} s",
            args.pool.name(),
            query_name(&query),
            phases,
            total
        );
        println!(
            "{:>4} {:>6} {:>7} {:>6} {:>9} {:>7} {:>9} {:>9}",
            "t", "size", "in_use", "idle", "ops/s", "errors", "wait p50", "wait p99"
        );
    }
    for t in 1..=total {
        ticker.tick().await;
        if t == args.warmup {
            shared.measuring.store(true, Ordering::Relaxed);
        }
        let phase = ((t as f64 / phase_len) as usize).min(phases.len() - 1);
        shared.active.store(phases[phase], Ordering::Relaxed);
        let ops = shared.ops.load(Ordering::Relaxed);
        let mut waits =
            std::mem::take(&mut *shared.second_waits.lock().map_err(|e| e.to_string())?);
        waits.sort_unstable();
        let errors = shared.errors.lock().map_err(|e| e.to_string())?.clone();
        let n_errors: u64 = errors.values().sum();
        let g = pool.gauges();
        let (p50, p99) = (percentile(&waits, 0.5), percentile(&waits, 0.99));
        let delta = ops - last_ops;
        series.push((t, g.size, delta));
        if args.json {
            let kinds: Vec<String> = errors.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
            println!(
                "{{\"t\":{t},\"pool\":\"{}\",\"callers\":{},\"size\":{},\"in_use\":{},\"idle\":{},\"waiters\":{},\"ops\":{delta},\"errors\":{{{}}},\"wait_p50_ms\":{p50:.3},\"wait_p99_ms\":{p99:.3}}}",
                args.pool.name(),
                phases[phase],
                g.size,
                g.in_use,
                g.idle,
                waiters(&pool).map_or("null".into(), |w| w.to_string()),
                kinds.join(",")
            );
        } else {
            println!(
                "{t:>4} {:>6} {:>7} {:>6} {delta:>9} {:>7} {p50:>8.2}ms {p99:>8.2}ms",
                g.size,
                g.in_use,
                g.idle,
                n_errors - last_errors
            );
        }
        last_ops = ops;
        last_errors = n_errors;
    }
    shared.stop.store(true, Ordering::Relaxed);
    let elapsed_measured = started.elapsed().as_secs_f64() - args.warmup as f64;
    for h in handles {
        let _ = h.await;
    }
    let mut all = std::mem::take(&mut *shared.all_waits.lock().map_err(|e| e.to_string())?);
    all.sort_unstable();
    let mut counts: Vec<u64> = per_task.iter().map(|c| c.load(Ordering::Relaxed)).collect();
    counts.sort_unstable();
    let starved = counts.iter().filter(|&&c| c == 0).count();
    let measured_ops: u64 = counts.iter().sum();
    let errors = shared.errors.lock().map_err(|e| e.to_string())?.clone();
    let n_errors: u64 = errors.values().sum();
    let (attempts, resizes) = match &pool {
        AnyPool::Adaptive(p) => {
            let s = p.stats();
            (Some(s.connect_attempts), Some(s.resizes))
        }
        _ => (None, None),
    };
    let ops_per_s = measured_ops as f64 / elapsed_measured.max(1e-9);
    let kinds: Vec<String> = errors.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
    if args.json {
        println!(
            "{{\"summary\":true,\"pool\":\"{}\",\"query\":\"{}\",\"tasks\":{n_tasks},\"ops_per_s\":{ops_per_s:.1},\"errors\":{n_errors},\"errors_by_kind\":{{{}}},\"starved_tasks\":{starved},\"ops_per_task_min\":{},\"ops_per_task_median\":{},\"ops_per_task_max\":{},\"wait_p50_ms\":{:.3},\"wait_p99_ms\":{:.3},\"connect_attempts\":{},\"resizes\":{},\"final_size\":{}}}",
            args.pool.name(),
            query_name(&query),
            kinds.join(","),
            counts.first().copied().unwrap_or(0),
            counts.get(counts.len() / 2).copied().unwrap_or(0),
            counts.last().copied().unwrap_or(0),
            percentile(&all, 0.5),
            percentile(&all, 0.99),
            attempts.map_or("null".into(), |a| a.to_string()),
            resizes.map_or("null".into(), |a| a.to_string()),
            pool.gauges().size,
        );
    } else {
        println!();
        println!("size and throughput over time (each # is 2 % of the peak second):");
        let peak = series.iter().map(|s| s.2).max().unwrap_or(1).max(1);
        for (t, size, ops) in &series {
            println!(
                "{t:>4} size {size:>4} {:>7} ops/s {}",
                ops,
                "#".repeat((ops * 50 / peak) as usize)
            );
        }
        println!();
        println!(
            "summary: {ops_per_s:.0} ops/s over {elapsed_measured:.1} s · errors {n_errors} {errors:?} · starved tasks {starved} of {n_tasks}"
        );
        println!(
            "ops per task min/median/max {}/{}/{} · acquire wait p50 {:.2} ms p99 {:.2} ms · connect attempts {} · resizes {} · final size {}",
            counts.first().copied().unwrap_or(0),
            counts.get(counts.len() / 2).copied().unwrap_or(0),
            counts.last().copied().unwrap_or(0),
            percentile(&all, 0.5),
            percentile(&all, 0.99),
            attempts.map_or("n/a".into(), |a| a.to_string()),
            resizes.map_or("n/a".into(), |a| a.to_string()),
            pool.gauges().size,
        );
        if let Some(e) = shared
            .last_error
            .lock()
            .map_err(|e| e.to_string())?
            .as_ref()
        {
            println!("last error: {e}");
        }
    }
    Ok(())
}

fn waiters(pool: &AnyPool) -> Option<usize> {
    match pool {
        AnyPool::Adaptive(p) => Some(p.stats().waiters),
        AnyPool::Deadpool(p) => Some(p.status().waiting),
        _ => None,
    }
}

fn query_name(query: &Query) -> String {
    match query {
        Query::Select1 => "select1".into(),
        Query::SleepMs(ms) => format!("sleep-ms:{ms}"),
        Query::Dashboard { .. } => "dashboard".into(),
    }
}
