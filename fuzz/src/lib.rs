//! The bodies of the fuzz targets, as plain functions so that the committed
//! corpus and fixed crashes replay as ordinary tests (`tests/replay.rs`).

use novacron_percentile::{
    Config, DDSketch, KllSketch, Method, NanPolicy, Percentiles, weighted_quantiles,
};

/// A size of any magnitude from the first bytes: the first byte picks how
/// many of the next eight count, so 0, small values, 2^k edges and
/// `usize::MAX` are all reachable.
fn wide_size(bytes: &[u8]) -> usize {
    let Some((&shift, rest)) = bytes.split_first() else {
        return 0;
    };
    let mut raw = [0u8; 8];
    for (r, b) in raw.iter_mut().zip(rest) {
        *r = *b;
    }
    let v = u64::from_le_bytes(raw) >> (shift % 64);
    usize::try_from(v).unwrap_or(usize::MAX)
}

/// Reads little-endian f64s from the bytes.
fn floats(bytes: &[u8]) -> Vec<f64> {
    bytes
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
        .collect()
}

/// Exact quantiles on arbitrary floats, fractions, methods and NaN policies:
/// never panics, and every path (copy, in place, bracket, parallel, sort)
/// returns the same bits.
pub fn percentile_exact(data: &[u8]) {
    if data.len() < 4 {
        return;
    }
    let method = Method::ALL[usize::from(data[0]) % Method::ALL.len()];
    let policy =
        [NanPolicy::Error, NanPolicy::Omit, NanPolicy::Propagate][usize::from(data[1]) % 3];
    let n_qs = usize::from(data[2] % 8);
    let rest = &data[3..];
    let (q_bytes, value_bytes) = rest.split_at((n_qs * 8).min(rest.len()));
    // Half the fractions are used raw (NaN, huge, negative), half folded into [0, 1].
    let qs: Vec<f64> = floats(q_bytes)
        .into_iter()
        .enumerate()
        .map(|(i, q)| {
            if i % 2 == 0 || !q.is_finite() {
                q
            } else {
                q.abs().fract()
            }
        })
        .collect();
    let values = floats(value_bytes);

    let configs = [
        Config::new(),
        Config::new()
            .bracket_threshold(0)
            .parallel_threshold(usize::MAX)
            .seed(u64::from(data[0])),
        Config::new().bracket_threshold(0).parallel_threshold(0),
        Config::new().sort_threshold(1),
    ];
    let mut first: Option<Result<Vec<u64>, _>> = None;
    for config in configs {
        let mut engine = Percentiles::with_config(config.nan_policy(policy));
        // Compare bits and error messages: NaN inside an error is never == itself.
        let bits = |r: Result<Vec<f64>, novacron_percentile::Error>| {
            r.map(|v| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>())
                .map_err(|e| e.to_string())
        };
        let got = bits(engine.quantiles(&values, &qs, method));
        let mut copy = values.clone();
        let in_place = bits(engine.quantiles_in_place(&mut copy, &qs, method));
        assert_eq!(got, in_place, "in place disagrees");
        match &first {
            None => first = Some(got),
            Some(f) => assert_eq!(f, &got, "paths disagree"),
        }
    }
    let ps: Vec<f64> = qs.iter().map(|q| q * 100.0).collect();
    let _ = Percentiles::<f64>::new().percentiles(&values, &ps, method);
    let ints: Vec<i64> = values.iter().map(|&x| x as i64).collect();
    let _ = Percentiles::<i64>::new().quantiles(&ints, &qs, method);
    let weights: Vec<f64> = values.iter().map(|x| x.abs() % 7.0).collect();
    let _ = weighted_quantiles(&values, &weights, &qs, policy);
}

/// Sketches fed arbitrary values, merged and queried with arbitrary
/// fractions, and deserialized from arbitrary JSON: never panics.
pub fn percentile_sketch(data: &[u8]) {
    if let Ok(s) = serde_json::from_slice::<DDSketch>(data) {
        let _ = s.quantiles(&[0.0, 0.5, 1.0]);
        let mut t = s.clone();
        let _ = t.merge(&s);
        t.insert(1.0);
    }
    if let Ok(s) = serde_json::from_slice::<KllSketch>(data) {
        let _ = s.quantiles(&[0.0, 0.5, 1.0]);
        let mut t = s.clone();
        let _ = t.merge(&s);
        t.insert(1.0);
    }
    if data.len() < 2 {
        return;
    }
    let alpha = f64::from(data[0]) / 256.0;
    // Any bucket limit and reservoir size, huge ones included (the
    // constructors must refuse or stay lazy, never allocate them).
    let max_buckets = wide_size(data);
    let values = floats(&data[2..]);
    let _ = DDSketch::with_max_buckets(f64::from_bits(wide_size(&data[1..]) as u64), max_buckets);
    if let Ok(mut r) = novacron_percentile::Reservoir::new(max_buckets, 1) {
        r.extend(values.iter().copied());
        let _ = r.estimate(&values);
    }
    let _ = novacron_percentile::sample_quantiles(&values, max_buckets, &[0.5, 0.99], 3);
    let max_buckets = if data[1] < 128 {
        16 + usize::from(data[1]) * 4
    } else {
        max_buckets
    };
    let (Ok(mut a), Ok(mut b)) = (
        DDSketch::with_max_buckets(alpha, max_buckets),
        DDSketch::with_max_buckets(alpha, max_buckets),
    ) else {
        return;
    };
    let half = values.len() / 2;
    a.insert_many(&values[..half]);
    for &x in &values[half..] {
        b.insert(x);
    }
    let qs: Vec<f64> = values.iter().take(4).copied().collect();
    let _ = a.quantiles(&qs);
    a.merge(&b).expect("same parameters merge");
    let _ = a.quantiles(&[0.0, 0.25, 0.5, 0.99, 1.0]);
    let _ = KllSketch::new(max_buckets);
    if let Ok(mut k) = KllSketch::new(8 + usize::from(data[1])) {
        k.insert_many(&values);
        let other = k.clone();
        k.merge(&other).expect("same k merges");
        let _ = k.quantiles(&qs);
        let _ = k.rank(0.0);
    }
}

/// Every float kernel on arbitrary slices (any bits: NaN, infinities,
/// subnormals) at every level the CPU supports: no panic, and the levels
/// agree exactly wherever no multiply-add is fused.
/// The level-independent part of a `Stats`: count and extremes (NaN as one
/// value, zeros without sign: which of 0.0 and -0.0 is the extreme depends
/// on the lane order). Sums may overflow differently per level (8 or 16
/// lanes), so an infinite sum on one level can be NaN on another.
fn stats_shape(s: &novacron_simd_kernels::Stats) -> (u64, Option<u64>, Option<u64>) {
    let canon = |v: f64| {
        if v.is_nan() {
            u64::MAX
        } else {
            (v + 0.0).to_bits()
        }
    };
    (s.count(), s.min().map(canon), s.max().map(canon))
}

pub fn simd_kernels(data: &[u8]) {
    use novacron_simd_kernels::{Kernels, Level};
    if data.is_empty() {
        return;
    }
    let split = usize::from(data[0]) % 8;
    let f32s: Vec<f32> = data[1..]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap_or([0; 4])))
        .collect();
    let f64s = floats(&data[1..]);
    let (a, b) = f32s.split_at(f32s.len() / 2);
    let b = &b[..a.len()];
    let x = &f32s[split.min(f32s.len())..];
    // Any bin count, up to usize::MAX (refused above MAX_BINS); one in
    // eight inputs keeps it small so that the counts themselves get tested.
    let bins = if data[0] % 8 == 0 {
        wide_size(&data[1..])
    } else {
        usize::from(data[0] % 64)
    };
    let (lo, hi) = (
        f64s.first().copied().unwrap_or(0.0),
        f64s.get(1).copied().unwrap_or(1.0),
    );
    // NaN payloads and signs legitimately differ between instruction sets
    // (which operand a NaN comes from); compare every NaN as one value.
    let canon32 = |v: f32| if v.is_nan() { u32::MAX } else { v.to_bits() };
    let canon64 = |v: f64| if v.is_nan() { u64::MAX } else { v.to_bits() };
    let bits = |v: Option<f32>| v.map(canon32);
    let mut reference = None;
    for level in Level::available() {
        let k = Kernels::new(level).expect("available level");
        let exact = (
            canon32(k.sum(x)),
            canon64(k.sum_accurate(x)),
            bits(k.min(x)),
            bits(k.max(x)),
            k.argmin(x),
            k.argmax(x),
            k.count_above(x, 0.5),
            k.count_below(&f64s, -0.5),
            k.histogram(x, lo, hi, bins).map_err(|e| e.to_string()),
            canon64(k.sum_accurate(&f64s)),
            // The extremes of the fused statistics do not depend on the
            // level (their sums may differ by rounding: see `Kernels::stats`).
            stats_shape(&k.stats(x)),
            stats_shape(&k.stats(&f64s)),
        );
        match &reference {
            None => reference = Some(exact),
            Some(r) => assert_eq!(r, &exact, "{level} disagrees"),
        }
        let _ = (
            k.dot(a, b),
            k.l1(a, b),
            k.l2(a, b),
            k.cosine_distance(a, b),
            k.dot(a, x),
        );
        let _ = (k.stats(x), k.stats(&f64s), k.par_stats(&f64s), k.par_sum(x));
        let mut y = b.to_vec();
        let _ = k.axpy(1.5, a, &mut y);
        let _ = k.add(a, &mut y);
        k.scale(-2.0, &mut y);
        let _ = k.clamp(&mut y, lo as f32, hi as f32);
        let _ = k.sum_int(&data.iter().map(|&v| i64::from(v)).collect::<Vec<_>>());
    }
}

/// The QUBO instance parsers on arbitrary bytes: never panic; whatever
/// parses writes back and re-reads to the same model, and its energy of the
/// all-zero state is computable or a typed error.
pub fn qubo_parsers(data: &[u8]) {
    use novacron_qubo_solver::{read_beasley, read_gset, read_sparse, write_beasley, write_gset, write_sparse};
    let Some((&selector, text)) = data.split_first() else {
        return;
    };
    match selector % 4 {
        0 => {
            if let Ok(models) = read_beasley(text) {
                let mut out = Vec::new();
                if write_beasley(&models, &mut out).is_ok() {
                    assert_eq!(read_beasley(out.as_slice()).ok(), Some(models));
                }
            }
        }
        1 => {
            if let Ok(graph) = read_gset(text) {
                let mut out = Vec::new();
                write_gset(&graph, &mut out).expect("writing to memory succeeds");
                assert_eq!(read_gset(out.as_slice()).ok(), Some(graph.clone()));
                if let Ok(bqm) = graph.to_bqm() {
                    let zeros = vec![0; bqm.num_variables()];
                    let _ = bqm.energy(&zeros);
                }
            }
        }
        2 => {
            if let Ok(bqm) = read_sparse::<f64>(text) {
                let mut out = Vec::new();
                write_sparse(&bqm, &mut out).expect("writing to memory succeeds");
                let back = read_sparse::<f64>(out.as_slice()).expect("written models re-read");
                assert_eq!(back.linear_biases(), bqm.linear_biases());
                let _ = bqm.to_ising();
            }
        }
        _ => {
            if let Ok(bqm) = read_sparse::<i64>(text) {
                let mut out = Vec::new();
                write_sparse(&bqm, &mut out).expect("writing to memory succeeds");
                let back = read_sparse::<i64>(out.as_slice()).expect("written models re-read");
                assert_eq!(back, bqm);
                let _ = bqm.to_ising().and_then(|m| m.to_qubo());
            }
        }
    }
}

/// Placement problems built from arbitrary bytes (demands, capacities,
/// costs, affinity and anti-affinity pairs, a start assignment): encoding,
/// first-fit decreasing, repair and `improve` never panic; `improve` of a
/// feasible placement stays feasible and never costs more.
pub fn qubo_placement(data: &[u8]) {
    use novacron_qubo_solver::{EncoderConfig, HostSpec, PlacementProblem, VmDemand};
    let mut bytes = data.iter().copied();
    let mut next = move || bytes.next().unwrap_or(0);
    // One input in 256 builds a fleet of thousands of VMs on 600 hosts: the
    // encoder must refuse it (TooLarge) before building ~10^10 terms.
    let big = next() == 255;
    let (n_vms, n_hosts, n_res) = if big {
        (2000 + usize::from(next()) * 20, 600, 2)
    } else {
        (
            usize::from(next() % 24),
            usize::from(next() % 9),
            usize::from(next() % 4),
        )
    };
    // Wide values now and then, to reach the saturating paths.
    let value = |next: &mut dyn FnMut() -> u8| match next() {
        255 => u64::MAX - u64::from(next()),
        b => u64::from(b % 32),
    };
    let vms: Vec<VmDemand> = (0..n_vms)
        .map(|_| VmDemand {
            demand: (0..n_res).map(|_| value(&mut next)).collect(),
        })
        .collect();
    let hosts: Vec<HostSpec> = (0..n_hosts)
        .map(|_| HostSpec {
            capacity: (0..n_res)
                .map(|_| value(&mut next).saturating_mul(2))
                .collect(),
            cost: f64::from(next()) / 16.0 - if next() == 7 { 100.0 } else { 0.0 },
        })
        .collect();
    let pairs = |next: &mut dyn FnMut() -> u8| -> Vec<(usize, usize)> {
        (0..next() % 4)
            .map(|_| (usize::from(next() % 12), usize::from(next() % 12)))
            .collect()
    };
    let affinity = pairs(&mut next);
    let anti_affinity = pairs(&mut next);
    let start: Vec<usize> = (0..n_vms).map(|_| usize::from(next() % 6)).collect();
    let p = PlacementProblem {
        vms,
        hosts,
        affinity,
        anti_affinity,
    };
    let feasible = |placement: &novacron_qubo_solver::Placement| {
        let host_of: Vec<Option<usize>> = placement.host_of.iter().map(|&h| Some(h)).collect();
        p.violations(&host_of).unwrap().is_empty()
    };
    if big {
        // A feasible fleet of that size: small VMs, roomy hosts.
        let p = PlacementProblem {
            vms: vec![
                VmDemand {
                    demand: vec![1, 1024]
                };
                n_vms
            ],
            hosts: vec![
                HostSpec {
                    capacity: vec![64, 524_288],
                    cost: 1.0,
                };
                n_hosts
            ],
            affinity: Vec::new(),
            anti_affinity: Vec::new(),
        };
        let err = p
            .encode(&EncoderConfig::default())
            .expect_err("too large to encode");
        assert!(
            matches!(err, novacron_qubo_solver::Error::TooLarge { .. }),
            "{err}"
        );
        return;
    }
    let _ = p.violations(&start.iter().map(|&h| Some(h)).collect::<Vec<_>>());
    let _ = p.objective(&p.placement(start.clone()), &EncoderConfig::default());
    let _ = p.improve(&p.placement(start.clone()));
    if let Ok(ffd) = p.first_fit_decreasing() {
        assert!(feasible(&ffd), "FFD returned an infeasible placement");
        let better = p.improve(&ffd).expect("improve of a feasible placement");
        assert!(feasible(&better), "improve broke a constraint: {better:?}");
        assert!(better.cost <= ffd.cost, "improve raised the cost");
        if let Ok(enc) = p.encode(&EncoderConfig::default()) {
            let host_of: Vec<Option<usize>> = start.iter().map(|&h| Some(h)).collect();
            let decoded = novacron_qubo_solver::Decoded {
                violations: p.violations(&host_of).unwrap(),
                host_of,
            };
            if let Ok(repaired) = enc.repair(&decoded) {
                assert!(
                    feasible(&repaired),
                    "repair returned an infeasible placement"
                );
                let better = p
                    .improve(&repaired)
                    .expect("improve of a repaired placement");
                assert!(better.cost <= repaired.cost && feasible(&better));
            }
        }
    }
}

/// The dashboard's public inputs on arbitrary bytes, against an in-memory
/// SQLite repository: page sizes of any magnitude, cursor text (valid,
/// edited and arbitrary), status filters, VM names of any length and
/// content. Every call returns `Ok` or a typed error; a valid cursor followed
/// page by page visits each VM once.
pub fn dashboard_cursor(data: &[u8]) {
    use novacron_dashboard_query::{Cursor, DashboardQuery, Error, NewVm};
    use std::cell::RefCell;

    struct Fixture {
        runtime: tokio::runtime::Runtime,
        repo: novacron_dashboard_query::DashboardRepository,
        org: i64,
        calls: u32,
    }
    fn fixture() -> Fixture {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let repo = runtime
            .block_on(novacron_dashboard_query::DashboardRepository::connect(
                "sqlite::memory:",
            ))
            .expect("in-memory SQLite");
        let org = runtime
            .block_on(repo.create_organization("fuzz"))
            .expect("organization");
        for k in 0..7 {
            let vm = NewVm {
                id: None,
                organization_id: org,
                name: format!("vm-{}", k % 4),
                status: if k % 2 == 0 { "running" } else { "stopped" }.into(),
                cpu_cores: 1,
                memory_mib: 512,
                created_at_ms: 0,
            };
            runtime.block_on(repo.create_vm(&vm)).expect("vm");
        }
        Fixture {
            runtime,
            repo,
            org,
            calls: 0,
        }
    }
    thread_local! {
        // Rebuilt every 4,096 inputs, so the VMs they add do not pile up.
        static FIXTURE: RefCell<Option<Fixture>> = const { RefCell::new(None) };
    }
    FIXTURE.with_borrow_mut(|slot| {
        if slot.as_ref().is_none_or(|f| f.calls >= 4096) {
            *slot = Some(fixture());
        }
        if let Some(f) = slot.as_mut() {
            f.calls += 1;
            dashboard_inputs(&f.runtime, &f.repo, f.org, data);
        }
    });

    fn dashboard_inputs(
        rt: &tokio::runtime::Runtime,
        repo: &novacron_dashboard_query::DashboardRepository,
        org: i64,
        data: &[u8],
    ) {
        let Some((&selector, rest)) = data.split_first() else {
            return;
        };
        let page_size = if selector % 2 == 0 {
            wide_size(rest)
        } else {
            usize::from(selector % 9)
        };
        let text = String::from_utf8_lossy(rest).into_owned();
        let status = match selector % 3 {
            0 => None,
            1 => Some("running".to_string()),
            _ => Some(text.chars().take(80).collect()),
        };
        let query = |cursor: Option<Cursor>| DashboardQuery::default().page_size(page_size).status(status.clone()).cursor(cursor).now_ms(Some(1_000));
        let typed = |e: &Error| !e.to_string().is_empty();
        // Arbitrary cursor text, and the same text as an organization id.
        if let Err(e) =
            rt.block_on(repo.dashboard(org, &query(Some(Cursor::from_string(text.clone())))))
        {
            assert!(typed(&e));
        }
        let other_org =
            i64::from_le_bytes(std::array::from_fn(|i| rest.get(i).copied().unwrap_or(0)));
        let _ = rt.block_on(repo.dashboard(other_org, &query(None)));
        // A VM named by the input (any length, any characters): created or refused.
        let named = NewVm {
            id: None,
            organization_id: org,
            name: text.clone(),
            status: "running".into(),
            cpu_cores: 1,
            memory_mib: 512,
            created_at_ms: 0,
        };
        let _ = rt.block_on(repo.create_vm(&named));
        // Follow real cursors; edit one byte of each and check it is refused.
        let mut cursor = None;
        let mut seen = std::collections::HashSet::new();
        for _ in 0..64 {
            let page = match rt.block_on(repo.dashboard(org, &query(cursor.clone()))) {
                Ok(page) => page,
                Err(e) => {
                    assert!(typed(&e));
                    return;
                }
            };
            for row in &page.rows {
                assert!(seen.insert(row.vm_id), "vm {} on two pages", row.vm_id);
            }
            let Some(next) = page.next_cursor else {
                return;
            };
            let mut edited = next.as_str().as_bytes().to_vec();
            let at = usize::from(selector) % edited.len();
            edited[at] = if edited[at] == b'A' { b'B' } else { b'A' };
            let edited = Cursor::from_string(String::from_utf8_lossy(&edited).into_owned());
            if edited != next {
                assert!(
                    rt.block_on(repo.dashboard(org, &query(Some(edited))))
                        .is_err()
                );
            }
            cursor = Some(next);
        }
    }
}

/// Arbitrary bytes as an ONNX model: loading is `Ok` or a typed error (never
/// a panic or an abort); a model that loads runs on zeros of its declared
/// shape, at a batch taken from the input, with `Ok` or a typed error.
#[cfg(feature = "ml")]
pub fn ml_loader(data: &[u8]) {
    use novacron_ml_inference::{Backpressure, Budget, Dim, Model, ModelOptions, ModelSource};
    // libfuzzer-sys aborts on every panic, even one the crate catches: tract
    // panics on crafted graphs (caught and returned as EnginePanic), so this
    // target keeps a quiet hook. A panic escaping the crate still unwinds
    // out of the target, which libfuzzer-sys turns into a crash.
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    let Ok(budget) = Budget::new(256 << 20) else {
        return;
    };
    let options = ModelOptions::default().batch_classes([1, 4]);
    let Ok(model) = Model::load(
        "fuzz",
        ModelSource::bytes(data.to_vec()),
        options,
        &budget,
        Backpressure::Fail,
    ) else {
        return;
    };
    let batch = usize::from(data.first().copied().unwrap_or(1) % 7) + 1;
    let inputs: Vec<ndarray::ArrayD<f32>> = model
        .inputs()
        .iter()
        .map(|s| {
            let shape: Vec<usize> = s
                .dims
                .iter()
                .map(|d| match d {
                    Dim::Batch => batch,
                    Dim::Fixed(n) => (*n).min(1 << 12),
                    _ => 2,
                })
                .collect();
            let n: usize = shape.iter().product();
            if n > 1 << 20 {
                ndarray::ArrayD::zeros(ndarray::IxDyn(&[0]))
            } else {
                ndarray::ArrayD::zeros(ndarray::IxDyn(&shape))
            }
        })
        .collect();
    let views: Vec<_> = inputs.iter().map(|a| a.view()).collect();
    let _ = model.run(&views);
}
