//! The shipped anomaly scorer on fleets it was not trained on (training
//! used seeds 1–3; see `crates/ml-inference/models/train_anomaly.py`):
//! it must separate the simulator's injected incidents from normal windows.

use novacron_ml_inference::{Engine, EngineConfig, ModelSource, Request};

use crate::anomaly::{self, Label};
use crate::fleet::{Fleet, FleetConfig, METRICS};

const SCORER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/crates/ml-inference/models/anomaly_scorer.onnx"
);

fn engine() -> Engine {
    let e = Engine::new(EngineConfig::default().budget_bytes(256 << 20)).expect("engine");
    e.register("scorer", ModelSource::path(SCORER))
        .expect("register");
    e
}

#[test]
fn the_trained_scorer_separates_incidents_on_held_out_seeds_with_auc_above_0_95() {
    let e = engine();
    for seed in [101, 202] {
        let fleet = Fleet::generate(&FleetConfig {
            n_vms: 600,
            hours: 24,
            seed,
            ..FleetConfig::default()
        });
        let (values, labels, _) = anomaly::windows(&fleet);
        let n_pos = labels.iter().filter(|l| **l == Label::Incident).count();
        assert!(n_pos >= 50, "seed {seed}: only {n_pos} incident windows");
        let scores = e.score_windows("scorer", values.view()).expect("scores");
        let auc = anomaly::roc_auc(&scores, &labels);
        let flags: Vec<bool> = scores.iter().map(|s| *s >= 0.5).collect();
        let (precision, recall) = anomaly::precision_recall(&flags, &labels);
        assert!(auc >= 0.95, "seed {seed}: ROC AUC {auc:.4}");
        assert!(
            precision >= 0.8 && recall >= 0.8,
            "seed {seed}: precision {precision:.3} recall {recall:.3}"
        );
    }
    assert!(e.metrics().bytes_peak <= 256 << 20);
}

#[test]
fn a_shuffled_score_has_chance_auc_so_the_metric_can_fail() {
    let fleet = Fleet::generate(&FleetConfig {
        n_vms: 300,
        hours: 24,
        seed: 303,
        ..FleetConfig::default()
    });
    let (_, labels, _) = anomaly::windows(&fleet);
    // A score unrelated to the windows: their index, scrambled.
    let scores: Vec<f32> = (0..labels.len())
        .map(|i| ((i as u32).wrapping_mul(2_654_435_761) >> 8) as f32)
        .collect();
    let auc = anomaly::roc_auc(&scores, &labels);
    assert!((0.35..0.65).contains(&auc), "AUC of noise {auc}");
}

#[test]
fn single_window_requests_match_the_chunked_fleet_scores() {
    let e = engine();
    let fleet = Fleet::generate(&FleetConfig {
        n_vms: 20,
        hours: 6,
        seed: 404,
        ..FleetConfig::default()
    });
    let (values, _, origin) = anomaly::windows(&fleet);
    let scores = e.score_windows("scorer", values.view()).expect("scores");
    for (w, &(vm, start)) in origin.iter().enumerate().step_by(7) {
        let window = ndarray::Array2::from_shape_fn((METRICS.len(), anomaly::WINDOW), |(m, s)| {
            fleet.series[vm].metric(m)[start + s]
        });
        let one = e
            .infer(Request::window(window).model("scorer"))
            .expect("one");
        assert!((one.prediction[0] - scores[w]).abs() <= 1e-5, "window {w}");
    }
}
