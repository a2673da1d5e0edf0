//! The quickest way to try novacron-percentile: quantiles of numbers read
//! from a file or stdin (separated by whitespace or newlines).
//!
//! ```text
//! seq 1 1000 | cargo run --release --example percentiles -- --q 0.5,0.9,0.99
//! cargo run --release --example percentiles -- latencies.txt --method nearest --nan omit
//! cargo run --release --example percentiles -- latencies.txt --sketch ddsketch
//! ```
//!
//! Prints one `q value` line per quantile. Bad input prints the crate's error
//! message and exits with status 2.

use std::io::Read;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use novacron_percentile::{Config, DDSketch, KllSketch, Method, NanPolicy, Percentiles};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Nan {
    /// Fail on NaN (default).
    Error,
    /// Skip NaN, like numpy.nanquantile.
    Omit,
    /// Any NaN makes every quantile NaN, like numpy.quantile.
    Propagate,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Sketch {
    /// Relative-error sketch (1 %).
    Ddsketch,
    /// Rank-error sketch (k = 200).
    Kll,
}

/// Quantiles of the numbers in FILE (or stdin).
#[derive(Debug, Parser)]
#[command(about)]
struct Args {
    /// File to read; stdin when absent or `-`.
    file: Option<String>,
    /// Comma-separated fractions in [0, 1].
    #[arg(long, value_delimiter = ',', default_value = "0.5,0.9,0.95,0.99")]
    q: Vec<f64>,
    /// numpy method name (linear, lower, higher, nearest, midpoint, inverted_cdf, hazen, ...).
    #[arg(long, default_value = "linear")]
    method: String,
    /// What to do with NaN in the data.
    #[arg(long, value_enum, default_value_t = Nan::Error)]
    nan: Nan,
    /// Estimate with a streaming sketch instead of computing exactly.
    #[arg(long, value_enum)]
    sketch: Option<Sketch>,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    let mut text = String::new();
    match args.file.as_deref() {
        None | Some("-") => std::io::stdin().read_to_string(&mut text).map(|_| ()),
        Some(path) => {
            std::fs::File::open(path).and_then(|mut f| f.read_to_string(&mut text).map(|_| ()))
        }
    }
    .map_err(|e| format!("cannot read input: {e}"))?;
    let mut values = Vec::new();
    for (line_idx, line) in text.lines().enumerate() {
        for token in line.split_whitespace() {
            let v: f64 = token.parse().map_err(|_| {
                format!(
                    "line {}: `{token}` is not a number; pass numbers such as 12.5",
                    line_idx + 1
                )
            })?;
            values.push(v);
        }
    }
    let method: Method = args.method.parse().map_err(|e| format!("{e}"))?;
    let policy = match args.nan {
        Nan::Error => NanPolicy::Error,
        Nan::Omit => NanPolicy::Omit,
        Nan::Propagate => NanPolicy::Propagate,
    };
    let results = match args.sketch {
        None => Percentiles::with_config(Config::new().nan_policy(policy))
            .quantiles(&values, &args.q, method)
            .map_err(|e| e.to_string())?,
        Some(Sketch::Ddsketch) => {
            let mut s = DDSketch::new(0.01).map_err(|e| e.to_string())?;
            s.insert_many(&values);
            s.quantiles(&args.q).map_err(|e| e.to_string())?
        }
        Some(Sketch::Kll) => {
            let mut s = KllSketch::new(200).map_err(|e| e.to_string())?;
            s.insert_many(&values);
            s.quantiles(&args.q).map_err(|e| e.to_string())?
        }
    };
    for (q, v) in args.q.iter().zip(results) {
        println!("{q} {v}");
    }
    Ok(())
}
