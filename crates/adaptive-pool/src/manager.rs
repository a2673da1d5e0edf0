//! Creating and recycling connections: the connect gate (at most k dials,
//! one probe with exponential backoff and full jitter while the server
//! refuses), jittered lifetimes, and the ping after idle.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use lru::LruCache;
use tokio::sync::Semaphore;
use tokio_postgres::{Client, NoTls, Statement};

use crate::config::Config;
use crate::stats::{CloseReason, Counters};

/// A pooled connection: the client, its statement cache and its bookkeeping.
pub(crate) struct Conn {
    pub(crate) client: Client,
    pub(crate) statements: Mutex<LruCache<String, Statement>>,
    pub(crate) expires_at: Instant,
    pub(crate) broken: AtomicBool,
    close_reason: AtomicU8,
    counters: Arc<Counters>,
    task: tokio::task::JoinHandle<()>,
}

impl Conn {
    pub(crate) fn counters_ref(&self) -> &Counters {
        &self.counters
    }

    pub(crate) fn mark(&self, reason: CloseReason) {
        self.close_reason.store(reason as u8, Ordering::Relaxed);
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        let reason = CloseReason::from_u8(self.close_reason.load(Ordering::Relaxed));
        self.counters.closed[reason as usize].fetch_add(1, Ordering::Relaxed);
        // The connection task ends when the client goes; aborting makes it
        // immediate even if the server is slow to answer the Terminate.
        self.task.abort();
    }
}

/// Why a connection could not be created.
#[derive(Debug)]
pub(crate) enum CreateError {
    /// The server refused in a way retrying will not fix (authentication,
    /// unknown database).
    Permanent(tokio_postgres::Error),
}

/// Shared state of the connect gate.
#[derive(Default)]
struct GateState {
    failures: u32,
    next_attempt: Option<Instant>,
    last_error: Option<String>,
    down_since: Option<Instant>,
}

pub(crate) struct Manager {
    pg: tokio_postgres::Config,
    config: Config,
    pub(crate) counters: Arc<Counters>,
    dials: Semaphore,
    /// While the server refuses, one probe at a time.
    probe: tokio::sync::Mutex<()>,
    state: Mutex<GateState>,
    rng: AtomicU64,
    pub(crate) closing: AtomicBool,
}

impl std::fmt::Display for CreateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CreateError::Permanent(e) => write!(f, "{e}"),
        }
    }
}

impl Manager {
    pub(crate) fn new(
        mut pg: tokio_postgres::Config,
        config: Config,
        counters: Arc<Counters>,
    ) -> Manager {
        pg.connect_timeout(config.connect_timeout);
        pg.keepalives(true);
        pg.keepalives_idle(config.keepalive_idle);
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9E37_79B9, |d| d.as_nanos() as u64);
        Manager {
            dials: Semaphore::new(config.max_concurrent_connects),
            pg,
            config,
            counters,
            probe: tokio::sync::Mutex::new(()),
            state: Mutex::new(GateState::default()),
            rng: AtomicU64::new(seed | 1),
            closing: AtomicBool::new(false),
        }
    }

    /// A uniform draw in [0, 1) (splitmix64; jitter needs no stronger randomness).
    pub(crate) fn uniform(&self) -> f64 {
        let mut z = self.rng.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn pg_config(&self) -> &tokio_postgres::Config {
        &self.pg
    }

    pub(crate) fn last_connect_error(&self) -> Option<String> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state
            .failures
            .gt(&0)
            .then(|| state.last_error.clone())
            .flatten()
    }

    /// One connection attempt, no retry (used by `Pool::new` to fail fast).
    pub(crate) async fn dial(&self) -> Result<Conn, tokio_postgres::Error> {
        self.counters
            .connect_attempts
            .fetch_add(1, Ordering::Relaxed);
        let (client, connection) = self.pg.connect(NoTls).await?;
        let task = tokio::spawn(async move {
            // The connection's error (if any) surfaces on the client's next call.
            let _ = connection.await;
        });
        self.counters.created.fetch_add(1, Ordering::Relaxed);
        let lifetime = self
            .config
            .max_lifetime
            .mul_f64(1.0 - self.config.lifetime_jitter * self.uniform());
        Ok(Conn {
            client,
            statements: Mutex::new(
                match std::num::NonZeroUsize::new(self.config.statement_cache_capacity) {
                    Some(cap) => LruCache::new(cap),
                    // Capacity 0: nothing is ever inserted.
                    None => LruCache::unbounded(),
                },
            ),
            expires_at: Instant::now() + lifetime,
            broken: AtomicBool::new(false),
            close_reason: AtomicU8::new(CloseReason::Excess as u8),
            counters: Arc::clone(&self.counters),
            task,
        })
    }

    fn record_failure(&self, e: &tokio_postgres::Error) {
        self.counters.create_errors.fetch_add(1, Ordering::Relaxed);
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.failures = state.failures.saturating_add(1);
        let exp = state.failures.saturating_sub(1).min(30);
        let cap = self
            .config
            .backoff_base
            .saturating_mul(1u32 << exp)
            .min(self.config.backoff_max);
        // Full jitter: the wait is uniform in [0, cap).
        state.next_attempt = Some(Instant::now() + cap.mul_f64(self.uniform()));
        state.last_error = Some(e.to_string());
        if state.down_since.is_none() {
            state.down_since = Some(Instant::now());
            tracing::warn!(error = %e, "adaptive-pool: cannot connect; backing off");
        }
    }

    fn record_success(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(since) = state.down_since.take() {
            tracing::info!(
                down_ms = since.elapsed().as_millis() as u64,
                failed_attempts = state.failures,
                "adaptive-pool: connected again; recovered"
            );
        }
        state.failures = 0;
        state.next_attempt = None;
    }

    fn failing(&self) -> bool {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .failures
            > 0
    }
}

/// Errors a retry cannot fix: authentication (class 28) or a missing database.
fn is_permanent(e: &tokio_postgres::Error) -> bool {
    e.code()
        .is_some_and(|c| c.code().starts_with("28") || c.code() == "3D000")
}

impl managed::Manager for Manager {
    type Type = Conn;
    type Error = CreateError;

    async fn create(&self) -> Result<Conn, CreateError> {
        loop {
            // The caller's acquire timeout bounds this loop: `get()` drops the
            // future, releasing the permit and the probe lock.
            let _dial = self.dials.acquire().await;
            let _probe = if self.failing() {
                Some(self.probe.lock().await)
            } else {
                None
            };
            let wait = {
                let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
                state
                    .next_attempt
                    .map(|t| t.saturating_duration_since(Instant::now()))
            };
            if let Some(wait) = wait.filter(|w| !w.is_zero()) {
                tokio::time::sleep(wait).await;
            }
            match self.dial().await {
                Ok(conn) => {
                    self.record_success();
                    return Ok(conn);
                }
                Err(e) if is_permanent(&e) => {
                    self.record_failure(&e);
                    return Err(CreateError::Permanent(e));
                }
                Err(e) => self.record_failure(&e),
            }
        }
    }

    async fn recycle(&self, conn: &mut Conn, metrics: &Metrics) -> RecycleResult<CreateError> {
        if conn.client.is_closed() || conn.broken.load(Ordering::Relaxed) {
            conn.mark(CloseReason::Broken);
            return Err(RecycleError::message("connection closed"));
        }
        if Instant::now() >= conn.expires_at {
            conn.mark(CloseReason::Lifetime);
            return Err(RecycleError::message("connection reached its lifetime"));
        }
        if metrics.last_used() >= self.config.ping_after_idle {
            let ping =
                tokio::time::timeout(self.config.ping_timeout, conn.client.simple_query("")).await;
            if !matches!(ping, Ok(Ok(_))) {
                conn.mark(CloseReason::Broken);
                return Err(RecycleError::message("connection failed its ping"));
            }
        }
        Ok(())
    }

    fn detach(&self, conn: &mut Conn) {
        if self.closing.load(Ordering::Relaxed) {
            conn.mark(CloseReason::PoolClosed);
        }
    }
}

/// How long until `d` from now, for logging.
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
