//! Every kernel against its CPU twin on a real adapter, on the awkward
//! shapes: exact kernels bit for bit, the others within their documented bound.

mod common;

use common::{LENGTHS, both, data};
use novacron_gpu_compute::{Activation, Device, HistogramSpec, Layer, Mlp, Stats};

#[test]
fn stats_match_the_cpu_twin_exactly_for_counts_and_extremes_and_within_the_bound_for_sums() {
    let Some((gpu, cpu)) = both() else { return };
    for &n in LENGTHS {
        let x = data(n, n as u64);
        let g = gpu.stats(&x).unwrap();
        let c = cpu.stats(&x).unwrap();
        assert_eq!(g.report.device, Device::Gpu);
        assert_eq!(c.report.device, Device::Cpu);
        let (g, c) = (g.value, c.value);
        assert_eq!((g.count, g.nan_count), (c.count, c.nan_count), "n = {n}");
        assert_eq!((g.min, g.max), (c.min, c.max), "n = {n}");
        let exact: f64 = x.iter().map(|&v| f64::from(v)).sum();
        let sum_abs: f64 = x.iter().map(|&v| f64::from(v).abs()).sum();
        let bound = Stats::sum_error_bound(n, sum_abs);
        assert!(
            (g.sum - exact).abs() <= bound,
            "n = {n}: {} vs {exact} (bound {bound})",
            g.sum
        );
        assert!((c.sum - exact).abs() <= bound * 1e-6 + 1e-9, "n = {n}");
        let mean = exact / n as f64;
        let var: f64 = x
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / n as f64;
        assert!((c.variance - var).abs() <= 1e-9 * var.max(1.0), "n = {n}");
        assert!(
            (g.variance - var).abs() <= 1e-4 * var.max(1.0),
            "n = {n}: {} vs {var}",
            g.variance
        );
    }
}

#[test]
fn stats_skip_and_count_nan_and_carry_infinities_on_both_sides() {
    let Some((gpu, cpu)) = both() else { return };
    let mut x = data(1000, 7);
    x[0] = f32::NAN;
    x[10] = -f32::NAN;
    x[500] = f32::NAN;
    let (g, c) = (gpu.stats(&x).unwrap().value, cpu.stats(&x).unwrap().value);
    assert_eq!((g.count, g.nan_count), (997, 3));
    assert_eq!((c.count, c.nan_count), (997, 3));
    assert_eq!((g.min, g.max), (c.min, c.max));
    x[3] = f32::INFINITY;
    let (g, c) = (gpu.stats(&x).unwrap().value, cpu.stats(&x).unwrap().value);
    assert_eq!((g.max, c.max), (f32::INFINITY, f32::INFINITY));
    assert_eq!((g.sum, c.sum), (f64::INFINITY, f64::INFINITY));
    assert!(g.variance.is_nan() && c.variance.is_nan());
    let all_nan = vec![f32::NAN; 70];
    let (g, c) = (
        gpu.stats(&all_nan).unwrap().value,
        cpu.stats(&all_nan).unwrap().value,
    );
    assert_eq!((g.count, g.nan_count, c.count, c.nan_count), (0, 70, 0, 70));
    assert!(g.min.is_nan() && g.mean.is_nan() && c.max.is_nan() && c.mean.is_nan());
}

#[test]
fn histograms_are_identical_on_both_sides_including_edges_and_non_finite_values() {
    let Some((gpu, cpu)) = both() else { return };
    for &n in LENGTHS {
        let mut x = data(n, 3 + n as u64);
        if n > 8 {
            x[1] = f32::NAN;
            x[2] = f32::INFINITY;
            x[3] = f32::NEG_INFINITY;
            x[4] = -50.0; // exactly lo
            x[5] = 100.0; // exactly hi: above
            x[6] = 99.999_99;
        }
        for bins in [1, 7, 64, 4000] {
            let spec = HistogramSpec::new(-50.0, 100.0, bins).unwrap();
            let g = gpu.histogram(&x, &spec).unwrap().value;
            let c = cpu.histogram(&x, &spec).unwrap().value;
            assert_eq!(g, c, "n = {n}, bins = {bins}");
            assert_eq!(c.total(), n as u64);
        }
    }
}

#[test]
fn sort_is_bit_identical_to_total_order_sort_at_every_length() {
    let Some((gpu, cpu)) = both() else { return };
    for &n in LENGTHS {
        let mut x = data(n, 11 + n as u64);
        if n > 8 {
            x[0] = f32::NAN;
            x[1] = -f32::NAN;
            x[2] = -0.0;
            x[3] = 0.0;
            x[4] = f32::NEG_INFINITY;
            x[5] = x[6]; // a repeat
        }
        let g = gpu.sort(&x).unwrap().value;
        let c = cpu.sort(&x).unwrap().value;
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&g), bits(&c), "n = {n}");
        assert!(c.windows(2).all(|w| w[0].total_cmp(&w[1]).is_le()));
    }
}

#[test]
fn percentiles_are_identical_on_both_sides_and_follow_numpy_linear() {
    let Some((gpu, cpu)) = both() else { return };
    let quantiles = [0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0];
    for &n in LENGTHS {
        let x = data(n, 17 + n as u64);
        let g = gpu.percentiles(&x, &quantiles).unwrap().value;
        let c = cpu.percentiles(&x, &quantiles).unwrap().value;
        assert_eq!(g, c, "n = {n}");
        // Independent reference: numpy's linear method on a plain sort.
        let mut sorted: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        sorted.sort_by(f64::total_cmp);
        for (q, got) in quantiles.iter().zip(&c) {
            let h = (n - 1) as f64 * q;
            let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
            let want = sorted[lo] + (sorted[hi] - sorted[lo]) * (h - lo as f64);
            assert!(
                (got - want).abs() <= 1e-9 * want.abs().max(1.0),
                "n = {n}, q = {q}"
            );
        }
    }
}

/// |C − exact| ≤ K · 2⁻²⁴ · Σ|a·b| (+ the same again for the other side).
fn assert_gemm_close(
    got: &[f32],
    a: &[f32],
    b: &[f32],
    bias: Option<&[f32]>,
    (m, k, n): (usize, usize, usize),
) {
    for i in 0..m {
        for j in 0..n {
            let mut exact = bias.map_or(0.0, |b| f64::from(b[j]));
            let mut abs = bias.map_or(0.0, |b| f64::from(b[j]).abs());
            for p in 0..k {
                let t = f64::from(a[i * k + p]) * f64::from(b[p * n + j]);
                exact += t;
                abs += t.abs();
            }
            let bound = (k as f64 + 1.0) * f64::from(f32::EPSILON) * abs + 1e-30;
            let g = f64::from(got[i * n + j]);
            assert!(
                (g - exact).abs() <= bound,
                "({m}, {k}, {n}) at ({i}, {j}): {g} vs {exact}, bound {bound}"
            );
        }
    }
}

#[test]
fn sgemm_matches_exact_products_within_the_bound_on_non_tile_shapes() {
    let Some((gpu, cpu)) = both() else { return };
    let shapes = [
        (1, 1, 1),
        (1, 63, 1),
        (63, 65, 1),
        (65, 1, 63),
        (64, 64, 64),
        (257, 17, 65),
        (3, 257, 130),
        (130, 70, 66),
    ];
    for (m, k, n) in shapes {
        let a = data(m * k, (m * 31 + k) as u64);
        let b = data(k * n, (k * 17 + n) as u64);
        let g = gpu.matmul(&a, &b, (m, k, n)).unwrap().value;
        let c = cpu.matmul(&a, &b, (m, k, n)).unwrap().value;
        assert_gemm_close(&g, &a, &b, None, (m, k, n));
        assert_gemm_close(&c, &a, &b, None, (m, k, n));
    }
}

#[test]
fn dense_layers_apply_bias_and_each_activation_like_the_cpu_twin() {
    let Some((gpu, cpu)) = both() else { return };
    let (m, k, n) = (65, 33, 70);
    let a: Vec<f32> = data(m * k, 5).iter().map(|v| v / 100.0).collect();
    let b: Vec<f32> = data(k * n, 6).iter().map(|v| v / 100.0).collect();
    let bias = data(n, 8);
    let linear = cpu
        .dense(&a, &b, Some(&bias), (m, k, n), Activation::Identity)
        .unwrap()
        .value;
    assert_gemm_close(&linear, &a, &b, Some(&bias), (m, k, n));
    for act in [
        Activation::Identity,
        Activation::Relu,
        Activation::Sigmoid,
        Activation::Tanh,
    ] {
        let g = gpu
            .dense(&a, &b, Some(&bias), (m, k, n), act)
            .unwrap()
            .value;
        let c = cpu
            .dense(&a, &b, Some(&bias), (m, k, n), act)
            .unwrap()
            .value;
        for (i, (g, c)) in g.iter().zip(&c).enumerate() {
            // The pre-activation values agree within the GEMM bound (≈ 1e-4
            // here); every activation is 1-Lipschitz or flatter.
            assert!(
                (g - c).abs() <= 2e-4 * c.abs().max(1.0),
                "{act:?} at {i}: {g} vs {c}"
            );
        }
        if act == Activation::Relu {
            assert!(g.iter().all(|&v| v >= 0.0));
        }
    }
}

#[test]
fn elementwise_ops_match_the_cpu_twin_and_keep_nan() {
    let Some((gpu, cpu)) = both() else { return };
    let ctx = gpu.gpu().unwrap();
    for &n in LENGTHS {
        let mut x = data(n, 21 + n as u64);
        let y = data(n, 22 + n as u64);
        x[0] = f32::NAN;
        let (tx, ty) = (ctx.upload(&x).unwrap(), ctx.upload(&y).unwrap());
        let add = ctx.add(&tx, &ty).unwrap().to_vec().unwrap();
        let scale = ctx.scale(-2.5, &tx).unwrap().to_vec().unwrap();
        let relu = ctx
            .activate(Activation::Relu, &tx)
            .unwrap()
            .to_vec()
            .unwrap();
        let sig = ctx
            .activate(Activation::Sigmoid, &tx)
            .unwrap()
            .to_vec()
            .unwrap();
        let tanh = ctx
            .activate(Activation::Tanh, &tx)
            .unwrap()
            .to_vec()
            .unwrap();
        let axpy = ctx.axpy(0.75, &tx, &ty).unwrap().to_vec().unwrap();
        let cpu_axpy = cpu.axpy(0.75, &x, &y).unwrap().value;
        for i in 0..n {
            let bits = |v: f32| v.to_bits();
            if i == 0 {
                assert!(
                    add[0].is_nan() && scale[0].is_nan() && relu[0].is_nan() && sig[0].is_nan()
                );
                assert!(tanh[0].is_nan() && axpy[0].is_nan() && cpu_axpy[0].is_nan());
                continue;
            }
            assert_eq!(bits(add[i]), bits(x[i] + y[i]));
            assert_eq!(bits(scale[i]), bits(-2.5 * x[i]));
            assert_eq!(bits(relu[i]), bits(x[i].max(0.0)));
            let s = 1.0 / (1.0 + (-f64::from(x[i])).exp());
            assert!(
                (f64::from(sig[i]) - s).abs() <= 1e-6,
                "sigmoid({}) = {}",
                x[i],
                sig[i]
            );
            assert!((f64::from(tanh[i]) - f64::from(x[i]).tanh()).abs() <= 1e-6);
            // One rounding of a·x apart at most.
            let one_rounding = f64::from(f32::EPSILON)
                * (f64::from(0.75 * x[i]).abs() + f64::from(cpu_axpy[i]).abs());
            assert!((f64::from(axpy[i]) - f64::from(cpu_axpy[i])).abs() <= one_rounding);
        }
    }
}

#[test]
fn a_chained_mlp_forward_stays_resident_and_matches_the_cpu_twin() {
    let Some((gpu, cpu)) = both() else { return };
    let ctx = gpu.gpu().unwrap();
    let sizes = [110, 65, 33, 1];
    let layers: Vec<Layer> = sizes
        .windows(2)
        .enumerate()
        .map(|(i, w)| {
            let weights: Vec<f32> = data(w[0] * w[1], i as u64)
                .iter()
                .map(|v| v / 1000.0)
                .collect();
            let act = if i + 2 == sizes.len() {
                Activation::Sigmoid
            } else {
                Activation::Relu
            };
            Layer::new(
                weights,
                data(w[1], 50 + i as u64)
                    .iter()
                    .map(|v| v / 100.0)
                    .collect(),
                w[0],
                w[1],
                act,
            )
            .unwrap()
        })
        .collect();
    let mlp = Mlp::new(layers).unwrap();
    let resident = ctx.upload_mlp(&mlp).unwrap();
    for rows in [1, 63, 257] {
        let x: Vec<f32> = data(rows * 110, rows as u64)
            .iter()
            .map(|v| v / 50.0)
            .collect();
        let g = gpu.mlp_forward(&mlp, Some(&resident), &x, rows).unwrap();
        assert_eq!(g.report.device, Device::Gpu);
        let c = cpu.mlp_forward(&mlp, None, &x, rows).unwrap().value;
        for (a, b) in g.value.iter().zip(&c) {
            assert!((a - b).abs() <= 1e-5 * b.abs().max(1e-3), "{a} vs {b}");
        }
    }
}
