//! Every method equals `numpy.quantile` on committed fixtures
//! (tests/fixtures/gen_numpy_fixtures.py), on every path.

mod common;

use novacron_percentile::{Config, Method, Percentiles};

#[derive(Debug)]
struct Case {
    kind: String,
    n: usize,
    seed: u64,
    expected: Vec<(Method, Vec<f64>)>,
}

fn load() -> (Vec<f64>, Vec<Case>) {
    let text = include_str!("fixtures/numpy_quantiles.json");
    let v: serde_json::Value = serde_json::from_str(text).expect("fixture JSON");
    let qs: Vec<f64> = v["qs"]
        .as_array()
        .expect("qs")
        .iter()
        .map(|x| x.as_f64().expect("q"))
        .collect();
    let cases = v["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| {
            let expected = Method::ALL
                .iter()
                .map(|&m| {
                    let vals = c["expected"][m.name()]
                        .as_array()
                        .unwrap_or_else(|| panic!("method {m} missing"))
                        .iter()
                        .map(|x| x.as_f64().expect("value"))
                        .collect();
                    (m, vals)
                })
                .collect();
            Case {
                kind: c["kind"].as_str().expect("kind").to_owned(),
                n: c["n"].as_u64().expect("n") as usize,
                seed: c["seed"].as_u64().expect("seed"),
                expected,
            }
        })
        .collect();
    (qs, cases)
}

fn assert_close(got: &[f64], want: &[f64], what: &str) {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let err = common::rel_err(*g, *w);
        assert!(
            err <= 1e-12,
            "{what}: q#{i} got {g} want {w} (rel err {err:e})"
        );
    }
}

/// Every configuration we ship must agree: copy + select, in place,
/// sample-bracket (forced on small inputs too), forced sort, forced parallel.
fn engines() -> Vec<(&'static str, Config)> {
    vec![
        ("default", Config::new()),
        (
            "bracket_everywhere",
            Config::new()
                .bracket_threshold(0)
                .parallel_threshold(usize::MAX),
        ),
        (
            "always_sort",
            Config::new()
                .sort_threshold(1)
                .bracket_threshold(usize::MAX),
        ),
        (
            "parallel_everywhere",
            Config::new().bracket_threshold(0).parallel_threshold(0),
        ),
    ]
}

#[test]
fn every_method_matches_numpy_on_float_fixtures_on_every_path() {
    let (qs, cases) = load();
    let mut checked = 0;
    for case in cases.iter().filter(|c| c.kind != "int64") {
        let data = common::dataset_f64(&case.kind, case.n, case.seed);
        for (label, config) in engines() {
            let mut engine = Percentiles::with_config(config);
            for (method, want) in &case.expected {
                let what = format!("{label} {} n={} {method}", case.kind, case.n);
                let got = engine
                    .quantiles(&data, &qs, *method)
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_close(&got, want, &what);
                let mut copy = data.clone();
                let got = engine
                    .quantiles_in_place(&mut copy, &qs, *method)
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_close(&got, want, &format!("{what} in place"));
                checked += 1;
            }
        }
    }
    assert!(checked > 1000, "too few fixture checks ran: {checked}");
}

#[test]
fn every_method_matches_numpy_on_integer_fixtures() {
    let (qs, cases) = load();
    for case in cases.iter().filter(|c| c.kind == "int64") {
        let data = common::dataset_i64(case.n, case.seed);
        for (label, config) in engines() {
            let mut engine = Percentiles::<i64>::with_config(config);
            for (method, want) in &case.expected {
                let what = format!("{label} int64 n={} {method}", case.n);
                let got = engine
                    .quantiles(&data, &qs, *method)
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_close(&got, want, &what);
            }
        }
    }
}

#[test]
fn percent_api_matches_fraction_api_on_fixtures() {
    let (qs, cases) = load();
    // Only fractions that survive `q * 100 / 100` unchanged: elsewhere the
    // percent API sees a different fraction, exactly as numpy.percentile does.
    let (qs, idx): (Vec<f64>, Vec<usize>) = qs
        .iter()
        .enumerate()
        .filter(|(_, q)| **q * 100.0 / 100.0 == **q)
        .map(|(i, q)| (*q, i))
        .unzip();
    assert!(qs.len() >= 8);
    let ps: Vec<f64> = qs.iter().map(|q| q * 100.0).collect();
    let case = cases
        .iter()
        .find(|c| c.kind == "uniform" && c.n == 1001)
        .expect("uniform 1001 case");
    let data = common::dataset_f64(&case.kind, case.n, case.seed);
    let mut engine = Percentiles::new();
    for (method, want) in &case.expected {
        let got = engine
            .percentiles(&data, &ps, *method)
            .expect("percentiles");
        let want: Vec<f64> = idx.iter().map(|&i| want[i]).collect();
        assert_close(&got, &want, &format!("percent {method}"));
    }
}
