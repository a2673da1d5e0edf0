//! Criterion suite of novacron-dashboard-query: the 1 + 3N baseline against
//! the single statement, on real databases, in the same run.
//!
//! - `dashboard_{pg_socket, pg_tcp, sqlite}/{naive_n_plus_1, single_query,
//!   latest_value_table}/{100, 1000, 10000}`: a whole dashboard of an
//!   organization with that many VMs × 100 samples each, from the shared
//!   fleet simulator (`examples/common/fleet.rs`: its threshold alerts, six
//!   hourly scores per VM), on PostgreSQL over its Unix socket and over TCP
//!   loopback (a throwaway server from `novacron-testkit`, or
//!   `DATABASE_URL`), and on a SQLite file. Samples are loaded in ingest
//!   order (minute by minute across VMs), as a collector writes them.
//! - `page_{pg_socket, sqlite}/{keyset, offset}/{first, deep}`: a page of 50
//!   rows of the 10,000-VM organization, first and last, by cursor or by
//!   OFFSET (a narrower statement on a default pool: see `PG_OFFSET`).
//!
//! Run: `cargo bench --bench dashboard` (add `-- dashboard_pg_socket` for one group).

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use novacron_dashboard_query::{BulkData, DashboardQuery, DashboardRepository, MetricsSource};
use novacron_testkit::TestDb;

#[path = "../examples/common/dashboard_data.rs"]
mod dashboard_data;
#[path = "../examples/common/fleet.rs"]
mod fleet;

use fleet::{EPOCH_S, Fleet, FleetConfig};

const HOURS: u32 = 2;
/// Just after the fleet's last sample (one a minute for `HOURS`).
const NOW: i64 = (EPOCH_S + (HOURS as i64 * 60 - 1) * 60) * 1000 + 1;
const SIZES: [(i64, usize); 3] = [(1, 100), (2, 1000), (3, 10_000)];
const PAGE: usize = 50;

/// The simulated fleet (`examples/common/fleet.rs`, seed 42) with three
/// organizations of 100, 1,000 and 10,000 VMs, two hours at one sample a
/// minute, of which the last 100 samples per VM are loaded, with the
/// fleet's threshold alerts and six hourly scores per VM.
fn fleet_data() -> BulkData {
    let fleet = Fleet::generate(&FleetConfig {
        n_vms: SIZES.iter().map(|s| s.1).sum(),
        n_hosts: 60,
        n_orgs: SIZES.len(),
        hours: HOURS,
        sample_interval_s: 60,
        seed: 42,
        org_sizes: SIZES.iter().map(|s| s.1).collect(),
    });
    let mut data = dashboard_data::bulk_data(&fleet, 100);
    // Ingest order: a real collector writes every VM's sample of a minute,
    // then the next minute, so the newest samples sit together at the end
    // of the PostgreSQL heap (SQLite clusters by primary key either way).
    data.metrics.sort_by_key(|m| (m.ts_ms, m.vm_id));
    data
}

fn query(source: MetricsSource, page_size: usize) -> DashboardQuery {
    DashboardQuery::default()
        .now_ms(Some(NOW))
        .metrics_source(source)
        .page_size(page_size)
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

/// The OFFSET baseline. Not the dashboard's own statement (that one is private
/// to the crate and pages by keyset only): the same LATERAL probes with fewer
/// columns (id, name, latest CPU, active-alert count, latest overall score),
/// on a plain `sqlx::PgPool` with default options, paged by `LIMIT … OFFSET`.
/// It shows what OFFSET costs at depth, not a like-for-like statement.
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
    let data = fleet_data();

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
