//! Our side of the peer comparisons in `benches/scripts/` (numpy, simsimd,
//! dwave-samplers): a long-lived process that the Python script drives over
//! stdin, so that ours and the peer run alternately (ABAB…) on the very same
//! data in one invocation, each timed inside its own process.
//!
//! One command a line; each answer is one line (`ok …` or `error …`):
//!
//! - `load NAME f64|f32 PATH` reads little-endian values (numpy's `tofile`).
//! - `percentile NAME REPS`: `Percentiles::percentiles(NAME, [50, 90, 95, 99], Linear)`.
//! - `sum NAME REPS`, `stats NAME REPS`, `dot A B REPS`, `l2 A B REPS`
//!   (squared L2), `histogram NAME BINS LO HI REPS`: the simd-kernels free
//!   functions at the best level.
//! - `sa PATH K SWEEPS REPS`: one read of simulated annealing with SWEEPS
//!   geometric sweeps on instance K (1-based) of an OR-Library file, no
//!   descent polish, single thread.
//! - `best PATH K tabu|sa MS`: the best value (`-energy`, the OR-Library
//!   maximum) within MS milliseconds: tabu is one read under a time limit;
//!   sa repeats single-threaded reads of 1,000 sweeps until the time is used,
//!   as the script does with dwave-samplers. Answers `ok VALUE`.
//! - `model NAME PATH`: loads an ONNX model with `novacron-ml-inference`
//!   (default batch classes, warm-up on).
//! - `infer MODEL DATA SHAPE REPS`: `Model::run` on the f32 data `DATA`
//!   shaped `SHAPE` (comma-separated dimensions), single thread.
//! - `quit`.
//!
//! Timed commands answer `ok SECONDS` per call: the median of five batches
//! of REPS calls, each batch timed whole, after one untimed warm-up call.
//!
//! Run by the scripts (they build it with `cargo build --profile bench --example peer_timer`);
//! by hand: `echo 'quit' | cargo run --release --example peer_timer`.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::time::Instant;

use novacron_percentile::{Method, Percentiles};
use novacron_qubo_solver::{SimulatedAnnealing, TabuSearch, read_beasley};
use novacron_simd_kernels as simd;

enum Data {
    F64(Vec<f64>),
    F32(Vec<f32>),
    Model(Box<novacron_ml_inference::Model>),
}

fn main() {
    let mut data: HashMap<String, Data> = HashMap::new();
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.first() == Some(&"quit") {
            break;
        }
        let answer = match run(&words, &mut data) {
            Ok(text) => format!("ok {text}"),
            Err(e) => format!("error {e}"),
        };
        if writeln!(out, "{answer}")
            .and_then(|()| out.flush())
            .is_err()
        {
            break;
        }
    }
}

fn run(words: &[&str], data: &mut HashMap<String, Data>) -> Result<String, String> {
    let arg = |i: usize| words.get(i).copied().ok_or(format!("missing argument {i}"));
    let num = |i: usize| -> Result<f64, String> { arg(i)?.parse().map_err(|e| format!("{e}")) };
    let count = |i: usize| -> Result<usize, String> { arg(i)?.parse().map_err(|e| format!("{e}")) };
    let f64s = |name: &str| match data.get(name) {
        Some(Data::F64(v)) => Ok(v),
        _ => Err(format!("no f64 data named {name}")),
    };
    let f32s = |name: &str| match data.get(name) {
        Some(Data::F32(v)) => Ok(v),
        _ => Err(format!("no f32 data named {name}")),
    };
    match arg(0)? {
        "load" => {
            let bytes = std::fs::read(arg(3)?).map_err(|e| e.to_string())?;
            let loaded = match arg(2)? {
                "f64" => Data::F64(
                    bytes
                        .chunks_exact(8)
                        .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                        .collect(),
                ),
                "f32" => Data::F32(
                    bytes
                        .chunks_exact(4)
                        .map(|c| f32::from_le_bytes(c.try_into().unwrap_or([0; 4])))
                        .collect(),
                ),
                other => return Err(format!("unknown type {other}")),
            };
            let n = match &loaded {
                Data::F64(v) => v.len(),
                Data::F32(v) => v.len(),
                Data::Model(_) => 0,
            };
            data.insert(arg(1)?.to_string(), loaded);
            Ok(n.to_string())
        }
        "percentile" => {
            let x = f64s(arg(1)?)?;
            let mut engine = Percentiles::new();
            time(count(2)?, || {
                engine
                    .percentiles(x, &[50.0, 90.0, 95.0, 99.0], Method::Linear)
                    .map(|v| v[0])
                    .unwrap_or(f64::NAN)
            })
        }
        "sum" => {
            let x = f32s(arg(1)?)?;
            time(count(2)?, || simd::sum(x))
        }
        "stats" => {
            let x = f64s(arg(1)?)?;
            time(count(2)?, || simd::stats(x).variance())
        }
        "dot" | "l2" => {
            let (a, b) = (f32s(arg(1)?)?, f32s(arg(2)?)?);
            let l2 = arg(0)? == "l2";
            time(count(3)?, || {
                if l2 {
                    simd::l2_squared(a, b)
                } else {
                    simd::dot(a, b)
                }
            })
        }
        "histogram" => {
            let x = f32s(arg(1)?)?;
            let (bins, lo, hi) = (count(2)?, num(3)?, num(4)?);
            time(count(5)?, || {
                simd::histogram(x, lo, hi, bins).map(|h| h.total())
            })
        }
        "sa" => {
            let bqm = &instance(arg(1)?, count(2)?)?;
            let sa = SimulatedAnnealing::new()
                .num_reads(1)
                .num_sweeps(count(3)?)
                .descend(false)
                .seed(1);
            time(count(4)?, || sa.sample(bqm).map(|s| s.len()))
        }
        "best" => {
            let bqm = &instance(arg(1)?, count(2)?)?;
            let limit = std::time::Duration::from_millis(count(4)? as u64);
            let best = match arg(3)? {
                "tabu" => TabuSearch::new()
                    .num_reads(1)
                    .iterations(u64::MAX)
                    .time_limit(limit)
                    .seed(1)
                    .sample(bqm)
                    .map_err(|e| e.to_string())?
                    .lowest_energy()
                    .ok_or("no sample")?,
                "sa" => {
                    let start = Instant::now();
                    let mut best = i64::MAX;
                    let mut seed = 1;
                    while start.elapsed() < limit {
                        let set = SimulatedAnnealing::new()
                            .num_reads(1)
                            .num_sweeps(1000)
                            .seed(seed)
                            .sample(bqm)
                            .map_err(|e| e.to_string())?;
                        best = best.min(set.lowest_energy().ok_or("no sample")?);
                        seed += 1;
                    }
                    best
                }
                other => return Err(format!("unknown solver {other}")),
            };
            Ok((-best).to_string())
        }
        "model" => {
            use novacron_ml_inference::{Backpressure, Budget, Model, ModelOptions, ModelSource};
            let budget = Budget::new(1 << 32).map_err(|e| e.to_string())?;
            let model = Model::load(
                arg(1)?,
                ModelSource::path(arg(2)?),
                ModelOptions::default(),
                &budget,
                Backpressure::Fail,
            )
            .map_err(|e| e.to_string())?;
            data.insert(arg(1)?.to_string(), Data::Model(Box::new(model)));
            Ok("0".into())
        }
        "infer" => {
            let Some(Data::Model(model)) = data.get(arg(1)?) else {
                return Err(format!("no model named {}", arg(1)?));
            };
            let x = f32s(arg(2)?)?;
            let shape: Vec<usize> = arg(3)?
                .split(',')
                .map(|d| d.parse().map_err(|e| format!("{e}")))
                .collect::<Result<_, String>>()?;
            let x = ndarray::ArrayView::from_shape(ndarray::IxDyn(&shape), x)
                .map_err(|e| e.to_string())?;
            time(count(4)?, || model.run(&[x.view()]).map(|o| o.len()))
        }
        other => Err(format!("unknown command {other}")),
    }
}

/// Instance `k` (1-based) of an OR-Library file.
fn instance(path: &str, k: usize) -> Result<novacron_qubo_solver::Bqm<i64>, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut models = read_beasley(std::io::BufReader::new(file)).map_err(|e| e.to_string())?;
    if k == 0 || k > models.len() {
        return Err(format!("no instance {k} in {path}"));
    }
    Ok(models.swap_remove(k - 1))
}

/// Seconds per call of `f`: the median of five batches of `reps` calls (each
/// batch timed as a whole, so that the clock's own cost does not count at
/// nanosecond sizes), after one warm-up call.
fn time<R>(reps: usize, mut f: impl FnMut() -> R) -> Result<String, String> {
    std::hint::black_box(f());
    let reps = reps.max(1);
    let mut times: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..reps {
                std::hint::black_box(f());
            }
            t.elapsed().as_secs_f64() / reps as f64
        })
        .collect();
    times.sort_by(f64::total_cmp);
    Ok(format!("{:.12}", times[2]))
}
