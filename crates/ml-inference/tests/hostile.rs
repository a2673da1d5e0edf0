//! Every public entry point driven with extreme values. The loader on
//! damaged models: committed models with bytes flipped, removed, inserted
//! or cut — every load is `Ok` or a typed error, never a panic or an abort;
//! a model that still loads runs or fails with a typed error
//! (`fuzz/fuzz_targets/ml_loader.rs` does the same from arbitrary bytes).
//! Configurations at 0 and `MAX`, requests of any length and value.

mod common;

use common::model_bytes;
use ndarray::{ArrayD, IxDyn};
use novacron_ml_inference::{
    Backpressure, BatchConfig, Batcher, Budget, Dim, Engine, EngineConfig, Error, FeatureConfig,
    Model, ModelOptions, ModelSource, RegistryConfig, Request,
};
use proptest::prelude::*;

const STEMS: [&str; 5] = [
    "anomaly_scorer",
    "cnn1d",
    "lstm_forecaster",
    "attention",
    "mlp_wide",
];

#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Remove(usize, usize),
    Insert(usize, Vec<u8>),
    Cut(usize),
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let n = bytes.len().max(1);
        match e {
            Edit::Flip(at, mask) => {
                if let Some(b) = bytes.get_mut(at % n) {
                    *b ^= mask | 1;
                }
            }
            Edit::Remove(at, len) => {
                let at = at % n;
                let end = (at + len).min(bytes.len());
                bytes.drain(at.min(end)..end);
            }
            Edit::Insert(at, data) => {
                let at = (at % n).min(bytes.len());
                bytes.splice(at..at, data.iter().copied());
            }
            Edit::Cut(at) => bytes.truncate(at % n),
        }
    }
    bytes
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<usize>(), any::<u8>()).prop_map(|(a, m)| Edit::Flip(a, m)),
        1 => (any::<usize>(), 1usize..64).prop_map(|(a, l)| Edit::Remove(a, l)),
        1 => (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16)).prop_map(|(a, d)| Edit::Insert(a, d)),
        1 => any::<usize>().prop_map(Edit::Cut),
    ]
}

fn typed(e: &Error) -> bool {
    matches!(
        e,
        Error::Corrupt { .. }
            | Error::Load { .. }
            | Error::UnsupportedOperator { .. }
            | Error::UnsupportedInput { .. }
            | Error::EnginePanic { .. }
            | Error::OverBudget { .. }
            | Error::InputShape { .. }
            | Error::Empty(_)
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn damaged_models_load_or_fail_with_a_typed_error(
        stem in 0usize..STEMS.len(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let bytes = apply(model_bytes(STEMS[stem]), &edits);
        let budget = Budget::new(64 << 20).expect("budget");
        let options = ModelOptions::default().batch_classes([1, 4]);
        match Model::load("damaged", ModelSource::bytes(bytes), options, &budget, Backpressure::Fail) {
            Err(e) => prop_assert!(typed(&e), "untyped error {e:?}"),
            Ok(m) => {
                let inputs: Vec<ArrayD<f32>> = m
                    .inputs()
                    .iter()
                    .map(|s| {
                        let shape: Vec<usize> = s.dims.iter().map(|d| match d {
                            Dim::Batch => 3,
                            Dim::Fixed(n) => (*n).min(4096),
                            _ => 2,
                        }).collect();
                        ArrayD::zeros(IxDyn(&shape))
                    })
                    .collect();
                let views: Vec<_> = inputs.iter().map(|a| a.view()).collect();
                if let Err(e) = m.run(&views) {
                    prop_assert!(typed(&e), "untyped run error {e:?}");
                }
            }
        }
        prop_assert_eq!(budget.used(), 0);
    }
}

/// Inputs the fuzzer found (`fuzz/regressions/ml_loader/`), replayed here
/// because the fuzz crate's `ml` feature is not built by CI.
#[test]
fn fuzzer_found_models_are_typed_errors() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/damaged");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).expect("damaged models") {
        let path = entry.expect("entry").path();
        let budget = Budget::new(64 << 20).expect("budget");
        let r = Model::load(
            "found",
            ModelSource::path(&path),
            ModelOptions::default(),
            &budget,
            Backpressure::Fail,
        );
        match r {
            Err(e) => assert!(typed(&e), "{}: {e:?}", path.display()),
            Ok(_) => panic!("{} loads", path.display()),
        }
        n += 1;
    }
    assert!(n >= 1);
}

fn scorer_engine() -> &'static std::sync::Arc<Engine> {
    static E: std::sync::OnceLock<std::sync::Arc<Engine>> = std::sync::OnceLock::new();
    E.get_or_init(|| {
        let e = Engine::new(EngineConfig::default().budget_bytes(32 << 20)).expect("engine");
        e.register(
            "scorer",
            ModelSource::path(common::model_path("anomaly_scorer")),
        )
        .expect("register");
        std::sync::Arc::new(e)
    })
}

proptest! {
    #[test]
    fn requests_of_any_length_and_value_are_served_or_typed_errors(
        len in prop_oneof![Just(0usize), Just(1), Just(109), Just(110), Just(111), 0usize..5000],
        value in prop_oneof![any::<f32>(), Just(f32::MAX), Just(f32::MIN), Just(f32::NAN), Just(f32::INFINITY), Just(0.0)],
        rows in 0usize..4,
        samples in prop_oneof![Just(0usize), Just(1), Just(59), Just(60), Just(61)],
        sample in prop_oneof![any::<f64>(), Just(f64::MAX), Just(f64::NAN), Just(-0.0)],
    ) {
        let e = scorer_engine();
        match e.infer(Request::features(vec![value; len]).model("scorer")) {
            Ok(r) => prop_assert!(len == 110 && value.is_finite() && r.prediction.len() == 1),
            Err(err) => prop_assert!(
                matches!(err, Error::InputShape { .. } | Error::NonFiniteInput { .. }),
                "{err:?}"
            ),
        }
        let w = ndarray::Array2::from_elem((rows, samples), sample);
        match e.infer(Request::window(w).model("scorer")) {
            Ok(r) => prop_assert!(rows == 5 && samples == 60 && sample.is_finite() && r.prediction.len() == 1),
            Err(err) => prop_assert!(
                matches!(err, Error::InputShape { .. } | Error::NonFinite { .. } | Error::Empty(_) | Error::NonFiniteInput { .. }),
                "{err:?}"
            ),
        }
        let x = ndarray::Array2::from_elem((rows, len.min(300)), value);
        match e.infer_batch("scorer", x.view()) {
            Ok(out) => prop_assert_eq!(out.nrows(), rows),
            Err(err) => prop_assert!(
                matches!(err, Error::InputShape { .. } | Error::NonFiniteInput { .. } | Error::Empty(_)),
                "{err:?}"
            ),
        }
    }

    #[test]
    fn configurations_at_zero_and_max_are_accepted_or_typed_errors(
        budget in prop_oneof![Just(0u64), Just(1), Just(u64::MAX), 0u64..1 << 32],
        entries in prop_oneof![Just(0usize), Just(usize::MAX), 0usize..100_000],
        history in prop_oneof![Just(0usize), Just(usize::MAX), 0usize..10_000],
        models in prop_oneof![Just(0usize), Just(usize::MAX), 0usize..10],
        samples in prop_oneof![Just(0usize), Just(usize::MAX), 0usize..100],
        batch in prop_oneof![Just(0usize), Just(usize::MAX), 0usize..100],
        queue in prop_oneof![Just(0usize), Just(usize::MAX), 0usize..100],
    ) {
        let cfg = EngineConfig::default()
            .budget_bytes(budget)
            .feature_cache(entries, budget)
            .history(history)
            .registry(RegistryConfig::default().max_models(models))
            .windows(samples, FeatureConfig::default().lags([1]).rolling(1).bands(0));
        match Engine::new(cfg) {
            Ok(e) => {
                prop_assert!(budget > 0 && entries > 0 && models > 0 && samples >= 2);
                let b = Batcher::new(std::sync::Arc::new(e), "none", BatchConfig::default().max_batch(batch).max_queue(queue));
                prop_assert_eq!(b.is_ok(), (1..=65_536).contains(&batch) && (1..=1 << 16).contains(&queue));
            }
            Err(err) => prop_assert!(
                matches!(err, Error::InvalidConfig { .. } | Error::OverBudget { .. }),
                "{err:?}"
            ),
        }
    }
}
