//! Plans, connections and failures: what only a real server can show.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

mod common;

use std::time::Duration;

use common::{NOW, fleet, load};
use novacron_dashboard_query::{ConnectOptions, DashboardQuery, DashboardRepository, Error};

fn query() -> DashboardQuery {
    DashboardQuery::default().now_ms(Some(NOW))
}

/// Every `Node Type` of a JSON plan that scans `relation`.
fn scans_of(plan: &str, relation: &str) -> Vec<String> {
    let value: serde_json::Value = serde_json::from_str(plan).unwrap();
    let mut out = Vec::new();
    fn walk(v: &serde_json::Value, relation: &str, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(map) => {
                if map.get("Relation Name").and_then(|r| r.as_str()) == Some(relation) {
                    out.push(
                        map.get("Node Type")
                            .and_then(|t| t.as_str())
                            .unwrap_or("")
                            .to_string(),
                    );
                }
                map.values().for_each(|c| walk(c, relation, out));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|c| walk(c, relation, out)),
            _ => {}
        }
    }
    walk(&value, relation, &mut out);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_plan_probes_the_metrics_index_at_1000_vms_x_100_samples() {
    let b = common::postgres().await;
    let (data, deleted) = fleet(1, 1000, 100, 11);
    let mut data = data;
    // Exactly 100 samples per VM.
    data.metrics.clear();
    for vm in &data.vms {
        for k in 0..100 {
            data.metrics.push(novacron_dashboard_query::MetricSample {
                vm_id: vm.id.unwrap(),
                ts_ms: NOW - 60_000 * k,
                cpu: 1.0,
                memory: 2.0,
                disk: 3.0,
                net_rx: 4.0,
                net_tx: 5.0,
                performance_score: None,
            });
        }
    }
    load(&b.repo, &data, &deleted).await;
    assert_eq!(b.repo.counts().await.unwrap().metrics, 100_000);
    let plan = b.repo.explain_dashboard(1, &query()).await.unwrap();
    let scans = scans_of(&plan, "vm_metrics");
    assert!(
        !scans.is_empty(),
        "vm_metrics missing from the plan: {plan}"
    );
    assert!(
        scans.iter().all(|t| t.contains("Index")),
        "vm_metrics scanned without its index: {scans:?}\n{plan}"
    );
    assert!(!scans.iter().any(|t| t == "Seq Scan"));
    // The page itself: every VM's latest sample is the newest one.
    let rows = b.repo.dashboard(1, &query()).await.unwrap().rows;
    assert_eq!(rows.len(), 1000 - deleted.len());
    assert!(rows.iter().all(|r| r.metrics.unwrap().ts_ms == NOW));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_plan_searches_the_metrics_primary_key() {
    let b = common::sqlite_memory().await;
    let (data, deleted) = fleet(1, 200, 20, 2);
    load(&b.repo, &data, &deleted).await;
    let plan = b.repo.explain_dashboard(1, &query()).await.unwrap();
    // `m` and `mm` are vm_metrics: both the join and the max() subquery
    // search its primary key; nothing in the plan scans a whole table.
    assert!(
        plan.contains("SEARCH m USING PRIMARY KEY (vm_id=? AND ts_ms=?)"),
        "{plan}"
    );
    assert!(
        plan.contains("SEARCH mm USING PRIMARY KEY (vm_id=?)"),
        "{plan}"
    );
    assert!(plan.contains("USING INDEX vms_live_by_org_name"), "{plan}");
    let scans: Vec<&str> = plan
        .lines()
        .filter(|l| l.trim_start().starts_with("SCAN"))
        .collect();
    println!("{plan}");
    assert!(
        scans
            .iter()
            .all(|l| !l.contains(" m ") && !l.contains(" mm ") && !l.contains(" v ")),
        "{plan}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_over_a_unix_socket_gives_the_same_dashboard() {
    let b = common::postgres().await;
    // Under DATABASE_URL the socket of the server is unknown: this test then
    // fails, as the README says (it needs the throwaway server).
    let socket =
        b.db.as_ref().unwrap().socket_url().expect(
            "the Unix-socket test needs the throwaway server; unset DATABASE_URL to run it",
        );
    let (data, deleted) = fleet(2, 60, 5, 9);
    load(&b.repo, &data, &deleted).await;
    let over_socket = DashboardRepository::connect(&socket).await.unwrap();
    assert_eq!(
        over_socket.dashboard(1, &query()).await.unwrap(),
        b.repo.dashboard(1, &query()).await.unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_databases_are_connect_errors() {
    let opts = ConnectOptions::default().acquire_timeout(Duration::from_secs(2));
    // Nothing listens on port 1.
    let err = DashboardRepository::connect_with("postgres://postgres@127.0.0.1:1/nope", &opts)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Connect(_)), "{err}");
    assert!(std::error::Error::source(&err).is_some());
    let err = DashboardRepository::connect("sqlite:///nonexistent-dir/sub/dash.db")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Connect(_)), "{err}");
    let err = DashboardRepository::connect("mysql://user:secret@host/db")
        .await
        .unwrap_err();
    assert_eq!(
        err,
        Error::UnsupportedUrl {
            url: "mysql://user:***@host/db".into()
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_dropped_under_the_repository_is_an_error_with_its_cause() {
    let b = common::postgres().await;
    let db = b.db.as_ref().unwrap();
    let (data, deleted) = fleet(1, 20, 2, 4);
    load(&b.repo, &data, &deleted).await;
    assert!(b.repo.dashboard(1, &query()).await.is_ok());
    // Terminate every session and drop the database.
    db.psql_admin(&format!("DROP DATABASE \"{}\" WITH (FORCE)", db.name()))
        .unwrap();
    let err = b.repo.dashboard(1, &query()).await.unwrap_err();
    assert!(
        matches!(&err, Error::Database(e) if e.operation() == "dashboard"),
        "{err}"
    );
    assert!(err.is_transient() && err.to_string().contains("retry"));
    let cause = std::error::Error::source(&err).unwrap().to_string();
    assert!(!cause.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_failure_keeps_the_migrators_error_as_its_source() {
    let dir = common::temp_dir("readonly");
    let path = dir.0.join("ro.db");
    std::fs::write(&path, b"").unwrap();
    let url = format!("sqlite://{}?mode=ro", path.display());
    // A pool of the caller's that can only read: connecting works, the
    // migrations cannot.
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let err = DashboardRepository::from_sqlite_pool(pool, &ConnectOptions::default())
        .await
        .expect_err("a read-only database cannot be migrated");
    assert!(matches!(err, Error::Migrate(_)), "{err:?}");
    let source = std::error::Error::source(&err).expect("the migrator's error");
    assert!(!source.to_string().is_empty());
    assert!(err.to_string().contains("migrations failed"), "{err}");
}
