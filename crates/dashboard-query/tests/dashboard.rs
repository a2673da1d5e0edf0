//! One test suite, run on PostgreSQL, SQLite in memory and SQLite in a file.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

mod common;

use common::{NOW, all_backends, fleet, load};
use novacron_dashboard_query::{
    ConstraintKind, Cursor, DashboardQuery, DashboardRow, Error, MAX_PAGE_SIZE, MetricSample,
    MetricsSource, NewAlert, NewVm, Severity,
};

fn query() -> DashboardQuery {
    DashboardQuery::default().now_ms(Some(NOW))
}

/// Every page of a dashboard, following cursors.
async fn all_pages(
    repo: &novacron_dashboard_query::DashboardRepository,
    org: i64,
    q: &DashboardQuery,
    naive: bool,
) -> Vec<DashboardRow> {
    let mut q = q.clone();
    let mut rows = Vec::new();
    loop {
        let page = if naive {
            repo.naive_dashboard(org, &q).await
        } else {
            repo.dashboard(org, &q).await
        }
        .unwrap();
        rows.extend(page.rows);
        match page.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => return rows,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_query_equals_the_naive_n_plus_1_on_random_fleets() {
    for seed in 0..3 {
        for b in all_backends().await {
            let (data, deleted) = fleet(3, 120, 12, seed);
            load(&b.repo, &data, &deleted).await;
            for org in 1..=4 {
                for status in [None, Some("running".to_string())] {
                    for source in [MetricsSource::History, MetricsSource::LatestTable] {
                        let q = query()
                            .status(status.clone())
                            .page_size(17)
                            .metrics_source(source);
                        let fast = all_pages(&b.repo, org, &q, false).await;
                        let naive = all_pages(&b.repo, org, &q, true).await;
                        assert_eq!(
                            fast, naive,
                            "{} org {org} status {status:?} {source:?}",
                            b.name
                        );
                        let whole = b
                            .repo
                            .dashboard(org, &q.clone().page_size(MAX_PAGE_SIZE))
                            .await
                            .unwrap();
                        assert_eq!(whole.rows, fast, "{}: paging changes nothing", b.name);
                        assert!(whole.next_cursor.is_none());
                    }
                }
            }
            // What the rows must hold, checked against the generated data.
            let rows = all_pages(&b.repo, 1, &query(), false).await;
            let live: Vec<&NewVm> = data
                .vms
                .iter()
                .filter(|v| v.organization_id == 1 && !deleted.contains(&v.id.unwrap()))
                .collect();
            assert_eq!(rows.len(), live.len());
            assert!(
                rows.windows(2)
                    .all(|w| (&w[0].name, w[0].vm_id) < (&w[1].name, w[1].vm_id))
            );
            for row in &rows {
                let fresh = data
                    .metrics
                    .iter()
                    .filter(|m| m.vm_id == row.vm_id && m.ts_ms >= NOW - 300_000)
                    .max_by_key(|m| m.ts_ms);
                assert_eq!(
                    row.metrics.map(|m| m.ts_ms),
                    fresh.map(|m| m.ts_ms),
                    "{}",
                    b.name
                );
                let active: Vec<&NewAlert> = data
                    .alerts
                    .iter()
                    .filter(|a| a.vm_id == row.vm_id && a.resolved_at_ms.is_none())
                    .collect();
                assert_eq!(row.active_alerts, active.len() as i64);
                assert_eq!(row.max_severity, active.iter().map(|a| a.severity).max());
                let score = data
                    .scores
                    .iter()
                    .filter(|s| s.vm_id == row.vm_id && s.calculated_at_ms >= NOW - 3_600_000)
                    .max_by_key(|s| s.calculated_at_ms);
                assert_eq!(
                    row.scores.map(|s| s.calculated_at_ms),
                    score.map(|s| s.calculated_at_ms)
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dashboard_is_one_statement_at_10_and_1000_vms() {
    for b in all_backends().await {
        let (data, deleted) = fleet(2, 1010, 3, 7);
        // Org 1: 10 VMs, org 2: 1000 VMs.
        let mut data = data;
        for (k, vm) in data.vms.iter_mut().enumerate() {
            vm.organization_id = if k < 10 { 1 } else { 2 };
        }
        load(&b.repo, &data, &deleted).await;
        for (org, n_vms) in [(1, 10usize), (2, 1000)] {
            let before = b.repo.statements_issued();
            let page = b.repo.dashboard(org, &query()).await.unwrap();
            assert_eq!(
                b.repo.statements_issued() - before,
                1,
                "{} org {org}",
                b.name
            );
            let live = n_vms
                - deleted
                    .iter()
                    .filter(|&&id| (if id <= 10 { 1 } else { 2 }) == org)
                    .count();
            assert_eq!(page.rows.len(), live);
            let before = b.repo.statements_issued();
            let naive = b.repo.naive_dashboard(org, &query()).await.unwrap();
            assert_eq!(
                b.repo.statements_issued() - before,
                1 + 3 * live as u64,
                "{}",
                b.name
            );
            assert_eq!(naive.rows, page.rows);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_for_vms_never_returns_another_organizations_vms() {
    for b in all_backends().await {
        let (data, deleted) = fleet(2, 60, 1, 9);
        load(&b.repo, &data, &deleted).await;
        let all = query().page_size(MAX_PAGE_SIZE);
        let org1 = b.repo.dashboard(1, &all).await.unwrap().rows;
        let org2 = b.repo.dashboard(2, &all).await.unwrap().rows;
        assert!(!org1.is_empty() && !org2.is_empty(), "{}", b.name);
        // Every id of both tenants, asked for by each tenant in turn.
        let ids: Vec<i64> = org1.iter().chain(&org2).map(|r| r.vm_id).collect();
        assert_eq!(
            b.repo.dashboard_for_vms(1, &ids, &query()).await.unwrap(),
            org1,
            "{}",
            b.name
        );
        assert_eq!(
            b.repo.dashboard_for_vms(2, &ids, &query()).await.unwrap(),
            org2,
            "{}",
            b.name
        );
        assert!(
            b.repo
                .dashboard_for_vms(3, &ids, &query())
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyset_pages_have_no_gaps_or_duplicates() {
    for b in all_backends().await {
        let (data, deleted) = fleet(1, 250, 2, 3);
        load(&b.repo, &data, &deleted).await;
        let whole = b.repo.dashboard(1, &query()).await.unwrap().rows;
        for page_size in [1, 7, 50, 249, 250, 251] {
            let q = query().page_size(page_size);
            let rows = all_pages(&b.repo, 1, &q, false).await;
            assert_eq!(rows, whole, "{} page size {page_size}", b.name);
        }
        let ids = [whole[3].vm_id, whole[0].vm_id, 999_999];
        let some = b.repo.dashboard_for_vms(1, &ids, &query()).await.unwrap();
        let mut expected = vec![whole[0].clone(), whole[3].clone()];
        expected.sort_by(|a, b| (&a.name, a.vm_id).cmp(&(&b.name, b.vm_id)));
        assert_eq!(some, expected, "{}", b.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_pages_and_cursors_are_errors() {
    for b in all_backends().await {
        let (data, deleted) = fleet(2, 40, 1, 5);
        load(&b.repo, &data, &deleted).await;
        for page_size in [0, MAX_PAGE_SIZE + 1] {
            let q = query().page_size(page_size);
            assert_eq!(
                b.repo.dashboard(1, &q).await.unwrap_err(),
                Error::InvalidPageSize { got: page_size }
            );
        }
        let first = b.repo.dashboard(1, &query().page_size(5)).await.unwrap();
        let cursor = first.next_cursor.unwrap();
        let with = |c: Cursor| query().page_size(5).cursor(Some(c));
        assert!(b.repo.dashboard(1, &with(cursor.clone())).await.is_ok());
        for garbage in ["", "not a cursor!", "AAAA", "%%%"] {
            assert!(
                matches!(
                    b.repo
                        .dashboard(1, &with(Cursor::from_string(garbage)))
                        .await,
                    Err(Error::InvalidCursor { .. })
                ),
                "{garbage}"
            );
        }
        // Flip one character anywhere: the signature no longer matches.
        let text = cursor.as_str();
        for i in [0, text.len() / 2, text.len() - 1] {
            let mut bytes = text.as_bytes().to_vec();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let tampered = Cursor::from_string(String::from_utf8(bytes).unwrap());
            assert!(matches!(
                b.repo.dashboard(1, &with(tampered)).await,
                Err(Error::InvalidCursor { .. })
            ));
        }
        // Another organization or filter, or another repository's key.
        assert!(matches!(
            b.repo.dashboard(2, &with(cursor.clone())).await,
            Err(Error::InvalidCursor { .. })
        ));
        let filtered = with(cursor.clone()).status(Some("running".into()));
        assert!(matches!(
            b.repo.dashboard(1, &filtered).await,
            Err(Error::InvalidCursor { .. })
        ));
        let other = common::sqlite_memory().await;
        let err = other.repo.dashboard(1, &with(cursor)).await.unwrap_err();
        assert!(
            err.to_string()
                .contains("tampered with or issued by another repository"),
            "{err}"
        );
        // An unknown organization is an empty dashboard.
        let empty = b.repo.dashboard(424_242, &query()).await.unwrap();
        assert!(empty.rows.is_empty() && empty.next_cursor.is_none());
        assert!(matches!(
            b.repo
                .dashboard_for_vms(1, &vec![1; MAX_PAGE_SIZE + 1], &query())
                .await,
            Err(Error::InvalidInput { .. })
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_are_bound_never_spliced() {
    let evil = [
        "'; DROP TABLE vms; --",
        "x' OR '1'='1",
        "Robert'); DELETE FROM alerts; --",
        "$1 ?1 :name \\ \" ` ; /* */",
        "naïve 名前 🚀",
    ];
    for b in all_backends().await {
        let org = b.repo.create_organization(evil[0]).await.unwrap();
        let mut ids = Vec::new();
        for (k, name) in evil.iter().enumerate() {
            let id = b
                .repo
                .create_vm(&NewVm {
                    id: None,
                    organization_id: org,
                    name: name.to_string(),
                    status: evil[(k + 1) % evil.len()].to_string(),
                    cpu_cores: 2,
                    memory_mib: 2048,
                    created_at_ms: NOW,
                })
                .await
                .unwrap();
            ids.push(id);
            b.repo
                .record_alerts(&[NewAlert {
                    vm_id: id,
                    severity: Severity::Warning,
                    alert_type: name.to_string(),
                    created_at_ms: NOW,
                    resolved_at_ms: None,
                }])
                .await
                .unwrap();
        }
        let rows = b.repo.dashboard(org, &query()).await.unwrap().rows;
        assert_eq!(
            rows.len(),
            evil.len(),
            "{}: nothing dropped or deleted",
            b.name
        );
        for row in &rows {
            let k = evil.iter().position(|e| *e == row.name).unwrap();
            assert_eq!(row.status, evil[(k + 1) % evil.len()]);
            assert_eq!(row.alert_types, vec![evil[k].to_string()]);
        }
        // A status filter made of SQL is just a value that matches nothing.
        let q = query().status(Some("running' OR 'a'='a".into()));
        assert!(b.repo.dashboard(org, &q).await.unwrap().rows.is_empty());
        let q = query().status(Some(evil[1].into()));
        assert_eq!(b.repo.dashboard(org, &q).await.unwrap().rows.len(), 1);
        assert_eq!(b.repo.counts().await.unwrap().vms, evil.len() as u64);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_writes_are_errors() {
    for b in all_backends().await {
        let org = b.repo.create_organization("o").await.unwrap();
        let vm = NewVm {
            id: None,
            organization_id: org,
            name: "a".into(),
            status: "running".into(),
            cpu_cores: 1,
            memory_mib: 1,
            created_at_ms: NOW,
        };
        let id = b.repo.create_vm(&vm).await.unwrap();
        let sample = MetricSample {
            vm_id: id,
            ts_ms: NOW,
            cpu: f64::NAN,
            memory: 1.0,
            disk: 1.0,
            net_rx: 1.0,
            net_tx: 1.0,
            performance_score: None,
        };
        assert!(matches!(
            b.repo.record_metrics(&[sample]).await,
            Err(Error::InvalidInput { .. })
        ));
        let sample = MetricSample {
            cpu: 1.0,
            performance_score: Some(f64::INFINITY),
            ..sample
        };
        assert!(matches!(
            b.repo.record_metrics(&[sample]).await,
            Err(Error::InvalidInput { .. })
        ));
        let alert = NewAlert {
            vm_id: id,
            severity: Severity::Info,
            alert_type: "a\u{1f}b".into(),
            created_at_ms: NOW,
            resolved_at_ms: None,
        };
        assert!(matches!(
            b.repo.record_alerts(&[alert]).await,
            Err(Error::InvalidInput { .. })
        ));
        assert!(matches!(
            b.repo
                .create_vm(&NewVm {
                    name: String::new(),
                    ..vm.clone()
                })
                .await,
            Err(Error::InvalidInput { .. })
        ));
        // A VM of an organization that does not exist violates the foreign key.
        let err = b
            .repo
            .create_vm(&NewVm {
                organization_id: 9999,
                ..vm.clone()
            })
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Constraint { kind: ConstraintKind::ForeignKey, error } if error.operation() == "create vm"),
            "{}: {err}",
            b.name
        );
        assert!(!err.is_transient());
        assert!(std::error::Error::source(&err).is_some());
        // A metric of an unknown VM rolls the whole batch back.
        let good = MetricSample {
            vm_id: id,
            ts_ms: NOW,
            cpu: 1.0,
            memory: 1.0,
            disk: 1.0,
            net_rx: 1.0,
            net_tx: 1.0,
            performance_score: None,
        };
        let bad = MetricSample {
            vm_id: 777_777,
            ..good
        };
        assert!(matches!(
            b.repo.record_metrics(&[good, bad]).await,
            Err(Error::Constraint {
                kind: ConstraintKind::ForeignKey,
                ..
            })
        ));
        assert_eq!(b.repo.counts().await.unwrap().metrics, 0, "{}", b.name);
        b.repo.record_metrics(&[good]).await.unwrap();
        let row = &b.repo.dashboard(org, &query()).await.unwrap().rows[0];
        assert_eq!(row.metrics.unwrap().ts_ms, NOW);
        // Re-recording a sample replaces it; the latest table follows.
        b.repo
            .record_metrics(&[MetricSample { cpu: 55.0, ..good }])
            .await
            .unwrap();
        for source in [MetricsSource::History, MetricsSource::LatestTable] {
            let q = query().metrics_source(source);
            assert_eq!(
                b.repo.dashboard(org, &q).await.unwrap().rows[0]
                    .metrics
                    .unwrap()
                    .cpu,
                55.0
            );
        }
        // Loading the same ids twice fails and names the cause.
        let (data, _) = fleet(1, 3, 1, 1);
        let mut data = data;
        data.organizations.clear();
        for v in &mut data.vms {
            v.organization_id = org;
            v.id = Some(id);
        }
        data.vms.truncate(1);
        data.metrics.clear();
        data.alerts.clear();
        data.scores.clear();
        assert!(matches!(
            b.repo.bulk_load(&data).await,
            Err(Error::Constraint {
                kind: ConstraintKind::Unique,
                ..
            })
        ));
    }
}

#[test]
fn arbitrary_cursor_text_is_rejected_never_a_panic() {
    use proptest::prelude::*;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let b = rt.block_on(common::sqlite_memory());
    let (data, deleted) = fleet(1, 30, 1, 8);
    rt.block_on(load(&b.repo, &data, &deleted));
    let valid = rt
        .block_on(b.repo.dashboard(1, &query().page_size(4)))
        .unwrap()
        .next_cursor
        .unwrap();
    let mut runner = proptest::test_runner::TestRunner::default();
    let text = valid.as_str().to_string();
    let strategy = (
        any::<String>(),
        proptest::collection::vec((0..text.len(), any::<u8>()), 0..4),
    );
    runner
        .run(&strategy, |(junk, edits)| {
            let q = |c: &str| query().page_size(4).cursor(Some(Cursor::from_string(c)));
            let r = rt.block_on(b.repo.dashboard(1, &q(&junk)));
            prop_assert!(
                matches!(r, Err(Error::InvalidCursor { .. })),
                "{junk:?}: {r:?}"
            );
            // Edit a valid cursor: only an unchanged one may pass.
            let mut bytes = text.as_bytes().to_vec();
            for (at, byte) in edits {
                bytes[at] = byte;
            }
            let edited = String::from_utf8_lossy(&bytes).into_owned();
            let r = rt.block_on(b.repo.dashboard(1, &q(&edited)));
            if edited == text {
                prop_assert!(r.is_ok());
            } else {
                prop_assert!(
                    matches!(r, Err(Error::InvalidCursor { .. })),
                    "{edited:?}: {r:?}"
                );
            }
            Ok(())
        })
        .unwrap();
}
