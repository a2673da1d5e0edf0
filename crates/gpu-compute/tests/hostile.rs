//! Bad input, missing adapters, timeouts and device loss: typed errors,
//! never a panic or a hang.

mod common;

use std::process::Command;
use std::time::Duration;

use novacron_gpu_compute::{
    Activation, AdapterPolicy, ContextConfig, Error, Executor, ExecutorConfig, GpuContext,
    HistogramSpec, Layer, Mlp, Placement,
};
use proptest::prelude::*;

#[test]
fn shape_mismatches_are_shape_errors_on_both_sides() {
    let Some((gpu, cpu)) = common::both() else {
        return;
    };
    for e in [&gpu, &cpu] {
        assert!(matches!(
            e.matmul(&[1.0; 6], &[1.0; 6], (2, 3, 3)),
            Err(Error::Shape { .. })
        ));
        assert!(matches!(
            e.matmul(&[1.0; 6], &[1.0; 6], (usize::MAX, 3, 2)),
            Err(Error::Shape { .. })
        ));
        assert!(matches!(
            e.dense(
                &[1.0; 6],
                &[1.0; 6],
                Some(&[1.0; 3]),
                (2, 3, 2),
                Activation::Relu
            ),
            Err(Error::Shape { .. })
        ));
        assert!(matches!(
            e.axpy(1.0, &[1.0; 3], &[1.0; 4]),
            Err(Error::Shape { .. })
        ));
    }
    let ctx = gpu.gpu().unwrap();
    assert!(matches!(
        ctx.upload_matrix(&[1.0; 5], 2, 3),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        ctx.upload_matrix(&[1.0; 5], usize::MAX, 2),
        Err(Error::Shape { .. })
    ));
    let (a, b) = (
        ctx.upload_matrix(&[1.0; 6], 2, 3).unwrap(),
        ctx.upload_matrix(&[1.0; 6], 2, 3).unwrap(),
    );
    assert!(matches!(ctx.matmul(&a, &b), Err(Error::Shape { .. })));
    assert!(matches!(
        ctx.add(&a, &ctx.upload(&[1.0; 5]).unwrap()),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(a.reshape(4, 2), Err(Error::Shape { .. })));
    assert!(matches!(
        a.slice_to_vec(3, 7),
        Err(Error::InvalidArgument { .. })
    ));
    let l1 = Layer::new(vec![0.0; 6], vec![0.0; 3], 2, 3, Activation::Relu).unwrap();
    let l2 = Layer::new(vec![0.0; 8], vec![0.0; 2], 4, 2, Activation::Identity).unwrap();
    assert!(matches!(
        Mlp::new(vec![l1.clone(), l2]),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        Layer::new(vec![0.0; 5], vec![0.0; 3], 2, 3, Activation::Relu),
        Err(Error::Shape { .. })
    ));
    let mlp = Mlp::new(vec![l1]).unwrap();
    let resident = ctx.upload_mlp(&mlp).unwrap();
    assert!(matches!(
        resident.forward(&ctx.upload_matrix(&[0.0; 6], 2, 3).unwrap()),
        Err(Error::Shape { .. })
    ));
    assert!(matches!(
        gpu.mlp_forward(&mlp, Some(&resident), &[0.0; 5], 2),
        Err(Error::Shape { .. })
    ));
}

#[test]
fn empty_inputs_are_empty_errors() {
    let Some((gpu, cpu)) = common::both() else {
        return;
    };
    let spec = HistogramSpec::new(0.0, 1.0, 4).unwrap();
    for e in [&gpu, &cpu] {
        assert_eq!(e.stats(&[][..]).unwrap_err(), Error::Empty("stats"));
        assert_eq!(
            e.histogram(&[][..], &spec).unwrap_err(),
            Error::Empty("histogram")
        );
        assert_eq!(e.sort(&[][..]).unwrap_err(), Error::Empty("sort"));
        assert_eq!(
            e.percentiles(&[][..], &[0.5]).unwrap_err(),
            Error::Empty("percentiles")
        );
        assert_eq!(
            e.matmul(&[], &[], (0, 0, 0)).unwrap_err(),
            Error::Empty("matmul")
        );
        assert!(matches!(e.axpy(1.0, &[], &[]), Err(Error::Empty(_))));
    }
    let ctx = gpu.gpu().unwrap();
    assert_eq!(ctx.upload(&[]).unwrap_err(), Error::Empty("tensor"));
    assert!(matches!(Mlp::new(vec![]), Err(Error::Empty(_))));
    assert!(matches!(
        Layer::new(vec![], vec![], 0, 3, Activation::Relu),
        Err(Error::Empty(_))
    ));
}

#[test]
fn a_tensor_past_one_binding_is_refused_before_allocating() {
    let Some(executor) = common::executor() else {
        return;
    };
    let ctx = executor.gpu().unwrap();
    let too_many = (ctx.max_tensor_bytes() / 4) as usize + 1;
    let before = ctx.pool_stats().buffers_created;
    match ctx.upload(&vec![0.0; too_many]) {
        Err(Error::TooLarge {
            requested, limit, ..
        }) => assert!(requested > limit),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert_eq!(ctx.pool_stats().buffers_created, before);
}

#[test]
fn invalid_arguments_name_what_to_pass() {
    for (lo, hi, bins) in [
        (f32::NAN, 1.0, 4),
        (1.0, 1.0, 4),
        (2.0, 1.0, 4),
        (0.0, f32::INFINITY, 4),
        (-f32::MAX, f32::MAX, 4),
        (0.0, 1.0, 0),
        (0.0, 1.0, 4001),
    ] {
        let err = HistogramSpec::new(lo, hi, bins).unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument { .. }),
            "{lo} {hi} {bins}: {err}"
        );
    }
    let Some((gpu, cpu)) = common::both() else {
        return;
    };
    for e in [&gpu, &cpu] {
        for q in [-0.1, 1.5, f64::NAN, f64::INFINITY] {
            let err = e.percentiles(&[1.0, 2.0][..], &[q]).unwrap_err();
            assert!(err.to_string().contains("outside [0, 1]"), "{err}");
        }
        assert_eq!(
            e.percentiles(&[1.0, f32::NAN][..], &[0.5]).unwrap_err(),
            Error::NanInput {
                what: "percentiles"
            }
        );
        assert_eq!(
            e.percentiles(&[-f32::NAN, 1.0][..], &[0.5]).unwrap_err(),
            Error::NanInput {
                what: "percentiles"
            }
        );
    }
}

#[test]
fn a_tensor_of_another_context_is_refused() {
    let Some(executor) = common::executor() else {
        return;
    };
    let a = executor.gpu().unwrap();
    let b = GpuContext::new(common::config()).unwrap();
    let t = b.upload(&[1.0, 2.0]).unwrap();
    assert_eq!(a.stats(&t).unwrap_err(), Error::ForeignTensor);
    assert_eq!(a.sort(&t).unwrap_err(), Error::ForeignTensor);
}

#[test]
fn a_wait_past_its_deadline_is_a_timeout_not_a_hang() {
    if common::executor().is_none() {
        return;
    }
    let ctx = GpuContext::new(common::config().wait_timeout(Duration::ZERO)).unwrap();
    // About half a second of work on lavapipe (three 512³ products in a
    // chain), far longer than a zero deadline.
    let n = 512;
    let host = common::data(n * n, 1);
    let a = ctx.upload_matrix(&host, n, n).unwrap();
    let mut timeouts = 0;
    for _ in 0..6 {
        let started = std::time::Instant::now();
        let result = ctx
            .matmul(&a, &a)
            .and_then(|b| ctx.matmul(&b, &a))
            .and_then(|c| ctx.matmul(&c, &a))
            .and_then(|d| d.to_vec());
        assert!(started.elapsed() < Duration::from_secs(10));
        match result {
            Err(Error::Timeout { .. }) => timeouts += 1,
            Ok(got) => {
                // lavapipe sometimes finishes before the zero-deadline poll
                // looks: then the result must be the right one (row 0 of
                // A⁴, three vector-matrix products in f64).
                let mut row: Vec<f64> = host[..n].iter().map(|&v| f64::from(v)).collect();
                for _ in 0..3 {
                    row = (0..n)
                        .map(|j| (0..n).map(|k| row[k] * f64::from(host[k * n + j])).sum())
                        .collect();
                }
                for (g, w) in got[..n].iter().zip(&row) {
                    assert!(
                        (f64::from(*g) - w).abs() <= 1e-3 * w.abs().max(1.0),
                        "{g} vs {w}"
                    );
                }
            }
            Err(e) => panic!("expected a timeout, got {e}"),
        }
    }
    assert!(timeouts >= 1, "no wait of six timed out");
}

#[test]
fn a_lost_device_is_an_error_on_every_later_call() {
    if common::executor().is_none() {
        return;
    }
    let ctx = GpuContext::new(common::config()).unwrap();
    let t = ctx.upload(&[1.0, 2.0, 3.0]).unwrap();
    ctx.destroy();
    assert!(matches!(ctx.stats(&t), Err(Error::DeviceLost { .. })));
    assert!(matches!(ctx.upload(&[1.0]), Err(Error::DeviceLost { .. })));
    assert!(matches!(t.to_vec(), Err(Error::DeviceLost { .. })));
}

#[test]
fn a_disabled_adapter_runs_everything_on_the_cpu_or_errors_when_required() {
    let config = || ContextConfig::default().adapter(AdapterPolicy::Disabled);
    assert!(matches!(
        GpuContext::new(config()),
        Err(Error::NoAdapter { .. })
    ));
    let required = Executor::new(
        ExecutorConfig::default()
            .context(config())
            .require_gpu(true),
    );
    assert!(matches!(required, Err(Error::NoAdapter { .. })));
    let forced = Executor::new(
        ExecutorConfig::default()
            .context(config())
            .placement(Placement::Gpu),
    );
    assert!(matches!(forced, Err(Error::NoAdapter { .. })));
    let executor = Executor::new(ExecutorConfig::default().context(config())).unwrap();
    assert!(executor.gpu().is_none());
    check_cpu_results(&executor);
}

/// Every operation answers correctly without a GPU.
#[allow(clippy::unwrap_used)] // a test helper: its failure is the calling test's
fn check_cpu_results(executor: &Executor) {
    let x: Vec<f32> = (0..1000).map(|i| (i % 100) as f32).collect();
    let stats = executor.stats(&x).unwrap();
    assert_eq!(stats.report.device, novacron_gpu_compute::Device::Cpu);
    assert!(stats.report.predicted_gpu.is_none());
    assert_eq!(
        (stats.value.count, stats.value.sum, stats.value.max),
        (1000, 49_500.0, 99.0)
    );
    let hist = executor
        .histogram(&x, &HistogramSpec::new(0.0, 100.0, 4).unwrap())
        .unwrap();
    assert_eq!(hist.value.counts, vec![250; 4]);
    let sorted = executor.sort(&x).unwrap().value;
    assert!(sorted.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(
        executor.percentiles(&x, &[0.0, 1.0]).unwrap().value,
        vec![0.0, 99.0]
    );
    assert_eq!(
        executor
            .matmul(&[1.0, 2.0], &[3.0, 4.0], (1, 2, 1))
            .unwrap()
            .value,
        vec![11.0]
    );
    assert_eq!(executor.axpy(2.0, &[1.0], &[1.0]).unwrap().value, vec![3.0]);
}

const CHILD: &str = "NOVACRON_GPU_TEST_CHILD";

#[test]
fn with_the_adapter_hidden_from_the_process_every_operation_still_works_on_the_cpu() {
    if std::env::var(CHILD).is_ok() {
        // The child: Vulkan points at a driver manifest that does not exist
        // and the other backends are off, so wgpu finds no adapter at all.
        let ctx = GpuContext::new(ContextConfig::default().adapter(AdapterPolicy::AllowSoftware));
        assert!(matches!(ctx, Err(Error::NoAdapter { .. })), "{ctx:?}");
        let executor = Executor::new(ExecutorConfig::default()).unwrap();
        assert!(executor.gpu().is_none());
        check_cpu_results(&executor);
        return;
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "with_the_adapter_hidden_from_the_process_every_operation_still_works_on_the_cpu",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .env("WGPU_BACKEND", "vulkan")
        .env("VK_ICD_FILENAMES", "/nonexistent/icd.json")
        .env("VK_DRIVER_FILES", "/nonexistent/icd.json")
        .env("NOVACRON_GPU", "software")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed:\n{text}");
    assert!(text.contains("1 passed"), "the child ran no test:\n{text}");
}

#[test]
fn an_unknown_novacron_gpu_value_is_an_error_from_the_constructor() {
    if std::env::var(CHILD).is_ok() {
        let err = GpuContext::new(ContextConfig::default()).unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidArgument {
                    what: "NOVACRON_GPU",
                    ..
                }
            ),
            "{err}"
        );
        return;
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "an_unknown_novacron_gpu_value_is_an_error_from_the_constructor",
        ])
        .env(CHILD, "1")
        .env("NOVACRON_GPU", "sometimes")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && text.contains("1 passed"),
        "{text}"
    );
}

#[test]
fn an_outer_product_too_large_to_allocate_is_refused_not_aborted() {
    let Some((_, cpu)) = common::both() else {
        return;
    };
    let huge = vec![1.0f32; 1 << 20];
    let err = cpu.matmul(&huge, &huge, (1 << 20, 1, 1 << 20)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::TooLarge {
                what: "matmul output",
                ..
            }
        ),
        "{err}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any bit pattern as a range: a valid spec or InvalidArgument, and a
    /// valid one classifies every value somewhere.
    #[test]
    fn histogram_specs_from_any_bits_are_valid_or_refused(lo in any::<u32>(), hi in any::<u32>(), bins in any::<u32>(),
                                                         values in proptest::collection::vec(any::<u32>(), 1..50)) {
        let (lo, hi) = (f32::from_bits(lo), f32::from_bits(hi));
        match HistogramSpec::new(lo, hi, bins) {
            Err(e) => prop_assert!(matches!(e, Error::InvalidArgument { .. }), "{}", e),
            Ok(spec) => {
                let Some((_, cpu)) = common::both() else { return Ok(()) };
                let values: Vec<f32> = values.into_iter().map(f32::from_bits).collect();
                let h = cpu.histogram(&values, &spec).unwrap().value;
                prop_assert_eq!(h.total(), values.len() as u64);
                prop_assert_eq!(h.counts.len(), spec.bins() as usize);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Extreme values through every host entry point: results or typed
    /// errors, the two sides agreeing where the kernels are exact.
    #[test]
    fn extreme_values_never_panic_and_exact_kernels_agree(
        values in proptest::collection::vec(prop_oneof![
            Just(0.0f32), Just(-0.0), Just(f32::MAX), Just(f32::MIN), Just(f32::MIN_POSITIVE),
            Just(f32::INFINITY), Just(f32::NEG_INFINITY), Just(f32::NAN), -1e6f32..1e6,
        ], 1..600),
        lo in -1e3f32..1e3, width in 1e-3f32..1e4, bins in 1u32..300,
    ) {
        let Some((gpu, cpu)) = common::both() else { return Ok(()) };
        let spec = HistogramSpec::new(lo, lo + width, bins).unwrap();
        prop_assert_eq!(gpu.histogram(&values, &spec).unwrap().value, cpu.histogram(&values, &spec).unwrap().value);
        let bits = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect::<Vec<_>>();
        prop_assert_eq!(bits(gpu.sort(&values).unwrap().value), bits(cpu.sort(&values).unwrap().value));
        let (g, c) = (gpu.stats(&values).unwrap().value, cpu.stats(&values).unwrap().value);
        prop_assert_eq!((g.count, g.nan_count), (c.count, c.nan_count));
        prop_assert!(g.min == c.min || (g.min.is_nan() && c.min.is_nan()));
        prop_assert!(g.max == c.max || (g.max.is_nan() && c.max.is_nan()));
        // NaN (only from −inf next to +inf) compares by NaN-ness, not by ==.
        let same = |v: Vec<f64>| v.into_iter().map(|x| if x.is_nan() { None } else { Some(x) }).collect::<Vec<_>>();
        prop_assert_eq!(
            gpu.percentiles(&values, &[0.5]).map(|e| same(e.value)),
            cpu.percentiles(&values, &[0.5]).map(|e| same(e.value))
        );
        let n = values.len();
        prop_assert!(gpu.matmul(&values, &values, (1, n, 1)).is_ok());
        prop_assert!(cpu.axpy(f32::MAX, &values, &values).is_ok());
    }
}
