//! A seeded fleet simulator shared by the examples, benches and integration tests.
//!
//! It is a module, not a library crate: examples include it with
//! `#[path = "common/fleet.rs"] mod fleet;`, benches and tests with the path
//! relative to them. The same `FleetConfig` (seed included) always yields the
//! same fleet, on every platform, because every random draw comes from one
//! `Xoshiro256PlusPlus` stream per VM seeded from the config seed.

#![allow(dead_code, unreachable_pub)]

use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, LogNormal, Normal};

/// Deterministic, portable generator (rand's `StdRng`/`SmallRng` may change between versions).
pub type FleetRng = rand::rngs::Xoshiro256PlusPlus;

/// What to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetConfig {
    /// Number of VMs.
    pub n_vms: usize,
    /// Number of hosts the VMs can be placed on.
    pub n_hosts: usize,
    /// Number of organizations owning the VMs.
    pub n_orgs: usize,
    /// Length of the metric history.
    pub hours: u32,
    /// Seconds between two samples of a series.
    pub sample_interval_s: u32,
    /// Seed of every random draw.
    pub seed: u64,
    /// Exact organization sizes, in VMs (`org_sizes[k]` VMs for org `k`, in
    /// VM order, the rest to the last one); empty: each VM draws its
    /// organization uniformly.
    pub org_sizes: Vec<usize>,
}

impl Default for FleetConfig {
    /// 500 VMs on 60 hosts in 8 organizations, 24 hours sampled every minute, seed 42.
    fn default() -> Self {
        FleetConfig {
            n_vms: 500,
            n_hosts: 60,
            n_orgs: 8,
            hours: 24,
            sample_interval_s: 60,
            seed: 42,
            org_sizes: Vec::new(),
        }
    }
}

/// An organization (tenant).
#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    /// Index in `Fleet::orgs`.
    pub id: usize,
    /// Display name.
    pub name: String,
}

/// A physical host with capacities and an hourly cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Host {
    /// Index in `Fleet::hosts`.
    pub id: usize,
    /// Display name.
    pub name: String,
    /// CPU cores available to VMs.
    pub cpu_cores: u32,
    /// Memory available to VMs, MiB.
    pub memory_mib: u64,
    /// Cost of keeping the host powered, per hour.
    pub cost_per_hour: f64,
}

/// Lifecycle state of a VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VmStatus {
    /// Running and reporting metrics.
    Running,
    /// Stopped by its owner; its history ends early.
    Stopped,
    /// Being migrated between hosts.
    Migrating,
    /// In an error state.
    Error,
}

impl VmStatus {
    /// Lower-case name, as stored in databases.
    pub fn as_str(self) -> &'static str {
        match self {
            VmStatus::Running => "running",
            VmStatus::Stopped => "stopped",
            VmStatus::Migrating => "migrating",
            VmStatus::Error => "error",
        }
    }
}

/// A virtual machine with its demands.
#[derive(Debug, Clone, PartialEq)]
pub struct Vm {
    /// Index in `Fleet::vms` and `Fleet::series`.
    pub id: usize,
    /// Owning organization.
    pub org_id: usize,
    /// Display name, unique within the fleet.
    pub name: String,
    /// Current state.
    pub status: VmStatus,
    /// Requested CPU cores.
    pub cpu_cores: u32,
    /// Requested memory, MiB.
    pub memory_mib: u64,
}

/// The metrics of one VM, one value per sample time (`Fleet::timestamps`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VmSeries {
    /// CPU utilisation, percent in [0, 100].
    pub cpu: Vec<f64>,
    /// Memory utilisation, percent in [0, 100].
    pub memory: Vec<f64>,
    /// Disk utilisation, percent in [0, 100].
    pub disk: Vec<f64>,
    /// Network receive rate, Mbit/s (heavy-tailed).
    pub net_rx: Vec<f64>,
    /// Network transmit rate, Mbit/s (heavy-tailed).
    pub net_tx: Vec<f64>,
    /// Ground truth: whether sample `i` lies inside an injected incident
    /// (CPU saturated, memory climbing, network ×3). Drawn from the VM's
    /// stream before any sample, so it costs no extra draws.
    pub incident: Vec<bool>,
}

/// The five metrics, in a fixed order.
pub const METRICS: [&str; 5] = ["cpu", "memory", "disk", "net_rx", "net_tx"];

impl VmSeries {
    /// The series of metric `idx` (index into [`METRICS`]).
    pub fn metric(&self, idx: usize) -> &[f64] {
        match idx {
            0 => &self.cpu,
            1 => &self.memory,
            2 => &self.disk,
            3 => &self.net_rx,
            _ => &self.net_tx,
        }
    }
}

/// How bad an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Worth a look.
    Warning,
    /// Needs action now.
    Critical,
}

/// An alert raised when a metric stayed above its threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// The VM it concerns.
    pub vm_id: usize,
    /// Sample index at which it fired.
    pub sample_idx: usize,
    /// Which metric (`METRICS` name).
    pub metric: &'static str,
    /// How bad.
    pub severity: Severity,
    /// Whether it has been resolved (the metric came back under the threshold).
    pub resolved: bool,
}

/// A whole simulated fleet.
#[derive(Debug, Clone, PartialEq)]
pub struct Fleet {
    /// What was simulated.
    pub config: FleetConfig,
    /// Tenants.
    pub orgs: Vec<Organization>,
    /// Hosts with capacities.
    pub hosts: Vec<Host>,
    /// VMs with demands.
    pub vms: Vec<Vm>,
    /// Unix timestamps (seconds) of the samples, shared by every series.
    pub timestamps: Vec<i64>,
    /// One series per VM, indexed like `vms`.
    pub series: Vec<VmSeries>,
    /// Alerts derived from thresholds.
    pub alerts: Vec<Alert>,
}

/// 2026-11-01T00:00:00Z: fixed so that simulated timestamps are reproducible.
pub const EPOCH_S: i64 = 1_793_491_200;

impl Fleet {
    /// `[cpu cores, memory MiB]` of `take` VMs from index `skip`: the
    /// demands a placement problem packs.
    pub fn vm_demands(&self, skip: usize, take: usize) -> Vec<Vec<u64>> {
        self.vms
            .iter()
            .skip(skip)
            .take(take)
            .map(|v| vec![u64::from(v.cpu_cores), v.memory_mib])
            .collect()
    }

    /// `([cpu cores, memory MiB], cost per hour)` of `take` hosts from index `skip`.
    pub fn host_capacities(&self, skip: usize, take: usize) -> Vec<(Vec<u64>, f64)> {
        self.hosts
            .iter()
            .skip(skip)
            .take(take)
            .map(|h| (vec![u64::from(h.cpu_cores), h.memory_mib], h.cost_per_hour))
            .collect()
    }

    /// Simulates a fleet; the same config always gives the same fleet.
    pub fn generate(config: &FleetConfig) -> Fleet {
        let mut rng = FleetRng::seed_from_u64(config.seed);
        let n_orgs = config.n_orgs.max(config.org_sizes.len()).max(1);
        let orgs = (0..n_orgs)
            .map(|id| Organization {
                id,
                name: format!("org-{id:02}"),
            })
            .collect();

        const HOST_SHAPES: [(u32, u64, f64); 3] = [
            (32, 131_072, 1.10),
            (64, 262_144, 2.00),
            (96, 393_216, 2.80),
        ];
        let hosts = (0..config.n_hosts)
            .map(|id| {
                let (cpu_cores, memory_mib, cost) =
                    HOST_SHAPES[rng.random_range(0..HOST_SHAPES.len())];
                Host {
                    id,
                    name: format!("host-{id:03}"),
                    cpu_cores,
                    memory_mib,
                    cost_per_hour: cost * rng.random_range(0.9..1.1),
                }
            })
            .collect();

        const VM_SHAPES: [(u32, u64); 6] = [
            (1, 2048),
            (2, 4096),
            (2, 8192),
            (4, 16_384),
            (8, 32_768),
            (16, 65_536),
        ];
        let vms: Vec<Vm> = (0..config.n_vms)
            .map(|id| {
                let (cpu_cores, memory_mib) = VM_SHAPES[rng.random_range(0..VM_SHAPES.len())];
                let status = match rng.random_range(0..100) {
                    0..=84 => VmStatus::Running,
                    85..=93 => VmStatus::Stopped,
                    94..=97 => VmStatus::Migrating,
                    _ => VmStatus::Error,
                };
                // Drawn even with fixed sizes, so the stream stays the same.
                let drawn = rng.random_range(0..n_orgs);
                let org_id = if config.org_sizes.is_empty() {
                    drawn
                } else {
                    let mut end = 0;
                    config
                        .org_sizes
                        .iter()
                        .position(|&size| {
                            end += size;
                            id < end
                        })
                        .unwrap_or(config.org_sizes.len() - 1)
                        .min(n_orgs - 1)
                };
                Vm {
                    id,
                    org_id,
                    name: format!("vm-{id:05}"),
                    status,
                    cpu_cores,
                    memory_mib,
                }
            })
            .collect();

        let interval = i64::from(config.sample_interval_s.max(1));
        let n_samples = (i64::from(config.hours) * 3600 / interval).max(1) as usize;
        let timestamps: Vec<i64> = (0..n_samples as i64)
            .map(|i| EPOCH_S + i * interval)
            .collect();

        let mut series = Vec::with_capacity(vms.len());
        let mut alerts = Vec::new();
        for vm in &vms {
            // One stream per VM: adding VMs never changes earlier VMs' series.
            let mut vm_rng = FleetRng::seed_from_u64(
                config.seed ^ (vm.id as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            );
            let s = simulate_series(&mut vm_rng, vm, &timestamps);
            derive_alerts(vm.id, &s, &mut alerts);
            series.push(s);
        }
        Fleet {
            config: config.clone(),
            orgs,
            hosts,
            vms,
            timestamps,
            series,
            alerts,
        }
    }

    /// Number of samples in every series.
    pub fn n_samples(&self) -> usize {
        self.timestamps.len()
    }

    /// Every value of metric `idx` across the fleet, VM after VM.
    pub fn all_values(&self, idx: usize) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.vms.len() * self.n_samples());
        for s in &self.series {
            out.extend_from_slice(s.metric(idx));
        }
        out
    }
}

fn simulate_series(rng: &mut FleetRng, vm: &Vm, timestamps: &[i64]) -> VmSeries {
    let n = timestamps.len();
    let noise = Normal::new(0.0, 1.0).expect("unit normal");
    let net = LogNormal::new(2.0, 0.9).expect("lognormal");
    let cpu_base = rng.random_range(8.0..55.0);
    let cpu_amp = rng.random_range(3.0..25.0);
    let phase = rng.random_range(0.0..std::f64::consts::TAU);
    let mem_base = rng.random_range(20.0..75.0);
    let disk_start = rng.random_range(10.0..70.0);
    let disk_growth_per_sample = rng.random_range(0.0..0.01);
    let net_scale = f64::from(vm.cpu_cores).sqrt();
    // Stopped VMs report nothing after they stopped: their tail stays near zero.
    let stop_at = if vm.status == VmStatus::Stopped {
        rng.random_range(0..n)
    } else {
        n
    };

    // Incidents: a few windows where CPU saturates and memory climbs.
    let mut incident = vec![false; n];
    if rng.random_bool(0.15) {
        for _ in 0..rng.random_range(1..=3) {
            let start = rng.random_range(0..n);
            let len = rng.random_range(10..=90).min(n - start);
            incident[start..start + len].fill(true);
        }
    }

    let mut s = VmSeries {
        cpu: Vec::with_capacity(n),
        memory: Vec::with_capacity(n),
        disk: Vec::with_capacity(n),
        net_rx: Vec::with_capacity(n),
        net_tx: Vec::with_capacity(n),
        incident: Vec::new(),
    };
    let mut spike = 0.0f64;
    let mut mem_drift = 0.0f64;
    for (i, &ts) in timestamps.iter().enumerate() {
        let day = ((ts - EPOCH_S) as f64 / 86_400.0) * std::f64::consts::TAU + phase;
        let daily = day.sin();
        if rng.random_bool(0.002) {
            spike += rng.random_range(20.0..50.0);
        }
        spike *= 0.85;
        mem_drift = (mem_drift + 0.2 * noise.sample(rng)).clamp(-15.0, 15.0);
        let on = i < stop_at;
        let (cpu, memory, rx, tx);
        if !on {
            cpu = 0.0;
            memory = 0.0;
            rx = 0.0;
            tx = 0.0;
        } else if incident[i] {
            cpu = 93.0 + 6.0 * rng.random::<f64>();
            memory = (mem_base + 25.0 + mem_drift).min(99.0);
            rx = net.sample(rng) * net_scale * 3.0;
            tx = net.sample(rng) * net_scale * 3.0;
        } else {
            cpu = cpu_base + cpu_amp * daily + 3.0 * noise.sample(rng) + spike;
            memory = mem_base + mem_drift + 1.5 * noise.sample(rng);
            let load = 1.0 + 0.5 * daily;
            rx = net.sample(rng) * net_scale * load;
            tx = 0.6 * net.sample(rng) * net_scale * load;
        }
        s.cpu.push(cpu.clamp(0.0, 100.0));
        s.memory.push(memory.clamp(0.0, 100.0));
        s.disk
            .push((disk_start + disk_growth_per_sample * i as f64).clamp(0.0, 100.0));
        s.net_rx.push(rx.max(0.0));
        s.net_tx.push(tx.max(0.0));
    }
    // A stopped VM reports zeros, whatever its incident windows said.
    for flag in &mut incident[stop_at..] {
        *flag = false;
    }
    s.incident = incident;
    s
}

/// Raises an alert when a metric stays above its threshold for five samples in a row.
fn derive_alerts(vm_id: usize, s: &VmSeries, alerts: &mut Vec<Alert>) {
    const RULES: [(&str, f64, f64); 3] = [
        ("cpu", 90.0, 97.0),
        ("memory", 88.0, 95.0),
        ("disk", 85.0, 95.0),
    ];
    const SUSTAIN: usize = 5;
    for (metric, warn, crit) in RULES {
        let values = match metric {
            "cpu" => &s.cpu,
            "memory" => &s.memory,
            _ => &s.disk,
        };
        let mut run = 0usize;
        let mut open: Option<usize> = None;
        let mut peak = 0.0f64;
        for (i, &v) in values.iter().enumerate() {
            if v > warn {
                run += 1;
                peak = peak.max(v);
                if run == SUSTAIN && open.is_none() {
                    open = Some(alerts.len());
                    alerts.push(Alert {
                        vm_id,
                        sample_idx: i,
                        metric,
                        severity: Severity::Warning,
                        resolved: false,
                    });
                }
                if let Some(a) = open
                    && peak > crit
                {
                    alerts[a].severity = Severity::Critical;
                }
            } else {
                if let Some(a) = open.take() {
                    alerts[a].resolved = true;
                }
                run = 0;
                peak = 0.0;
            }
        }
    }
}
