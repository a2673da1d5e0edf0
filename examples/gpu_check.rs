//! The device check of `novacron-gpu-compute`: what one run on a machine
//! with a real GPU must measure, written as JSON (`gpu_check.json`) and a
//! readable summary. `benches/scripts/device_check.sh` runs it there; on a
//! machine without a GPU run it with `--software --quick` to check the
//! program itself on Mesa's lavapipe.
//!
//! ```text
//! cargo build --profile bench --example gpu_check
//! target/release/examples/gpu_check --out /tmp/gpu            # a real GPU
//! target/release/examples/gpu_check --software --quick        # lavapipe
//! ```
//!
//! Measures: the adapter and its limits, a 4-byte round trip (p50, p99),
//! upload and download bandwidth (256 MiB; 16 MiB with `--quick`), tiled
//! SGEMM at 1024/2048/4096 (GPU timestamps and wall time; the CPU twin at
//! 1024 for the ratio), a resident sum of 1 GiB by the shared-memory tree
//! and by subgroup operations, and the cost-model sweep with its regret.

#[path = "common/gpu_sweep.rs"]
mod gpu_sweep;

use std::time::{Duration, Instant};

use clap::Parser;
use novacron_gpu_compute::{
    AdapterPolicy, ContextConfig, Executor, ExecutorConfig, GpuContext, Placement,
};
use serde_json::json;

#[derive(Debug, Parser)]
#[command(about = "Measure gpu-compute on this machine's GPU")]
struct Args {
    /// Folder for gpu_check.json.
    #[arg(long, default_value = ".")]
    out: std::path::PathBuf,
    /// Allow a software adapter (lavapipe).
    #[arg(long)]
    software: bool,
    /// Small sizes (a software adapter, or a smoke run).
    #[arg(long)]
    quick: bool,
    /// Skip the cost-model sweep.
    #[arg(long)]
    no_sweep: bool,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let args = Args::parse();
    if let Err(e) = run(&args) {
        eprintln!("gpu_check failed: {e}");
        std::process::exit(1);
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let policy = if args.software {
        AdapterPolicy::AllowSoftware
    } else {
        AdapterPolicy::Hardware
    };
    let config = || {
        ContextConfig::default()
            .adapter(policy)
            .wait_timeout(Duration::from_secs(120))
    };
    let t = Instant::now();
    let ctx = GpuContext::new(config())?;
    let adapter = ctx.adapter().clone();
    println!(
        "adapter: {adapter:?} (context in {:.1} ms)",
        ms(t.elapsed())
    );
    let mut report = json!({ "adapter": format!("{adapter:?}") });

    // 4-byte round trip.
    let mut trips: Vec<Duration> = (0..200)
        .map(|_| {
            let t = Instant::now();
            ctx.upload(&[1.0])
                .and_then(|x| x.to_vec())
                .map(|_| t.elapsed())
        })
        .collect::<Result<_, _>>()?;
    trips.sort();
    let (p50, p99) = (ms(trips[100]), ms(trips[197]));
    println!("4-byte round trip: p50 {p50:.3} ms, p99 {p99:.3} ms");
    report["round_trip_ms"] = json!({ "p50": p50, "p99": p99 });

    // Transfers.
    let mib = if args.quick { 16 } else { 256 };
    let host = gpu_sweep::data(mib << 18);
    let bytes = (mib << 20) as f64;
    let up = gpu_sweep::median(3, || {
        let t = ctx.upload(&host)?;
        t.slice_to_vec(0, 1).map(drop)
    })?;
    let resident = ctx.upload(&host)?;
    let down = gpu_sweep::median(3, || resident.to_vec().map(drop))?;
    drop(resident);
    let (up_gbs, down_gbs) = (
        bytes / up.as_secs_f64() / 1e9,
        bytes / down.as_secs_f64() / 1e9,
    );
    println!("{mib} MiB upload {up_gbs:.2} GB/s, download {down_gbs:.2} GB/s");
    report["transfer_gbs"] = json!({ "mib": mib, "upload": up_gbs, "download": down_gbs });

    // SGEMM.
    let sizes: &[usize] = if args.quick {
        &[128, 256]
    } else {
        &[1024, 2048, 4096]
    };
    let mut gemm = Vec::new();
    for &n in sizes {
        let a = ctx.upload_matrix(&gpu_sweep::data(n * n), n, n)?;
        let flops = 2.0 * (n as f64).powi(3);
        let mut kernel = Vec::new();
        let wall = gpu_sweep::median(3, || {
            let c = ctx.matmul(&a, &a)?;
            c.slice_to_vec(0, 1)?;
            if let Some(t) = ctx.last_kernel_time()? {
                kernel.push(t);
            }
            Ok(())
        })?;
        kernel.sort();
        let kernel_s = kernel
            .get(kernel.len() / 2)
            .map_or(wall.as_secs_f64(), Duration::as_secs_f64);
        let tflops = flops / kernel_s / 1e12;
        println!(
            "sgemm {n}³: {tflops:.3} TFLOPS (kernel {:.2} ms, wall {:.2} ms)",
            kernel_s * 1e3,
            ms(wall)
        );
        gemm.push(
            json!({ "n": n, "tflops": tflops, "kernel_ms": kernel_s * 1e3, "wall_ms": ms(wall) }),
        );
    }
    let executor = Executor::new(
        ExecutorConfig::default()
            .context(config())
            .require_gpu(true),
    )?;
    let n = sizes[0];
    let a = gpu_sweep::data(n * n);
    let cpu = gpu_sweep::median(3, || {
        executor
            .with_placement(Placement::Cpu)
            .matmul(&a, &a, (n, n, n))
            .map(drop)
    })?;
    let cpu_tflops = 2.0 * (n as f64).powi(3) / cpu.as_secs_f64() / 1e12;
    println!(
        "sgemm {n}³ on the CPU twin ({} threads): {cpu_tflops:.4} TFLOPS",
        rayon::current_num_threads()
    );
    report["sgemm"] = json!({ "gpu": gemm, "cpu_n": n, "cpu_tflops": cpu_tflops });

    // Resident sum: tree and subgroups.
    let sum_mib = if args.quick { 16 } else { 1024 };
    let x = ctx.upload(&vec![1.0f32; sum_mib << 18])?;
    let tree_ctx = GpuContext::new(config().subgroups(false))?;
    let x_tree = tree_ctx.upload(&vec![1.0f32; sum_mib << 18])?;
    let mut sums = serde_json::Map::new();
    for (name, c, t) in [("subgroup", &ctx, &x), ("tree", &tree_ctx, &x_tree)] {
        if name == "subgroup" && !c.adapter().subgroups {
            continue;
        }
        let mut kernel = Vec::new();
        let wall = gpu_sweep::median(5, || {
            c.stats(t)?;
            if let Some(k) = c.last_kernel_time()? {
                kernel.push(k);
            }
            Ok(())
        })?;
        kernel.sort();
        let k = kernel
            .get(kernel.len() / 2)
            .map_or(wall.as_secs_f64(), Duration::as_secs_f64);
        let tbs = (sum_mib << 20) as f64 / k / 1e12;
        println!(
            "resident sum of {sum_mib} MiB ({name}): {tbs:.3} TB/s (kernel {:.3} ms, wall {:.3} ms)",
            k * 1e3,
            ms(wall)
        );
        sums.insert(
            name.into(),
            json!({ "tbs": tbs, "kernel_ms": k * 1e3, "wall_ms": ms(wall) }),
        );
    }
    report["resident_sum"] = json!({ "mib": sum_mib, "paths": sums });
    drop((x, x_tree));

    if !args.no_sweep {
        let t = Instant::now();
        let points = gpu_sweep::sweep(&executor, args.quick, 5)?;
        print!("{}", gpu_sweep::report(&points));
        println!("sweep in {:.1} s", t.elapsed().as_secs_f64());
        report["sweep"] = serde_json::to_value(&points)?;
        report["cost_model"] = json!(format!("{:?}", executor.cost_model()));
    }
    std::fs::create_dir_all(&args.out)?;
    std::fs::write(
        args.out.join("gpu_check.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    Ok(())
}
