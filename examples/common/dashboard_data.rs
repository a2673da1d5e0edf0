//! The simulated fleet as dashboard rows: what `fleet_report`, the dashboard
//! bench and the integration tests load into `novacron-dashboard-query`.
//! Included by path next to `fleet.rs` (`#[path = ".../dashboard_data.rs"]`),
//! which must be in scope as `crate::fleet` or `super::fleet`.

#![allow(dead_code, unreachable_pub)]

use novacron_dashboard_query::{
    BulkData, MetricSample, NewAlert, NewVm, ScoreSample, Severity as DbSeverity,
};

use crate::fleet::{EPOCH_S, Fleet, Severity};

/// Organizations (ids from 1), VMs (ids from 1), each VM's last
/// `samples_per_vm` samples (stopped VMs' series end early: only samples that
/// exist), its alerts (resolved one minute after they fired) and one score per
/// hour of the last six (the share of CPU headroom).
pub fn bulk_data(fleet: &Fleet, samples_per_vm: usize) -> BulkData {
    let ms = |s: i64| s * 1000;
    let n = fleet.timestamps.len();
    let first = n.saturating_sub(samples_per_vm);
    let mut data = BulkData {
        organizations: fleet
            .orgs
            .iter()
            .map(|o| (o.id as i64 + 1, o.name.clone()))
            .collect(),
        ..Default::default()
    };
    for (vm, series) in fleet.vms.iter().zip(&fleet.series) {
        let id = vm.id as i64 + 1;
        data.vms.push(NewVm {
            id: Some(id),
            organization_id: vm.org_id as i64 + 1,
            name: vm.name.clone(),
            status: vm.status.as_str().to_string(),
            cpu_cores: i32::try_from(vm.cpu_cores).unwrap_or(i32::MAX),
            memory_mib: i64::try_from(vm.memory_mib).unwrap_or(i64::MAX),
            created_at_ms: ms(fleet.timestamps.first().copied().unwrap_or(EPOCH_S)),
        });
        for k in first..series.cpu.len().min(n) {
            data.metrics.push(MetricSample {
                vm_id: id,
                ts_ms: ms(fleet.timestamps[k]),
                cpu: series.cpu[k],
                memory: series.memory[k],
                disk: series.disk[k],
                net_rx: series.net_rx[k],
                net_tx: series.net_tx[k],
                performance_score: None,
            });
        }
        let per_hour = (3600 / fleet.config.sample_interval_s.max(1)) as usize;
        for h in 0..6 {
            let end = series.cpu.len().saturating_sub(h * per_hour);
            let start = end.saturating_sub(per_hour);
            if end > start {
                let mean = series.cpu[start..end].iter().sum::<f64>() / (end - start) as f64;
                data.scores.push(ScoreSample {
                    vm_id: id,
                    calculated_at_ms: ms(fleet.timestamps[end - 1]),
                    overall: 1.0 - mean / 100.0,
                    efficiency: mean / 100.0,
                    reliability: 1.0,
                });
            }
        }
    }
    for a in &fleet.alerts {
        let created = ms(fleet.timestamps[a.sample_idx.min(n.saturating_sub(1))]);
        data.alerts.push(NewAlert {
            vm_id: a.vm_id as i64 + 1,
            severity: match a.severity {
                Severity::Warning => DbSeverity::Warning,
                Severity::Critical => DbSeverity::Critical,
            },
            alert_type: format!("{}_high", a.metric),
            created_at_ms: created,
            resolved_at_ms: a.resolved.then_some(created + 60_000),
        });
    }
    data
}
