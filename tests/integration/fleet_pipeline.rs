//! The crates composed on one simulated fleet, as `examples/fleet_report.rs`
//! composes them: each stage's answer checked against a plain computation on
//! the same fleet.

use novacron_dashboard_query::{DashboardQuery, DashboardRepository};
use novacron_percentile::{DDSketch, Method, Percentiles};
use novacron_qubo_solver::{HostSpec, PlacementProblem, VmDemand};
use novacron_simd_kernels as simd;

use crate::dashboard_data::bulk_data;
use crate::fleet::{Fleet, FleetConfig};

fn small_fleet() -> Fleet {
    Fleet::generate(&FleetConfig {
        n_vms: 60,
        n_hosts: 8,
        n_orgs: 3,
        hours: 3,
        sample_interval_s: 60,
        seed: 7,
        org_sizes: Vec::new(),
    })
}

#[test]
fn fleet_percentiles_and_sketches_agree_with_a_sort_of_the_same_samples() {
    let fleet = small_fleet();
    let cpu = fleet.all_values(0);
    let mut sorted = cpu.clone();
    sorted.sort_by(f64::total_cmp);
    let exact = Percentiles::new()
        .quantiles(&cpu, &[0.5, 0.99], Method::Lower)
        .unwrap();
    let lower = |q: f64| sorted[(q * (sorted.len() - 1) as f64).floor() as usize];
    assert_eq!(exact, vec![lower(0.5), lower(0.99)]);
    // Per-VM sketches merged fleet-wide, as the report does.
    let mut merged = DDSketch::new(0.01).unwrap();
    for series in &fleet.series {
        let mut s = DDSketch::new(0.01).unwrap();
        s.insert_many(&series.cpu);
        merged.merge(&s).unwrap();
    }
    for q in [0.5, 0.9, 0.99] {
        let got = merged.quantile(q).unwrap();
        assert!(
            (got - lower(q)).abs() <= 0.01 * lower(q).abs(),
            "q {q}: {got} vs {}",
            lower(q)
        );
    }
}

#[test]
fn fleet_statistics_from_the_simd_kernels_match_plain_loops() {
    let fleet = small_fleet();
    let cpu = fleet.all_values(0);
    let stats = simd::stats(&cpu);
    let mean = cpu.iter().sum::<f64>() / cpu.len() as f64;
    assert_eq!(stats.count(), cpu.len() as u64);
    assert!((stats.mean().unwrap() - mean).abs() <= 1e-9 * mean.abs().max(1.0));
    assert_eq!(
        simd::count_above(&cpu, 90.0),
        cpu.iter().filter(|&&v| v > 90.0).count()
    );
}

#[test]
fn fleet_placement_is_feasible_and_improve_never_costs_more() {
    let fleet = small_fleet();
    let p = PlacementProblem {
        vms: fleet
            .vm_demands(0, 24)
            .into_iter()
            .map(|demand| VmDemand { demand })
            .collect(),
        hosts: fleet
            .host_capacities(0, 8)
            .into_iter()
            .map(|(capacity, cost)| HostSpec { capacity, cost })
            .collect(),
        ..Default::default()
    };
    let ffd = p.first_fit_decreasing().unwrap();
    let better = p.improve(&ffd).unwrap();
    let host_of: Vec<Option<usize>> = better.host_of.iter().map(|&h| Some(h)).collect();
    assert!(p.violations(&host_of).unwrap().is_empty());
    assert!(better.cost <= ffd.cost);
}

#[test]
fn fleet_dashboard_lists_each_organizations_vms_with_their_last_sample() {
    let fleet = small_fleet();
    let data = bulk_data(&fleet, 30);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let repo = DashboardRepository::connect("sqlite::memory:")
            .await
            .unwrap();
        repo.bulk_load(&data).await.unwrap();
        let now = fleet.timestamps.last().unwrap() * 1000 + 1;
        for org in &fleet.orgs {
            let query = DashboardQuery::default().now_ms(Some(now)).page_size(1000);
            let page = repo.dashboard(org.id as i64 + 1, &query).await.unwrap();
            let mine: Vec<_> = fleet.vms.iter().filter(|v| v.org_id == org.id).collect();
            assert_eq!(page.rows.len(), mine.len(), "{}", org.name);
            for row in &page.rows {
                let vm = &fleet.vms[(row.vm_id - 1) as usize];
                assert_eq!(vm.org_id, org.id);
                let series = &fleet.series[vm.id];
                // A series that ended more than the metrics window ago shows none.
                if let Some(m) = row.metrics {
                    let k = fleet
                        .timestamps
                        .iter()
                        .position(|&t| t * 1000 == m.ts_ms)
                        .unwrap();
                    assert_eq!(k + 1, series.cpu.len(), "the newest sample of {}", vm.name);
                    assert_eq!(m.cpu, series.cpu[k]);
                }
            }
        }
    });
}
