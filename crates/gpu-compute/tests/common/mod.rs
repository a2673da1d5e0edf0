//! One calibrated executor per test binary on a real adapter (Mesa's
//! lavapipe where there is no GPU); a missing adapter fails the tests unless
//! `NOVACRON_SKIP_GPU=1` is set (a developer machine without any driver).

#![allow(dead_code, unreachable_pub)]

use std::sync::OnceLock;

use novacron_gpu_compute::{AdapterPolicy, ContextConfig, Executor, ExecutorConfig, Placement};

pub fn config() -> ContextConfig {
    ContextConfig::default().adapter(AdapterPolicy::AllowSoftware)
}

/// The shared executor with a GPU; `None` only when skipping is allowed.
pub fn executor() -> Option<&'static Executor> {
    static EXECUTOR: OnceLock<Option<Executor>> = OnceLock::new();
    EXECUTOR
        .get_or_init(|| {
            match Executor::new(ExecutorConfig::default().context(config()).require_gpu(true)) {
                Ok(executor) => Some(executor),
                Err(e) => {
                    assert!(
                        std::env::var("NOVACRON_SKIP_GPU").is_ok_and(|v| v == "1"),
                        "no wgpu adapter ({e}); install mesa-vulkan-drivers or set NOVACRON_SKIP_GPU=1"
                    );
                    eprintln!("skipping GPU checks as NOVACRON_SKIP_GPU=1 asks: {e}");
                    None
                }
            }
        })
        .as_ref()
}

/// The same executor forced onto the GPU and onto the CPU.
pub fn both() -> Option<(Executor, Executor)> {
    let e = executor()?;
    Some((
        e.with_placement(Placement::Gpu),
        e.with_placement(Placement::Cpu),
    ))
}

/// The awkward lengths: 1, around a workgroup, past a tile, multi-chunk
/// CPU paths and several grid-stride rounds.
pub const LENGTHS: &[usize] = &[1, 2, 63, 65, 255, 257, 1000, 4097, 70_001, 300_007];

/// Deterministic data with negatives, repeats and a wide range.
pub fn data(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let u = (s >> 40) as f32 / (1u64 << 24) as f32;
            (u - 0.3) * 200.0
        })
        .collect()
}
