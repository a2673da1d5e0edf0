//! The live fleet dashboard: a web server composing every NovaCron crate.
//!
//! ```sh
//! cargo run --release --example fleet_dashboard            # http://127.0.0.1:8080
//! cargo run --release --example fleet_dashboard -- --database-url postgres://…
//! ```
//!
//! The simulator writes one sample per VM per tick through dashboard-query
//! (embedded SQLite by default, PostgreSQL with `--database-url`); the page
//! shows the organization's VM table (keyset pages), live cells from the
//! WebSocket, fleet p50/p95/p99 from merged DDSketches with sparklines,
//! anomaly flags, placement advice, pool statistics and the GPU-or-CPU
//! choice. Several instances can share one PostgreSQL: start one with the
//! simulator and the others with `--no-simulate`; updates reach all of them
//! through `LISTEN/NOTIFY` (give them one `NOVACRON_CURSOR_KEY`, 64 hex
//! digits, so a page cursor from one is valid at the others). The server's
//! parts are in `server/`.

#[path = "../common/dashboard_data.rs"]
mod dashboard_data;
#[path = "../common/fleet.rs"]
mod fleet;
mod server;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use clap::Parser;

/// Serve the live fleet dashboard.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port to listen on (0: any free port).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// PostgreSQL URL (an empty database, or one a simulating instance
    /// filled); embedded SQLite when absent.
    #[arg(long)]
    database_url: Option<String>,
    /// Do not run the simulator: only serve and listen (a second instance
    /// on a shared PostgreSQL).
    #[arg(long)]
    no_simulate: bool,
    /// Number of VMs.
    #[arg(long, default_value_t = server::Config::default().fleet.n_vms)]
    vms: usize,
    /// Number of organizations.
    #[arg(long, default_value_t = server::Config::default().fleet.n_orgs)]
    orgs: usize,
    /// Number of hosts.
    #[arg(long, default_value_t = server::Config::default().fleet.n_hosts)]
    hosts: usize,
    /// Milliseconds between live ticks.
    #[arg(long, default_value_t = 1000)]
    tick_ms: u64,
    /// Seed of the simulated fleet (every instance must use the same one).
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

/// 64 hex digits as 32 bytes.
fn parse_key(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.trim();
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut key = [0u8; 32];
    for (k, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * k..2 * k + 2], 16).ok()?;
    }
    Some(key)
}

fn main() {
    let args = Args::parse();
    if args.vms == 0 || args.orgs == 0 || args.hosts == 0 || args.tick_ms == 0 {
        eprintln!("error: --vms, --orgs, --hosts and --tick-ms must be at least 1");
        std::process::exit(2);
    }
    if let Err(e) = novacron_simd_kernels::Kernels::from_env().and_then(|k| k.install()) {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
    // Instances behind one load balancer share the cursor key.
    let cursor_key = match std::env::var("NOVACRON_CURSOR_KEY") {
        Ok(hex) => match parse_key(&hex) {
            Some(k) => Some(k),
            None => {
                eprintln!("error: NOVACRON_CURSOR_KEY must be 64 hexadecimal digits (32 bytes)");
                std::process::exit(2);
            }
        },
        Err(_) => None,
    };
    let mut config = server::Config {
        cursor_key,
        listen: SocketAddr::new(args.host, args.port),
        database_url: args.database_url,
        simulate: !args.no_simulate,
        tick: Duration::from_millis(args.tick_ms),
        ..server::Config::default()
    };
    config.fleet.n_vms = args.vms;
    config.fleet.n_orgs = args.orgs;
    config.fleet.n_hosts = args.hosts;
    config.fleet.seed = args.seed;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            std::process::exit(1);
        }
    };
    runtime.block_on(async move {
        let server = match server::start(config).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        };
        // The line the browser test waits for.
        println!("fleet dashboard listening on {}", server.url());
        // Ctrl-C or SIGTERM: stop serving, close the database, remove the
        // embedded SQLite file.
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let terminated = async {
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = terminated => {}
        }
        server.stop().await;
    });
}
