//! The loader on damaged models: committed models with bytes flipped,
//! removed, inserted or cut. Every load is `Ok` or a typed error, never a
//! panic or an abort; a model that still loads runs or fails with a typed error.
//! (`fuzz/fuzz_targets/ml_loader.rs` does the same from arbitrary bytes.)

mod common;

use common::model_bytes;
use ndarray::{ArrayD, IxDyn};
use novacron_ml_inference::{Backpressure, Budget, Dim, Error, Model, ModelOptions, ModelSource};
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
