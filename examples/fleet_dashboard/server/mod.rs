//! The live fleet dashboard server: what `examples/fleet_dashboard/main.rs`
//! runs and what the integration tests under `tests/` start in-process
//! (included by path; `crate::fleet` and `crate::dashboard_data` must be in
//! scope, as in every user of `examples/common/`).
//!
//! - [`hub`]: the client registry and per-client outboxes (O(1) connect and
//!   disconnect, frames encoded once, bounded queues).
//! - [`ws`]: the WebSocket endpoint (small buffers, upgrade-rate limit,
//!   ping/pong liveness, close codes for bad client messages).
//! - [`live`]: the fleet simulator in live mode, the PostgreSQL
//!   `LISTEN/NOTIFY` fan-out between instances, and the per-tick frames and
//!   panels (percentile, simd-kernels, ml-inference, qubo-solver,
//!   adaptive-pool, gpu-compute).
//! - [`api`]: the page, the JSON API and errors.
//! - [`export`]: the streamed full-fleet export and its `Value`-tree baseline.

#![allow(dead_code, unreachable_pub)]

pub mod api;
pub mod export;
pub mod hub;
pub mod live;
pub mod ws;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use novacron_dashboard_query::{BulkData, ConnectOptions, DashboardRepository};

use crate::fleet::{Fleet, FleetConfig};
use hub::{Frame, Hub};

/// How to run one server instance.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on (port 0: any free port).
    pub listen: SocketAddr,
    /// PostgreSQL URL; `None`: an embedded SQLite file of this process.
    pub database_url: Option<String>,
    /// Whether this instance runs the simulator (and writes). With
    /// PostgreSQL, exactly one instance should; the others only listen.
    pub simulate: bool,
    /// The simulated fleet (every instance generates the same one from it).
    pub fleet: FleetConfig,
    /// Time between two live ticks.
    pub tick: Duration,
    /// Time between two pings to a client; two missed pongs close it.
    pub ping_interval: Duration,
    /// Bytes of events a client may have queued before it is closed as slow.
    pub event_cap: usize,
    /// How long one frame may take to reach a client's socket before the
    /// client is dropped as stuck.
    pub send_timeout: Duration,
    /// Sustained WebSocket upgrades per second.
    pub upgrade_rate: f64,
    /// Upgrades allowed in a burst above that rate.
    pub upgrade_burst: f64,
    /// Largest client message, bytes (bigger: closed with 1009).
    pub max_client_message: usize,
    /// Every how many ticks the anomaly, GPU and placement panels refresh.
    pub panel_every: u64,
    /// The key that signs page cursors; instances behind one load balancer
    /// share it so a cursor from one is valid at the others. `None`: a
    /// random key per process.
    pub cursor_key: Option<[u8; 32]>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: None,
            simulate: true,
            fleet: FleetConfig {
                n_vms: 2_000,
                n_hosts: 240,
                n_orgs: 20,
                hours: 3,
                sample_interval_s: 60,
                seed: 42,
                org_sizes: Vec::new(),
            },
            tick: Duration::from_secs(1),
            ping_interval: Duration::from_secs(15),
            event_cap: 256 << 10,
            send_timeout: Duration::from_secs(10),
            upgrade_rate: 500.0,
            upgrade_burst: 2_000.0,
            max_client_message: 4 << 10,
            panel_every: 10,
            cursor_key: None,
        }
    }
}

/// One organization as the API lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OrgInfo {
    /// Database id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Live VMs.
    pub vms: usize,
}

/// What every handler and task shares.
pub struct State {
    /// The configuration it started with.
    pub config: Config,
    /// The simulated fleet (static inventory; live samples are replayed from it).
    pub fleet: Arc<Fleet>,
    /// Organizations, by database id.
    pub orgs: Vec<OrgInfo>,
    /// The dashboard repository (SQLite or PostgreSQL).
    pub repo: DashboardRepository,
    /// The adaptive pool that reads the latest values (PostgreSQL only).
    pub pool: Option<novacron_adaptive_pool::Pool>,
    /// Connected WebSocket clients.
    pub hub: Arc<Hub>,
    /// The newest frames, sent to a client on connect and on resync.
    pub latest: RwLock<Latest>,
    /// Whether the last database operation of the live loop succeeded.
    pub db_up: AtomicBool,
    /// The WebSocket upgrade limiter.
    pub limiter: ws::RateLimiter,
    /// Upgrades refused with 503.
    pub upgrades_refused: AtomicU64,
    /// Clients closed for protocol errors (bad messages).
    pub protocol_closed: AtomicU64,
    /// Clients closed for missing pongs or a stuck socket.
    pub liveness_closed: AtomicU64,
    /// When the server started.
    pub started: Instant,
}

/// The newest frames.
#[derive(Default)]
pub struct Latest {
    /// The newest tick number.
    pub tick: u64,
    /// Each organization's newest tick frame.
    pub org_frames: std::collections::HashMap<i64, Frame>,
    /// The newest fleet-panel frame.
    pub fleet: Option<Frame>,
}

impl State {
    /// The organization with this database id.
    pub fn org(&self, id: i64) -> Option<&OrgInfo> {
        usize::try_from(id - 1).ok().and_then(|k| self.orgs.get(k))
    }

    /// The newest tick number.
    pub fn tick(&self) -> u64 {
        self.latest.read().map_or(0, |l| l.tick)
    }

    /// Whether the database answered last time.
    pub fn db_is_up(&self) -> bool {
        self.db_up.load(Ordering::Relaxed)
    }
}

/// A running server.
pub struct Server {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// Its shared state.
    pub state: Arc<State>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    serve: Option<tokio::task::JoinHandle<()>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    sqlite_file: Option<std::path::PathBuf>,
}

impl Server {
    /// The base URL, `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving, ends the live tasks and closes the database.
    pub async fn stop(mut self) {
        self.stop_inner().await;
    }

    async fn stop_inner(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        for t in self.tasks.drain(..) {
            t.abort();
        }
        if let Some(serve) = self.serve.take() {
            // Upgraded WebSockets keep the graceful shutdown waiting: give
            // them a moment, then drop them.
            let abort = serve.abort_handle();
            if tokio::time::timeout(Duration::from_secs(2), serve)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
        if let Some(pool) = &self.state.pool {
            pool.close(Duration::from_secs(1)).await;
        }
        self.state.repo.close().await;
        if let Some(path) = self.sqlite_file.take() {
            remove_sqlite(&path);
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        for t in &self.tasks {
            t.abort();
        }
        if let Some(serve) = &self.serve {
            serve.abort();
        }
    }
}

/// Removes a SQLite database file and its WAL companions (missing is fine).
fn remove_sqlite(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

/// The fleet's organizations and VMs as rows to load (no history: the live
/// loop writes every sample from now on).
fn inventory(fleet: &Fleet) -> BulkData {
    let mut data = crate::dashboard_data::bulk_data(fleet, 0);
    data.alerts.clear();
    data.scores.clear();
    data.metrics.clear();
    data
}

/// Starts a server: opens (and, if this instance simulates and the
/// database is empty, fills) the database, binds, starts the live tasks.
///
/// # Errors
///
/// A message naming what failed: the database, the address, the pool.
pub async fn start(config: Config) -> Result<Server, String> {
    let fleet = Arc::new(Fleet::generate(&config.fleet));
    let (url, sqlite_file) = match &config.database_url {
        Some(url) => (url.clone(), None),
        None => {
            // Unique per server of this process (tests start several).
            static NEXT: AtomicU64 = AtomicU64::new(0);
            let path = std::env::temp_dir().join(format!(
                "novacron-fleet-dashboard-{}-{}.sqlite",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            remove_sqlite(&path);
            (format!("sqlite://{}?mode=rwc", path.display()), Some(path))
        }
    };
    let mut options = ConnectOptions::default()
        .max_connections(8)
        .run_migrations(config.simulate);
    if let Some(key) = config.cursor_key {
        options = options.cursor_key(key);
    }
    let repo = DashboardRepository::connect_with(&url, &options)
        .await
        .map_err(|e| format!("database: {e}"))?;
    let data = inventory(&fleet);
    if config.simulate
        && repo
            .counts()
            .await
            .map_err(|e| format!("database: {e}"))?
            .vms
            == 0
    {
        repo.bulk_load(&data)
            .await
            .map_err(|e| format!("loading the fleet's inventory: {e}"))?;
    }
    let mut per_org = vec![0usize; fleet.orgs.len()];
    for vm in &data.vms {
        if let Some(n) = usize::try_from(vm.organization_id - 1)
            .ok()
            .and_then(|k| per_org.get_mut(k))
        {
            *n += 1;
        }
    }
    let orgs = fleet
        .orgs
        .iter()
        .zip(per_org)
        .map(|(o, vms)| OrgInfo {
            id: o.id as i64 + 1,
            name: o.name.clone(),
            vms,
        })
        .collect();
    let pool = match &config.database_url {
        Some(url) => Some(
            novacron_adaptive_pool::Pool::connect(
                url,
                novacron_adaptive_pool::Config::default()
                    .min_size(1)
                    .max_size(8),
            )
            .await
            .map_err(|e| format!("adaptive pool: {e}"))?,
        ),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("listening on {}: {e}", config.listen))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("listening on {}: {e}", config.listen))?;
    let state = Arc::new(State {
        limiter: ws::RateLimiter::new(config.upgrade_rate, config.upgrade_burst),
        hub: Hub::new(config.event_cap),
        config,
        fleet,
        orgs,
        repo,
        pool,
        latest: RwLock::default(),
        db_up: AtomicBool::new(true),
        upgrades_refused: AtomicU64::new(0),
        protocol_closed: AtomicU64::new(0),
        liveness_closed: AtomicU64::new(0),
        started: Instant::now(),
    });
    let tasks = live::spawn(state.clone());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let app = api::router(state.clone());
    let serve = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(Server {
        addr,
        state,
        shutdown: Some(tx),
        serve: Some(serve),
        tasks,
        sqlite_file,
    })
}
