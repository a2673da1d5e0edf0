//! VM placement on slices of the simulated fleet: first-fit decreasing,
//! the QUBO (simulated annealing from random states, decoded and repaired),
//! and both followed by `PlacementProblem::improve` (host-level local search).
//!
//! ```text
//! cargo run --release --example placement_slices -- --slices 4 --vms 40 --hosts 10
//! ```
//!
//! Slice `k` takes VMs `k·vms ..` and hosts `k·vms/8 ..` of the default fleet
//! (500 VMs on 60 hosts, seed 42), so slices overlap on hosts but not VMs.
//! Costs are per hour of the hosts in use; the QUBO column is the best
//! repaired read of 16.

#[path = "common/fleet.rs"]
mod fleet;

use std::time::Instant;

use clap::Parser;
use fleet::{Fleet, FleetConfig};
use novacron_qubo_solver::{
    EncoderConfig, Error, HostSpec, PlacementProblem, SimulatedAnnealing, VmDemand,
};

/// Compare placements on slices of the simulated fleet.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Number of slices.
    #[arg(long, default_value_t = 4)]
    slices: usize,
    /// VMs per slice.
    #[arg(long, default_value_t = 40)]
    vms: usize,
    /// Hosts per slice.
    #[arg(long, default_value_t = 10)]
    hosts: usize,
    /// Annealing sweeps per read.
    #[arg(long, default_value_t = 4000)]
    sweeps: usize,
    /// Seed of the fleet and the annealer.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

fn main() -> Result<(), Error> {
    let args = Args::parse();
    let fleet = Fleet::generate(&FleetConfig {
        hours: 1,
        seed: args.seed,
        ..FleetConfig::default()
    });
    println!("slice,ffd,ffd_improved,qubo_repaired,qubo_improved,improve_ms");
    for k in 0..args.slices {
        let first_vm = k * args.vms;
        let p = PlacementProblem {
            vms: (fleet.vm_demands(first_vm, args.vms).into_iter())
                .map(|demand| VmDemand { demand })
                .collect(),
            hosts: (fleet.host_capacities(first_vm / 8, args.hosts).into_iter())
                .map(|(capacity, cost)| HostSpec { capacity, cost })
                .collect(),
            affinity: Vec::new(),
            anti_affinity: Vec::new(),
        };
        if p.vms.is_empty() {
            break;
        }
        let ffd = p.first_fit_decreasing()?;
        let t = Instant::now();
        let ffd_improved = p.improve(&ffd)?;
        let improve_ms = t.elapsed().as_secs_f64() * 1e3;
        let encoding = p.encode(&EncoderConfig::default())?;
        let reads = SimulatedAnnealing::new()
            .seed(args.seed + k as u64)
            .num_reads(16)
            .num_sweeps(args.sweeps)
            .sample(encoding.bqm())?;
        let (mut repaired, mut improved) = (f64::INFINITY, f64::INFINITY);
        for read in reads.iter() {
            let placement = encoding.repair(&encoding.decode(&read.state)?)?;
            repaired = repaired.min(placement.cost);
            improved = improved.min(p.improve(&placement)?.cost);
        }
        println!(
            "{k},{:.2},{:.2},{repaired:.2},{improved:.2},{improve_ms:.2}",
            ffd.cost, ffd_improved.cost
        );
    }
    Ok(())
}
