//! WebSocket load on loopback against the live dashboard's server: clients
//! per instance, fan-out latency per tick, server memory per idle
//! connection, connect and disconnect time — bounded in count and time.
//!
//! ```sh
//! cargo run --release --example ws_load -- --clients 1000,10000 --ticks 10
//! ```
//!
//! The server runs in a child process (this example started with `--serve`)
//! so that its resident memory can be read from `/proc` apart from the
//! clients'. Every tick frame carries the server's publish time (`sent_us`);
//! each client takes `now − sent_us` when the frame arrives, for every tick
//! after all clients are connected, into one histogram. Both processes
//! share this machine's cores, so the latency includes the clients' own
//! work; compare runs made here, as ratios.

#[path = "common/dashboard_data.rs"]
mod dashboard_data;
#[path = "common/fleet.rs"]
mod fleet;
#[path = "fleet_dashboard/server/mod.rs"]
mod server;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;

/// Load the live dashboard's WebSocket endpoint on loopback.
#[derive(Debug, Parser)]
#[command(about)]
struct Args {
    /// Client counts to run, one after another (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    clients: Vec<usize>,
    /// Ticks to measure at each count, after every client is connected.
    #[arg(long, default_value_t = 10)]
    ticks: u64,
    /// VMs of the simulated fleet (frames grow with VMs per organization).
    #[arg(long, default_value_t = 2000)]
    vms: usize,
    /// Organizations (client k follows organization k mod this).
    #[arg(long, default_value_t = 20)]
    orgs: usize,
    /// Milliseconds between ticks.
    #[arg(long, default_value_t = 1000)]
    tick_ms: u64,
    /// VMs of a second server whose full-fleet export is timed over HTTP
    /// (time to the first row and to the end, 5 runs); 0 skips it.
    #[arg(long, default_value_t = 10_000)]
    export_vms: usize,
    /// Run as the server child (internal).
    #[arg(long, hide = true)]
    serve: bool,
}

fn main() {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&format!("runtime: {e}")));
    if args.serve {
        rt.block_on(serve(&args));
    } else {
        rt.block_on(load(&args));
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(1);
}

async fn serve(args: &Args) {
    let mut config = server::Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        tick: Duration::from_millis(args.tick_ms),
        // A load test connects thousands at once: no upgrade limit here.
        upgrade_rate: 1e9,
        upgrade_burst: 1e9,
        ..server::Config::default()
    };
    config.fleet.n_vms = args.vms;
    config.fleet.n_orgs = args.orgs;
    config.fleet.n_hosts = (args.vms / 8).max(1);
    let s = server::start(config)
        .await
        .unwrap_or_else(|e| fail(&format!("server: {e}")));
    println!("listening on {}", s.addr);
    // Ends with the parent (stdin closes).
    let _ = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    })
    .await;
    s.stop().await;
}

/// Resident memory of a process, bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn spawn_server(args: &Args, vms: usize) -> (Child, SocketAddr) {
    let exe = std::env::current_exe().unwrap_or_else(|e| fail(&format!("{e}")));
    let mut child = Command::new(exe)
        .args([
            "--serve",
            "--vms",
            &vms.to_string(),
            "--orgs",
            &args.orgs.to_string(),
            "--tick-ms",
            &args.tick_ms.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| fail(&format!("server child: {e}")));
    let stdout = child.stdout.take().unwrap_or_else(|| fail("no stdout"));
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap_or_else(|e| fail(&format!("{e}")));
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| fail(&format!("unexpected server output: {line}")));
    (child, addr)
}

/// The unsigned integer after `"key":` in a frame, without parsing the rest.
fn number_after<T: std::str::FromStr>(text: &str, key: &str) -> Option<T> {
    let at = text.find(key)? + key.len();
    let digits = &text[at..];
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}

async fn health(addr: SocketAddr) -> serde_json::Value {
    match reqwest::get(format!("http://{addr}/api/health")).await {
        Ok(r) => r.json().await.unwrap_or_default(),
        Err(_) => serde_json::Value::Null,
    }
}

async fn load(args: &Args) {
    let (mut child, addr) = spawn_server(args, args.vms);
    let pid = child.id();
    println!(
        "server pid {pid} at {addr}: {} VMs in {} organizations, a tick every {} ms",
        args.vms, args.orgs, args.tick_ms
    );
    println!(
        "{:>7} {:>10} {:>10} {:>12} {:>12} {:>10} {:>10} {:>12}",
        "clients",
        "connect_s",
        "idle_KiB",
        "fanout_p50",
        "fanout_p99",
        "frames",
        "missed",
        "disconnect_s"
    );
    for &n in &args.clients {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let before = rss(pid);
        let started = Instant::now();
        let mut sockets = Vec::with_capacity(n);
        let mut pending = futures_util::stream::iter(0..n)
            .map(|k| {
                let url = format!("ws://{addr}/ws?org={}", k % args.orgs + 1);
                async move { tokio_tungstenite::connect_async(url).await }
            })
            .buffer_unordered(256);
        while let Some(r) = pending.next().await {
            match r {
                Ok((ws, _)) => sockets.push(ws),
                Err(e) => fail(&format!("connect #{}: {e}", sockets.len())),
            }
        }
        let connect_s = started.elapsed().as_secs_f64();
        // Read everything, measure only ticks after `from_tick`.
        let from_tick = Arc::new(AtomicU64::new(u64::MAX));
        let until_tick = Arc::new(AtomicU64::new(u64::MAX));
        let hist = Arc::new(std::sync::Mutex::new(
            hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)
                .unwrap_or_else(|e| fail(&format!("{e}"))),
        ));
        let frames = Arc::new(AtomicU64::new(0));
        let done = Arc::new(AtomicUsize::new(0));
        let mut readers = Vec::with_capacity(n);
        for ws in sockets {
            let (from, until, hist, frames, done) = (
                from_tick.clone(),
                until_tick.clone(),
                hist.clone(),
                frames.clone(),
                done.clone(),
            );
            readers.push(tokio::spawn(async move {
                let (_sink, mut stream) = ws.split();
                let mut local = Vec::new();
                let mut finished = false;
                while let Some(Ok(msg)) = stream.next().await {
                    let Message::Text(text) = msg else { continue };
                    if !text.starts_with("{\"type\":\"tick\"") {
                        continue;
                    }
                    let (Some(tick), Some(sent)) = (
                        number_after::<u64>(&text, "\"tick\":"),
                        number_after::<i64>(&text, "\"sent_us\":"),
                    ) else {
                        continue;
                    };
                    if tick >= from.load(Ordering::Relaxed) && tick < until.load(Ordering::Relaxed)
                    {
                        local.push((server::live::now_us() - sent).max(1) as u64);
                    }
                    if !finished && tick >= until.load(Ordering::Relaxed) {
                        finished = true;
                        frames.fetch_add(local.len() as u64, Ordering::Relaxed);
                        if let Ok(mut h) = hist.lock() {
                            for v in local.drain(..) {
                                let _ = h.record(v);
                            }
                        }
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
                // Keep the socket until the end of the run (dropped with the task).
                drop(stream);
            }));
        }
        // Idle memory: every client connected and served a tick.
        tokio::time::sleep(Duration::from_millis(args.tick_ms * 2)).await;
        let idle = rss(pid).saturating_sub(before) as f64 / n as f64 / 1024.0;
        let now_tick = health(addr).await["tick"].as_u64().unwrap_or(0);
        from_tick.store(now_tick + 1, Ordering::Relaxed);
        until_tick.store(now_tick + 1 + args.ticks, Ordering::Relaxed);
        let deadline = Instant::now() + Duration::from_millis(args.tick_ms * (args.ticks + 20));
        while done.load(Ordering::Relaxed) < n && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let (p50, p99) = hist.lock().map_or((0.0, 0.0), |h| {
            (
                h.value_at_quantile(0.5) as f64 / 1e3,
                h.value_at_quantile(0.99) as f64 / 1e3,
            )
        });
        let got = frames.load(Ordering::Relaxed);
        let expected = n as u64 * args.ticks;
        let t = Instant::now();
        for r in &readers {
            r.abort();
        }
        for r in readers {
            let _ = r.await;
        }
        loop {
            let h = health(addr).await;
            if h["clients"].as_u64() == Some(0) || t.elapsed() > Duration::from_secs(60) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let disconnect_s = t.elapsed().as_secs_f64();
        println!(
            "{n:>7} {connect_s:>10.2} {idle:>10.1} {:>10.1}ms {:>10.1}ms {got:>10} {:>10} {disconnect_s:>12.2}",
            p50,
            p99,
            expected.saturating_sub(got)
        );
    }
    drop(child.stdin.take());
    let _ = child.wait();
    if args.export_vms > 0 {
        export(args).await;
    }
}

/// Times `GET /api/export` of a fleet of `--export-vms` VMs: to the first
/// chunk that holds a row (the `[` goes out at once) and to the end.
async fn export(args: &Args) {
    let (mut child, addr) = spawn_server(args, args.export_vms);
    // Every VM has a sample once the first tick is written.
    while health(addr).await["tick"].as_u64().unwrap_or(0) < 2 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let client = reqwest::Client::new();
    for encoding in ["identity", "gzip"] {
        let mut firsts = Vec::new();
        let mut totals = Vec::new();
        let mut bytes = 0usize;
        for _ in 0..5 {
            let t = Instant::now();
            let mut r = client
                .get(format!("http://{addr}/api/export"))
                .header("accept-encoding", encoding)
                .send()
                .await
                .unwrap_or_else(|e| fail(&format!("export: {e}")));
            let mut first = None;
            bytes = 0;
            while let Some(chunk) = r.chunk().await.unwrap_or_else(|e| fail(&format!("{e}"))) {
                bytes += chunk.len();
                if first.is_none() && bytes > 64 {
                    first = Some(t.elapsed());
                }
            }
            firsts.push(first.unwrap_or_else(|| t.elapsed()).as_secs_f64() * 1e3);
            totals.push(t.elapsed().as_secs_f64() * 1e3);
        }
        firsts.sort_by(f64::total_cmp);
        totals.sort_by(f64::total_cmp);
        println!(
            "export of {} VMs ({encoding}): first row after {:.2} ms, whole {:.1} ms (medians of 5), {:.1} MB on the wire",
            args.export_vms,
            firsts[2],
            totals[2],
            bytes as f64 / 1e6
        );
    }
    drop(child.stdin.take());
    let _ = child.wait();
}
