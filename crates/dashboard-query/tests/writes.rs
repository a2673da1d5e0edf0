//! The write API and the bulk loader on every backend: repeated keys within
//! a batch, atomic loads, explicit ids.

#![allow(clippy::unwrap_used)]

mod common;

use common::{NOW, all_backends, fleet};
use novacron_dashboard_query::{
    BulkData, ConstraintKind, DashboardQuery, Error, LoadReport, MetricSample, NewVm, ScoreSample,
};

fn sample(vm_id: i64, ts_ms: i64, cpu: f64) -> MetricSample {
    MetricSample {
        vm_id,
        ts_ms,
        cpu,
        memory: 1.0,
        disk: 2.0,
        net_rx: 3.0,
        net_tx: 4.0,
        performance_score: None,
    }
}

fn score(vm_id: i64, at: i64, overall: f64) -> ScoreSample {
    ScoreSample {
        vm_id,
        calculated_at_ms: at,
        overall,
        efficiency: 0.5,
        reliability: 0.5,
    }
}

fn vm(id: Option<i64>, org: i64, name: &str) -> NewVm {
    NewVm {
        id,
        organization_id: org,
        name: name.into(),
        status: "running".into(),
        cpu_cores: 2,
        memory_mib: 2048,
        created_at_ms: NOW - 1000,
    }
}

fn query() -> DashboardQuery {
    DashboardQuery::default().now_ms(Some(NOW))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_repeats_a_key_keeps_its_last_row_on_every_backend() {
    for b in all_backends().await {
        let org = b.repo.create_organization("acme").await.unwrap();
        let id = b.repo.create_vm(&vm(None, org, "web")).await.unwrap();
        // Was: PostgreSQL refused the batch ("cannot affect row a second time").
        b.repo
            .record_metrics(&[
                sample(id, NOW - 10, 1.0),
                sample(id, NOW - 20, 5.0),
                sample(id, NOW - 10, 7.0),
            ])
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", b.name));
        b.repo
            .record_scores(&[score(id, NOW - 10, 0.1), score(id, NOW - 10, 0.9)])
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", b.name));
        let counts = b.repo.counts().await.unwrap();
        assert_eq!((counts.metrics, counts.scores), (2, 1), "{}", b.name);
        let row = &b.repo.dashboard(org, &query()).await.unwrap().rows[0];
        assert_eq!(
            row.metrics.unwrap().cpu,
            7.0,
            "{}: the later sample wins",
            b.name
        );
        assert_eq!(row.scores.unwrap().overall, 0.9, "{}", b.name);
        // A later batch at the same key replaces it too (the documented rule).
        b.repo
            .record_metrics(&[sample(id, NOW - 10, 9.0)])
            .await
            .unwrap();
        let row = &b.repo.dashboard(org, &query()).await.unwrap().rows[0];
        assert_eq!(row.metrics.unwrap().cpu, 9.0, "{}", b.name);
        assert_eq!(b.repo.counts().await.unwrap().metrics, 2, "{}", b.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_load_with_repeated_keys_counts_each_key_once() {
    for b in all_backends().await {
        let (mut data, _) = fleet(1, 20, 3, 11);
        let repeated = data.metrics[0];
        data.metrics.push(MetricSample {
            cpu: 42.0,
            ..repeated
        });
        let report = b
            .repo
            .bulk_load(&data)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", b.name));
        assert_eq!(report.metrics, data.metrics.len() as u64 - 1, "{}", b.name);
        assert_eq!(b.repo.counts().await.unwrap(), report, "{}", b.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_load_that_fails_in_its_last_part_leaves_nothing_behind() {
    for b in all_backends().await {
        let (mut data, _) = fleet(2, 40, 3, 5);
        // The last part (scores) names a VM that does not exist.
        data.scores.push(score(9_999_999, NOW, 0.5));
        let err = b.repo.bulk_load(&data).await.expect_err("foreign key");
        assert!(
            matches!(
                err,
                Error::Constraint {
                    kind: ConstraintKind::ForeignKey,
                    ..
                }
            ),
            "{}: {err:?}",
            b.name
        );
        assert!(!err.is_transient() && err.to_string().contains("retrying will not help"));
        // Was: organizations, VMs, metrics and alerts stayed committed.
        assert_eq!(
            b.repo.counts().await.unwrap(),
            LoadReport::default(),
            "{}",
            b.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_load_whose_rows_replace_stored_rows_rolls_back() {
    for b in all_backends().await {
        let (first, _) = fleet(1, 10, 2, 3);
        b.repo.bulk_load(&first).await.unwrap();
        let stored = b.repo.counts().await.unwrap();
        // New organization and VM, plus one sample at an existing key: the
        // history table grows by one row less than sent.
        let second = BulkData {
            organizations: vec![(50, "second".into())],
            vms: vec![vm(Some(500), 50, "new")],
            metrics: vec![sample(500, NOW, 1.0), first.metrics[0]],
            ..Default::default()
        };
        match b.repo.bulk_load(&second).await {
            Err(Error::LoadMismatch {
                table,
                expected,
                found,
            }) => {
                assert_eq!(table, "vm_metrics");
                assert_eq!((expected, found), (stored.metrics + 2, stored.metrics + 1));
            }
            other => panic!("{}: {other:?}", b.name),
        }
        // Was: the count check ran after commit, so the rows stayed.
        assert_eq!(b.repo.counts().await.unwrap(), stored, "{}", b.name);
        assert!(
            b.repo
                .dashboard(50, &query())
                .await
                .unwrap()
                .rows
                .is_empty()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explicit_vm_id_moves_later_ids_past_it_on_every_backend() {
    for b in all_backends().await {
        let org = b.repo.create_organization("acme").await.unwrap();
        assert_eq!(
            b.repo.create_vm(&vm(Some(500), org, "a")).await.unwrap(),
            500
        );
        // Was: PostgreSQL's identity sequence still stood at 1 .. and would
        // collide once it reached 500.
        let next = b.repo.create_vm(&vm(None, org, "b")).await.unwrap();
        assert_eq!(next, 501, "{}", b.name);
        assert_eq!(
            b.repo.create_vm(&vm(Some(100), org, "c")).await.unwrap(),
            100
        );
        assert_eq!(
            b.repo.create_vm(&vm(None, org, "d")).await.unwrap(),
            502,
            "{}",
            b.name
        );
        // Ids from a bulk load behave the same.
        let data = BulkData {
            organizations: vec![(70, "bulk".into())],
            vms: vec![vm(Some(9000), 70, "e")],
            ..Default::default()
        };
        b.repo.bulk_load(&data).await.unwrap();
        assert_eq!(
            b.repo.create_vm(&vm(None, org, "f")).await.unwrap(),
            9001,
            "{}",
            b.name
        );
        assert!(
            b.repo.create_organization("later").await.unwrap() > 70,
            "{}",
            b.name
        );
        let err = b
            .repo
            .create_vm(&vm(Some(500), org, "dup"))
            .await
            .expect_err("duplicate id");
        assert!(
            matches!(
                err,
                Error::Constraint {
                    kind: ConstraintKind::Unique,
                    ..
                }
            ),
            "{}: {err:?}",
            b.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolving_a_vms_alerts_by_type_clears_only_those_on_every_backend() {
    use novacron_dashboard_query::{NewAlert, Severity};
    for b in all_backends().await {
        let org = b.repo.create_organization("acme").await.unwrap();
        let web = b.repo.create_vm(&vm(None, org, "web")).await.unwrap();
        let db = b.repo.create_vm(&vm(None, org, "db")).await.unwrap();
        let alert = |vm_id, kind: &str| NewAlert {
            vm_id,
            severity: Severity::Warning,
            alert_type: kind.into(),
            created_at_ms: NOW - 100,
            resolved_at_ms: None,
        };
        b.repo
            .record_alerts(&[
                alert(web, "cpu_high"),
                alert(web, "cpu_high"),
                alert(web, "disk_high"),
                alert(db, "cpu_high"),
            ])
            .await
            .unwrap();
        assert_eq!(
            b.repo
                .resolve_vm_alerts(web, "cpu_high", NOW)
                .await
                .unwrap(),
            2,
            "{}",
            b.name
        );
        // Already resolved: nothing left to resolve.
        assert_eq!(
            b.repo
                .resolve_vm_alerts(web, "cpu_high", NOW)
                .await
                .unwrap(),
            0
        );
        let page = b.repo.dashboard(org, &query()).await.unwrap();
        let types = |id| {
            let row = page.rows.iter().find(|r| r.vm_id == id).unwrap();
            (row.active_alerts, row.alert_types.clone())
        };
        assert_eq!(types(web), (1, vec!["disk_high".to_string()]));
        assert_eq!(types(db), (1, vec!["cpu_high".to_string()]));
        for bad in ["bad\ntype", "", &"x".repeat(300)] {
            assert!(matches!(
                b.repo.resolve_vm_alerts(web, bad, NOW).await,
                Err(Error::InvalidInput { .. })
            ));
        }
        // Ids and times at the extremes resolve nothing and fail nothing.
        for (vm_id, at) in [(i64::MAX, i64::MAX), (i64::MIN, i64::MIN), (0, 0)] {
            assert_eq!(
                b.repo
                    .resolve_vm_alerts(vm_id, "cpu_high", at)
                    .await
                    .unwrap(),
                0
            );
        }
    }
}
