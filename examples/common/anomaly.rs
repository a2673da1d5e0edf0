//! Hourly metric windows cut from the fleet simulator, labelled by its
//! incident ground truth: what the anomaly scorer is trained and judged on.
//!
//! A window is one VM's five metrics over `WINDOW` consecutive samples
//! (non-overlapping, aligned to the start of the series). It is an
//! *incident* window when at least `POSITIVE_MIN` of its samples lie in an
//! injected incident, *normal* when none does; windows in between are
//! ambiguous and left out of training and scoring figures.

#![allow(dead_code, unreachable_pub)]

use ndarray::Array3;

use crate::fleet::{Fleet, METRICS};

/// Samples per window: one hour at one sample a minute.
pub const WINDOW: usize = 60;
/// Incident samples that make a window an incident window.
pub const POSITIVE_MIN: usize = 15;

/// The ground truth of a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// No incident sample.
    Normal,
    /// At least `POSITIVE_MIN` incident samples.
    Incident,
    /// Some incident samples, fewer than `POSITIVE_MIN`.
    Ambiguous,
}

/// Every window of the fleet: values `[n_windows, 5, WINDOW]`, labels, and `(vm_id, start sample)`.
pub fn windows(fleet: &Fleet) -> (Array3<f64>, Vec<Label>, Vec<(usize, usize)>) {
    let per_vm = fleet.n_samples() / WINDOW;
    let n = fleet.vms.len() * per_vm;
    let mut values = Array3::zeros((n, METRICS.len(), WINDOW));
    let mut labels = Vec::with_capacity(n);
    let mut origin = Vec::with_capacity(n);
    let mut w = 0;
    for (vm_id, s) in fleet.series.iter().enumerate() {
        for k in 0..per_vm {
            let start = k * WINDOW;
            for m in 0..METRICS.len() {
                for (i, v) in s.metric(m)[start..start + WINDOW].iter().enumerate() {
                    values[[w, m, i]] = *v;
                }
            }
            let hits = s.incident[start..start + WINDOW]
                .iter()
                .filter(|&&b| b)
                .count();
            labels.push(match hits {
                0 => Label::Normal,
                h if h >= POSITIVE_MIN => Label::Incident,
                _ => Label::Ambiguous,
            });
            origin.push((vm_id, start));
            w += 1;
        }
    }
    (values, labels, origin)
}

/// ROC AUC of `scores` for the labelled (non-ambiguous) windows: the
/// probability that an incident window outscores a normal one (ties count half).
pub fn roc_auc(scores: &[f32], labels: &[Label]) -> f64 {
    let mut pairs: Vec<(f32, bool)> = scores
        .iter()
        .zip(labels)
        .filter(|(_, l)| **l != Label::Ambiguous)
        .map(|(s, l)| (*s, *l == Label::Incident))
        .collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n_pos = pairs.iter().filter(|p| p.1).count() as f64;
    let n_neg = pairs.len() as f64 - n_pos;
    if n_pos == 0.0 || n_neg == 0.0 {
        return f64::NAN;
    }
    // Mann–Whitney U with average ranks for ties.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < pairs.len() {
        let mut j = i;
        while j < pairs.len() && pairs[j].0 == pairs[i].0 {
            j += 1;
        }
        let avg = (i + j + 1) as f64 / 2.0;
        rank_sum += avg * pairs[i..j].iter().filter(|p| p.1).count() as f64;
        i = j;
    }
    (rank_sum - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg)
}

/// Precision and recall of `flags` against the incident windows (ambiguous ones left out).
pub fn precision_recall(flags: &[bool], labels: &[Label]) -> (f64, f64) {
    let (mut tp, mut fp, mut fn_) = (0.0, 0.0, 0.0);
    for (f, l) in flags.iter().zip(labels) {
        match (f, l) {
            (true, Label::Incident) => tp += 1.0,
            (true, Label::Normal) => fp += 1.0,
            (false, Label::Incident) => fn_ += 1.0,
            _ => {}
        }
    }
    let p = if tp + fp > 0.0 {
        tp / (tp + fp)
    } else {
        f64::NAN
    };
    let r = if tp + fn_ > 0.0 {
        tp / (tp + fn_)
    } else {
        f64::NAN
    };
    (p, r)
}
