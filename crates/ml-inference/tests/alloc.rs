//! Exact heap accounting with a counting global allocator: what a loaded
//! model keeps, and what a refused request allocates before it fails.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use common::{matmul_model, model_path};
use novacron_ml_inference::{
    Backpressure, Budget, Engine, EngineConfig, Error, Model, ModelOptions, ModelSource, Request,
};

struct Counting;

static LIVE: AtomicI64 = AtomicI64::new(0);
static ALLOCATED: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counters are only updated alongside.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as i64, Ordering::Relaxed);
        ALLOCATED.fetch_add(layout.size() as u64, Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as i64, Ordering::Relaxed);
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as i64 - layout.size() as i64, Ordering::Relaxed);
        ALLOCATED.fetch_add(new_size as u64, Ordering::Relaxed);
        // SAFETY: the caller's contract for `realloc` is passed on as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The counters are process-wide: one test at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[test]
fn a_loaded_model_keeps_at_most_1_2_times_its_weights_and_the_budget_is_charged_that() {
    let _g = serial();
    let bytes = matmul_model(1024, 9);
    let budget = Budget::new(1 << 30).expect("budget");
    // One load first: tract's operator table and thread-locals are built once per process.
    Model::load(
        "prime",
        ModelSource::bytes(matmul_model(16, 1)),
        ModelOptions::default(),
        &budget,
        Backpressure::Fail,
    )
    .expect("prime");
    for classes in [vec![1usize], vec![8], vec![256]] {
        let source = ModelSource::bytes(bytes.clone());
        let before = LIVE.load(Ordering::Relaxed);
        let model = Model::load(
            "big",
            source,
            ModelOptions::default().batch_classes(classes.clone()),
            &budget,
            Backpressure::Fail,
        )
        .expect("load");
        let held = (LIVE.load(Ordering::Relaxed) - before) as f64;
        let weights = model.weight_bytes() as f64;
        assert_eq!(weights, (1024 * 1024 * 4) as f64);
        assert!(
            held <= 1.2 * weights,
            "classes {classes:?}: {held} bytes live for {weights} of weights"
        );
        let charged = model.resident_bytes() as f64;
        assert!(
            (charged - held).abs() <= 0.2 * weights,
            "classes {classes:?}: charged {charged}, live {held}"
        );
    }
}

#[test]
fn the_largest_feature_cache_and_batch_queue_allocate_nothing_up_front() {
    let _g = serial();
    let budget = Budget::new(1 << 20).expect("budget");
    let before = ALLOCATED.load(Ordering::Relaxed);
    let cache = novacron_ml_inference::FeatureCache::new(&budget, 1 << 24, 1 << 20).expect("cache");
    let spent = ALLOCATED.load(Ordering::Relaxed) - before;
    assert!(
        spent < 4096,
        "a 16M-entry cache allocated {spent} bytes while empty"
    );
    drop(cache);
    let engine = std::sync::Arc::new(
        Engine::new(EngineConfig::default().budget_bytes(8 << 20)).expect("engine"),
    );
    let before = ALLOCATED.load(Ordering::Relaxed);
    let b = novacron_ml_inference::Batcher::new(
        engine,
        "none",
        novacron_ml_inference::BatchConfig::default().max_queue(1 << 16),
    )
    .expect("batcher");
    let spent = ALLOCATED.load(Ordering::Relaxed) - before;
    // The largest queue std allocates up front: 65,536 slots of a job each.
    assert!(
        spent < 8 << 20,
        "a full-size batcher allocated {spent} bytes"
    );
    drop(b);
}

#[test]
fn a_request_over_budget_allocates_under_4_kib_before_failing() {
    let _g = serial();
    let engine = Engine::new(EngineConfig::default().budget_bytes(8 << 20)).expect("engine");
    engine
        .register("scorer", ModelSource::path(model_path("anomaly_scorer")))
        .expect("register");
    let window = ndarray::Array2::from_shape_fn((5, 60), |(m, s)| (m * 60 + s) as f64);
    engine
        .infer(Request::window(window.clone()).model("scorer"))
        .expect("warm");
    let free = engine.budget().refuse_at() - engine.budget().used();
    let _hog = engine.budget().try_reserve(free - 8, "hog").expect("hog");
    for request in [
        Request::window(window.clone()).model("scorer"),
        Request::features(vec![0.5; 110]).model("scorer"),
    ] {
        let before = ALLOCATED.load(Ordering::Relaxed);
        let err = engine.infer(request).expect_err("over budget");
        let spent = ALLOCATED.load(Ordering::Relaxed) - before;
        assert!(matches!(err, Error::OverBudget { .. }), "{err:?}");
        assert!(spent < 4096, "{spent} bytes allocated before failing");
    }
}
