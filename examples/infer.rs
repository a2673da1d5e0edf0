//! Runs any ONNX model `novacron-ml-inference` supports on inputs from a
//! JSON file and prints the outputs as JSON, then latency and peak memory.
//!
//! ```text
//! cargo run --release --example infer -- crates/ml-inference/models/cnn1d.onnx \
//!     --input input.json [--batch N] [--repeat K]
//! ```
//!
//! The input file maps each model input's name to a nested array (its
//! shape is the nesting, batch included), e.g. `{"x": [[[0.1, ...], ...]]}`.
//! `--batch N` repeats the given rows N times along the batch axis;
//! `--repeat K` runs K times for the latency figures (p50 and p99 of the
//! runs). Outputs go to stdout as `{"name": nested array}`; the figures go to
//! stderr. A model or input the crate cannot use is one line on stderr and
//! exit status 1, never a panic.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use ndarray::{ArrayD, Axis, IxDyn};
use novacron_ml_inference::{Backpressure, Budget, Dim, Model, ModelOptions, ModelSource};
use serde_json::Value;

/// Run an ONNX model on JSON inputs.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The ONNX model.
    model: std::path::PathBuf,
    /// JSON file: input name -> nested array.
    #[arg(long)]
    input: std::path::PathBuf,
    /// Repeat the given rows this many times along the batch axis.
    #[arg(long, default_value_t = 1)]
    batch: usize,
    /// Runs for the latency figures.
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    /// Byte budget for the model and buffers.
    #[arg(long, default_value_t = 4 << 30)]
    budget: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("infer: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Shape and values of a nested JSON array; ragged or non-numeric is an error.
fn nested(v: &Value, name: &str) -> Result<(Vec<usize>, Vec<f32>), String> {
    fn walk(
        v: &Value,
        depth: usize,
        shape: &mut Vec<usize>,
        out: &mut Vec<f32>,
        name: &str,
    ) -> Result<(), String> {
        match v {
            Value::Array(items) => {
                if shape.len() == depth {
                    shape.push(items.len());
                } else if shape.get(depth) != Some(&items.len()) {
                    return Err(format!(
                        "input {name:?} is ragged at depth {depth}: every row needs the same length"
                    ));
                }
                for item in items {
                    walk(item, depth + 1, shape, out, name)?;
                }
                Ok(())
            }
            Value::Number(n) => {
                if shape.len() != depth {
                    return Err(format!(
                        "input {name:?} mixes numbers and arrays at depth {depth}"
                    ));
                }
                out.push(
                    n.as_f64()
                        .ok_or_else(|| format!("input {name:?}: {n} is not a float"))?
                        as f32,
                );
                Ok(())
            }
            other => Err(format!(
                "input {name:?}: expected numbers or arrays, found {other}"
            )),
        }
    }
    let (mut shape, mut out) = (Vec::new(), Vec::new());
    walk(v, 0, &mut shape, &mut out, name)?;
    Ok((shape, out))
}

/// An f32 as its shortest decimal (not the f64 widening's 17 digits); NaN and
/// infinities, which JSON lacks, as null.
fn number(v: f32) -> Value {
    format!("{v}")
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

fn to_json(a: &ArrayD<f32>) -> Value {
    if a.ndim() == 0 {
        return a.iter().next().map_or(Value::Null, |v| number(*v));
    }
    Value::Array(a.outer_iter().map(|sub| to_json(&sub.to_owned())).collect())
}

fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn run(args: &Args) -> Result<(), String> {
    if args.batch == 0 || args.repeat == 0 {
        return Err("--batch and --repeat must be at least 1".into());
    }
    let budget = Budget::new(args.budget).map_err(|e| e.to_string())?;
    let t = Instant::now();
    let model = Model::load(
        &args.model.display().to_string(),
        ModelSource::path(&args.model),
        ModelOptions::default(),
        &budget,
        Backpressure::Fail,
    )
    .map_err(|e| e.to_string())?;
    let load = t.elapsed();
    let text = std::fs::read_to_string(&args.input)
        .map_err(|e| format!("{}: {e}", args.input.display()))?;
    let json: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", args.input.display()))?;
    let mut inputs = Vec::new();
    for spec in model.inputs() {
        let v = json.get(&spec.name).ok_or_else(|| {
            format!(
                "{} has no input {:?} (the model's inputs: {:?})",
                args.input.display(),
                spec.name,
                model
                    .inputs()
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
            )
        })?;
        let (shape, values) = nested(v, &spec.name)?;
        let mut a = ArrayD::from_shape_vec(IxDyn(&shape), values).map_err(|e| e.to_string())?;
        if args.batch > 1 {
            let ax = spec
                .dims
                .iter()
                .position(|d| *d == Dim::Batch)
                .ok_or_else(|| {
                    format!(
                        "input {:?} has no batch dimension; --batch needs one",
                        spec.name
                    )
                })?;
            let copies: Vec<_> = (0..args.batch).map(|_| a.view()).collect();
            a = ndarray::concatenate(Axis(ax), &copies).map_err(|e| e.to_string())?;
        }
        inputs.push(a);
    }
    let views: Vec<_> = inputs.iter().map(|a| a.view()).collect();
    let mut times: Vec<Duration> = Vec::with_capacity(args.repeat);
    let mut outputs = Vec::new();
    for _ in 0..args.repeat {
        let t = Instant::now();
        outputs = model.run(&views).map_err(|e| e.to_string())?;
        times.push(t.elapsed());
    }
    let mut doc = serde_json::Map::new();
    for (spec, out) in model.outputs().iter().zip(&outputs) {
        doc.insert(spec.name.clone(), to_json(out));
    }
    println!("{}", Value::Object(doc));
    times.sort_unstable();
    let at = |q: f64| times[((q * times.len() as f64).ceil() as usize).clamp(1, times.len()) - 1];
    eprintln!(
        "load {:.2} ms; {} runs: p50 {:.1} us, p99 {:.1} us; model {} kB charged; peak RSS {} kB",
        load.as_secs_f64() * 1e3,
        times.len(),
        at(0.5).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6,
        model.resident_bytes() / 1024,
        peak_rss_kb().map_or_else(|| "?".to_string(), |k| k.to_string()),
    );
    Ok(())
}
