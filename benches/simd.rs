//! Criterion suite of novacron-simd-kernels: every dispatch level the CPU
//! supports beside the naive scalar loop and ndarray, in the same groups,
//! at 4 KiB (L1), 256 KiB (L2), 4 MiB (last-level cache) and 256 MiB (DRAM)
//! of input per slice, with `Throughput::Bytes` (bytes of all inputs read).
//!
//! `stream_read/{u64x8, u64x8_4streams, u64x8_prefetch}/<bytes>` are
//! STREAM-style read kernels (integer sums with independent accumulators; one
//! stream, four streams at once, one stream with a software prefetch)
//! measuring this machine's read bandwidth in the same run: the ceiling a
//! kernel's "% of bandwidth" divides by is the fastest of them and of our own
//! kernels at that size. numpy and simsimd are timed on the same sizes by
//! `benches/scripts/numpy_simd.py`, which alternates them with our kernels.
//!
//! Run: `cargo bench --bench simd` (add `-- sum_f32` to run one group).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ndarray::ArrayView1;
use novacron_simd_kernels::{Kernels, Level};

const SIZES_BYTES: [usize; 4] = [4 << 10, 256 << 10, 4 << 20, 256 << 20];

fn levels() -> Vec<Kernels> {
    Level::available()
        .into_iter()
        .filter_map(|l| Kernels::new(l).ok())
        .collect()
}

fn f32_data(n: usize, seed: u32) -> Vec<f32> {
    (0..n as u32)
        .map(|i| ((i.wrapping_mul(2_654_435_761).wrapping_add(seed)) >> 8) as f32 * 1e-4 - 500.0)
        .collect()
}

fn label(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{}MiB", bytes >> 20)
    } else {
        format!("{}KiB", bytes >> 10)
    }
}

fn sum_f32(c: &mut Criterion) {
    let mut group = c.benchmark_group("sum_f32");
    group.sample_size(10);
    for &bytes in &SIZES_BYTES {
        let x = f32_data(bytes / 4, 1);
        let id = label(bytes);
        group.throughput(Throughput::Bytes(bytes as u64));
        for k in levels() {
            group.bench_with_input(
                BenchmarkId::new(format!("novacron_{}", k.level()), &id),
                &x,
                |b, x| b.iter(|| k.sum(black_box(x))),
            );
            group.bench_with_input(
                BenchmarkId::new(format!("novacron_accurate_{}", k.level()), &id),
                &x,
                |b, x| b.iter(|| k.sum_accurate(black_box(x))),
            );
        }
        group.bench_with_input(BenchmarkId::new("naive_scalar", &id), &x, |b, x| {
            b.iter(|| {
                let mut s = 0.0f32;
                for &v in black_box(x).iter() {
                    s += v;
                }
                s
            })
        });
        group.bench_with_input(BenchmarkId::new("ndarray", &id), &x, |b, x| {
            b.iter(|| ArrayView1::from(black_box(x.as_slice())).sum())
        });
    }
    group.finish();
}

/// A kernel of two f32 slices at a given dispatch.
type BinaryKernel = dyn Fn(&Kernels, &[f32], &[f32]) -> f32;

/// One group for a kernel of two f32 slices: every novacron level, the
/// naive scalar loop and ndarray, at every size; with `parallel`, also the
/// rayon version (best level) from 4 MiB up.
fn binary_group(
    c: &mut Criterion,
    name: &str,
    ours: impl Fn(&Kernels, &[f32], &[f32]) -> f32,
    parallel: Option<&BinaryKernel>,
    naive_step: impl Fn(f32, f32, f32) -> f32,
    with_ndarray: impl Fn(ArrayView1<'_, f32>, ArrayView1<'_, f32>) -> f32,
) {
    // Generic closures (not fn pointers) so every body inlines into its loop,
    // as the hand-written loops did.
    let mut group = c.benchmark_group(name);
    group.sample_size(10);
    for &bytes in &SIZES_BYTES {
        let (x, y) = (f32_data(bytes / 8, 1), f32_data(bytes / 8, 2));
        let id = label(bytes);
        group.throughput(Throughput::Bytes(bytes as u64));
        for k in levels() {
            group.bench_function(
                BenchmarkId::new(format!("novacron_{}", k.level()), &id),
                |b| b.iter(|| ours(&k, black_box(&x), black_box(&y))),
            );
        }
        if let Some(par) = parallel.filter(|_| bytes >= 4 << 20) {
            let k = Kernels::best();
            group.bench_function(BenchmarkId::new("novacron_parallel", &id), |b| {
                b.iter(|| par(&k, black_box(&x), black_box(&y)))
            });
        }
        group.bench_function(BenchmarkId::new("naive_scalar", &id), |b| {
            b.iter(|| {
                let mut s = 0.0f32;
                for (&a, &b) in black_box(&x).iter().zip(black_box(&y)) {
                    s = naive_step(s, a, b);
                }
                s
            })
        });
        group.bench_function(BenchmarkId::new("ndarray", &id), |b| {
            b.iter(|| {
                with_ndarray(
                    ArrayView1::from(black_box(x.as_slice())),
                    ArrayView1::from(black_box(y.as_slice())),
                )
            })
        });
    }
    group.finish();
}

fn dot_f32(c: &mut Criterion) {
    binary_group(
        c,
        "dot_f32",
        |k, x, y| k.dot(x, y).unwrap_or(f32::NAN),
        Some(&|k, x, y| k.par_dot(x, y).unwrap_or(f32::NAN)),
        |s, a, b| s + a * b,
        |x, y| x.dot(&y),
    );
}

fn l2_f32(c: &mut Criterion) {
    binary_group(
        c,
        "l2_f32",
        |k, x, y| k.l2_squared(x, y).unwrap_or(f32::NAN),
        None,
        |s, a, b| s + (a - b) * (a - b),
        |x, y| {
            let d = &x - &y;
            d.dot(&d)
        },
    );
}

fn stats_f64(c: &mut Criterion) {
    let mut group = c.benchmark_group("stats_f64");
    group.sample_size(10);
    for &bytes in &SIZES_BYTES {
        let x: Vec<f64> = f32_data(bytes / 8, 3).into_iter().map(f64::from).collect();
        let id = label(bytes);
        group.throughput(Throughput::Bytes(bytes as u64));
        for k in levels() {
            group.bench_with_input(
                BenchmarkId::new(format!("novacron_{}", k.level()), &id),
                &x,
                |b, x| b.iter(|| k.stats(black_box(x))),
            );
        }
        group.bench_with_input(BenchmarkId::new("naive_scalar", &id), &x, |b, x| {
            b.iter(|| {
                // Welford, one value at a time: the textbook one-pass loop.
                let (mut n, mut mean, mut m2) = (0u64, 0.0f64, 0.0f64);
                let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
                for &v in black_box(x).iter() {
                    n += 1;
                    let d = v - mean;
                    mean += d / n as f64;
                    m2 += d * (v - mean);
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
                (n, mean, m2, lo, hi)
            })
        });
        group.bench_with_input(BenchmarkId::new("ndarray", &id), &x, |b, x| {
            b.iter(|| {
                let a = ArrayView1::from(black_box(x.as_slice()));
                (
                    a.mean(),
                    a.var(0.0),
                    a.fold(f64::INFINITY, |m, &v| m.min(v)),
                    a.fold(f64::NEG_INFINITY, |m, &v| m.max(v)),
                )
            })
        });
    }
    group.finish();
}

fn histogram(c: &mut Criterion) {
    let mut group = c.benchmark_group("histogram");
    group.sample_size(10);
    for &bytes in &SIZES_BYTES {
        let x = f32_data(bytes / 4, 4);
        let id = label(bytes);
        group.throughput(Throughput::Bytes(bytes as u64));
        for k in levels() {
            group.bench_with_input(
                BenchmarkId::new(format!("novacron_{}", k.level()), &id),
                &x,
                |b, x| b.iter(|| k.histogram(black_box(x), -500.0, 1200.0, 64)),
            );
        }
        group.bench_with_input(BenchmarkId::new("naive_scalar", &id), &x, |b, x| {
            b.iter(|| {
                let mut counts = [0u64; 66];
                for &v in black_box(x).iter() {
                    let v = f64::from(v);
                    let slot = if v < -500.0 {
                        0
                    } else if v > 1200.0 {
                        65
                    } else {
                        ((v + 500.0) * (64.0 / 1700.0)).min(63.0) as usize + 1
                    };
                    counts[slot] += 1;
                }
                counts
            })
        });
    }
    group.finish();
}

fn stream_read(c: &mut Criterion) {
    let mut group = c.benchmark_group("stream_read");
    group.sample_size(10);
    for &bytes in &SIZES_BYTES {
        let words: Vec<u64> = (0..bytes as u64 / 8).collect();
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_with_input(BenchmarkId::new("u64x8", label(bytes)), &words, |b, w| {
            b.iter(|| read_sum(black_box(w)))
        });
        // Four sequential streams at once (quarters of the buffer): more
        // lines in flight than one stream's prefetcher requests.
        group.bench_with_input(
            BenchmarkId::new("u64x8_4streams", label(bytes)),
            &words,
            |b, w| {
                b.iter(|| {
                    let quarter = w.len() / 4 / 8 * 8;
                    let (q0, rest) = black_box(w).split_at(quarter);
                    let (q1, rest) = rest.split_at(quarter);
                    let (q2, q3) = rest.split_at(quarter);
                    let mut acc = [0u64; 8];
                    for (((a, b), c), d) in q0
                        .as_chunks::<8>()
                        .0
                        .iter()
                        .zip(q1.as_chunks::<8>().0)
                        .zip(q2.as_chunks::<8>().0)
                        .zip(q3.as_chunks::<8>().0)
                    {
                        for i in 0..8 {
                            acc[i] = acc[i]
                                .wrapping_add(a[i])
                                .wrapping_add(b[i])
                                .wrapping_add(c[i])
                                .wrapping_add(d[i]);
                        }
                    }
                    acc.iter()
                        .fold(read_sum(&q3[quarter.min(q3.len())..]), |a, &b| {
                            a.wrapping_add(b)
                        })
                })
            },
        );
        // One stream with a software prefetch 1 KiB ahead, as the AVX2
        // statistics kernel issues.
        #[cfg(target_arch = "x86_64")]
        group.bench_with_input(
            BenchmarkId::new("u64x8_prefetch", label(bytes)),
            &words,
            |b, w| {
                b.iter(|| {
                    let w = black_box(w);
                    let mut acc = [0u64; 8];
                    for (k, c) in w.as_chunks::<8>().0.iter().enumerate() {
                        let ahead = w.as_ptr().wrapping_add(k * 8 + 128).cast::<i8>();
                        // SAFETY: a prefetch never faults and reads nothing
                        // into the program, whatever address it is given.
                        unsafe {
                            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                                ahead,
                            )
                        };
                        for i in 0..8 {
                            acc[i] = acc[i].wrapping_add(c[i]);
                        }
                    }
                    acc.iter().fold(0u64, |a, &b| a.wrapping_add(b))
                })
            },
        );
    }
    group.finish();
}

/// Sum of the words with eight independent accumulators: integer adds
/// reassociate freely, so LLVM vectorizes it fully and it runs at the memory
/// system's read speed.
fn read_sum(w: &[u64]) -> u64 {
    let (chunks, rest) = w.as_chunks::<8>();
    let mut acc = [0u64; 8];
    for c in chunks {
        for i in 0..8 {
            acc[i] = acc[i].wrapping_add(c[i]);
        }
    }
    acc.iter().chain(rest).fold(0u64, |a, &b| a.wrapping_add(b))
}

/// The free functions decide the level once per process (`Kernels::global`,
/// a `OnceLock`); `env_per_call` is what they did before — read
/// `NOVACRON_SIMD` and build `Kernels` on every call — measured beside them
/// at 4 KiB, where a kernel takes ~50 ns and the lookup would dominate.
fn dispatch_cost(c: &mut Criterion) {
    let mut group = c.benchmark_group("dispatch_sum_f32");
    let x = f32_data(1024, 3);
    group.throughput(Throughput::Bytes(4096));
    let kernels = Kernels::best();
    group.bench_function(BenchmarkId::new("kernels_method", "4KiB"), |b| {
        b.iter(|| kernels.sum(black_box(&x)))
    });
    group.bench_function(BenchmarkId::new("free_function", "4KiB"), |b| {
        b.iter(|| novacron_simd_kernels::sum(black_box(&x)))
    });
    group.bench_function(BenchmarkId::new("env_per_call", "4KiB"), |b| {
        b.iter(|| {
            let k = Kernels::from_env().expect("NOVACRON_SIMD names a supported level");
            k.sum(black_box(&x))
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    dispatch_cost,
    stream_read,
    sum_f32,
    dot_f32,
    l2_f32,
    stats_f64,
    histogram
);
criterion_main!(benches);
