//! Writes the anomaly scorer's training set: features of the fleet
//! simulator's hourly windows, computed by `novacron-ml-inference`, with
//! the simulator's incident labels.
//!
//! ```text
//! cargo run --release --example anomaly_dataset -- --seeds 1,2,3 --out /tmp/anomaly
//! python3 crates/ml-inference/models/train_anomaly.py --data /tmp/anomaly
//! ```
//!
//! Output: `features.f32` (little-endian, row-major `[n, n_features]`),
//! `labels.u8` (1 incident, 0 normal; ambiguous windows are left out) and
//! `meta.json` (feature count and names).

#[path = "common/anomaly.rs"]
mod anomaly;
#[path = "common/fleet.rs"]
mod fleet;

use std::io::Write;

use anomaly::Label;
use clap::Parser;
use fleet::{Fleet, FleetConfig};
use novacron_ml_inference::{FeatureConfig, FeatureExtractor};

/// Simulate fleets and write labelled window features.
#[derive(Debug, Parser)]
struct Args {
    /// Fleet seeds, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3")]
    seeds: Vec<u64>,
    /// VMs per fleet.
    #[arg(long, default_value_t = 1000)]
    vms: usize,
    /// Hours per fleet.
    #[arg(long, default_value_t = 24)]
    hours: u32,
    /// Output directory.
    #[arg(long)]
    out: std::path::PathBuf,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.out)?;
    let ex = FeatureExtractor::new(FeatureConfig::default(), anomaly::WINDOW)?;
    let mut features =
        std::io::BufWriter::new(std::fs::File::create(args.out.join("features.f32"))?);
    let mut labels_out = Vec::new();
    for &seed in &args.seeds {
        let fleet = Fleet::generate(&FleetConfig {
            n_vms: args.vms,
            hours: args.hours,
            seed,
            ..FleetConfig::default()
        });
        let (values, labels, _) = anomaly::windows(&fleet);
        let mut w = 0;
        ex.for_each_chunk(fleet::METRICS.len(), values.outer_iter(), |chunk| {
            for row in chunk.outer_iter() {
                if labels[w] != Label::Ambiguous {
                    for v in row {
                        features.write_all(&v.to_le_bytes()).map_err(|e| {
                            novacron_ml_inference::Error::Io {
                                path: "features.f32".into(),
                                cause: e.to_string(),
                            }
                        })?;
                    }
                    labels_out.push(u8::from(labels[w] == Label::Incident));
                }
                w += 1;
            }
            Ok(())
        })?;
        let pos = labels.iter().filter(|l| **l == Label::Incident).count();
        println!("seed {seed}: {} windows, {pos} incident", labels.len());
    }
    features.flush()?;
    std::fs::write(args.out.join("labels.u8"), &labels_out)?;
    let names: Vec<String> = fleet::METRICS
        .iter()
        .flat_map(|m| {
            ex.feature_names()
                .into_iter()
                .map(move |f| format!("{m}.{f}"))
        })
        .collect();
    let meta =
        serde_json::json!({ "n_features": names.len(), "names": names, "seeds": args.seeds });
    std::fs::write(
        args.out.join("meta.json"),
        serde_json::to_string_pretty(&meta)?,
    )?;
    println!(
        "{} rows of {} features in {}",
        labels_out.len(),
        names.len(),
        args.out.display()
    );
    Ok(())
}
