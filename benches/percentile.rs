//! Criterion suite of novacron-percentile against its baselines and peers,
//! all in the same groups and the same run:
//!
//! - `quantiles/{novacron, novacron_parallel, sort_baseline,
//!   select_nth_repeated, bubble_baseline}/{n}`: p50, p90, p95, p99 of `n`
//!   uniform f64 (the seed's workload); numpy on the same data is timed by
//!   `benches/scripts/numpy_percentile.py`.
//! - `sketch_insert/{novacron_ddsketch, sketches_ddsketch, tdigest,
//!   hdrhistogram, novacron_kll}/1000000`: building a sketch of 1e6 lognormal values.
//! - `sketch_merge/{...}/16`: merging 16 sketches of 62 500 values each.
//!
//! Sketch memory and p50/p99/p99.9 error are printed by
//! `cargo run --release --example sketch_accuracy`.
//!
//! Run: `cargo bench --bench percentile` (add `-- quantiles` to run one group).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use novacron_percentile::{Config, DDSketch, KllSketch, Method, Percentiles};
use rand::SeedableRng;
use rand_distr::{Distribution, LogNormal};

const QS: [f64; 4] = [0.5, 0.9, 0.95, 0.99];

/// splitmix64 → uniform f64 in [-300, 700): the same values as the numpy script.
fn uniform(n: usize, seed: u64) -> Vec<f64> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (z >> 11) as f64 * 2f64.powi(-53) * 1000.0 - 300.0
        })
        .collect()
}

/// numpy's `linear` pick on sorted data.
fn pick_linear(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (h - lo as f64)
}

/// The seed's aggregator: bubble sort a copy, then interpolate.
fn bubble_baseline(data: &[f64], buf: &mut Vec<f64>) -> [f64; 4] {
    buf.clear();
    buf.extend_from_slice(data);
    let n = buf.len();
    for i in 0..n {
        let mut swapped = false;
        for j in 0..n - 1 - i {
            if buf[j] > buf[j + 1] {
                buf.swap(j, j + 1);
                swapped = true;
            }
        }
        if !swapped {
            break;
        }
    }
    QS.map(|q| pick_linear(buf, q))
}

/// Sort a copy (into a reused buffer), then interpolate.
fn sort_baseline(data: &[f64], buf: &mut Vec<f64>) -> [f64; 4] {
    buf.clear();
    buf.extend_from_slice(data);
    buf.sort_unstable_by(f64::total_cmp);
    QS.map(|q| pick_linear(buf, q))
}

/// Copy, then one `select_nth_unstable` per needed rank over the whole slice.
fn select_nth_repeated(data: &[f64], buf: &mut Vec<f64>) -> [f64; 4] {
    buf.clear();
    buf.extend_from_slice(data);
    let n = buf.len();
    QS.map(|q| {
        let h = (n - 1) as f64 * q;
        let lo = h.floor() as usize;
        let (_, &mut a, right) = buf.select_nth_unstable_by(lo, f64::total_cmp);
        // The next order statistic is the smallest value right of the pivot.
        let b = if lo + 1 < n {
            right.iter().copied().fold(f64::INFINITY, f64::min)
        } else {
            a
        };
        a + (b - a) * (h - lo as f64)
    })
}

fn quantiles(c: &mut Criterion) {
    let mut group = c.benchmark_group("quantiles");
    group.sample_size(10);
    for &n in &[1_000usize, 10_000, 100_000, 1_000_000, 10_000_000] {
        let data = uniform(n, 42);
        group.throughput(Throughput::Elements(n as u64));
        let mut seq = Percentiles::with_config(Config::new().parallel_threshold(usize::MAX));
        group.bench_with_input(BenchmarkId::new("novacron", n), &data, |b, d| {
            b.iter(|| {
                seq.quantiles(black_box(d), &QS, Method::Linear)
                    .expect("quantiles")
            })
        });
        let mut par = Percentiles::with_config(Config::new().parallel_threshold(0));
        group.bench_with_input(BenchmarkId::new("novacron_parallel", n), &data, |b, d| {
            b.iter(|| {
                par.quantiles(black_box(d), &QS, Method::Linear)
                    .expect("quantiles")
            })
        });
        let mut buf = Vec::with_capacity(n);
        group.bench_with_input(BenchmarkId::new("sort_baseline", n), &data, |b, d| {
            b.iter(|| sort_baseline(black_box(d), &mut buf))
        });
        group.bench_with_input(BenchmarkId::new("select_nth_repeated", n), &data, |b, d| {
            b.iter(|| select_nth_repeated(black_box(d), &mut buf))
        });
        if n <= 10_000 {
            group.bench_with_input(BenchmarkId::new("bubble_baseline", n), &data, |b, d| {
                b.iter(|| bubble_baseline(black_box(d), &mut buf))
            });
        }
    }
    group.finish();
}

fn lognormal(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(seed);
    let dist = LogNormal::new(3.0, 1.2).expect("lognormal");
    (0..n).map(|_| dist.sample(&mut rng)).collect()
}

fn sketch_insert(c: &mut Criterion) {
    let n = 1_000_000;
    let data = lognormal(n, 5);
    let mut group = c.benchmark_group("sketch_insert");
    group.sample_size(10);
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(BenchmarkId::new("novacron_ddsketch", n), |b| {
        b.iter(|| {
            let mut s = DDSketch::new(0.01).expect("alpha");
            s.insert_many(black_box(&data));
            s
        })
    });
    group.bench_function(BenchmarkId::new("novacron_ddsketch_one_by_one", n), |b| {
        b.iter(|| {
            let mut s = DDSketch::new(0.01).expect("alpha");
            for &x in black_box(&data) {
                s.insert(x);
            }
            s
        })
    });
    group.bench_function(BenchmarkId::new("sketches_ddsketch", n), |b| {
        b.iter(|| {
            let mut s =
                sketches_ddsketch::DDSketch::new(sketches_ddsketch::Config::new(0.01, 4096, 1e-9));
            for &x in black_box(&data) {
                s.add(x);
            }
            s
        })
    });
    group.bench_function(BenchmarkId::new("tdigest", n), |b| {
        b.iter(|| {
            let mut t = tdigest::TDigest::new_with_size(100);
            for chunk in black_box(&data).chunks(4096) {
                t = t.merge_unsorted(chunk.to_vec());
            }
            t
        })
    });
    group.bench_function(BenchmarkId::new("hdrhistogram", n), |b| {
        b.iter(|| {
            let mut h = hdrhistogram::Histogram::<u64>::new(3).expect("sigfig");
            for &x in black_box(&data) {
                h.record((x * 1e3) as u64).expect("record");
            }
            h
        })
    });
    group.bench_function(BenchmarkId::new("novacron_kll", n), |b| {
        b.iter(|| {
            let mut s = KllSketch::new(200).expect("k");
            s.insert_many(black_box(&data));
            s
        })
    });
    group.finish();
}

fn sketch_merge(c: &mut Criterion) {
    let parts: Vec<Vec<f64>> = (0..16).map(|i| lognormal(62_500, 100 + i)).collect();
    let ours: Vec<DDSketch> = parts
        .iter()
        .map(|p| {
            let mut s = DDSketch::new(0.01).expect("alpha");
            s.insert_many(p);
            s
        })
        .collect();
    let theirs: Vec<sketches_ddsketch::DDSketch> = parts
        .iter()
        .map(|p| {
            let mut s =
                sketches_ddsketch::DDSketch::new(sketches_ddsketch::Config::new(0.01, 4096, 1e-9));
            p.iter().for_each(|&x| s.add(x));
            s
        })
        .collect();
    let digests: Vec<tdigest::TDigest> = parts
        .iter()
        .map(|p| tdigest::TDigest::new_with_size(100).merge_unsorted(p.clone()))
        .collect();
    let histograms: Vec<hdrhistogram::Histogram<u64>> = parts
        .iter()
        .map(|p| {
            let mut h = hdrhistogram::Histogram::<u64>::new(3).expect("sigfig");
            p.iter()
                .for_each(|&x| h.record((x * 1e3) as u64).expect("record"));
            h
        })
        .collect();
    let klls: Vec<KllSketch> = parts
        .iter()
        .map(|p| {
            let mut s = KllSketch::new(200).expect("k");
            s.insert_many(p);
            s
        })
        .collect();

    let mut group = c.benchmark_group("sketch_merge");
    group.throughput(Throughput::Elements(16));
    group.bench_function(BenchmarkId::new("novacron_ddsketch", 16), |b| {
        b.iter(|| {
            let mut m = DDSketch::new(0.01).expect("alpha");
            for s in black_box(&ours) {
                m.merge(s).expect("merge");
            }
            m
        })
    });
    group.bench_function(BenchmarkId::new("sketches_ddsketch", 16), |b| {
        b.iter(|| {
            let mut m =
                sketches_ddsketch::DDSketch::new(sketches_ddsketch::Config::new(0.01, 4096, 1e-9));
            for s in black_box(&theirs) {
                m.merge(s).expect("merge");
            }
            m
        })
    });
    group.bench_function(BenchmarkId::new("tdigest", 16), |b| {
        b.iter(|| tdigest::TDigest::merge_digests(black_box(&digests).clone()))
    });
    group.bench_function(BenchmarkId::new("hdrhistogram", 16), |b| {
        b.iter(|| {
            let mut m = hdrhistogram::Histogram::<u64>::new(3).expect("sigfig");
            for h in black_box(&histograms) {
                m.add(h).expect("add");
            }
            m
        })
    });
    group.bench_function(BenchmarkId::new("novacron_kll", 16), |b| {
        b.iter(|| {
            let mut m = KllSketch::new(200).expect("k");
            for s in black_box(&klls) {
                m.merge(s).expect("merge");
            }
            m
        })
    });
    group.finish();
}

criterion_group!(benches, quantiles, sketch_insert, sketch_merge);
criterion_main!(benches);
