//! Memory and p50/p99/p99.9 relative value error of novacron-percentile's
//! sketches against `sketches-ddsketch`, `tdigest` and `hdrhistogram`, on
//! uniform, lognormal and Pareto data (1e6 values each).
//!
//! ```text
//! cargo run --release --example sketch_accuracy
//! ```

use novacron_percentile::{DDSketch, KllSketch};
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, LogNormal, Pareto};

const N: usize = 1_000_000;
const QS: [f64; 3] = [0.5, 0.99, 0.999];

fn main() {
    let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(2026);
    let lognormal = LogNormal::new(3.0, 1.2).expect("lognormal");
    let pareto = Pareto::new(1.0, 1.2).expect("pareto");
    let datasets: Vec<(&str, Vec<f64>)> = vec![
        (
            "uniform",
            (0..N).map(|_| rng.random_range(0.0..1000.0)).collect(),
        ),
        (
            "lognormal",
            (0..N).map(|_| lognormal.sample(&mut rng)).collect(),
        ),
        (
            "pareto(1.2)",
            (0..N).map(|_| pareto.sample(&mut rng)).collect(),
        ),
    ];
    println!(
        "relative value error against the exact order statistic; memory in bytes after 1e6 inserts"
    );
    println!(
        "{:<12} {:<24} {:>10} {:>10} {:>10} {:>10}",
        "data", "sketch", "p50", "p99", "p99.9", "memory"
    );
    for (name, data) in &datasets {
        let mut sorted = data.clone();
        sorted.sort_by(f64::total_cmp);
        let exact: Vec<f64> = QS
            .iter()
            .map(|&q| sorted[((N - 1) as f64 * q).floor() as usize])
            .collect();
        let row = |label: &str, est: Vec<f64>, memory: usize| {
            let errs: Vec<String> = est
                .iter()
                .zip(&exact)
                .map(|(e, x)| format!("{:.2e}", ((e - x) / x).abs()))
                .collect();
            println!(
                "{name:<12} {label:<24} {:>10} {:>10} {:>10} {memory:>10}",
                errs[0], errs[1], errs[2]
            );
        };

        let mut ours = DDSketch::new(0.01).expect("alpha");
        ours.insert_many(data);
        row(
            "novacron DDSketch 1%",
            ours.quantiles(&QS).expect("q"),
            ours.memory_bytes(),
        );

        let mut kll = KllSketch::new(200).expect("k");
        kll.insert_many(data);
        row(
            "novacron KLL k=200",
            kll.quantiles(&QS).expect("q"),
            kll.memory_bytes(),
        );

        let mut dd =
            sketches_ddsketch::DDSketch::new(sketches_ddsketch::Config::new(0.01, 4096, 1e-9));
        data.iter().for_each(|&x| dd.add(x));
        let est = QS
            .iter()
            .map(|&q| dd.quantile(q).ok().flatten().unwrap_or(f64::NAN))
            .collect();
        // The crate keeps its bins private; its length() is the bin count, 8 bytes each.
        row(
            "sketches-ddsketch 1%",
            est,
            std::mem::size_of_val(&dd) + dd.length() * 8,
        );

        let t = tdigest::TDigest::new_with_size(100).merge_unsorted(data.clone());
        let est = QS
            .iter()
            .map(|&q| t.estimate_quantile(q).unwrap_or(f64::NAN))
            .collect();
        row(
            "tdigest delta=100",
            est,
            std::mem::size_of_val(&t) + t.centroids().len() * 16,
        );

        let mut h = hdrhistogram::Histogram::<u64>::new(3).expect("sigfig");
        data.iter()
            .for_each(|&x| h.record((x * 1e3) as u64).expect("record"));
        let est = QS
            .iter()
            .map(|&q| h.value_at_quantile(q) as f64 / 1e3)
            .collect();
        row("hdrhistogram 3 s.f.", est, h.distinct_values() * 8);
    }
}
