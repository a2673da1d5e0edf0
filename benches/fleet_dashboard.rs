//! Criterion suite of the live fleet dashboard (`examples/fleet_dashboard`):
//! the registry and the export against the baselines the report had.
//!
//! - `ws_disconnect/{sharded_slotmap, linear_scan}/{1000, 10000, 100000}`:
//!   one disconnect with that many clients registered (the connect that
//!   keeps the count is untimed). Ours removes through the client's key
//!   (O(1)); the report's registry scans a `Vec` of connection records for
//!   the connection's id string and shifts the rest.
//! - `ws_registry_churn/…/{1000, 10000, 100000}`: one connect plus one
//!   disconnect (allocation of the client's outbox included).
//! - `ws_fanout/{1000, 10000}`: one tick frame handed to every client of a
//!   topic (reference-counted clones into coalescing outboxes; the frame is
//!   encoded once, outside the timing).
//! - `export_10k/{typed_rows, value_tree}`: the full-fleet export of 10,000
//!   VMs with latest metrics, alerts and scores serialized straight from
//!   typed rows (what the endpoint streams) against building a
//!   `serde_json::Value` tree first; `export_10k/typed_first_chunk` is the
//!   work before the streamed endpoint's first row leaves (one page of
//!   1,000 rows), the baseline's first byte being after all of it.
//!
//! Run: `cargo bench --bench fleet_dashboard`. Live figures over real
//! sockets (fan-out latency, memory per connection) come from
//! `cargo run --release --example ws_load`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use novacron_dashboard_query::{DashboardRow, LatestMetrics, LatestScores, Severity};

#[path = "../examples/common/dashboard_data.rs"]
mod dashboard_data;
#[path = "../examples/common/fleet.rs"]
mod fleet;
#[path = "../examples/fleet_dashboard/server/mod.rs"]
mod server;

use server::hub::{Frame, Hub, Kind, LinearRegistry, Registration};

const SIZES: [usize; 3] = [1_000, 10_000, 100_000];

fn registry(c: &mut Criterion) {
    let mut disconnect = c.benchmark_group("ws_disconnect");
    disconnect.measurement_time(Duration::from_secs(3));
    for n in SIZES {
        let hub = Hub::new(1 << 20);
        let mut clients: Vec<Registration> =
            (0..n).map(|k| hub.register(k as i64 % 20 + 1)).collect();
        let mut at = 0usize;
        disconnect.bench_function(BenchmarkId::new("sharded_slotmap", n), |b| {
            // Untimed: a newcomer takes the place of a client at a spread
            // position; timed: that client's guard drops (its removal).
            b.iter_batched(
                || {
                    at = (at + 7919) % n;
                    std::mem::replace(&mut clients[at], hub.register(at as i64 % 20 + 1))
                },
                drop,
                BatchSize::SmallInput,
            )
        });
        assert_eq!(hub.len(), n);

        let linear = LinearRegistry::default();
        let mut ids: Vec<String> = (0..n).map(|k| linear.register(k as i64 % 20 + 1)).collect();
        let mut at = 0usize;
        disconnect.bench_function(BenchmarkId::new("linear_scan", n), |b| {
            b.iter_batched(
                || {
                    at = (at + 7919) % n;
                    std::mem::replace(&mut ids[at], linear.register(at as i64 % 20 + 1))
                },
                |old| black_box(linear.remove(&old)),
                BatchSize::SmallInput,
            )
        });
        assert_eq!(linear.len(), n);
    }
    disconnect.finish();

    let mut churn = c.benchmark_group("ws_registry_churn");
    churn.measurement_time(Duration::from_secs(3));
    for n in SIZES {
        let hub = Hub::new(1 << 20);
        let mut clients: Vec<Registration> =
            (0..n).map(|k| hub.register(k as i64 % 20 + 1)).collect();
        let mut at = 0usize;
        churn.bench_function(BenchmarkId::new("sharded_slotmap", n), |b| {
            b.iter(|| {
                at = (at + 7919) % n;
                let fresh = hub.register(at as i64 % 20 + 1);
                drop(std::mem::replace(&mut clients[at], fresh));
            })
        });
        let linear = LinearRegistry::default();
        let mut ids: Vec<String> = (0..n).map(|k| linear.register(k as i64 % 20 + 1)).collect();
        let mut at = 0usize;
        churn.bench_function(BenchmarkId::new("linear_scan", n), |b| {
            b.iter(|| {
                at = (at + 7919) % n;
                black_box(linear.remove(&ids[at]));
                ids[at] = linear.register(at as i64 % 20 + 1);
            })
        });
    }
    churn.finish();
}

fn fanout(c: &mut Criterion) {
    let mut group = c.benchmark_group("ws_fanout");
    group.measurement_time(Duration::from_secs(3));
    let frame = Frame::from(format!(
        "{{\"type\":\"tick\",\"vms\":\"{}\"}}",
        "x".repeat(4000)
    ));
    for n in [1_000, 10_000] {
        let hub = Hub::new(1 << 20);
        let clients: Vec<Registration> = (0..n).map(|_| hub.register(1)).collect();
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| black_box(hub.publish(1, Kind::Tick, &frame)))
        });
        drop(clients);
    }
    group.finish();
}

/// 10,000 dashboard rows of the simulated fleet, in 1,000-row pages.
fn rows() -> Vec<(i64, Vec<DashboardRow>)> {
    let fleet = fleet::Fleet::generate(&fleet::FleetConfig {
        n_vms: 10_000,
        n_orgs: 10,
        hours: 1,
        ..Default::default()
    });
    let mut by_org: Vec<Vec<DashboardRow>> = vec![Vec::new(); fleet.orgs.len()];
    for (vm, s) in fleet.vms.iter().zip(&fleet.series) {
        let last = s.cpu.len().saturating_sub(1);
        let incident = s.incident.iter().any(|b| *b);
        by_org[vm.org_id].push(DashboardRow {
            vm_id: vm.id as i64 + 1,
            name: vm.name.clone(),
            status: vm.status.as_str().to_string(),
            cpu_cores: vm.cpu_cores as i32,
            memory_mib: vm.memory_mib as i64,
            created_at_ms: fleet::EPOCH_S * 1000,
            metrics: Some(LatestMetrics {
                ts_ms: fleet::EPOCH_S * 1000 + 3_540_000,
                cpu: s.cpu[last],
                memory: s.memory[last],
                disk: s.disk[last],
                net_rx: s.net_rx[last],
                net_tx: s.net_tx[last],
                performance_score: None,
            }),
            active_alerts: i64::from(incident),
            max_severity: incident.then_some(Severity::Critical),
            alert_types: if incident {
                vec!["incident".into()]
            } else {
                Vec::new()
            },
            scores: Some(LatestScores {
                calculated_at_ms: fleet::EPOCH_S * 1000,
                overall: 1.0 - s.cpu[last] / 100.0,
                efficiency: s.cpu[last] / 100.0,
                reliability: 1.0,
            }),
        });
    }
    let mut pages = Vec::new();
    for (org, rows) in by_org.into_iter().enumerate() {
        for chunk in rows.chunks(server::export::PAGE_ROWS) {
            pages.push((org as i64 + 1, chunk.to_vec()));
        }
    }
    pages
}

fn export(c: &mut Criterion) {
    let pages = rows();
    let n: usize = pages.iter().map(|(_, p)| p.len()).sum();
    assert_eq!(n, 10_000);
    // Both produce the same document.
    let typed: serde_json::Value =
        serde_json::from_slice(&server::export::typed_document(&pages).0).expect("typed JSON");
    let tree: serde_json::Value =
        serde_json::from_slice(&server::export::value_tree(&pages)).expect("tree JSON");
    assert_eq!(typed, tree, "the two ways disagree");

    let mut group = c.benchmark_group("export_10k");
    group.measurement_time(Duration::from_secs(4));
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function("typed_rows", |b| {
        b.iter(|| black_box(server::export::typed_document(black_box(&pages)).0.len()))
    });
    group.bench_function("value_tree", |b| {
        b.iter(|| black_box(server::export::value_tree(black_box(&pages)).len()))
    });
    group.bench_function("typed_first_chunk", |b| {
        b.iter(|| {
            let (org, rows) = &pages[0];
            let mut out = Vec::with_capacity(rows.len() * 320);
            server::export::write_rows(server::export::Format::Json, *org, rows, true, &mut out);
            black_box(out.len())
        })
    });
    group.finish();
}

criterion_group!(benches, registry, fanout, export);
criterion_main!(benches);
