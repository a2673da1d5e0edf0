//! The pool on a real adapter: after warm-up, 10,000 mixed operations
//! create no new buffer; the byte cap refuses before allocating; trim frees.

mod common;

use novacron_gpu_compute::{Activation, Error, GpuContext, HistogramSpec};

fn context(config: novacron_gpu_compute::ContextConfig) -> Option<GpuContext> {
    common::executor()?; // fails or skips as the shared helper decides
    Some(GpuContext::new(config).expect("a second context on the adapter the executor found"))
}

#[test]
fn ten_thousand_mixed_operations_after_warm_up_create_no_new_buffers() {
    let Some(ctx) = context(common::config()) else {
        return;
    };
    let spec = HistogramSpec::new(-100.0, 100.0, 32).unwrap();
    let round = |i: usize| {
        let n = [1, 63, 65, 257, 1000][i % 5];
        let x = ctx.upload(&common::data(n, i as u64)).unwrap();
        match i % 7 {
            0 => drop(ctx.stats(&x).unwrap()),
            1 => drop(ctx.histogram(&x, &spec).unwrap()),
            2 => drop(ctx.add(&x, &x).unwrap().to_vec().unwrap()),
            3 => drop(ctx.activate(Activation::Relu, &x).unwrap()),
            4 => drop(ctx.sort(&x).unwrap().slice_to_vec(0, 1).unwrap()),
            5 => drop(ctx.percentiles(&x, &[0.5, 0.99]).unwrap()),
            _ => {
                let m = x.reshape(1, n).unwrap();
                let w = ctx.upload_matrix(&common::data(n * 3, 9), n, 3).unwrap();
                drop(ctx.matmul(&m, &w).unwrap().to_vec().unwrap());
            }
        }
    };
    for i in 0..350 {
        round(i);
    }
    let warm = ctx.pool_stats();
    for i in 0..10_000 {
        round(i);
    }
    let after = ctx.pool_stats();
    assert_eq!(
        after.buffers_created, warm.buffers_created,
        "{warm:?} → {after:?}"
    );
    assert!(after.buffers_reused > warm.buffers_reused + 10_000);
    // Every tensor was dropped; only the latest batch's timestamp resolve
    // (one 256-byte buffer) is held for last_kernel_time.
    assert!(after.live_bytes <= 256, "{after:?}");
    let freed = ctx.trim();
    assert_eq!(freed, after.idle_bytes);
    assert!(freed > 0);
    assert_eq!(ctx.pool_stats().idle_bytes, 0);
}

#[test]
fn the_byte_cap_refuses_an_allocation_before_making_it() {
    let Some(ctx) = context(common::config().pool_byte_cap(1 << 20)) else {
        return;
    };
    let small = ctx.upload(&vec![1.0; 100_000]).unwrap(); // 400 KB
    let before = ctx.pool_stats();
    let err = ctx.upload(&vec![1.0; 200_000]).unwrap_err(); // 800 KB more
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");
    assert_eq!(ctx.pool_stats().buffers_created, before.buffers_created);
    drop(small);
    // With the first tensor back in the pool, the cap makes room from idle buffers.
    assert!(ctx.upload(&vec![1.0; 200_000]).is_ok());
}

#[test]
fn idle_buffers_past_the_idle_cap_are_destroyed_not_kept() {
    let Some(ctx) = context(common::config().pool_idle_cap(0)) else {
        return;
    };
    let x = ctx.upload(&[1.0; 1000]).unwrap();
    drop(x);
    let stats = ctx.pool_stats();
    assert_eq!(stats.idle_bytes, 0);
    assert!(stats.buffers_destroyed >= 1);
}
