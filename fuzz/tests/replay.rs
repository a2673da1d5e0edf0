//! Replays every committed corpus input and every fixed crash of each target
//! (`corpus/<target>/`, `regressions/<target>/`) as an ordinary test.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut n = 0;
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_file() {
                let bytes =
                    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                run(&bytes);
                n += 1;
            }
        }
    }
    assert!(
        n > 0,
        "no committed inputs for {target}: run the fuzzer and commit its corpus"
    );
}

#[test]
fn percentile_exact_corpus_replays_without_panic() {
    replay("percentile_exact", novacron_fuzz::percentile_exact);
}

#[test]
fn percentile_sketch_corpus_replays_without_panic() {
    replay("percentile_sketch", novacron_fuzz::percentile_sketch);
}

#[test]
fn simd_kernels_corpus_replays_without_panic() {
    replay("simd_kernels", novacron_fuzz::simd_kernels);
}

#[test]
fn qubo_parsers_corpus_replays_without_panic() {
    replay("qubo_parsers", novacron_fuzz::qubo_parsers);
}

#[test]
fn qubo_placement_corpus_replays_without_panic() {
    replay("qubo_placement", novacron_fuzz::qubo_placement);
}

#[test]
fn dashboard_cursor_corpus_replays_without_panic() {
    replay("dashboard_cursor", novacron_fuzz::dashboard_cursor);
}

#[cfg(feature = "ml")]
#[test]
fn ml_loader_corpus_replays_without_panic() {
    replay("ml_loader", novacron_fuzz::ml_loader);
}
