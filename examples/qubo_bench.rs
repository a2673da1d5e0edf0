//! Runs the QUBO solvers on a directory of benchmark instances and compares
//! each result with the directory's `best_known.csv`.
//!
//! ```text
//! cargo run --release --example qubo_bench -- data/qubo --solver all --time-limit-s 1 --csv
//! ```
//!
//! OR-Library files (`*.txt`, several instances each) give instances named
//! `<file stem>-<k>` (k from 1) whose value is the maximized `xᵀQx`; Gset
//! files (`*.rud`) give one instance named by the stem whose value is the cut
//! weight. `best_known.csv` holds `instance,best_known_value,...`. Each
//! solver runs in rounds (one read per core, fresh seeds) until it reaches the
//! best-known value or the time limit; `time_to_best_s` is when the returned
//! value was first found.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use novacron_qubo_solver::{
    Bqm, ParallelTempering, SimulatedAnnealing, TabuSearch, read_beasley, read_gset,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Solver {
    Sa,
    Tabu,
    Pt,
    All,
}

/// Run QUBO solvers on benchmark instances against their best-known values.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Directory with instance files and best_known.csv.
    #[arg(default_value = "data/qubo")]
    dir: PathBuf,
    /// Which solver(s) to run.
    #[arg(long, value_enum, default_value_t = Solver::All)]
    solver: Solver,
    /// Wall-clock limit per instance and solver, in seconds.
    #[arg(long, default_value_t = 1.0)]
    time_limit_s: f64,
    /// Seed of the first round.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Only instances whose name starts with this.
    #[arg(long, default_value = "")]
    filter: String,
    /// Reads per round (default: one per core). `--reads 1` with
    /// `RAYON_NUM_THREADS=1` compares single-threaded.
    #[arg(long)]
    reads: Option<usize>,
    /// Keep searching after the best-known value is reached (until the time limit).
    #[arg(long)]
    no_target: bool,
    /// Print CSV: instance,solver,value,best_known,gap_pct,time_to_best_s,total_s.
    #[arg(long)]
    csv: bool,
}

struct Instance {
    name: String,
    bqm: Bqm<i64>,
}

fn main() {
    let args = Args::parse();
    if !(args.time_limit_s > 0.0 && args.time_limit_s.is_finite()) {
        fail("--time-limit-s must be a positive number of seconds");
    }
    let best_known = read_best_known(&args.dir.join("best_known.csv"));
    let instances = read_instances(&args.dir, &args.filter);
    if instances.is_empty() {
        fail(&format!(
            "no instances in {} (looked for *.txt and *.rud)",
            args.dir.display()
        ));
    }
    let solvers: &[Solver] = match args.solver {
        Solver::All => &[Solver::Sa, Solver::Tabu, Solver::Pt],
        one => std::slice::from_ref(match one {
            Solver::Sa => &Solver::Sa,
            Solver::Tabu => &Solver::Tabu,
            _ => &Solver::Pt,
        }),
    };
    if args.csv {
        println!("instance,solver,value,best_known,gap_pct,time_to_best_s,total_s");
    } else {
        println!(
            "{:<12} {:<6} {:>10} {:>10} {:>8} {:>10} {:>8}",
            "instance", "solver", "value", "best", "gap %", "to best s", "total s"
        );
    }
    let (mut hits, mut runs) = (0, 0);
    for inst in &instances {
        let known = best_known.get(&inst.name).copied();
        for &solver in solvers {
            let (value, to_best, total) = run(solver, inst, known, &args);
            let gap = known.map(|b| 100.0 * (b - value) as f64 / (b as f64).abs().max(1.0));
            runs += 1;
            hits += usize::from(known.is_some_and(|b| value >= b));
            let name = format!("{solver:?}").to_lowercase();
            let known_s = known.map_or(String::new(), |b| b.to_string());
            let gap_s = gap.map_or(String::new(), |g| format!("{g:.4}"));
            if args.csv {
                println!(
                    "{},{name},{value},{known_s},{gap_s},{:.6},{:.6}",
                    inst.name,
                    to_best.as_secs_f64(),
                    total.as_secs_f64()
                );
            } else {
                println!(
                    "{:<12} {name:<6} {value:>10} {known_s:>10} {gap_s:>8} {:>10.4} {:>8.3}",
                    inst.name,
                    to_best.as_secs_f64(),
                    total.as_secs_f64()
                );
            }
        }
    }
    if !args.csv {
        println!("{hits} of {runs} runs reached the best-known value");
    }
}

/// Rounds of one read per core until the target or the time limit; returns
/// (value, time to best, total time).
fn run(
    solver: Solver,
    inst: &Instance,
    known: Option<i64>,
    args: &Args,
) -> (i64, Duration, Duration) {
    let limit = Duration::from_secs_f64(args.time_limit_s);
    let reads = args
        .reads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1);
    let target = known.filter(|_| !args.no_target).map(|b| -b as f64);
    let start = Instant::now();
    let (mut best, mut to_best) = (i64::MAX, Duration::ZERO);
    let mut round = 0u64;
    while start.elapsed() < limit {
        let left = limit.saturating_sub(start.elapsed());
        let seed = args.seed.wrapping_add(round.wrapping_mul(1_000_003));
        let set = match solver {
            Solver::Sa => with_target(
                SimulatedAnnealing::new()
                    .num_reads(reads)
                    .seed(seed)
                    .time_limit(left),
                target,
                SimulatedAnnealing::energy_target,
            )
            .sample(&inst.bqm),
            Solver::Pt => with_target(
                ParallelTempering::new()
                    .num_reads(reads)
                    .seed(seed)
                    .time_limit(left),
                target,
                ParallelTempering::energy_target,
            )
            .sample(&inst.bqm),
            _ => with_target(
                TabuSearch::new()
                    .num_reads(reads)
                    .seed(seed)
                    .time_limit(left)
                    .iterations(u64::MAX),
                target,
                TabuSearch::energy_target,
            )
            .sample(&inst.bqm),
        };
        let set = set.unwrap_or_else(|e| fail(&format!("{}: {e}", inst.name)));
        let round_start =
            start.elapsed() - set.info().timing.sampling - set.info().timing.preprocessing;
        if let Some(s) = set.first()
            && s.energy < best
        {
            best = s.energy;
            to_best = round_start + set.info().time_to_best.unwrap_or_default();
        }
        if target.is_some_and(|t| best as f64 <= t) {
            break;
        }
        round += 1;
    }
    (-best, to_best, start.elapsed())
}

fn with_target<S>(s: S, target: Option<f64>, set: fn(S, f64) -> S) -> S {
    match target {
        Some(t) => set(s, t),
        None => s,
    }
}

fn read_instances(dir: &Path, filter: &str) -> Vec<Instance> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", dir.display())))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("txt" | "rud")))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("instance")
            .to_string();
        let file = File::open(&path)
            .unwrap_or_else(|e| fail(&format!("cannot open {}: {e}", path.display())));
        let reader = BufReader::new(file);
        let what =
            |e: novacron_qubo_solver::Error| -> ! { fail(&format!("{}: {e}", path.display())) };
        if path.extension().is_some_and(|e| e == "rud") {
            let graph = read_gset(reader).unwrap_or_else(|e| what(e));
            out.push(Instance {
                name: stem,
                bqm: graph.to_bqm().unwrap_or_else(|e| what(e)),
            });
        } else {
            for (k, bqm) in read_beasley(reader)
                .unwrap_or_else(|e| what(e))
                .into_iter()
                .enumerate()
            {
                out.push(Instance {
                    name: format!("{stem}-{}", k + 1),
                    bqm,
                });
            }
        }
    }
    out.retain(|i| i.name.starts_with(filter));
    out
}

fn read_best_known(path: &Path) -> BTreeMap<String, i64> {
    let Ok(text) = std::fs::read_to_string(path) else {
        eprintln!("note: no {}; gaps are left empty", path.display());
        return BTreeMap::new();
    };
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let mut fields = line.split(',');
            let name = fields.next()?.trim().to_string();
            let value = fields.next()?.trim().parse().ok()?;
            Some((name, value))
        })
        .collect()
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2);
}
