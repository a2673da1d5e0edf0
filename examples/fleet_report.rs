//! The main job: simulate a fleet, then run every crate's stage on it.
//!
//! ```text
//! cargo run --release --example fleet_report -- --vms 500 --hosts 60 --hours 24 --seed 42
//! ```
//!
//! Each stage prints a titled section and its wall time. Stages are added as
//! the crates land: the summary (plain Rust, the reference every later stage
//! is compared with), the exact and sketched percentiles of
//! `novacron-percentile`, per-VM statistics through `novacron-simd-kernels`,
//! VM placement through `novacron-qubo-solver`, and the organization
//! dashboard through `novacron-dashboard-query` (embedded SQLite, or
//! PostgreSQL with `--database-url`), and anomaly scores per VM from the
//! shipped ONNX model through `novacron-ml-inference`, and fleet-wide
//! aggregation on the GPU or the CPU, as `novacron-gpu-compute`'s cost model
//! decides.

#[path = "common/anomaly.rs"]
mod anomaly;
#[path = "common/dashboard_data.rs"]
mod dashboard_data;
#[path = "common/fleet.rs"]
mod fleet;
#[path = "common/pools.rs"]
mod pools;

use std::time::Instant;

use clap::Parser;
use fleet::{EPOCH_S, Fleet, FleetConfig, METRICS, Severity, VmStatus};

/// Simulate a VM fleet and report on it with every NovaCron crate.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Number of VMs.
    #[arg(long, default_value_t = FleetConfig::default().n_vms)]
    vms: usize,
    /// Number of hosts.
    #[arg(long, default_value_t = FleetConfig::default().n_hosts)]
    hosts: usize,
    /// Number of organizations.
    #[arg(long, default_value_t = FleetConfig::default().n_orgs)]
    orgs: usize,
    /// Hours of metric history.
    #[arg(long, default_value_t = FleetConfig::default().hours)]
    hours: u32,
    /// Seconds between samples.
    #[arg(long, default_value_t = FleetConfig::default().sample_interval_s)]
    interval: u32,
    /// Seed of the simulation.
    #[arg(long, default_value_t = FleetConfig::default().seed)]
    seed: u64,
    /// Database of the dashboard stage: embedded SQLite by default, or an
    /// empty PostgreSQL database (`postgres://…`).
    #[arg(long, default_value = "sqlite::memory:")]
    database_url: String,
}

fn main() {
    let args = Args::parse();
    if args.vms == 0 || args.hosts == 0 || args.hours == 0 || args.interval == 0 {
        eprintln!("error: --vms, --hosts, --hours and --interval must be at least 1");
        std::process::exit(2);
    }
    // NOVACRON_SIMD=portable|avx2|... fixes the SIMD level of every stage; a
    // value this CPU cannot run is an error here, not a silent fall-back.
    if let Err(e) = novacron_simd_kernels::Kernels::from_env().and_then(|k| k.install()) {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
    let config = FleetConfig {
        n_vms: args.vms,
        n_hosts: args.hosts,
        n_orgs: args.orgs.max(1),
        hours: args.hours,
        sample_interval_s: args.interval,
        seed: args.seed,
        org_sizes: Vec::new(),
    };

    let t = Instant::now();
    let fleet = Fleet::generate(&config);
    section("fleet", t);
    println!(
        "{} VMs in {} organizations on {} hosts; {} h of history, {} samples per series, {} values in all",
        fleet.vms.len(),
        fleet.orgs.len(),
        fleet.hosts.len(),
        config.hours,
        fleet.n_samples(),
        fleet.n_samples() * fleet.vms.len() * METRICS.len()
    );

    let t = Instant::now();
    let report = stage_summary(&fleet);
    section("summary (plain Rust)", t);
    print!("{report}");

    let t = Instant::now();
    let report = stage_percentiles(&fleet);
    section("percentiles (novacron-percentile)", t);
    print!("{report}");

    let t = Instant::now();
    let report = stage_simd(&fleet);
    section("per-VM fused statistics (novacron-simd-kernels)", t);
    print!("{report}");

    let t = Instant::now();
    let report = stage_placement(&fleet, args.seed);
    section(
        "VM placement: QUBO vs first-fit decreasing (novacron-qubo-solver)",
        t,
    );
    print!("{report}");

    let t = Instant::now();
    let report = stage_dashboard(&fleet, &args.database_url);
    section(
        "dashboard: one statement vs 1 + 3N (novacron-dashboard-query)",
        t,
    );
    print!("{report}");

    let t = Instant::now();
    let report = stage_anomalies(&fleet);
    section("anomaly scores per VM (novacron-ml-inference)", t);
    print!("{report}");

    let t = Instant::now();
    let report = stage_gpu(&fleet);
    section(
        "fleet-wide aggregation, GPU or CPU (novacron-gpu-compute)",
        t,
    );
    print!("{report}");
}

/// Stage 8: per-metric sums, histograms and exact percentiles of the whole
/// fleet through the executor, which runs each call where its calibrated
/// cost model predicts it is faster (a software adapter only when
/// `NOVACRON_GPU=software`); the choice and predicted vs measured times are
/// shown, and the percentiles are checked against a plain sort.
fn stage_gpu(fleet: &Fleet) -> String {
    use novacron_gpu_compute::{Executed, Executor, ExecutorConfig, HistogramSpec, Report};
    use std::fmt::Write;

    let mut out = String::new();
    let executor = match Executor::new(ExecutorConfig::default()) {
        Ok(e) => e,
        Err(e) => {
            let _ = writeln!(out, "gpu stage failed: {e}");
            return out;
        }
    };
    match executor.gpu() {
        Some(ctx) => {
            let a = ctx.adapter();
            let _ = writeln!(
                out,
                "adapter: {} ({}, software: {})",
                a.name, a.backend, a.is_software
            );
        }
        None => {
            let _ = writeln!(
                out,
                "no GPU adapter (NOVACRON_GPU=software allows a software one): CPU throughout"
            );
        }
    }
    let show = |r: &Report| {
        let gpu = r.predicted_gpu.map_or("-".to_string(), |d| {
            format!("{:.2} ms", d.as_secs_f64() * 1e3)
        });
        format!(
            "{:?} (predicted GPU {gpu}, CPU {:.2} ms; measured {:.2} ms)",
            r.device,
            r.predicted_cpu.as_secs_f64() * 1e3,
            r.measured.as_secs_f64() * 1e3
        )
    };
    const QS: [f64; 3] = [0.5, 0.95, 0.99];
    for (idx, name) in METRICS.iter().enumerate() {
        let values: Vec<f32> = fleet.all_values(idx).iter().map(|&v| v as f32).collect();
        let result = (|| {
            let stats: Executed<_> = executor.stats(&values)?;
            let hi = f32::from_bits(stats.value.max.to_bits() + 1);
            let spec = HistogramSpec::new(stats.value.min, hi.max(stats.value.min + 1.0), 10)?;
            let hist = executor.histogram(&values, &spec)?;
            let pct = executor.percentiles(&values, &QS)?;
            Ok::<_, novacron_gpu_compute::Error>((stats, hist, pct))
        })();
        let (stats, hist, pct) = match result {
            Ok(r) => r,
            Err(e) => {
                let _ = writeln!(out, "{name}: {e}");
                continue;
            }
        };
        let mut sorted = values.clone();
        sorted.sort_by(f32::total_cmp);
        let n = sorted.len();
        let reference: Vec<f64> = QS
            .iter()
            .map(|q| {
                let h = (n - 1) as f64 * q;
                let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
                f64::from(sorted[lo])
                    + (f64::from(sorted[hi]) - f64::from(sorted[lo])) * (h - lo as f64)
            })
            .collect();
        let agree = pct.value == reference;
        let _ = writeln!(
            out,
            "{name:<8} sum {:>14.1}  p50 {:>9.3}  p95 {:>9.3}  p99 {:>9.3}  (= plain sort: {agree})",
            stats.value.sum, pct.value[0], pct.value[1], pct.value[2]
        );
        let _ = writeln!(
            out,
            "         histogram of 10 bins: {:?}",
            hist.value.counts
        );
        let _ = writeln!(out, "         stats       {}", show(&stats.report));
        let _ = writeln!(out, "         histogram   {}", show(&hist.report));
        let _ = writeln!(out, "         percentiles {}", show(&pct.report));
    }
    out
}

/// The shipped scorer, trained on the simulator's windows (seeds 1–3).
const SCORER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/crates/ml-inference/models/anomaly_scorer.onnx"
);

/// Stage 7: hourly windows scored by the anomaly model, against the
/// simulator's known incidents, with the pipeline's memory figures.
fn stage_anomalies(fleet: &Fleet) -> String {
    use novacron_ml_inference::{Engine, EngineConfig, ModelSource, Request, Thresholds};
    use std::fmt::Write;
    let mut out = String::new();
    if fleet.n_samples() < anomaly::WINDOW {
        let _ = writeln!(
            out,
            "history shorter than one {}-sample window: nothing to score",
            anomaly::WINDOW
        );
        return out;
    }
    if fleet.config.sample_interval_s != 60 {
        let _ = writeln!(
            out,
            "note: the scorer was trained on 1-minute samples; this fleet samples every {} s",
            fleet.config.sample_interval_s
        );
    }
    let budget = 256u64 << 20;
    let engine = match Engine::new(
        EngineConfig::default()
            .budget_bytes(budget)
            .thresholds(Thresholds::REPORT),
    )
    .and_then(|e| e.register("scorer", ModelSource::path(SCORER)).map(|()| e))
    {
        Ok(e) => e,
        Err(e) => {
            let _ = writeln!(out, "error: {e}");
            return out;
        }
    };
    let (values, labels, origin) = anomaly::windows(fleet);
    let scores = match engine.score_windows("scorer", values.view()) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(out, "error: {e}");
            return out;
        }
    };
    let flags: Vec<bool> = scores.iter().map(|s| *s >= 0.5).collect();
    let (p, r) = anomaly::precision_recall(&flags, &labels);
    let auc = anomaly::roc_auc(&scores, &labels);
    let n_pos = labels
        .iter()
        .filter(|l| **l == anomaly::Label::Incident)
        .count();
    let _ = writeln!(
        out,
        "{} windows of {} samples ({} with an incident); flagged at score >= 0.5: {}",
        scores.len(),
        anomaly::WINDOW,
        n_pos,
        flags.iter().filter(|f| **f).count()
    );
    let _ = writeln!(
        out,
        "windows: precision {p:.3}, recall {r:.3}, ROC AUC {auc:.4} (ambiguous windows left out)"
    );
    // Per VM: flagged if any window is; truth: the simulator injected an incident.
    let mut vm_flag = vec![false; fleet.vms.len()];
    for (w, &(vm, _)) in origin.iter().enumerate() {
        vm_flag[vm] |= flags[w];
    }
    let vm_truth: Vec<bool> = fleet
        .series
        .iter()
        .map(|s| s.incident.iter().any(|b| *b))
        .collect();
    let tp = vm_flag
        .iter()
        .zip(&vm_truth)
        .filter(|(f, t)| **f && **t)
        .count();
    let fp = vm_flag
        .iter()
        .zip(&vm_truth)
        .filter(|(f, t)| **f && !**t)
        .count();
    let fn_ = vm_flag
        .iter()
        .zip(&vm_truth)
        .filter(|(f, t)| !**f && **t)
        .count();
    let _ = writeln!(
        out,
        "VMs: {} flagged, {} with a known incident; precision {:.3}, recall {:.3}",
        tp + fp,
        tp + fn_,
        tp as f64 / (tp + fp).max(1) as f64,
        tp as f64 / (tp + fn_).max(1) as f64
    );
    let mut top: Vec<(usize, f32)> = Vec::new();
    for (w, &(vm, _)) in origin.iter().enumerate() {
        match top.iter_mut().find(|(v, _)| *v == vm) {
            Some(e) => e.1 = e.1.max(scores[w]),
            None => top.push((vm, scores[w])),
        }
    }
    top.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (vm, score) in top.iter().take(5) {
        let _ = writeln!(
            out,
            "  {}  max score {score:.3}  known incident: {}",
            fleet.vms[*vm].name,
            if vm_truth[*vm] { "yes" } else { "no" }
        );
    }
    // Single requests as a live pipeline would send them, cached by (VM, window).
    for (w, &(vm, start)) in origin.iter().enumerate().take(2000) {
        let key = (vm as u64) << 32 | start as u64;
        let window = values.index_axis(ndarray::Axis(0), w).to_owned();
        if let Err(e) = engine.infer(Request::window(window).model("scorer").cache_key(key)) {
            let _ = writeln!(out, "error: {e}");
            return out;
        }
    }
    let m = engine.metrics();
    let _ = writeln!(
        out,
        "pipeline: {} requests, p50 {:.1} us, p99 {:.1} us; budget {} MiB (report preset: clean up at 75 %, refuse at 90 %), peak {:.2} MiB, in use {:.2} MiB; {} model load(s), {} model evictions, feature cache {} entries ({} evictions)",
        m.requests,
        m.latency_p50.as_secs_f64() * 1e6,
        m.latency_p99.as_secs_f64() * 1e6,
        m.budget >> 20,
        m.bytes_peak as f64 / (1 << 20) as f64,
        m.bytes_in_use as f64 / (1 << 20) as f64,
        m.loads,
        m.model_evictions,
        engine.feature_cache().len(),
        m.cache_evictions
    );
    out
}

fn section(title: &str, started: Instant) {
    println!(
        "\n== {title} ({:.1} ms)",
        started.elapsed().as_secs_f64() * 1e3
    );
}

/// Stage 1: counts, capacity and per-metric summary statistics, computed plainly.
fn stage_summary(fleet: &Fleet) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let count = |s: VmStatus| fleet.vms.iter().filter(|v| v.status == s).count();
    let _ = writeln!(
        out,
        "status: {} running, {} stopped, {} migrating, {} error",
        count(VmStatus::Running),
        count(VmStatus::Stopped),
        count(VmStatus::Migrating),
        count(VmStatus::Error)
    );
    let demand_cpu: u64 = fleet.vms.iter().map(|v| u64::from(v.cpu_cores)).sum();
    let demand_mem: u64 = fleet.vms.iter().map(|v| v.memory_mib).sum();
    let cap_cpu: u64 = fleet.hosts.iter().map(|h| u64::from(h.cpu_cores)).sum();
    let cap_mem: u64 = fleet.hosts.iter().map(|h| h.memory_mib).sum();
    let _ = writeln!(
        out,
        "demand: {demand_cpu} cores of {cap_cpu} ({:.0} %), {} GiB of {} GiB ({:.0} %)",
        100.0 * demand_cpu as f64 / cap_cpu.max(1) as f64,
        demand_mem / 1024,
        cap_mem / 1024,
        100.0 * demand_mem as f64 / cap_mem.max(1) as f64
    );
    let critical = fleet
        .alerts
        .iter()
        .filter(|a| a.severity == Severity::Critical)
        .count();
    let open = fleet.alerts.iter().filter(|a| !a.resolved).count();
    let _ = writeln!(
        out,
        "alerts: {} ({} critical, {} warning; {} still open)",
        fleet.alerts.len(),
        critical,
        fleet.alerts.len() - critical,
        open
    );
    let _ = writeln!(
        out,
        "{:<8} {:>12} {:>10} {:>10} {:>10} {:>10}",
        "metric", "n", "mean", "std", "min", "max"
    );
    for (idx, name) in METRICS.iter().enumerate() {
        let (mut n, mut sum, mut sum_sq) = (0usize, 0.0f64, 0.0f64);
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        for s in &fleet.series {
            for &v in s.metric(idx) {
                n += 1;
                sum += v;
                sum_sq += v * v;
                min = min.min(v);
                max = max.max(v);
            }
        }
        let mean = sum / n.max(1) as f64;
        let var = (sum_sq / n.max(1) as f64 - mean * mean).max(0.0);
        let _ = writeln!(
            out,
            "{name:<8} {n:>12} {mean:>10.2} {:>10.2} {min:>10.2} {max:>10.2}",
            var.sqrt()
        );
    }
    out
}

/// Stage 2: fleet-wide percentiles per metric, exact (multi-selection) and
/// from a mergeable relative-error sketch built per VM and merged, with the
/// sketch's relative error against the exact value.
fn stage_percentiles(fleet: &Fleet) -> String {
    use novacron_percentile::{DDSketch, Method, Percentiles};
    use std::fmt::Write;

    const QS: [f64; 4] = [0.5, 0.9, 0.95, 0.99];
    let mut out = String::new();
    let mut engine = Percentiles::new();
    let _ = writeln!(
        out,
        "{:<8} {:>6} {:>12} {:>12} {:>10}",
        "metric", "q", "exact", "ddsketch", "rel.err"
    );
    for (idx, name) in METRICS.iter().enumerate() {
        let values = fleet.all_values(idx);
        let exact = match engine.quantiles(&values, &QS, Method::Lower) {
            Ok(v) => v,
            Err(e) => {
                let _ = writeln!(out, "{name}: {e}");
                continue;
            }
        };
        // One sketch per VM, merged: the fleet-wide aggregation path.
        let mut merged = DDSketch::new(0.01).expect("alpha 0.01 is valid");
        for s in &fleet.series {
            let mut sketch = DDSketch::new(0.01).expect("alpha 0.01 is valid");
            sketch.insert_many(s.metric(idx));
            if let Err(e) = merged.merge(&sketch) {
                let _ = writeln!(out, "{name}: {e}");
            }
        }
        for (q, x) in QS.iter().zip(&exact) {
            let est = merged.quantile(*q).unwrap_or(f64::NAN);
            let err = if *x == 0.0 {
                (est - x).abs()
            } else {
                ((est - x) / x).abs()
            };
            let _ = writeln!(
                out,
                "{name:<8} {:>6} {x:>12.3} {est:>12.3} {:>9.3}%",
                format!("p{}", q * 100.0),
                err * 100.0
            );
        }
    }
    out
}

/// Stage 3: fused statistics of every series of every VM through the SIMD
/// kernels, merged into fleet-wide figures (which must agree with stage 1),
/// plus the hottest VMs and the samples above the CPU alert threshold.
fn stage_simd(fleet: &Fleet) -> String {
    use novacron_simd_kernels::{Kernels, Stats};
    use std::fmt::Write;

    let kernels = Kernels::global();
    let mut out = String::new();
    let _ = writeln!(out, "dispatch level: {}", kernels.level());
    let mut per_metric = vec![Stats::new(); METRICS.len()];
    let mut hottest: Vec<(f64, usize, u64)> = Vec::with_capacity(fleet.vms.len());
    for (vm_idx, series) in fleet.series.iter().enumerate() {
        for (idx, total) in per_metric.iter_mut().enumerate() {
            let s = kernels.stats(series.metric(idx));
            if idx == 0 {
                let above = kernels.count_above(series.metric(0), 90.0) as u64;
                hottest.push((s.mean().unwrap_or(0.0), vm_idx, above));
            }
            total.merge(&s);
        }
    }
    let _ = writeln!(
        out,
        "{:<8} {:>12} {:>10} {:>10} {:>10} {:>10}",
        "metric", "n", "mean", "std", "min", "max"
    );
    for (name, s) in METRICS.iter().zip(&per_metric) {
        let _ = writeln!(
            out,
            "{name:<8} {:>12} {:>10.2} {:>10.2} {:>10.2} {:>10.2}",
            s.count(),
            s.mean().unwrap_or(f64::NAN),
            s.std_dev().unwrap_or(f64::NAN),
            s.min().unwrap_or(f64::NAN),
            s.max().unwrap_or(f64::NAN)
        );
    }
    hottest.sort_by(|a, b| b.0.total_cmp(&a.0));
    let _ = writeln!(out, "hottest VMs by mean CPU (samples above 90 %):");
    for (mean, vm_idx, above) in hottest.iter().take(5) {
        let _ = writeln!(
            out,
            "  {} {:>6.2} % ({above} samples)",
            fleet.vms[*vm_idx].name, mean
        );
    }
    out
}

/// Stage 4: places the fleet's VMs on its hosts. First-fit decreasing places
/// the whole fleet; the QUBO encoder + solvers work on a slice (the first 40
/// VMs on the first 10 hosts — the one-hot/slack encoding grows with
/// VMs × hosts and VMs² per capacity constraint) and are compared with FFD
/// on the same slice, from a random start (annealing) and warm-started from
/// FFD (tabu). `PlacementProblem::improve` (host-level local search)
/// post-processes FFD's and the QUBO's answers.
fn stage_placement(fleet: &Fleet, seed: u64) -> String {
    use novacron_qubo_solver::{
        EncoderConfig, HostSpec, HybridSolver, Placement, PlacementProblem, SimulatedAnnealing,
        TabuSearch, VmDemand,
    };
    use std::fmt::Write;

    let mut out = String::new();
    let problem = |n_vms: usize, n_hosts: usize| PlacementProblem {
        vms: (fleet.vm_demands(0, n_vms).into_iter())
            .map(|demand| VmDemand { demand })
            .collect(),
        hosts: (fleet.host_capacities(0, n_hosts).into_iter())
            .map(|(capacity, cost)| HostSpec { capacity, cost })
            .collect(),
        affinity: Vec::new(),
        anti_affinity: Vec::new(),
    };
    let describe = |p: &PlacementProblem, placement: &Placement| {
        let host_of: Vec<Option<usize>> = placement.host_of.iter().map(|&h| Some(h)).collect();
        let verdict = match p.violations(&host_of) {
            Ok(v) if v.is_empty() => "feasible".to_string(),
            Ok(v) => format!("{} violations", v.len()),
            Err(e) => format!("not checkable: {e}"),
        };
        format!(
            "cost {:>8.2}/h on {:>3} hosts, {verdict}",
            placement.cost, placement.hosts_used
        )
    };

    let whole = problem(fleet.vms.len(), fleet.hosts.len());
    let t = Instant::now();
    match whole.first_fit_decreasing() {
        Ok(ffd) => {
            let _ = writeln!(
                out,
                "whole fleet, FFD        : {} ({:.1} ms)",
                describe(&whole, &ffd),
                t.elapsed().as_secs_f64() * 1e3
            );
            let t = Instant::now();
            if let Ok(better) = whole.improve(&ffd) {
                let _ = writeln!(
                    out,
                    "whole fleet, + improve  : {} ({:.1} ms)",
                    describe(&whole, &better),
                    t.elapsed().as_secs_f64() * 1e3
                );
            }
        }
        Err(e) => {
            let _ = writeln!(out, "whole fleet, FFD        : {e}");
        }
    }
    let t = Instant::now();
    match whole.best_fit_decreasing() {
        Ok(bfd) => {
            let _ = writeln!(
                out,
                "whole fleet, BFD        : {} ({:.1} ms)",
                describe(&whole, &bfd),
                t.elapsed().as_secs_f64() * 1e3
            );
        }
        Err(e) => {
            let _ = writeln!(out, "whole fleet, BFD        : {e}");
        }
    }
    let (nv, nh) = (fleet.vms.len(), fleet.hosts.len());
    let _ = writeln!(
        out,
        "a whole-fleet QUBO would need {} VM-host variables and about {:.1} M quadratic terms",
        nv * nh,
        (nh * nv * nv + nv * nh * nh) as f64 / 2e6
    );

    let slice = problem(40.min(nv), 10.min(nh));
    let ffd = match slice.first_fit_decreasing() {
        Ok(ffd) => ffd,
        Err(e) => {
            let _ = writeln!(out, "slice: {e}");
            return out;
        }
    };
    let _ = writeln!(
        out,
        "slice of {} VMs on {} hosts:",
        slice.vms.len(),
        slice.hosts.len()
    );
    let _ = writeln!(out, "  first-fit decreasing  : {}", describe(&slice, &ffd));
    if let Ok(better) = slice.improve(&ffd) {
        let _ = writeln!(
            out,
            "  FFD + improve         : {}",
            describe(&slice, &better)
        );
    }
    let config = EncoderConfig::default();
    let encoding = match slice.encode(&config) {
        Ok(e) => e,
        Err(e) => {
            let _ = writeln!(out, "  encoder: {e}");
            return out;
        }
    };
    let _ = writeln!(
        out,
        "  encoding              : {} variables ({} slack), {} interactions, penalty {:.1}",
        encoding.bqm().num_variables(),
        encoding.num_slack_variables(),
        encoding.bqm().num_interactions(),
        encoding.penalty()
    );
    // The report's flow: a primary backend, validation against the
    // constraints, a classical fallback; then decode and repair.
    let t = Instant::now();
    let hybrid = HybridSolver::new(
        Box::new(SimulatedAnnealing::new().seed(seed).num_sweeps(4000)),
        Box::new(TabuSearch::new().seed(seed).iterations(400_000)),
    );
    match hybrid.sample_validated(encoding.bqm(), &encoding) {
        Ok(outcome) => {
            let state = outcome
                .best_valid
                .as_ref()
                .or(outcome.sampleset.first())
                .map(|s| s.state.clone());
            let repaired = state
                .and_then(|s| encoding.decode(&s).ok())
                .and_then(|d| encoding.repair(&d).ok());
            if let Some(p) = repaired {
                let _ = writeln!(
                    out,
                    "  QUBO, random start    : {} (backend {:?}, {:.0} ms)",
                    describe(&slice, &p),
                    outcome.backend,
                    t.elapsed().as_secs_f64() * 1e3
                );
                // Host-level post-processing, as for any backend's answer.
                if let Ok(better) = slice.improve(&p) {
                    let _ = writeln!(
                        out,
                        "  QUBO + improve        : {}",
                        describe(&slice, &better)
                    );
                }
            }
        }
        Err(e) => {
            let _ = writeln!(out, "  QUBO, random start    : {e}");
        }
    }
    let t = Instant::now();
    let warm = encoding.encode_placement(&ffd).and_then(|start| {
        TabuSearch::new()
            .seed(seed)
            .num_reads(2)
            .iterations(200_000)
            .initial_states(vec![start])
            .sample(encoding.bqm())
    });
    match warm.and_then(|set| {
        let best = set.first().map(|s| s.state.clone()).unwrap_or_default();
        encoding.repair(&encoding.decode(&best)?)
    }) {
        Ok(p) => {
            let _ = writeln!(
                out,
                "  QUBO, warm from FFD   : {} ({:.0} ms)",
                describe(&slice, &p),
                t.elapsed().as_secs_f64() * 1e3
            );
        }
        Err(e) => {
            let _ = writeln!(out, "  QUBO, warm from FFD   : {e}");
        }
    }
    out
}

/// Stage 5: loads the fleet's last 100 samples per VM, its alerts and hourly
/// scores into the dashboard database, then renders the largest
/// organization's dashboard with the single statement and with the 1 + 3N
/// baseline, timing both.
fn stage_dashboard(fleet: &Fleet, url: &str) -> String {
    use novacron_dashboard_query::{DashboardQuery, DashboardRepository};
    use std::fmt::Write;

    let mut out = String::new();
    let ms = |s: i64| s * 1000;
    let data = dashboard_data::bulk_data(fleet, 100);
    let now = ms(fleet.timestamps.last().copied().unwrap_or(EPOCH_S)) + 1;
    let largest = data
        .organizations
        .iter()
        .map(|o| o.0)
        .max_by_key(|&org| data.vms.iter().filter(|v| v.organization_id == org).count());
    let Some(org) = largest else {
        return "no organizations\n".into();
    };

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return format!("no async runtime: {e}\n"),
    };
    let result: Result<(), novacron_dashboard_query::Error> = runtime.block_on(async {
        let t = Instant::now();
        let repo = DashboardRepository::connect(url).await?;
        let loaded = repo.bulk_load(&data).await?;
        let _ = writeln!(
            out,
            "{:?} database: loaded {} organizations, {} VMs, {} samples, {} alerts, {} scores in {:.0} ms (row counts verified)",
            repo.backend(),
            loaded.organizations,
            loaded.vms,
            loaded.metrics,
            loaded.alerts,
            loaded.scores,
            t.elapsed().as_secs_f64() * 1e3
        );
        let q = DashboardQuery::default().now_ms(Some(now)).page_size(novacron_dashboard_query::MAX_PAGE_SIZE);
        let mut timings = Vec::new();
        let mut shown = None;
        for naive in [false, true] {
            let before = repo.statements_issued();
            let mut best = f64::INFINITY;
            for _ in 0..5 {
                let t = Instant::now();
                let page = if naive { repo.naive_dashboard(org, &q).await? } else { repo.dashboard(org, &q).await? };
                best = best.min(t.elapsed().as_secs_f64() * 1e3);
                shown.get_or_insert(page);
            }
            timings.push((best, (repo.statements_issued() - before) / 5));
        }
        let page = shown.unwrap_or(novacron_dashboard_query::DashboardPage { rows: Vec::new(), next_cursor: None });
        let _ = writeln!(
            out,
            "org {org}: {} VMs; single statement {:.2} ms ({} statement), 1 + 3N {:.2} ms ({} statements): {:.1}x",
            page.rows.len(),
            timings[0].0,
            timings[0].1,
            timings[1].0,
            timings[1].1,
            timings[1].0 / timings[0].0.max(1e-9)
        );
        let mut rows: Vec<_> = page.rows.iter().collect();
        rows.sort_by_key(|r| (std::cmp::Reverse(r.max_severity), std::cmp::Reverse(r.active_alerts)));
        let _ = writeln!(out, "{:<10} {:<9} {:>6} {:>6} {:>7} {:>9}  alert types", "vm", "status", "cpu %", "mem %", "alerts", "score");
        for r in rows.iter().take(5) {
            let _ = writeln!(
                out,
                "{:<10} {:<9} {:>6} {:>6} {:>7} {:>9}  {}",
                r.name,
                r.status,
                r.metrics.map_or("-".into(), |m| format!("{:.1}", m.cpu)),
                r.metrics.map_or("-".into(), |m| format!("{:.1}", m.memory)),
                r.active_alerts,
                r.scores.map_or("-".into(), |s| format!("{:.2}", s.overall)),
                r.alert_types.join(",")
            );
        }
        let backend = repo.backend();
        repo.close().await;
        if backend == novacron_dashboard_query::Backend::Postgres {
            let _ = writeln!(out, "{}", pool_readers(url, org, now).await);
        }
        Ok(())
    });
    if let Err(e) = result {
        let _ = writeln!(out, "dashboard stage failed: {e}");
    }
    out
}

/// 200 concurrent dashboard readers for one second through
/// `novacron-adaptive-pool` (the dashboard statement and its bindings come
/// from dashboard-query's public API), then the pool's `Stats`.
async fn pool_readers(url: &str, org: i64, now_ms: i64) -> String {
    use novacron_adaptive_pool::{Config, Pool};
    use novacron_dashboard_query::{MAX_PAGE_SIZE, POSTGRES_DASHBOARD_SQL};

    let pool = match Pool::connect(url, Config::default().min_size(2).max_size(50)).await {
        Ok(pool) => pool,
        Err(e) => return format!("adaptive pool: {e}"),
    };
    let deadline = Instant::now() + std::time::Duration::from_secs(1);
    let readers: Vec<_> = (0..200)
        .map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move {
                let binds = pools::DashboardBinds::first_page(
                    org,
                    now_ms - 3_600_000,
                    MAX_PAGE_SIZE as i64,
                );
                let mut pages = 0u64;
                while Instant::now() < deadline {
                    let Ok(conn) = pool.get().await else { break };
                    if conn
                        .query(POSTGRES_DASHBOARD_SQL, &binds.params())
                        .await
                        .is_ok()
                    {
                        pages += 1;
                    }
                }
                pages
            })
        })
        .collect();
    let mut pages = 0;
    for r in readers {
        pages += r.await.unwrap_or(0);
    }
    let s = pool.stats();
    pool.close(std::time::Duration::from_secs(1)).await;
    format!(
        "adaptive pool, 200 concurrent dashboard readers for 1 s: {pages} pages; size {} (open {}, resizes {}), \
         created {}, wait count {}, wait p50/p99 {:.2}/{:.2} ms, timeouts {}, broken {}",
        s.max_open,
        s.open,
        s.resizes,
        s.created,
        s.wait_count,
        s.wait_p50.as_secs_f64() * 1e3,
        s.wait_p99.as_secs_f64() * 1e3,
        s.timeouts,
        s.broken
    )
}
