//! Shared by the test files: every backend, and random fleets.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use novacron_dashboard_query::{
    BulkData, DashboardRepository, MetricSample, NewAlert, NewVm, ScoreSample, Severity,
};
use novacron_testkit::TestDb;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// "Now" of every generated fleet.
pub const NOW: i64 = 1_800_000_000_000;

/// A repository with whatever keeps its database alive.
pub struct Backend {
    pub name: &'static str,
    pub repo: DashboardRepository,
    pub db: Option<TestDb>,
    _dir: Option<TempDir>,
}

/// A directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn temp_dir(tag: &str) -> TempDir {
    let dir = std::env::temp_dir().join(format!(
        "novacron-dq-{tag}-{}-{}",
        std::process::id(),
        rand::random::<u64>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

pub async fn postgres() -> Backend {
    let db = TestDb::new()
        .expect("PostgreSQL test database (install the server binaries or set DATABASE_URL)");
    let repo = DashboardRepository::connect(db.url()).await.unwrap();
    Backend {
        name: "postgres",
        repo,
        db: Some(db),
        _dir: None,
    }
}

pub async fn sqlite_memory() -> Backend {
    let repo = DashboardRepository::connect("sqlite::memory:")
        .await
        .unwrap();
    Backend {
        name: "sqlite-memory",
        repo,
        db: None,
        _dir: None,
    }
}

pub async fn sqlite_file() -> Backend {
    let dir = temp_dir("file");
    let url = format!("sqlite://{}", dir.0.join("dash.db").display());
    let repo = DashboardRepository::connect(&url).await.unwrap();
    Backend {
        name: "sqlite-file",
        repo,
        db: None,
        _dir: Some(dir),
    }
}

/// PostgreSQL, SQLite in memory and SQLite in a file.
pub async fn all_backends() -> Vec<Backend> {
    vec![postgres().await, sqlite_memory().await, sqlite_file().await]
}

/// A random fleet: `orgs` organizations, `vms` VMs spread over them (some
/// soft-deleted, some sharing a name), up to `samples` metric samples each
/// (some stale), alerts (active and resolved) and scores (fresh and stale).
pub fn fleet(orgs: usize, vms: usize, samples: usize, seed: u64) -> (BulkData, Vec<i64>) {
    let mut r = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut data = BulkData::default();
    for o in 0..orgs {
        data.organizations.push((o as i64 + 1, format!("org-{o}")));
    }
    let statuses = ["running", "stopped", "error", "migrating"];
    let types = [
        "cpu_high",
        "memory_high",
        "disk_full",
        "net_errors",
        "heartbeat",
    ];
    let mut deleted = Vec::new();
    for v in 0..vms {
        let id = v as i64 + 1;
        // Names collide on purpose (ties broken by id) and are not in id order.
        let name = format!("vm-{:04}", r.random_range(0..vms.max(1) as u64 * 3 / 4 + 1));
        data.vms.push(NewVm {
            id: Some(id),
            organization_id: (v % orgs.max(1)) as i64 + 1,
            name,
            status: statuses[r.random_range(0..statuses.len())].to_string(),
            cpu_cores: 1 << r.random_range(0..4),
            memory_mib: 1024 << r.random_range(0..4),
            created_at_ms: NOW - 86_400_000,
        });
        if r.random_bool(0.05) {
            deleted.push(id);
        }
        let n = r.random_range(0..=samples);
        // Samples every 60 s ending at a random age: some VMs have nothing fresh.
        let newest = NOW - r.random_range(0..600_000);
        for k in 0..n {
            data.metrics.push(MetricSample {
                vm_id: id,
                ts_ms: newest - 60_000 * k as i64,
                cpu: r.random_range(0.0..100.0),
                memory: r.random_range(0.0..100.0),
                disk: r.random_range(0.0..100.0),
                net_rx: r.random_range(0.0..1000.0),
                net_tx: r.random_range(0.0..1000.0),
                performance_score: r.random_bool(0.5).then(|| r.random_range(0.0..1.0)),
            });
        }
        for _ in 0..r.random_range(0..4) {
            let severity =
                [Severity::Info, Severity::Warning, Severity::Critical][r.random_range(0..3)];
            data.alerts.push(NewAlert {
                vm_id: id,
                severity,
                alert_type: types[r.random_range(0..types.len())].to_string(),
                created_at_ms: NOW - r.random_range(0..7_200_000),
                resolved_at_ms: r.random_bool(0.4).then_some(NOW - 1000),
            });
        }
        for k in 0..r.random_range(0..3) {
            data.scores.push(ScoreSample {
                vm_id: id,
                calculated_at_ms: NOW - r.random_range(0..7_200_000) - k,
                overall: r.random_range(0.0..1.0),
                efficiency: r.random_range(0.0..1.0),
                reliability: r.random_range(0.0..1.0),
            });
        }
    }
    data.scores.sort_by_key(|s| (s.vm_id, s.calculated_at_ms));
    data.scores.dedup_by_key(|s| (s.vm_id, s.calculated_at_ms));
    (data, deleted)
}

/// Loads a fleet and soft-deletes the chosen VMs.
pub async fn load(repo: &DashboardRepository, data: &BulkData, deleted: &[i64]) {
    repo.bulk_load(data).await.unwrap();
    for &id in deleted {
        assert!(repo.delete_vm(id, NOW - 5).await.unwrap());
    }
}
