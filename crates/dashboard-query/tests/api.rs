//! The API's promises: public types are `Send + Sync`, every async
//! method's future is `Send` (so `tokio::spawn` works), migrations can be
//! skipped and run on their own, options are checked at connect, and a
//! statement timeout cancels long statements as a transient error.

mod common;

use std::time::Duration;

use common::{NOW, fleet, load, temp_dir};
use novacron_dashboard_query::{
    BulkData, ConnectOptions, Cursor, DashboardPage, DashboardQuery, DashboardRepository, Error,
    MetricSample, NewAlert, NewVm, ScoreSample,
};

fn assert_send_sync<T: Send + Sync>() {}
fn assert_send<T: Send>(_: &T) {}

#[test]
fn public_types_are_send_and_sync() {
    assert_send_sync::<DashboardRepository>();
    assert_send_sync::<Error>();
    assert_send_sync::<DashboardQuery>();
    assert_send_sync::<DashboardPage>();
    assert_send_sync::<ConnectOptions>();
    assert_send_sync::<Cursor>();
    assert_send_sync::<BulkData>();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_future_of_every_async_method_is_send() {
    let repo = DashboardRepository::connect("sqlite::memory:")
        .await
        .unwrap();
    let q = DashboardQuery::default().now_ms(Some(NOW));
    let vm = NewVm {
        id: None,
        organization_id: 1,
        name: "a".into(),
        status: "running".into(),
        cpu_cores: 1,
        memory_mib: 1,
        created_at_ms: NOW,
    };
    let (data, _) = fleet(1, 1, 1, 1);
    let samples: [MetricSample; 0] = [];
    let alerts: [NewAlert; 0] = [];
    let scores: [ScoreSample; 0] = [];
    assert_send(&DashboardRepository::connect("sqlite::memory:"));
    assert_send(&repo.migrate());
    assert_send(&repo.dashboard(1, &q));
    assert_send(&repo.dashboard_for_vms(1, &[1], &q));
    assert_send(&repo.naive_dashboard(1, &q));
    assert_send(&repo.explain_dashboard(1, &q));
    assert_send(&repo.create_organization("o"));
    assert_send(&repo.create_vm(&vm));
    assert_send(&repo.delete_vm(1, NOW));
    assert_send(&repo.resolve_alert(1, NOW));
    assert_send(&repo.resolve_vm_alerts(1, "cpu_high", NOW));
    assert_send(&repo.record_metrics(&samples));
    assert_send(&repo.record_alerts(&alerts));
    assert_send(&repo.record_scores(&scores));
    assert_send(&repo.bulk_load(&data));
    assert_send(&repo.counts());
    assert_send(&repo.close());
    // And one really runs on another task.
    let repo = std::sync::Arc::new(repo);
    let shared = std::sync::Arc::clone(&repo);
    let page = tokio::spawn(async move { shared.dashboard(1, &q).await })
        .await
        .unwrap()
        .unwrap();
    assert!(page.rows.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_can_be_skipped_at_connect_and_run_later() {
    let dir = temp_dir("skip-migrations");
    let url = format!("sqlite:{}", dir.0.join("d.db").display());
    let opts = ConnectOptions::default().run_migrations(false);
    let repo = DashboardRepository::connect_with(&url, &opts)
        .await
        .unwrap();
    // No schema yet: a read fails (and says so), it does not create one.
    let err = repo
        .dashboard(1, &DashboardQuery::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Database(_)), "{err}");
    repo.migrate().await.unwrap();
    repo.migrate().await.unwrap(); // applied migrations are skipped
    let org = repo.create_organization("acme").await.unwrap();
    assert!(
        repo.dashboard(org, &DashboardQuery::default())
            .await
            .unwrap()
            .rows
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_role_reads_the_dashboard_with_migrations_skipped() {
    let b = common::postgres().await;
    let db = b.db.as_ref().unwrap();
    let (data, deleted) = fleet(1, 20, 2, 4);
    load(&b.repo, &data, &deleted).await;
    let role = format!(
        "reader_{}",
        db.name().replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    );
    db.psql_admin(&format!("CREATE ROLE {role} LOGIN")).unwrap();
    db.psql(&format!(
        "GRANT USAGE ON SCHEMA public TO {role}; GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"
    ))
    .unwrap();
    let mut url = url::Url::parse(db.url()).unwrap();
    url.set_username(&role).unwrap();
    url.set_password(None).unwrap();
    let reader = DashboardRepository::connect_with(
        url.as_str(),
        &ConnectOptions::default().run_migrations(false),
    )
    .await
    .unwrap();
    let q = DashboardQuery::default().now_ms(Some(NOW));
    assert_eq!(
        reader.dashboard(1, &q).await.unwrap(),
        b.repo.dashboard(1, &q).await.unwrap()
    );
    // Writing is refused by the database, and not as a constraint violation.
    let err = reader.create_organization("nope").await.unwrap_err();
    assert!(matches!(err, Error::Database(_)), "{err}");
    reader.close().await;
    db.psql_admin(&format!("DROP OWNED BY {role} CASCADE")).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_options_are_errors_from_connect_not_coerced() {
    for opts in [
        ConnectOptions::default().max_connections(0),
        ConnectOptions::default().statement_timeout(Duration::from_micros(10)),
    ] {
        let err = DashboardRepository::connect_with("sqlite::memory:", &opts)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_past_the_timeout_is_cancelled_as_a_transient_error() {
    let b = common::postgres().await;
    let db = b.db.as_ref().unwrap();
    // A large fleet makes the one-statement dashboard take well over 1 ms.
    let (data, deleted) = fleet(1, 3000, 20, 8);
    load(&b.repo, &data, &deleted).await;
    let opts = ConnectOptions::default().statement_timeout(Duration::from_millis(1));
    let repo = DashboardRepository::connect_with(db.url(), &opts)
        .await
        .unwrap();
    let q = DashboardQuery::default()
        .now_ms(Some(NOW))
        .page_size(10_000);
    let mut cancelled = false;
    for _ in 0..5 {
        match repo.dashboard(1, &q).await {
            Err(e) => {
                assert!(matches!(e, Error::Database(_)) && e.is_transient(), "{e}");
                assert!(e.to_string().contains("statement timeout"), "{e}");
                cancelled = true;
                break;
            }
            Ok(_) => continue,
        }
    }
    assert!(cancelled, "no statement ran past 1 ms");
    // Without the option the same call succeeds.
    assert!(b.repo.dashboard(1, &q).await.is_ok());
}
