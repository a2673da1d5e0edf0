//! dashboard-query's public dashboard statement, run through the adaptive
//! pool with the bindings `POSTGRES_DASHBOARD_PARAMS` describes, returns the
//! rows the repository returns (the composition `pool_load --dashboard` and
//! fleet_report rely on).

use novacron_adaptive_pool::{Config, Pool};
use novacron_dashboard_query::{
    DashboardQuery, DashboardRepository, POSTGRES_DASHBOARD_PARAMS, POSTGRES_DASHBOARD_SQL,
};

use crate::{dashboard_data, fleet};

#[test]
fn the_public_dashboard_statement_through_the_pool_matches_the_repository() {
    assert_eq!(POSTGRES_DASHBOARD_PARAMS.len(), 7);
    for (i, p) in POSTGRES_DASHBOARD_PARAMS.iter().enumerate() {
        assert_eq!(p.index, i + 1);
        assert!(
            POSTGRES_DASHBOARD_SQL.contains(&format!("${}", p.index)),
            "{p:?}"
        );
    }
    let db = novacron_testkit::TestDb::new().unwrap_or_else(|e| panic!("{e}"));
    let fleet = fleet::Fleet::generate(&fleet::FleetConfig {
        n_vms: 120,
        hours: 2,
        ..Default::default()
    });
    let data = dashboard_data::bulk_data(&fleet, 30);
    let now = fleet.timestamps.last().copied().unwrap_or(fleet::EPOCH_S) * 1000 + 1;
    let rt = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    rt.block_on(async {
        let repo = DashboardRepository::connect(db.url())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        repo.bulk_load(&data)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let pool = Pool::connect(db.url(), Config::default())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        for &(org, _) in &data.organizations {
            let q = DashboardQuery::default().now_ms(Some(now)).page_size(500);
            let page = repo
                .dashboard(org, &q)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let binds = crate::pools::DashboardBinds::first_page(org, now - 3_600_000, 501);
            let conn = pool.get().await.unwrap_or_else(|e| panic!("{e}"));
            let rows = conn
                .query(POSTGRES_DASHBOARD_SQL, &binds.params())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let ours: Vec<(i64, String, Option<f64>)> = rows
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get::<_, Option<f64>>(7)))
                .collect();
            let theirs: Vec<(i64, String, Option<f64>)> = page
                .rows
                .iter()
                .map(|r| (r.vm_id, r.name.clone(), r.metrics.map(|m| m.cpu)))
                .collect();
            assert_eq!(ours, theirs, "organization {org}");
        }
    });
}
