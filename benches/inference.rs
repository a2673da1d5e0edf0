//! ONNX inference with `novacron-ml-inference`: latency and throughput per
//! model at batch 1 / 8 / 64 / 256, feature extraction throughput, and the
//! end-to-end request (one hour of five metrics at one sample a minute →
//! features → anomaly score) against the report's way (model loaded per
//! request, unbounded caches). Single thread throughout.
//!
//! onnxruntime on the same models and inputs: `benches/scripts/ort_compare.py`
//! (it alternates with ours in one invocation).
//!
//! `cargo bench --bench inference`

#[path = "../examples/common/anomaly.rs"]
mod anomaly;
#[path = "../examples/common/fleet.rs"]
mod fleet;

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ndarray::{ArrayD, IxDyn};
use novacron_ml_inference::{
    Backpressure, Budget, Engine, EngineConfig, FeatureConfig, FeatureExtractor, Model,
    ModelOptions, ModelSource, Request,
};

const MODELS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/crates/ml-inference/models");

/// Input shape per model, with `0` where the batch goes.
const SHAPES: [(&str, &[usize]); 5] = [
    ("anomaly_scorer", &[0, 110]),
    ("mlp_wide", &[0, 256]),
    ("cnn1d", &[0, 5, 60]),
    ("lstm_forecaster", &[12, 0, 5]),
    ("attention", &[0, 16, 32]),
];

fn path(stem: &str) -> String {
    format!("{MODELS}/{stem}.onnx")
}

fn models(c: &mut Criterion) {
    let budget = Budget::new(1 << 30).unwrap_or_else(|e| panic!("{e}"));
    let mut g = c.benchmark_group("inference");
    g.measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    for (stem, shape) in SHAPES {
        let model = Model::load(
            stem,
            ModelSource::path(path(stem)),
            ModelOptions::default(),
            &budget,
            Backpressure::Fail,
        )
        .unwrap_or_else(|e| panic!("{stem}: {e}"));
        for batch in [1usize, 8, 64, 256] {
            let dims: Vec<usize> = shape
                .iter()
                .map(|&d| if d == 0 { batch } else { d })
                .collect();
            let x = ArrayD::from_shape_fn(IxDyn(&dims), |i| {
                (ndarray::Dimension::slice(&i).iter().sum::<usize>() % 17) as f32 * 0.1 - 0.8
            });
            g.throughput(Throughput::Elements(batch as u64));
            g.bench_with_input(BenchmarkId::new(stem, batch), &x, |b, x| {
                b.iter(|| model.run(&[x.view()]).unwrap_or_else(|e| panic!("{e}")))
            });
        }
    }
    g.finish();
}

fn fleet_windows(n_vms: usize) -> ndarray::Array3<f64> {
    let f = fleet::Fleet::generate(&fleet::FleetConfig {
        n_vms,
        hours: 24,
        seed: 11,
        ..fleet::FleetConfig::default()
    });
    anomaly::windows(&f).0
}

fn features(c: &mut Criterion) {
    let windows = fleet_windows(20); // 480 windows of 5 x 60
    let ex = FeatureExtractor::new(FeatureConfig::default(), anomaly::WINDOW)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut g = c.benchmark_group("features");
    g.throughput(Throughput::Elements(windows.len() as u64));
    g.bench_function("extract_480_windows_5x60", |b| {
        b.iter(|| {
            ex.extract_all(windows.view())
                .unwrap_or_else(|e| panic!("{e}"))
        })
    });
    g.finish();
}

fn requests(c: &mut Criterion) {
    let windows = fleet_windows(4);
    let one = windows.index_axis(ndarray::Axis(0), 7).to_owned();
    let engine = Engine::new(EngineConfig::default()).unwrap_or_else(|e| panic!("{e}"));
    engine
        .register("scorer", ModelSource::path(path("anomaly_scorer")))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut g = c.benchmark_group("request");
    g.bench_function("window_to_score", |b| {
        b.iter(|| {
            engine
                .infer(Request::window(one.clone()).model("scorer"))
                .unwrap_or_else(|e| panic!("{e}"))
        })
    });
    g.bench_function("window_to_score_cached", |b| {
        b.iter(|| {
            engine
                .infer(Request::window(one.clone()).model("scorer").cache_key(1))
                .unwrap_or_else(|e| panic!("{e}"))
        })
    });
    // The report's pipeline: the model loaded for every request.
    let budget = Budget::new(1 << 30).unwrap_or_else(|e| panic!("{e}"));
    let ex = FeatureExtractor::new(FeatureConfig::default(), anomaly::WINDOW)
        .unwrap_or_else(|e| panic!("{e}"));
    g.bench_function("baseline_load_per_request", |b| {
        b.iter(|| {
            let m = Model::load(
                "scorer",
                ModelSource::path(path("anomaly_scorer")),
                ModelOptions::default().warmup(false),
                &budget,
                Backpressure::Fail,
            )
            .unwrap_or_else(|e| panic!("{e}"));
            let f = ex.extract(one.view()).unwrap_or_else(|e| panic!("{e}"));
            let x =
                ArrayD::from_shape_vec(IxDyn(&[1, f.len()]), f).unwrap_or_else(|e| panic!("{e}"));
            m.run(&[x.view()]).unwrap_or_else(|e| panic!("{e}"))
        })
    });
    g.finish();
}

criterion_group!(benches, models, features, requests);
criterion_main!(benches);
