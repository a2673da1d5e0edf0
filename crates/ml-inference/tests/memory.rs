//! Memory under load, measured as this process's RSS (Linux `/proc/self/status`).
//!
//! RSS is process-wide, so these tests take one lock and run one at a time.
//! glibc keeps freed memory in its arenas; `malloc_trim(0)` before each
//! reading returns it, so a reading shows what is live.

mod common;

use std::sync::Mutex;

use common::{matmul_model, model_path, reset_peak_rss, rss};
use ndarray::Array2;
use novacron_ml_inference::{
    Backpressure, Budget, Engine, EngineConfig, FeatureConfig, FeatureExtractor, Model,
    ModelOptions, ModelSource, Registry, RegistryConfig, Request,
};

const MIB: u64 = 1 << 20;
static SERIAL: Mutex<()> = Mutex::new(());

unsafe extern "C" {
    fn malloc_trim(pad: usize) -> i32;
}

/// RSS after returning freed heap pages to the system.
fn live_rss() -> u64 {
    // SAFETY: malloc_trim only releases free memory at the top of glibc's heaps; it has no preconditions.
    unsafe {
        malloc_trim(0);
    }
    rss().0
}

/// Takes the lock and loads one small model, so one-time allocations (tract's
/// operator table, allocator arenas) are not counted against the first test.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    let g = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let budget = Budget::new(1 << 30).expect("budget");
    Model::load(
        "prime",
        ModelSource::bytes(matmul_model(64, 0)),
        ModelOptions::default(),
        &budget,
        Backpressure::Fail,
    )
    .expect("prime");
    g
}

fn window(i: usize) -> Array2<f64> {
    Array2::from_shape_fn((5, 60), |(m, s)| {
        40.0 + 25.0 * (((i * 13 + s) as f64) * 0.1 + m as f64).sin()
    })
}

#[test]
fn rss_stays_flat_over_100k_requests_with_caches_at_capacity_and_rotating_keys() {
    let _g = serial();
    let engine = Engine::new(EngineConfig::default()).expect("engine");
    engine
        .register("scorer", ModelSource::path(model_path("anomaly_scorer")))
        .expect("register");
    // 3,000 keys over a 1,000-entry cache: two misses in three, evicting each time.
    let windows: Vec<Array2<f64>> = (0..64).map(window).collect();
    let mut at_1k = 0;
    for i in 0..100_000usize {
        let r = engine
            .infer(
                Request::window(windows[i % 64].clone())
                    .model("scorer")
                    .cache_key((i % 3000) as u64),
            )
            .expect("infer");
        assert!(r.prediction[0].is_finite());
        if i + 1 == 1_000 {
            assert_eq!(engine.feature_cache().len(), 1000, "cache at capacity");
            at_1k = live_rss();
        }
    }
    let at_100k = live_rss();
    let m = engine.metrics();
    assert!(m.cache_evictions > 50_000, "{m:?}");
    assert_eq!(engine.feature_cache().len(), 1000);
    assert!(
        at_100k <= at_1k + MIB,
        "RSS grew {} kB from request 1k to 100k",
        (at_100k as i64 - at_1k as i64) / 1024
    );
}

#[test]
fn five_models_of_half_the_registry_keep_resident_bytes_and_peak_rss_bounded() {
    let _g = serial();
    let dir = std::env::temp_dir().join(format!("novacron-ml-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let b: u64 = 16 * MIB;
    let k = 1400; // 7.5 MiB of weights each: about B/2
    let mut size = 0;
    for i in 0..5 {
        let bytes = matmul_model(k, i);
        size = bytes.len() as u64;
        std::fs::write(dir.join(format!("m{i}.onnx")), bytes).expect("write");
    }
    let reserve = 6 * size; // the default load_peak_factor
    let budget = Budget::new(b + reserve + MIB).expect("budget");
    let registry = Registry::new(
        &budget,
        RegistryConfig::default().max_models(5).max_bytes(b),
    )
    .expect("registry");
    for i in 0..5 {
        registry
            .register(
                &format!("m{i}"),
                ModelSource::path(dir.join(format!("m{i}.onnx"))),
            )
            .expect("register");
    }
    let baseline = live_rss();
    reset_peak_rss();
    for round in 0..2 {
        for i in 0..5 {
            let m = registry.get(&format!("m{i}")).expect("load");
            drop(m);
            let s = registry.stats();
            assert!(
                s.resident_bytes <= b,
                "round {round} model {i}: resident {} > {b}",
                s.resident_bytes
            );
            assert!(budget.peak() <= budget.limit());
        }
    }
    let (_, peak) = rss();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(registry.stats().evictions >= 8, "{:?}", registry.stats());
    assert!(
        peak <= baseline + b + reserve,
        "peak RSS {} MiB above baseline; bound B + one load reserve = {} MiB",
        (peak - baseline) / MIB,
        (b + reserve) / MIB
    );
}

/// The report's pipeline, reproduced: an unbounded feature cache, a history
/// that keeps every request's features and window, and the model loaded per
/// request and kept in that history.
struct LeakyPipeline {
    extractor: FeatureExtractor,
    cache: std::collections::HashMap<u64, Vec<f32>>,
    history: Vec<(Vec<f32>, Array2<f64>, std::sync::Arc<Model>)>,
    budget: Budget,
}

impl LeakyPipeline {
    fn infer(&mut self, key: u64, w: &Array2<f64>) -> f32 {
        let features = self
            .cache
            .entry(key)
            .or_insert_with(|| self.extractor.extract(w.view()).expect("features"))
            .clone();
        let model = std::sync::Arc::new(
            Model::load(
                "scorer",
                ModelSource::path(model_path("anomaly_scorer")),
                ModelOptions::default().warmup(false),
                &self.budget,
                Backpressure::Fail,
            )
            .expect("load"),
        );
        let x =
            ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[1, features.len()]), features.clone())
                .expect("x");
        let y = model.run(&[x.view()]).expect("run")[0][[0, 0]];
        self.history.push((features, w.clone(), model));
        y
    }
}

#[test]
fn the_reports_leaking_pipeline_grows_without_bound_while_the_engine_stays_flat() {
    let _g = serial();
    let n = 2_000usize;
    let windows: Vec<Array2<f64>> = (0..64).map(window).collect();
    let engine = Engine::new(EngineConfig::default()).expect("engine");
    engine
        .register("scorer", ModelSource::path(model_path("anomaly_scorer")))
        .expect("register");
    // 200 warm-up requests, then n measured ones.
    let mut ours_before = 0;
    for i in 0..200 + n {
        if i == 200 {
            ours_before = live_rss();
        }
        engine
            .infer(
                Request::window(windows[i % 64].clone())
                    .model("scorer")
                    .cache_key(i as u64),
            )
            .expect("infer");
    }
    let ours = live_rss().saturating_sub(ours_before);

    let mut leaky = LeakyPipeline {
        extractor: FeatureExtractor::new(FeatureConfig::default(), 60).expect("extractor"),
        cache: Default::default(),
        history: Vec::new(),
        budget: Budget::new(u64::MAX / 2).expect("budget"),
    };
    let leaky_before = live_rss();
    let mut at_half = 0;
    for i in 0..n {
        leaky.infer(i as u64, &windows[i % 64]);
        if i + 1 == n / 2 {
            at_half = live_rss();
        }
    }
    let leaky_end = live_rss();
    let (first, second) = (at_half - leaky_before, leaky_end - at_half);
    eprintln!(
        "engine: +{} kB over {n} requests; leaky: +{} kB then +{} kB",
        ours / 1024,
        first / 1024,
        second / 1024
    );
    assert!(ours <= MIB, "engine grew {} kB", ours / 1024);
    // Linear growth: the second half grows about as much as the first.
    assert!(
        first > 4 * MIB && second > first / 2,
        "leaky grew {first} then {second}"
    );
    assert!(leaky_end - leaky_before > 10 * ours.max(MIB));
}
