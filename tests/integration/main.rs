//! Integration tests of the workspace: one binary (`autotests = false`).

// The shared fleet simulator and its dashboard rows (`examples/common/`).
#[path = "../../examples/common/anomaly.rs"]
mod anomaly;
#[path = "../../examples/common/dashboard_data.rs"]
mod dashboard_data;
#[path = "../../examples/common/fleet.rs"]
mod fleet;
#[path = "../../examples/common/pools.rs"]
mod pools;
// The live dashboard's server, started in-process by `dashboard_live`.
#[path = "../../examples/fleet_dashboard/server/mod.rs"]
mod server;

mod anomaly_scoring;
mod dashboard_live;
mod fleet_pipeline;
mod gpu_mlp;
mod pool_dashboard;
mod workspace;
