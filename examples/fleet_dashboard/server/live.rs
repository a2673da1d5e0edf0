//! The live loop: the simulator writes one sample per VM per tick through
//! dashboard-query (incidents open and clear as alerts); each tick then
//! becomes one frame per organization, encoded once, plus the fleet panels.
//!
//! With SQLite the simulating instance publishes what it wrote. With
//! PostgreSQL every instance — the simulating one included — learns of a
//! tick from `NOTIFY novacron_fleet_tick` (sent once per tick, after the
//! commit, with the tick number only) and reads the latest values back
//! through the adaptive pool, so clients of every instance see the same
//! frames. After (re)connecting, a listener `LISTEN`s first and then reads
//! a snapshot, so no tick falls into the gap.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use novacron_dashboard_query::{MetricSample, NewAlert, Severity, now_ms};
use novacron_percentile::DDSketch;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::State;
use super::hub::{FLEET, Frame, Kind};
use crate::fleet::METRICS;

/// The PostgreSQL channel of tick notifications.
pub const CHANNEL: &str = "novacron_fleet_tick";

/// Samples of history each VM's anomaly window holds (the scorer's window).
pub const WINDOW: usize = 60;

/// The shipped anomaly scorer (ml-inference).
const SCORER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/crates/ml-inference/models/anomaly_scorer.onnx"
);

/// The reads of the latest values (PostgreSQL, through the adaptive pool).
const LATEST_SQL: &str = "SELECT l.vm_id, v.organization_id, l.ts_ms, l.cpu, l.memory, l.disk, \
     l.net_rx, l.net_tx FROM vm_latest_metrics l JOIN vms v ON v.id = l.vm_id \
     WHERE v.deleted_at_ms IS NULL ORDER BY l.vm_id";

/// One VM's values at a tick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VmValues {
    /// VM id (database).
    pub vm_id: i64,
    /// Organization id (database).
    pub org: i64,
    /// The five metrics, in `METRICS` order.
    pub m: [f64; 5],
}

/// What one tick delivers to the processor.
#[derive(Debug, Clone, PartialEq)]
pub struct TickData {
    /// Tick number (from the simulator; carried by the notification).
    pub tick: u64,
    /// Sample time.
    pub ts_ms: i64,
    /// Whether alerts opened or cleared at this tick.
    pub alerts_changed: bool,
    /// Values of every live VM, by VM id.
    pub rows: Vec<VmValues>,
}

/// Starts the live tasks of an instance.
pub fn spawn(state: Arc<State>) -> Vec<JoinHandle<()>> {
    let (tx, rx) = mpsc::channel::<TickData>(8);
    let mut tasks = vec![tokio::spawn(process(state.clone(), rx))];
    let postgres = state.config.database_url.is_some();
    if state.config.simulate {
        let direct = (!postgres).then(|| tx.clone());
        tasks.push(tokio::spawn(simulate(state.clone(), direct)));
    }
    if let Some(url) = state.config.database_url.clone() {
        tasks.push(tokio::spawn(listen(state, url, tx)));
    }
    tasks
}

/// The simulator: replays each VM's generated series, one sample per tick,
/// starting after the first anomaly window.
async fn simulate(state: Arc<State>, direct: Option<mpsc::Sender<TickData>>) {
    let fleet = state.fleet.clone();
    let n = fleet.n_samples().max(1);
    let mut idx = WINDOW % n;
    let mut incident = vec![false; fleet.vms.len()];
    let mut interval = tokio::time::interval(state.config.tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut tick = 0u64;
    loop {
        interval.tick().await;
        tick += 1;
        idx = (idx + 1) % n;
        let now = now_ms();
        let mut samples = Vec::with_capacity(fleet.vms.len());
        let mut rows = Vec::with_capacity(fleet.vms.len());
        let mut opened = Vec::new();
        let mut cleared = Vec::new();
        for (vm, s) in fleet.vms.iter().zip(&fleet.series) {
            if idx >= s.cpu.len() {
                continue;
            }
            let vm_id = vm.id as i64 + 1;
            let m = [
                s.cpu[idx],
                s.memory[idx],
                s.disk[idx],
                s.net_rx[idx],
                s.net_tx[idx],
            ];
            samples.push(MetricSample {
                vm_id,
                ts_ms: now,
                cpu: m[0],
                memory: m[1],
                disk: m[2],
                net_rx: m[3],
                net_tx: m[4],
                performance_score: None,
            });
            rows.push(VmValues {
                vm_id,
                org: vm.org_id as i64 + 1,
                m,
            });
            let on = s.incident.get(idx).copied().unwrap_or(false);
            if on != incident[vm.id] {
                incident[vm.id] = on;
                if on {
                    opened.push(NewAlert {
                        vm_id,
                        severity: Severity::Critical,
                        alert_type: "incident".into(),
                        created_at_ms: now,
                        resolved_at_ms: None,
                    });
                } else {
                    cleared.push(vm_id);
                }
            }
        }
        let alerts_changed = !opened.is_empty() || !cleared.is_empty();
        let written = async {
            state.repo.record_metrics(&samples).await?;
            state.repo.record_alerts(&opened).await?;
            for vm_id in &cleared {
                state
                    .repo
                    .resolve_vm_alerts(*vm_id, "incident", now)
                    .await?;
            }
            Ok::<_, novacron_dashboard_query::Error>(())
        }
        .await;
        if let Err(e) = written {
            set_db(&state, false, &e.to_string());
            continue;
        }
        match &direct {
            Some(tx) => {
                set_db(&state, true, "");
                let data = TickData {
                    tick,
                    ts_ms: now,
                    alerts_changed,
                    rows,
                };
                if tx.send(data).await.is_err() {
                    return;
                }
            }
            None => {
                let Some(pool) = &state.pool else { return };
                let payload = format!("{tick} {}", u8::from(alerts_changed));
                let sent = match pool.get().await {
                    Ok(conn) => conn
                        .execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload])
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                if let Err(e) = sent {
                    set_db(&state, false, &e);
                }
            }
        }
    }
}

/// Records whether the database answers; a change is pushed to every client.
fn set_db(state: &State, up: bool, why: &str) {
    if state.db_up.swap(up, Ordering::Relaxed) != up {
        #[derive(Serialize)]
        struct Status<'a> {
            r#type: &'static str,
            db: &'static str,
            detail: &'a str,
        }
        let frame = encode(&Status {
            r#type: "status",
            db: if up { "up" } else { "down" },
            detail: why,
        });
        state.hub.publish(FLEET, Kind::Event, &frame);
    }
}

/// One instance's listener: `LISTEN`, then a snapshot, then one read per
/// notification; reconnects with capped exponential backoff.
async fn listen(state: Arc<State>, url: String, tx: mpsc::Sender<TickData>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let mut listener = match sqlx::postgres::PgListener::connect(&url).await {
            Ok(l) => l,
            Err(e) => {
                set_db(&state, false, &e.to_string());
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(2));
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            set_db(&state, false, &e.to_string());
            tokio::time::sleep(backoff).await;
            continue;
        }
        backoff = Duration::from_millis(100);
        // Subscribed: a snapshot now cannot miss a tick committed later.
        let mut resync = true;
        loop {
            if resync {
                match read_latest(&state, state.tick(), false).await {
                    Ok(Some(data)) => {
                        set_db(&state, true, "");
                        if tx.send(data).await.is_err() {
                            return;
                        }
                    }
                    Ok(None) => set_db(&state, true, ""),
                    Err(e) => {
                        set_db(&state, false, &e);
                        break;
                    }
                }
                resync = false;
            }
            match listener.try_recv().await {
                Ok(Some(n)) => {
                    let mut parts = n.payload().split(' ');
                    let tick = parts.next().and_then(|t| t.parse::<u64>().ok());
                    let changed = parts.next() == Some("1");
                    let Some(tick) = tick else { continue };
                    match read_latest(&state, tick, changed).await {
                        Ok(Some(data)) => {
                            set_db(&state, true, "");
                            if tx.send(data).await.is_err() {
                                return;
                            }
                        }
                        Ok(None) => {}
                        Err(e) => set_db(&state, false, &e),
                    }
                }
                // The connection dropped; the listener reconnects on the
                // next call, and notifications sent meanwhile are lost.
                Ok(None) => {
                    set_db(&state, false, "lost the notification connection");
                    resync = true;
                }
                Err(e) => {
                    set_db(&state, false, &e.to_string());
                    break;
                }
            }
        }
        tokio::time::sleep(backoff).await;
    }
}

/// The latest value of every live VM, read through the adaptive pool.
async fn read_latest(state: &State, tick: u64, changed: bool) -> Result<Option<TickData>, String> {
    let Some(pool) = &state.pool else {
        return Ok(None);
    };
    let conn = pool.get().await.map_err(|e| e.to_string())?;
    let rows = conn
        .query(LATEST_SQL, &[])
        .await
        .map_err(|e| e.to_string())?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mut ts_ms = 0i64;
    let mut values = Vec::with_capacity(rows.len());
    for r in &rows {
        let ts: i64 = r.try_get(2).map_err(|e| e.to_string())?;
        ts_ms = ts_ms.max(ts);
        let mut m = [0.0; 5];
        for (k, v) in m.iter_mut().enumerate() {
            *v = r.try_get(3 + k).map_err(|e| e.to_string())?;
        }
        values.push(VmValues {
            vm_id: r.try_get(0).map_err(|e| e.to_string())?,
            org: r.try_get(1).map_err(|e| e.to_string())?,
            m,
        });
    }
    Ok(Some(TickData {
        tick,
        ts_ms,
        alerts_changed: changed,
        rows: values,
    }))
}

/// Serializes a frame once (a serde type: never a `Value` tree).
pub fn encode<T: Serialize>(value: &T) -> Frame {
    // Serializing our own types cannot fail (no maps with non-string keys).
    Frame::from(serde_json::to_string(value).unwrap_or_default())
}

/// Two decimals: what the page shows, and 40 % fewer bytes.
pub fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// The frame of one organization at one tick.
#[derive(Serialize)]
pub struct TickFrame<'a> {
    /// `"tick"`.
    pub r#type: &'static str,
    /// Organization.
    pub org: i64,
    /// Tick number.
    pub tick: u64,
    /// Sample time, ms since the epoch.
    pub ts: i64,
    /// When this instance published it, µs since the epoch (fan-out latency).
    pub sent_us: i64,
    /// `[vm_id, cpu, memory, disk, net_rx, net_tx]` per VM.
    pub vms: &'a [[f64; 6]],
}

/// Microseconds since the epoch.
pub fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// The processor: frames per organization, the fleet panels, publishing.
async fn process(state: Arc<State>, mut rx: mpsc::Receiver<TickData>) {
    let mut panels = Panels::new(&state);
    let placement = tokio::task::spawn_blocking({
        let fleet = state.fleet.clone();
        move || placement_panel(&fleet)
    });
    let mut placement = Some(placement);
    while let Some(data) = rx.recv().await {
        let mut by_org: HashMap<i64, Vec<[f64; 6]>> = HashMap::new();
        for r in &data.rows {
            let m = r.m.map(round2);
            by_org
                .entry(r.org)
                .or_default()
                .push([r.vm_id as f64, m[0], m[1], m[2], m[3], m[4]]);
        }
        let sent_us = now_us();
        let mut frames = Vec::with_capacity(by_org.len());
        for (org, vms) in &by_org {
            let frame = encode(&TickFrame {
                r#type: "tick",
                org: *org,
                tick: data.tick,
                ts: data.ts_ms,
                sent_us,
                vms,
            });
            frames.push((*org, frame));
        }
        if let Ok(mut latest) = state.latest.write() {
            latest.tick = latest.tick.max(data.tick);
            for (org, frame) in &frames {
                latest.org_frames.insert(*org, frame.clone());
            }
        }
        for (org, frame) in &frames {
            state.hub.publish(*org, Kind::Tick, frame);
        }
        if data.alerts_changed {
            #[derive(Serialize)]
            struct Alerts {
                r#type: &'static str,
                tick: u64,
            }
            let frame = encode(&Alerts {
                r#type: "alerts",
                tick: data.tick,
            });
            state.hub.publish(FLEET, Kind::Event, &frame);
        }
        if let Some(p) = placement.as_mut().filter(|p| p.is_finished()) {
            panels.placement = p.await.ok();
            placement = None;
        }
        panels.update(&state, &data).await;
        let frame = encode(&panels.frame(&state, data.tick));
        if let Ok(mut latest) = state.latest.write() {
            latest.fleet = Some(frame.clone());
        }
        state.hub.publish(FLEET, Kind::Fleet, &frame);
    }
}

/// Fleet-wide p50/p95/p99 of one metric and its recent p95s.
#[derive(Debug, Clone, Serialize)]
pub struct MetricPanel {
    /// Metric name.
    pub name: &'static str,
    /// p50, p95, p99 of this tick, from the organizations' merged DDSketches.
    pub quantiles: [f64; 3],
    /// Mean and maximum of this tick (simd-kernels `Stats`).
    pub mean: f64,
    /// Maximum.
    pub max: f64,
    /// The last p95s, oldest first (the sparkline).
    pub spark: Vec<f64>,
}

/// A flagged VM.
#[derive(Debug, Clone, Serialize)]
pub struct Anomaly {
    /// VM id.
    pub vm_id: i64,
    /// VM name.
    pub name: String,
    /// Scorer output in [0, 1].
    pub score: f32,
}

/// The anomaly panel (ml-inference).
#[derive(Debug, Clone, Serialize, Default)]
pub struct AnomalyPanel {
    /// Windows scored.
    pub scored: usize,
    /// VMs at score ≥ 0.5, worst first (at most 20).
    pub flagged: Vec<Anomaly>,
    /// How many VMs were flagged in all.
    pub flagged_total: usize,
    /// Time to score every window, ms.
    pub ms: f64,
    /// Budget bytes peak of the engine.
    pub bytes_peak: u64,
    /// A failure, if scoring failed.
    pub error: Option<String>,
}

/// The placement advice (qubo-solver).
#[derive(Debug, Clone, Serialize)]
pub struct PlacementPanel {
    /// VMs placed.
    pub vms: usize,
    /// Hosts offered.
    pub hosts: usize,
    /// First-fit decreasing: cost per hour, hosts used.
    pub ffd_cost: f64,
    /// Hosts FFD uses.
    pub ffd_hosts: usize,
    /// The solver's improvement of FFD: cost per hour, hosts used.
    pub solver_cost: f64,
    /// Hosts the solver uses.
    pub solver_hosts: usize,
    /// Time to solve, ms.
    pub ms: f64,
    /// A failure, if any.
    pub error: Option<String>,
}

/// The GPU-or-CPU decision (gpu-compute) for this tick's statistics.
#[derive(Debug, Clone, Serialize, Default)]
pub struct GpuPanel {
    /// The adapter, or why there is none.
    pub adapter: String,
    /// Where the executor ran the fleet's statistics.
    pub device: String,
    /// Its predictions, ms.
    pub predicted_cpu_ms: f64,
    /// Predicted GPU time, ms (absent without a GPU).
    pub predicted_gpu_ms: Option<f64>,
    /// Measured, ms.
    pub measured_ms: f64,
    /// Values.
    pub values: usize,
}

/// The adaptive pool's statistics (PostgreSQL only).
#[derive(Debug, Clone, Serialize)]
pub struct PoolPanel {
    /// Current size limit.
    pub max_open: usize,
    /// Open connections.
    pub open: usize,
    /// In use.
    pub in_use: usize,
    /// Waiters now.
    pub waiters: usize,
    /// Acquisitions that waited.
    pub wait_count: u64,
    /// p99 wait, ms.
    pub wait_p99_ms: f64,
    /// Acquire timeouts.
    pub timeouts: u64,
    /// Size changes.
    pub resizes: u64,
}

/// The fleet frame.
#[derive(Serialize)]
pub struct FleetFrame<'a> {
    /// `"fleet"`.
    pub r#type: &'static str,
    /// Tick number.
    pub tick: u64,
    /// `"up"` or `"down"`.
    pub db: &'static str,
    /// Backend name.
    pub backend: &'static str,
    /// Per metric.
    pub metrics: &'a [MetricPanel],
    /// Anomalies.
    pub anomalies: &'a AnomalyPanel,
    /// Placement advice, once computed.
    pub placement: Option<&'a PlacementPanel>,
    /// GPU or CPU.
    pub gpu: Option<&'a GpuPanel>,
    /// Pool statistics, PostgreSQL only.
    pub pool: Option<PoolPanel>,
    /// The WebSocket hub.
    pub hub: super::hub::HubCounts,
    /// Upgrades refused by the rate limit.
    pub upgrades_refused: u64,
}

/// The engines of the slow panels, loaded off the live loop.
struct Engines {
    engine: Result<Arc<novacron_ml_inference::Engine>, String>,
    executor: Option<Arc<novacron_gpu_compute::Executor>>,
    adapter: String,
}

/// Loads the anomaly scorer and the GPU executor (blocking: model parse,
/// adapter probe).
fn load_engines() -> Engines {
    use novacron_ml_inference::{Engine, EngineConfig, ModelSource, Thresholds};
    let engine = Engine::new(
        EngineConfig::default()
            .budget_bytes(256 << 20)
            .thresholds(Thresholds::REPORT),
    )
    .and_then(|e| e.register("scorer", ModelSource::path(SCORER)).map(|()| e))
    .map(Arc::new)
    .map_err(|e| e.to_string());
    let (executor, adapter) = match novacron_gpu_compute::Executor::new(
        novacron_gpu_compute::ExecutorConfig::default(),
    ) {
        Ok(ex) => {
            let adapter = ex.gpu().map_or_else(
                || "no GPU adapter: CPU throughout".to_string(),
                |g| format!("{} ({})", g.adapter().name, g.adapter().backend),
            );
            (Some(Arc::new(ex)), adapter)
        }
        Err(e) => (None, format!("executor failed: {e}")),
    };
    Engines {
        engine,
        executor,
        adapter,
    }
}

/// What one refresh of the slow panels produced.
type Slow = (Option<AnomalyPanel>, Option<GpuPanel>);

/// Scores the full windows and runs the fleet's CPU statistics through the
/// executor (blocking).
fn slow_panels(
    engines: &Engines,
    fleet: &crate::fleet::Fleet,
    full: &[usize],
    values: &ndarray::Array3<f64>,
    cpu: &[f32],
) -> Slow {
    let anomalies = engines.engine.as_ref().ok().map(|engine| {
        let started = Instant::now();
        match engine.score_windows("scorer", values.view()) {
            Ok(scores) => {
                let mut flagged: Vec<Anomaly> = full
                    .iter()
                    .zip(&scores)
                    .filter(|(_, s)| **s >= 0.5)
                    .map(|(&i, &score)| Anomaly {
                        vm_id: i as i64 + 1,
                        name: fleet.vms[i].name.clone(),
                        score,
                    })
                    .collect();
                flagged.sort_by(|a, b| b.score.total_cmp(&a.score));
                AnomalyPanel {
                    scored: scores.len(),
                    flagged_total: flagged.len(),
                    flagged: flagged.into_iter().take(20).collect(),
                    ms: started.elapsed().as_secs_f64() * 1e3,
                    bytes_peak: engine.metrics().bytes_peak,
                    error: None,
                }
            }
            Err(e) => AnomalyPanel {
                error: Some(e.to_string()),
                ..AnomalyPanel::default()
            },
        }
    });
    let gpu = engines.executor.as_ref().and_then(|ex| {
        ex.stats(cpu)
            .map(|r| GpuPanel {
                adapter: engines.adapter.clone(),
                device: format!("{:?}", r.report.device),
                predicted_cpu_ms: r.report.predicted_cpu.as_secs_f64() * 1e3,
                predicted_gpu_ms: r.report.predicted_gpu.map(|d| d.as_secs_f64() * 1e3),
                measured_ms: r.report.measured.as_secs_f64() * 1e3,
                values: cpu.len(),
            })
            .ok()
    });
    (anomalies, gpu)
}

/// The fleet panels. The slow ones (model loading, scoring, the GPU probe)
/// run on the blocking pool beside the live loop and are picked up when
/// they finish: a slow score never delays a tick (a delayed tick would
/// reach clients back to back with the next and be coalesced away).
struct Panels {
    metrics: Vec<MetricPanel>,
    /// Per VM index (fleet order), the last `WINDOW` samples of each metric.
    windows: Vec<[VecDeque<f64>; 5]>,
    anomalies: AnomalyPanel,
    placement: Option<PlacementPanel>,
    gpu: Option<GpuPanel>,
    engines: Option<Arc<Engines>>,
    loading: Option<JoinHandle<Engines>>,
    slow: Option<JoinHandle<Slow>>,
    slow_due: bool,
    ticks: u64,
}

impl Panels {
    fn new(state: &State) -> Panels {
        let fleet = &state.fleet;
        // The windows start full with the history before the replay's start.
        let windows = fleet
            .series
            .iter()
            .map(|s| {
                std::array::from_fn(|k| {
                    s.metric(k)
                        .iter()
                        .take(WINDOW)
                        .copied()
                        .collect::<VecDeque<f64>>()
                })
            })
            .collect();
        Panels {
            metrics: METRICS
                .iter()
                .map(|&name| MetricPanel {
                    name,
                    quantiles: [0.0; 3],
                    mean: 0.0,
                    max: 0.0,
                    spark: Vec::new(),
                })
                .collect(),
            windows,
            anomalies: AnomalyPanel::default(),
            placement: None,
            gpu: None,
            engines: None,
            loading: Some(tokio::task::spawn_blocking(load_engines)),
            slow: None,
            slow_due: false,
            ticks: 0,
        }
    }

    async fn update(&mut self, state: &State, data: &TickData) {
        self.ticks += 1;
        let kernels = novacron_simd_kernels::Kernels::global();
        for (k, panel) in self.metrics.iter_mut().enumerate() {
            // One sketch per organization, merged: what a sharded fleet does.
            let mut per_org: HashMap<i64, DDSketch> = HashMap::new();
            let mut column = Vec::with_capacity(data.rows.len());
            for r in &data.rows {
                column.push(r.m[k]);
                if let Ok(s) = match per_org.get_mut(&r.org) {
                    Some(s) => Ok(s),
                    None => DDSketch::new(0.01).map(|s| per_org.entry(r.org).or_insert(s)),
                } {
                    s.insert(r.m[k]);
                }
            }
            let mut fleet = match DDSketch::new(0.01) {
                Ok(s) => s,
                Err(_) => continue,
            };
            for s in per_org.values() {
                let _ = fleet.merge(s);
            }
            if let Ok(q) = fleet.quantiles(&[0.5, 0.95, 0.99]) {
                panel.quantiles = [round2(q[0]), round2(q[1]), round2(q[2])];
            }
            let stats = kernels.stats(&column);
            panel.mean = round2(stats.mean().unwrap_or(0.0));
            panel.max = round2(stats.max().unwrap_or(0.0));
            panel.spark.push(panel.quantiles[1]);
            if panel.spark.len() > 60 {
                panel.spark.remove(0);
            }
        }
        // The anomaly windows follow the VMs' samples.
        for r in &data.rows {
            if let Some(w) = usize::try_from(r.vm_id - 1)
                .ok()
                .and_then(|i| self.windows.get_mut(i))
            {
                for (k, q) in w.iter_mut().enumerate() {
                    q.push_back(r.m[k]);
                    if q.len() > WINDOW {
                        q.pop_front();
                    }
                }
            }
        }
        // Finished background work is collected (its await is immediate).
        if let Some(h) = self.loading.take_if(|h| h.is_finished()) {
            match h.await {
                Ok(engines) => {
                    if let Err(e) = &engines.engine {
                        self.anomalies.error = Some(e.clone());
                    }
                    self.engines = Some(Arc::new(engines));
                }
                Err(e) => self.anomalies.error = Some(format!("loading the scorer: {e}")),
            }
        }
        if let Some(h) = self.slow.take_if(|h| h.is_finished())
            && let Ok((anomalies, gpu)) = h.await
        {
            if let Some(a) = anomalies {
                self.anomalies = a;
            }
            if let Some(g) = gpu {
                self.gpu = Some(g);
            }
        }
        let every = state.config.panel_every.max(1);
        self.slow_due |= self.ticks % every == 1 || every == 1;
        if self.slow_due
            && self.slow.is_none()
            && let Some(engines) = self.engines.clone()
        {
            self.slow_due = false;
            self.slow = Some(self.start_slow(state, data, engines));
        }
    }

    /// Copies what the slow panels need and starts them on the blocking pool.
    fn start_slow(
        &self,
        state: &State,
        data: &TickData,
        engines: Arc<Engines>,
    ) -> JoinHandle<Slow> {
        let full: Vec<usize> = (0..self.windows.len())
            .filter(|&i| self.windows[i].iter().all(|q| q.len() == WINDOW))
            .collect();
        let mut values = ndarray::Array3::<f64>::zeros((full.len(), 5, WINDOW));
        for (w, &i) in full.iter().enumerate() {
            for (k, q) in self.windows[i].iter().enumerate() {
                for (t, v) in q.iter().enumerate() {
                    values[[w, k, t]] = *v;
                }
            }
        }
        let cpu: Vec<f32> = data.rows.iter().map(|r| r.m[0] as f32).collect();
        let fleet = state.fleet.clone();
        tokio::task::spawn_blocking(move || slow_panels(&engines, &fleet, &full, &values, &cpu))
    }

    fn frame<'a>(&'a self, state: &State, tick: u64) -> FleetFrame<'a> {
        FleetFrame {
            r#type: "fleet",
            tick,
            db: if state.db_is_up() { "up" } else { "down" },
            backend: if state.config.database_url.is_some() {
                "postgres"
            } else {
                "sqlite"
            },
            metrics: &self.metrics,
            anomalies: &self.anomalies,
            placement: self.placement.as_ref(),
            gpu: self.gpu.as_ref(),
            pool: state.pool.as_ref().map(|p| {
                let s = p.stats();
                PoolPanel {
                    max_open: s.max_open,
                    open: s.open,
                    in_use: s.in_use,
                    waiters: s.waiters,
                    wait_count: s.wait_count,
                    wait_p99_ms: s.wait_p99.as_secs_f64() * 1e3,
                    timeouts: s.timeouts,
                    resizes: s.resizes,
                }
            }),
            hub: state.hub.counts(),
            upgrades_refused: state.upgrades_refused.load(Ordering::Relaxed),
        }
    }
}

/// First-fit decreasing against the solver on the first 400 VMs of the
/// fleet and a proportional share of its hosts.
fn placement_panel(fleet: &crate::fleet::Fleet) -> PlacementPanel {
    use novacron_qubo_solver::{HostSpec, PlacementProblem, VmDemand};
    let n_vms = fleet.vms.len().min(400);
    let n_hosts = (fleet.hosts.len() * n_vms)
        .div_ceil(fleet.vms.len().max(1))
        .max(1);
    let problem = PlacementProblem {
        vms: fleet
            .vm_demands(0, n_vms)
            .into_iter()
            .map(|demand| VmDemand { demand })
            .collect(),
        hosts: fleet
            .host_capacities(0, n_hosts)
            .into_iter()
            .map(|(capacity, cost)| HostSpec { capacity, cost })
            .collect(),
        affinity: Vec::new(),
        anti_affinity: Vec::new(),
    };
    let started = Instant::now();
    let result = problem
        .first_fit_decreasing()
        .and_then(|ffd| problem.improve(&ffd).map(|better| (ffd, better)));
    let ms = started.elapsed().as_secs_f64() * 1e3;
    match result {
        Ok((ffd, better)) => PlacementPanel {
            vms: n_vms,
            hosts: n_hosts,
            ffd_cost: round2(ffd.cost),
            ffd_hosts: ffd.hosts_used,
            solver_cost: round2(better.cost),
            solver_hosts: better.hosts_used,
            ms,
            error: None,
        },
        Err(e) => PlacementPanel {
            vms: n_vms,
            hosts: n_hosts,
            ffd_cost: 0.0,
            ffd_hosts: 0,
            solver_cost: 0.0,
            solver_hosts: 0,
            ms,
            error: Some(e.to_string()),
        },
    }
}
