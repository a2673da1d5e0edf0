//! The pool: `get()` under one acquire timeout, the background task that
//! samples, resizes, reaps and keeps idle connections warm, and `close()`.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use deadpool::Runtime;
use deadpool::managed::{self, PoolError, Timeouts};

use crate::config::{Config, Mode};
use crate::connection::Connection;
use crate::error::Error;
use crate::manager::{CreateError, Manager, millis};
use crate::policy::{Controller, Decision, Sample};
use crate::stats::{CloseReason, Counters, Stats, WaitHistogram};

/// A wait longer than this counts in [`Stats::wait_count`].
const WAITED: Duration = Duration::from_micros(50);

/// What the server allows us, read once at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimit {
    /// `max_connections`.
    pub max_connections: usize,
    /// `superuser_reserved_connections`.
    pub reserved: usize,
    /// Other client connections open when the pool started.
    pub others: usize,
}

impl ServerLimit {
    /// Connections left for this pool.
    pub fn available(&self) -> usize {
        self.max_connections
            .saturating_sub(self.reserved)
            .saturating_sub(self.others)
    }
}

struct Inner {
    pool: managed::Pool<Manager>,
    config: Config,
    counters: Arc<Counters>,
    waits: WaitHistogram,
    controller: Mutex<Controller>,
    closed: AtomicBool,
    server_limit: Option<ServerLimit>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    last_decision: Mutex<Option<Decision>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(task) = self.task.lock().unwrap_or_else(|e| e.into_inner()).take() {
            task.abort();
        }
    }
}

/// An adaptive PostgreSQL connection pool.
///
/// Cloning is cheap (one `Arc`); clones share the pool. Waiters are served
/// first come, first served (deadpool's semaphore). A background task on the
/// current tokio runtime samples the pool every
/// [`control_interval`](Config::control_interval), lets the
/// [`ScalingPolicy`](crate::ScalingPolicy) resize it, closes connections idle
/// past the idle timeout (keeping `min_idle`), and keeps `min_idle` warm.
#[derive(Clone)]
pub struct Pool {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// How [`Pool::close`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CloseOutcome {
    /// Whether every connection came back before the deadline.
    pub drained: bool,
    /// Connections still handed out at the end (closed when they come back).
    pub still_in_use: usize,
}

fn target(pg: &tokio_postgres::Config) -> String {
    let hosts: Vec<String> = pg
        .get_hosts()
        .iter()
        .zip(pg.get_ports().iter().chain(std::iter::repeat(&5432)))
        .map(|(h, p)| match h {
            tokio_postgres::config::Host::Tcp(h) => format!("{h}:{p}"),
            tokio_postgres::config::Host::Unix(path) => format!("{}:{p}", path.display()),
        })
        .collect();
    if hosts.is_empty() {
        "the default host (localhost:5432)".to_owned()
    } else {
        hosts.join(", ")
    }
}

impl Pool {
    /// Parses a connection string (URL or `key=value` pairs) and builds the pool.
    ///
    /// # Errors
    ///
    /// [`Error::BadConnectionString`], then as [`Pool::new`].
    pub async fn connect(url: &str, config: Config) -> Result<Pool, Error> {
        let pg = tokio_postgres::Config::from_str(url)
            .map_err(|e| Error::BadConnectionString(e.to_string()))?;
        Pool::new(pg, config).await
    }

    /// Checks `config`, connects once to prove the server is there (and to
    /// read its connection limit), starts the background task and warms
    /// `min_idle` connections. Must run inside a tokio runtime.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a bad setting; [`Error::Connect`] naming
    /// the target and the cause when the server cannot be reached within the
    /// connect timeout or refuses us.
    pub async fn new(pg: tokio_postgres::Config, config: Config) -> Result<Pool, Error> {
        config.validate()?;
        let counters = Arc::new(Counters::default());
        let manager = Manager::new(pg, config.clone(), Arc::clone(&counters));
        let target = target(manager.pg_config());
        let server_limit =
            match tokio::time::timeout(config.connect_timeout, probe_server(manager.pg_config()))
                .await
            {
                Ok(Ok(limit)) => limit,
                Ok(Err(e)) => {
                    return Err(Error::Connect {
                        target,
                        cause: e.to_string(),
                        source: Some(Box::new(e)),
                    });
                }
                Err(_) => {
                    return Err(Error::Connect {
                        target,
                        cause: format!(
                            "no answer within the connect timeout ({} ms)",
                            millis(config.connect_timeout)
                        ),
                        source: None,
                    });
                }
            };
        let server_limit = if config.respect_server_limit && config.mode == Mode::Session {
            server_limit
        } else {
            None
        };
        let mut controller = Controller::new(
            config.policy.clone(),
            config.min_size,
            config.max_size,
            config.start_size(),
        );
        if let Some(limit) = server_limit {
            let room = limit.available().max(1);
            if room < config.max_size {
                tracing::warn!(
                    max_size = config.max_size,
                    server_room = room,
                    "adaptive-pool: the server allows fewer connections than max_size; capping"
                );
                controller.set_max(room);
            }
        }
        let start = controller.size();
        let pool = managed::Pool::builder(manager)
            .max_size(start)
            .runtime(Runtime::Tokio1)
            .timeouts(Timeouts {
                wait: None,
                create: None,
                recycle: Some(config.ping_timeout + Duration::from_secs(1)),
            })
            .build()
            .map_err(|e| Error::config("max_size", e.to_string()))?;
        let inner = Arc::new(Inner {
            pool,
            config,
            counters,
            waits: WaitHistogram::new(),
            controller: Mutex::new(controller),
            closed: AtomicBool::new(false),
            server_limit,
            task: Mutex::new(None),
            last_decision: Mutex::new(None),
        });
        top_up(&inner).await;
        let task = tokio::spawn(background(Arc::downgrade(&inner)));
        *inner.task.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
        Ok(Pool { inner })
    }

    /// A connection, within the acquire timeout (connecting included).
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] with the time waited (and the last connect error
    /// when the server is down); [`Error::Closed`] after
    /// [`close`](Self::close); [`Error::Connect`] when the server rejects
    /// the credentials or database.
    pub async fn get(&self) -> Result<Connection, Error> {
        let inner = &self.inner;
        if inner.closed.load(Ordering::Relaxed) {
            return Err(Error::Closed);
        }
        let c = &inner.counters;
        let started = Instant::now();
        c.waiting.fetch_add(1, Ordering::Relaxed);
        let result = tokio::time::timeout(inner.config.acquire_timeout, inner.pool.get()).await;
        c.waiting.fetch_sub(1, Ordering::Relaxed);
        let waited = started.elapsed();
        Counters::add_nanos(&c.wait_nanos, waited);
        inner.waits.record(waited);
        if waited > WAITED {
            c.wait_count.fetch_add(1, Ordering::Relaxed);
        }
        match result {
            Ok(Ok(object)) => {
                c.acquired.fetch_add(1, Ordering::Relaxed);
                c.in_use.fetch_add(1, Ordering::Relaxed);
                Ok(Connection::new(
                    object,
                    inner.config.mode,
                    inner.config.statement_cache_capacity,
                ))
            }
            Ok(Err(PoolError::Closed)) => Err(Error::Closed),
            Ok(Err(PoolError::Backend(CreateError::Permanent(e)))) => Err(Error::Connect {
                target: target(inner.pool.manager().pg_config()),
                cause: e.to_string(),
                source: Some(Box::new(e)),
            }),
            Ok(Err(PoolError::Timeout(_))) | Err(_) => {
                c.timeouts.fetch_add(1, Ordering::Relaxed);
                Err(Error::Timeout {
                    waited,
                    last_connect_error: inner.pool.manager().last_connect_error(),
                })
            }
            Ok(Err(other)) => Err(Error::Connect {
                target: target(inner.pool.manager().pg_config()),
                cause: other.to_string(),
                source: None,
            }),
        }
    }

    /// A snapshot of the pool's gauges, counters and acquire-wait percentiles.
    pub fn stats(&self) -> Stats {
        let inner = &self.inner;
        let c = &inner.counters;
        let status = inner.pool.status();
        let in_use = c.in_use.load(Ordering::Relaxed);
        let q = inner.waits.quantiles(&[0.5, 0.95, 0.99]);
        Stats {
            max_open: status.max_size,
            open: status.size,
            in_use,
            idle: status.size.saturating_sub(in_use),
            waiters: c.waiting.load(Ordering::Relaxed),
            wait_count: c.wait_count.load(Ordering::Relaxed),
            wait_duration: Duration::from_nanos(c.wait_nanos.load(Ordering::Relaxed)),
            closed_max_idle: c.closed(CloseReason::Excess),
            closed_max_idle_time: c.closed(CloseReason::IdleTime),
            closed_max_lifetime: c.closed(CloseReason::Lifetime),
            broken: c.closed(CloseReason::Broken),
            created: c.created.load(Ordering::Relaxed),
            connect_attempts: c.connect_attempts.load(Ordering::Relaxed),
            create_errors: c.create_errors.load(Ordering::Relaxed),
            timeouts: c.timeouts.load(Ordering::Relaxed),
            resizes: c.resizes.load(Ordering::Relaxed),
            acquired: c.acquired.load(Ordering::Relaxed),
            completed: c.completed.load(Ordering::Relaxed),
            statements_reprepared: c.reprepared.load(Ordering::Relaxed),
            wait_p50: q[0],
            wait_p95: q[1],
            wait_p99: q[2],
        }
    }

    /// The server's connection limit as read at start (`None` in
    /// [`Mode::Transaction`], when `respect_server_limit` is off, or when the
    /// server would not say).
    pub fn server_limit(&self) -> Option<ServerLimit> {
        self.inner.server_limit
    }

    /// The controller's last resize, if any.
    pub fn last_decision(&self) -> Option<Decision> {
        *self
            .inner
            .last_decision
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// The settings the pool runs with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::Relaxed)
    }

    /// Stops handing out connections (waiting and later `get()` calls fail
    /// with [`Error::Closed`]), closes idle connections, then waits up to
    /// `deadline` for the ones in use to come back; those are closed as
    /// they return, whenever that is.
    pub async fn close(&self, deadline: Duration) -> CloseOutcome {
        let inner = &self.inner;
        inner.closed.store(true, Ordering::Relaxed);
        inner.pool.manager().closing.store(true, Ordering::Relaxed);
        let idle = inner.pool.retain(|conn, _| {
            conn.mark(CloseReason::PoolClosed);
            false
        });
        drop(idle);
        inner.pool.close();
        if let Some(task) = inner.task.lock().unwrap_or_else(|e| e.into_inner()).take() {
            task.abort();
        }
        // A deadline too far to represent means "wait as long as it takes".
        let until = Instant::now().checked_add(deadline);
        loop {
            let still_in_use = inner.counters.in_use.load(Ordering::Relaxed);
            if still_in_use == 0 {
                return CloseOutcome {
                    drained: true,
                    still_in_use,
                };
            }
            if until.is_some_and(|until| Instant::now() >= until) {
                return CloseOutcome {
                    drained: false,
                    still_in_use,
                };
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

/// Reads `max_connections`, `superuser_reserved_connections` and the other
/// clients over a connection of its own (not kept).
async fn probe_server(
    pg: &tokio_postgres::Config,
) -> Result<Option<ServerLimit>, tokio_postgres::Error> {
    let (client, connection) = pg.connect(tokio_postgres::NoTls).await?;
    let task = tokio::spawn(async move {
        let _ = connection.await;
    });
    let limit = client
        .simple_query(
            "SELECT current_setting('max_connections'), current_setting('superuser_reserved_connections'), \
             (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid())",
        )
        .await
        .ok()
        .and_then(|messages| {
            messages.into_iter().find_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(row) => {
                    let get = |i: usize| row.get(i).and_then(|v| v.parse::<usize>().ok());
                    Some(ServerLimit {
                        max_connections: get(0)?,
                        reserved: get(1)?,
                        others: get(2)?,
                    })
                }
                _ => None,
            })
        });
    drop(client);
    let _ = task.await;
    Ok(limit)
}

/// Opens connections until `min_idle` are idle, without queueing behind
/// callers (each take is non-blocking) and only while nobody waits.
async fn top_up(inner: &Inner) {
    let status = inner.pool.status();
    let idle = status
        .size
        .saturating_sub(inner.counters.in_use.load(Ordering::Relaxed));
    let want = inner.config.min_idle.min(status.max_size);
    if idle >= want || inner.counters.waiting.load(Ordering::Relaxed) > 0 {
        return;
    }
    let non_blocking = Timeouts {
        wait: Some(Duration::ZERO),
        create: Some(inner.config.connect_timeout),
        recycle: Some(inner.config.ping_timeout),
    };
    // Holding `want` at once forces deadpool to create the missing ones.
    let mut held = Vec::with_capacity(want);
    for _ in 0..want {
        match inner.pool.timeout_get(&non_blocking).await {
            Ok(object) => held.push(object),
            Err(_) => break,
        }
    }
}

fn counters_sample(c: &Counters) -> [u64; 5] {
    [
        c.acquired.load(Ordering::Relaxed),
        c.completed.load(Ordering::Relaxed),
        c.wait_nanos.load(Ordering::Relaxed),
        c.hold_nanos.load(Ordering::Relaxed),
        c.timeouts.load(Ordering::Relaxed),
    ]
}

async fn background(weak: Weak<Inner>) {
    let Some(interval) = weak.upgrade().map(|i| i.config.control_interval) else {
        return;
    };
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    let mut last = weak
        .upgrade()
        .map(|i| counters_sample(&i.counters))
        .unwrap_or_default();
    let mut last_at = Instant::now();
    let mut last_rotation = Instant::now();
    let mut last_monitor = Instant::now();
    loop {
        ticker.tick().await;
        let Some(inner) = weak.upgrade() else {
            return;
        };
        if inner.closed.load(Ordering::Relaxed) {
            return;
        }
        let now = counters_sample(&inner.counters);
        let d = |i: usize| now[i].saturating_sub(last[i]);
        let status = inner.pool.status();
        let sample = Sample {
            interval: last_at.elapsed(),
            size: status.max_size,
            acquired: d(0),
            completed: d(1),
            wait_total: Duration::from_nanos(d(2)),
            hold_total: Duration::from_nanos(d(3)),
            waiters: inner.counters.waiting.load(Ordering::Relaxed),
            timeouts: d(4),
        };
        last = now;
        last_at = Instant::now();
        let decision = inner
            .controller
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .step(&sample);
        if let Some(decision) = decision {
            inner.pool.resize(decision.to);
            inner.counters.resizes.fetch_add(1, Ordering::Relaxed);
            *inner
                .last_decision
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = Some(decision);
            tracing::info!(
                from = decision.from,
                to = decision.to,
                reason = ?decision.reason,
                throughput = sample.throughput(),
                "adaptive-pool: resized"
            );
        }
        reap(&inner);
        top_up(&inner).await;
        let slice = inner.config.wait_window / WaitHistogram::slices();
        if last_rotation.elapsed() >= slice {
            inner.waits.rotate();
            last_rotation = Instant::now();
        }
        if last_monitor.elapsed() >= inner.config.monitor_interval {
            last_monitor = Instant::now();
            monitor(&inner, &sample);
        }
        #[cfg(feature = "metrics")]
        crate::metrics_export::export(
            &Pool {
                inner: Arc::clone(&inner),
            }
            .stats(),
            &inner.config.name,
        );
        drop(inner);
    }
}

/// Closes idle connections past their lifetime, and those idle past the
/// idle timeout beyond `min_idle`.
fn reap(inner: &Inner) {
    let status = inner.pool.status();
    let idle = status
        .size
        .saturating_sub(inner.counters.in_use.load(Ordering::Relaxed));
    let mut budget = idle.saturating_sub(inner.config.min_idle);
    let idle_timeout = inner.config.idle_timeout;
    let now = Instant::now();
    let removed = inner.pool.retain(|conn, metrics| {
        if now >= conn.expires_at {
            conn.mark(CloseReason::Lifetime);
            return false;
        }
        if budget > 0 && metrics.last_used() >= idle_timeout {
            budget -= 1;
            conn.mark(CloseReason::IdleTime);
            return false;
        }
        true
    });
    // Closed here, outside the pool's lock.
    drop(removed);
}

fn monitor(inner: &Inner, sample: &Sample) {
    let status = inner.pool.status();
    let (_, max) = inner
        .controller
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .bounds();
    let waiters = inner.counters.waiting.load(Ordering::Relaxed);
    if waiters > 0 && status.max_size >= max {
        tracing::warn!(
            size = status.max_size,
            waiters,
            throughput = sample.throughput(),
            "adaptive-pool: saturated at max_size; callers are queueing"
        );
    } else if status.size * 10 >= max * 9 && waiters > 0 {
        tracing::warn!(
            size = status.size,
            max,
            waiters,
            "adaptive-pool: near capacity"
        );
    }
}
