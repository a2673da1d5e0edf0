//! Criterion suite of novacron-dashboard-query: the 1 + 3N baseline against
//! the single statement, on real databases, in the same run.
//!
//! - `dashboard_{pg_socket, pg_tcp, sqlite}/{naive_n_plus_1, single_query,
//!   latest_value_table}/{100, 1000, 10000}`: a whole dashboard of an
//!   organization with that many VMs × 100 samples each (10 % of VMs with
//!   active alerts, 10 scores per VM), on PostgreSQL over its Unix socket and
//!   over TCP loopback (a throwaway server from `novacron-testkit`, or
//!   `DATABASE_URL`), and on a SQLite file. Samples are loaded in ingest
//!   order (minute by minute across VMs), as a collector writes them.
//! - `page_{pg_socket, sqlite}/{keyset, offset}/{first, deep}`: a page of 50
//!   rows of the 10,000-VM organization, first and last, by cursor or by OFFSET.
//!
//! Run: `cargo bench --bench dashboard` (add `-- dashboard_pg_socket` for one group).

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use novacron_dashboard_query::{
    BulkData, DashboardQuery, DashboardRepository, MetricSample, MetricsSource, NewAlert, NewVm,
    ScoreSample, Severity,
};
use novacron_testkit::TestDb;

const NOW: i64 = 1_800_000_000_000;
const SIZES: [(i64, usize); 3] = [(1, 100), (2, 1000), (3, 10_000)];
const PAGE: usize = 50;

/// Three organizations of 100, 1,000 and 10,000 VMs, 100 samples each.
fn fleet() -> BulkData {
    let mut data = BulkData::default();
    let mut state = 42u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as f64 / (1u64 << 31) as f64
    };
    let mut id = 0i64;
    for &(org, n) in &SIZES {
        data.organizations.push((org, format!("org-{org}")));
        for k in 0..n {
            id += 1;
            data.vms.push(NewVm {
                id: Some(id),
                organization_id: org,
                name: format!("vm-{org}-{:05}", (k * 7919) % n),
                status: if k % 10 == 0 { "stopped" } else { "running" }.into(),
                cpu_cores: 4,
                memory_mib: 8192,
                created_at_ms: NOW - 86_400_000,
            });
            let newest = NOW - (next() * 120_000.0) as i64;
            for s in 0..100 {
                data.metrics.push(MetricSample {
                    vm_id: id,
                    ts_ms: newest - 60_000 * s,
                    cpu: next() * 100.0,
                    memory: next() * 100.0,
                    disk: next() * 100.0,
                    net_rx: next() * 1000.0,
                    net_tx: next() * 1000.0,
                    performance_score: Some(next()),
                });
            }
            if k % 10 == 3 {
                for a in 0..1 + k % 3 {
                    data.alerts.push(NewAlert {
                        vm_id: id,
                        severity: [Severity::Info, Severity::Warning, Severity::Critical][a % 3],
                        alert_type: ["cpu_high", "disk_full", "memory_high"][a % 3].into(),
                        created_at_ms: NOW - 600_000,
                        resolved_at_ms: None,
                    });
                }
            }
            if k % 5 == 0 {
                for _ in 0..2 {
                    data.alerts.push(NewAlert {
                        vm_id: id,
                        severity: Severity::Warning,
                        alert_type: "heartbeat".into(),
                        created_at_ms: NOW - 7_200_000,
                        resolved_at_ms: Some(NOW - 3_600_000),
                    });
                }
            }
            for s in 0..10 {
                data.scores.push(ScoreSample {
                    vm_id: id,
                    calculated_at_ms: NOW - 600_000 * s,
                    overall: next(),
                    efficiency: next(),
                    reliability: next(),
                });
            }
        }
    }
    // Ingest order: a real collector writes every VM's sample of a minute,
    // then the next minute, so the newest samples sit together at the end
    // of the PostgreSQL heap (SQLite clusters by primary key either way).
    data.metrics.sort_by_key(|m| (m.ts_ms, m.vm_id));
    data
}

fn query(source: MetricsSource, page_size: usize) -> DashboardQuery {
    DashboardQuery {
        now_ms: Some(NOW),
        metrics_source: source,
        page_size,
        ..Default::default()
    }
}

fn dashboards(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    group: &str,
    repo: &DashboardRepository,
) {
    let mut g = c.benchmark_group(group);
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for &(org, n) in &SIZES {
        g.throughput(Throughput::Elements(n as u64));
        let all = query(MetricsSource::History, n);
        let latest = query(MetricsSource::LatestTable, n);
        let expected = rt
            .block_on(repo.dashboard(org, &all))
            .expect("dashboard")
            .rows
            .len();
        assert_eq!(expected, n);
        g.bench_function(BenchmarkId::new("naive_n_plus_1", n), |b| {
            b.iter(|| {
                rt.block_on(repo.naive_dashboard(org, &all))
                    .expect("dashboard")
            })
        });
        g.bench_function(BenchmarkId::new("single_query", n), |b| {
            b.iter(|| rt.block_on(repo.dashboard(org, &all)).expect("dashboard"))
        });
        g.bench_function(BenchmarkId::new("latest_value_table", n), |b| {
            b.iter(|| {
                rt.block_on(repo.dashboard(org, &latest))
                    .expect("dashboard")
            })
        });
    }
    g.finish();
}

/// The OFFSET baseline: the same statement as the PostgreSQL dashboard, paged by OFFSET.
const PG_OFFSET: &str = "SELECT v.id, v.name, m.ts_ms, m.cpu, a.n, s.overall FROM vms v \
    LEFT JOIN LATERAL (SELECT mm.ts_ms, mm.cpu FROM vm_metrics mm WHERE mm.vm_id = v.id AND mm.ts_ms >= $2 \
      ORDER BY mm.ts_ms DESC LIMIT 1) m ON true \
    LEFT JOIN LATERAL (SELECT count(*) AS n FROM alerts al WHERE al.vm_id = v.id AND al.resolved_at_ms IS NULL) a ON true \
    LEFT JOIN LATERAL (SELECT ps.overall FROM performance_scores ps WHERE ps.vm_id = v.id AND ps.calculated_at_ms >= $3 \
      ORDER BY ps.calculated_at_ms DESC LIMIT 1) s ON true \
    WHERE v.organization_id = $1 AND v.deleted_at_ms IS NULL ORDER BY v.name, v.id LIMIT $4 OFFSET $5";

fn pages(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    group: &str,
    repo: &DashboardRepository,
    pg: Option<&sqlx::PgPool>,
) {
    let (org, n) = SIZES[2];
    let q = query(MetricsSource::History, PAGE);
    // The cursor of the last page.
    let mut deep = q.clone();
    let mut pages = 0;
    loop {
        let page = rt.block_on(repo.dashboard(org, &deep)).expect("page");
        pages += 1;
        match page.next_cursor {
            Some(c) if pages * PAGE < n => deep.cursor = Some(c),
            _ => break,
        }
    }
    let mut g = c.benchmark_group(group);
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    g.bench_function(BenchmarkId::new("keyset", "first"), |b| {
        b.iter(|| rt.block_on(repo.dashboard(org, &q)).expect("page"))
    });
    g.bench_function(BenchmarkId::new("keyset", "deep"), |b| {
        b.iter(|| rt.block_on(repo.dashboard(org, &deep)).expect("page"))
    });
    if let Some(pool) = pg {
        type Row = (
            i64,
            String,
            Option<i64>,
            Option<f64>,
            Option<i64>,
            Option<f64>,
        );
        for (name, offset) in [("first", 0i64), ("deep", (n - PAGE) as i64)] {
            g.bench_function(BenchmarkId::new("offset", name), |b| {
                b.iter(|| {
                    rt.block_on(
                        sqlx::query_as::<_, Row>(PG_OFFSET)
                            .bind(org)
                            .bind(NOW - 300_000)
                            .bind(NOW - 3_600_000)
                            .bind(PAGE as i64)
                            .bind(offset)
                            .fetch_all(pool),
                    )
                    .expect("offset page")
                })
            });
        }
    }
    g.finish();
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let data = fleet();

    let db = TestDb::new().expect("PostgreSQL (install the server binaries or set DATABASE_URL)");
    let tcp = rt
        .block_on(DashboardRepository::connect(db.url()))
        .expect("connect over TCP");
    rt.block_on(tcp.bulk_load(&data)).expect("load PostgreSQL");
    if let Some(socket) = db.socket_url() {
        let repo = rt
            .block_on(DashboardRepository::connect(&socket))
            .expect("connect over the socket");
        dashboards(c, &rt, "dashboard_pg_socket", &repo);
        let pool = rt
            .block_on(sqlx::PgPool::connect(&socket))
            .expect("offset pool");
        pages(c, &rt, "page_pg_socket", &repo, Some(&pool));
    }
    dashboards(c, &rt, "dashboard_pg_tcp", &tcp);

    let dir = std::env::temp_dir().join(format!("novacron-dashboard-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = format!("sqlite://{}", dir.join("dash.db").display());
    let lite = rt
        .block_on(DashboardRepository::connect(&url))
        .expect("open SQLite");
    rt.block_on(lite.bulk_load(&data)).expect("load SQLite");
    dashboards(c, &rt, "dashboard_sqlite", &lite);
    pages(c, &rt, "page_sqlite", &lite, None);
    rt.block_on(lite.close());
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
