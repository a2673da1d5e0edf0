//! Instance readers and writers, and the OR-Library dev set at its best-known values.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

mod common;

use std::collections::BTreeMap;
use std::io::Cursor;
use std::time::Duration;

use common::{data_dir, random_f64, random_int, state};
use novacron_qubo_solver::{
    Bqm, Error, ParallelTempering, SimulatedAnnealing, TabuSearch, Vartype,
};
use novacron_qubo_solver::{
    MaxCut, read_beasley, read_gset, read_sparse, write_beasley, write_gset, write_sparse,
};
use proptest::prelude::*;

#[test]
fn beasley_off_diagonal_entries_count_twice() {
    // maximize 3 x1 + 2·(-4) x1 x2 + 5 x2: f(1,1) = 0, f(1,0) = 3, f(0,1) = 5.
    let text = "1\n2 3\n1 1 3\n1 2 -4\n2 2 5\n";
    let models = read_beasley(Cursor::new(text)).unwrap();
    let bqm = &models[0];
    assert_eq!(bqm.energy(&[1, 1]).unwrap(), 0);
    assert_eq!(bqm.energy(&[1, 0]).unwrap(), -3);
    assert_eq!(bqm.energy(&[0, 1]).unwrap(), -5);
    assert_eq!(bqm.quadratic(0, 1).unwrap(), Some(8));
    let mut out = Vec::new();
    write_beasley(&models, &mut out).unwrap();
    assert_eq!(read_beasley(Cursor::new(out)).unwrap(), models);
}

#[test]
fn beasley_errors_name_the_line() {
    let cases: [(&str, usize, &str); 6] = [
        ("1\n2 1\n1 3 5\n", 3, "outside 1..=2"),
        ("1\n2 1\n0 1 5\n", 3, "outside 1..=2"),
        ("1\n2 1\n1 2 x\n", 3, "found `x`"),
        ("1\n2 2\n1 2 5\n", 0, "end of input"),
        ("1\n2 1\n1 2 5\n7\n", 4, "trailing"),
        ("one\n", 1, "number of instances"),
    ];
    for (text, line, needle) in cases {
        let err = read_beasley(Cursor::new(text)).unwrap_err();
        match &err {
            Error::Parse { line: l, .. } => assert_eq!(*l, line, "{text:?}: {err}"),
            other => panic!("{text:?}: expected a parse error, got {other:?}"),
        }
        assert!(err.to_string().contains(needle), "{text:?}: {err}");
    }
    let dup = read_beasley(Cursor::new("1\n3 2\n1 2 5\n2 1 4\n")).unwrap_err();
    assert_eq!(
        dup,
        Error::DuplicateEntry {
            line: 4,
            i: 1,
            j: 0
        }
    );
    let huge = read_beasley(Cursor::new("1\n2 1\n1 2 9223372036854775807\n")).unwrap_err();
    assert!(matches!(huge, Error::Overflow { .. }));
}

#[test]
fn gset_cut_weight_is_minus_the_energy() {
    let text = "4 5\n1 2 1\n2 3 1\n3 4 -1\n4 1 2\n1 3 1\n";
    let graph = read_gset(Cursor::new(text)).unwrap();
    let bqm = graph.to_bqm().unwrap();
    for k in 0..16 {
        let side = state(k, 4, Vartype::Binary);
        assert_eq!(graph.cut_value(&side).unwrap(), -bqm.energy(&side).unwrap());
    }
    let mut out = Vec::new();
    write_gset(&graph, &mut out).unwrap();
    assert_eq!(read_gset(Cursor::new(out)).unwrap(), graph);
    assert!(matches!(
        read_gset(Cursor::new("2 1\n1 1 1\n")),
        Err(Error::Parse { line: 2, .. })
    ));
    assert!(matches!(
        read_gset(Cursor::new("3 2\n1 2 1\n2 1 1\n")),
        Err(Error::DuplicateEntry { line: 3, .. })
    ));
    assert!(matches!(
        read_gset(Cursor::new("3 2\n1 2 1\n")),
        Err(Error::Parse { line: 0, .. })
    ));
    assert!(matches!(
        graph.cut_value(&[0, 1]),
        Err(Error::InvalidState { .. })
    ));
}

proptest! {
    #[test]
    fn sparse_format_round_trips(n in 0usize..20, density in 0.0f64..1.0, seed: u64, spin: bool) {
        let vartype = if spin { Vartype::Spin } else { Vartype::Binary };
        let ints = random_int(n, density, vartype, seed);
        let mut out = Vec::new();
        write_sparse(&ints, &mut out).unwrap();
        let back: Bqm<i64> = read_sparse(Cursor::new(out)).unwrap();
        for k in 0..(1u64 << n.min(8)) {
            let s = state(k, n, vartype);
            prop_assert_eq!(back.energy(&s).unwrap(), ints.energy(&s).unwrap());
        }
        let floats = random_f64(n, density, vartype, seed);
        let mut out = Vec::new();
        write_sparse(&floats, &mut out).unwrap();
        let back: Bqm<f64> = read_sparse(Cursor::new(out)).unwrap();
        prop_assert_eq!(back.linear_biases(), floats.linear_biases());
        prop_assert_eq!(back.interactions().collect::<Vec<_>>(), floats.interactions().collect::<Vec<_>>());
        prop_assert_eq!(back.offset(), floats.offset());
    }

    #[test]
    fn parsers_never_panic_on_arbitrary_text(text in "[0-9 \\-\\n#a-z.]{0,200}") {
        let _ = read_beasley(Cursor::new(text.as_bytes()));
        let _ = read_gset(Cursor::new(text.as_bytes()));
        let _ = read_sparse::<f64>(Cursor::new(text.as_bytes()));
        let _ = read_sparse::<i64>(Cursor::new(text.as_bytes()));
    }
}

#[test]
fn sparse_format_errors() {
    let parse = |t: &str| read_sparse::<f64>(Cursor::new(t)).unwrap_err();
    assert!(matches!(parse("qubo 3\n"), Error::Parse { line: 1, .. }));
    assert!(matches!(
        parse("binary 2\n0 2 1.0\n"),
        Error::Parse { line: 2, .. }
    ));
    assert!(matches!(
        parse("binary 2\n0 1 nan\n"),
        Error::Parse { line: 2, .. }
    ));
    assert!(matches!(
        parse("binary 2\n0 1 inf\n"),
        Error::Parse { line: 2, .. }
    ));
    assert!(matches!(
        parse("binary 2\n0 1 1\n1 0 2\n"),
        Error::DuplicateEntry { line: 3, .. }
    ));
    assert!(matches!(
        parse("# only a comment\n"),
        Error::Parse { line: 0, .. }
    ));
    assert!(matches!(
        parse("spin 2\noffset 1\noffset 2\n"),
        Error::Parse { line: 3, .. }
    ));
    assert!(matches!(
        read_sparse::<i64>(Cursor::new("binary 2\n0 1 1.5\n")),
        Err(Error::Parse { line: 2, .. })
    ));
    let ok: Bqm<f64> = read_sparse(Cursor::new(
        "spin 2 # two spins\noffset -1\n0 0 0.5\n0 1 -1\n",
    ))
    .unwrap();
    assert_eq!(ok.energy(&[1, 1]).unwrap(), -1.0 + 0.5 - 1.0);
}

#[test]
fn io_errors_carry_the_cause() {
    struct Broken;
    impl std::io::Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
    }
    let err = read_gset(std::io::BufReader::new(Broken)).unwrap_err();
    assert!(
        matches!(&err, Error::Io(e) if e.message().contains("disk on fire")),
        "{err}"
    );
    // The original error is kept as the source.
    let source = std::error::Error::source(&err).expect("an I/O source");
    assert_eq!(source.to_string(), "disk on fire");
}

fn best_known() -> BTreeMap<String, i64> {
    let text = std::fs::read_to_string(data_dir().join("best_known.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let mut f = l.split(',');
            (
                f.next().unwrap().to_string(),
                f.next().unwrap().parse().unwrap(),
            )
        })
        .collect()
}

fn dev_set() -> Vec<(String, Bqm<i64>)> {
    let mut out = Vec::new();
    for stem in ["bqp50", "bqp100", "bqp250"] {
        let file = std::fs::File::open(data_dir().join(format!("{stem}.txt"))).unwrap();
        for (k, bqm) in read_beasley(std::io::BufReader::new(file))
            .unwrap()
            .into_iter()
            .enumerate()
        {
            out.push((format!("{stem}-{}", k + 1), bqm));
        }
    }
    out
}

#[test]
fn every_solver_reaches_every_or_library_best_known_value() {
    let known = best_known();
    let instances = dev_set();
    assert_eq!(instances.len(), 30);
    for (name, bqm) in &instances {
        let value = known[name];
        let target = -value as f64;
        let limit = Duration::from_secs(10);
        let sets = [
            SimulatedAnnealing::new()
                .seed(1)
                .num_reads(64)
                .energy_target(target)
                .time_limit(limit)
                .sample(bqm)
                .unwrap(),
            TabuSearch::new()
                .seed(1)
                .num_reads(2)
                .iterations(u64::MAX)
                .energy_target(target)
                .time_limit(limit)
                .sample(bqm)
                .unwrap(),
            ParallelTempering::new()
                .seed(1)
                .num_reads(8)
                .energy_target(target)
                .time_limit(limit)
                .sample(bqm)
                .unwrap(),
        ];
        for set in sets {
            assert_eq!(
                -set.first().unwrap().energy,
                value,
                "{name} with {}",
                set.info().solver
            );
        }
    }
}

#[test]
fn max_cut_helper_matches_the_model() {
    let graph = MaxCut {
        num_vertices: 3,
        edges: vec![(0, 1, 2), (1, 2, 3)],
    };
    let set = TabuSearch::new()
        .seed(1)
        .sample(&graph.to_bqm().unwrap())
        .unwrap();
    assert_eq!(graph.cut_value(&set.first().unwrap().state).unwrap(), 5);
}
