//! Outputs match onnxruntime's (fixtures made by `models/make_models.py`),
//! at batch sizes that hit one class exactly, pad up to a class, and split
//! above the largest one.

use std::path::PathBuf;

use ndarray::{ArrayD, IxDyn};
use novacron_ml_inference::{Backpressure, Budget, Model, ModelOptions, ModelSource};
use serde_json::Value;

fn models_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models")
}

fn array(v: &Value) -> ArrayD<f32> {
    let shape: Vec<usize> = v["shape"]
        .as_array()
        .expect("shape")
        .iter()
        .map(|d| d.as_u64().expect("dim") as usize)
        .collect();
    let data: Vec<f32> = v["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|x| x.as_f64().expect("number") as f32)
        .collect();
    ArrayD::from_shape_vec(IxDyn(&shape), data).expect("fixture shape matches data")
}

/// Relative error against onnxruntime: the largest elementwise difference
/// over the largest reference magnitude (a per-element ratio is meaningless
/// for outputs that cross zero).
fn assert_close(model: &str, batch: usize, ours: &ArrayD<f32>, reference: &ArrayD<f32>) {
    assert_eq!(
        ours.shape(),
        reference.shape(),
        "{model} batch {batch}: shape"
    );
    let scale = reference
        .iter()
        .fold(0.0f64, |m, &b| m.max(f64::from(b).abs()));
    let worst = ours.iter().zip(reference).fold(0.0f64, |m, (&a, &b)| {
        m.max((f64::from(a) - f64::from(b)).abs())
    });
    let rel = worst / scale.max(f64::MIN_POSITIVE);
    assert!(
        rel <= 1e-5,
        "{model} batch {batch}: max |ours - ort| / max |ort| = {rel:e} > 1e-5"
    );
}

fn check(model_name: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("{model_name}.json"));
    let text = std::fs::read_to_string(path).expect("fixture");
    let fixture: Value = serde_json::from_str(&text).expect("fixture JSON");
    let budget = Budget::new(256 << 20).expect("budget");
    let model = Model::load(
        model_name,
        ModelSource::path(models_dir().join(format!("{model_name}.onnx"))),
        ModelOptions::default(),
        &budget,
        Backpressure::Fail,
    )
    .expect("model loads");
    for case in fixture["cases"].as_array().expect("cases") {
        let batch = case["batch"].as_u64().expect("batch") as usize;
        let inputs: Vec<ArrayD<f32>> = model
            .inputs()
            .iter()
            .map(|spec| array(&case["inputs"][&spec.name]))
            .collect();
        let views: Vec<_> = inputs.iter().map(|a| a.view()).collect();
        let outs = model.run(&views).expect("model runs");
        let expected = case["outputs"].as_array().expect("outputs");
        assert_eq!(outs.len(), expected.len());
        for (ours, reference) in outs.iter().zip(expected) {
            assert_close(model_name, batch, ours, &array(reference));
        }
    }
}

#[test]
fn cnn1d_matches_onnxruntime() {
    check("cnn1d");
}

/// Also the state-reuse trap: a reused tract state feeds the LSTM's last
/// hidden state into the next run (2e-4 drift); every case here runs after
/// warm-up and after the previous case.
#[test]
fn lstm_with_symbolic_batch_and_no_initial_state_loads_and_matches_onnxruntime() {
    check("lstm_forecaster");
}

#[test]
fn attention_block_matches_onnxruntime() {
    check("attention");
}

#[test]
fn trained_anomaly_scorer_matches_onnxruntime() {
    check("anomaly_scorer");
}

#[test]
fn wide_mlp_matches_onnxruntime() {
    check("mlp_wide");
}
