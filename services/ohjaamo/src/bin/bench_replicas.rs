//! `bench_replicas` (issue 21): write → bus consumer and write → `/stream` latency of
//! single changes at a steady rate, with 1 and with 3 core replicas, with and without a
//! bulk load running beside them, in one run; and the lease hand-over when the replica
//! publishing an organisation dies.
//!
//! Each cell is a fresh PostgreSQL database and organisation with `--replicas` separate
//! `ohjaamo serve` processes on it, all publishing to the local RabbitMQ. A consumer in
//! this process reads a queue bound to the organisation; one `/stream` client follows
//! each replica. A hospital of `--wards` × `--beds-per-ward` is seeded; then changes
//! come at `--rate` per second as batch Bundles of `--batch` every few milliseconds
//! (the way adapters write), each moving one bed's current stay, taking turns between
//! the replicas. In the bulk cells a bulk load runs meanwhile, from before the first
//! change to after the last: batch Bundles of `--bulk-batch` conditional upserts of
//! Slots by identifier, `--bulk-in-flight` at a time, as fast as the core takes them
//! (the pull adapter's initial sync writes so), also taking turns between the replicas.
//!
//! A change's latency counts from when its request was sent (the client's clock; the
//! same machine's as the probes'): *bus*, to its resource event arriving at the
//! consumer; *stream*, to the first later picture event of its ward arriving at a
//! `/stream` client (every client counted).
//!
//! **Hand-over** (3 replicas, no bulk): while changes flow, the process holding the
//! relay's lease is found (PostgreSQL's view of the open lease transaction, its client
//! port, `/proc`), stopped, checked to still hold it, and killed with SIGKILL; the
//! figure is the time from the kill to the consumer receiving the first event it had
//! not received before. Then it is started again. `--kills` times per run.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-release cargo build --release -p ohjaamo
//! /work/target-release/release/bench_replicas --runs 3
//! ```

use clap::Parser;

#[path = "common/bench_server.rs"]
mod bench_server;
#[path = "common/lease_holder.rs"]
mod lease_holder;
#[path = "common/probes.rs"]
mod probes;
#[path = "common/replica_cell.rs"]
mod replica_cell;
#[path = "common/replica_load.rs"]
mod replica_load;
#[path = "common/stats.rs"]
mod stats;

use replica_cell::{Cell, CellResult};
use replica_load::Args;
use stats::median_by;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    if args.binary.is_none() {
        let me = std::env::current_exe()?;
        args.binary = Some(me.with_file_name("ohjaamo").to_string_lossy().into_owned());
    }
    let most = args.replicas.iter().copied().max().unwrap_or(1);
    let mut all: Vec<CellResult> = Vec::new();
    let mut handovers: Vec<f64> = Vec::new();
    for run in 0..args.runs {
        for &replicas in &args.replicas {
            for bulk in [false, true] {
                let kills = if replicas == most && !bulk && replicas > 1 {
                    args.kills
                } else {
                    0
                };
                let cell = Cell {
                    replicas,
                    bulk,
                    kills,
                };
                let r = replica_cell::run(&args, run, cell).await?;
                println!("run {run}: {}", r.line());
                handovers.extend(r.handover_ms.iter().copied());
                all.push(r);
            }
        }
    }
    println!("\nmedians of {} runs:", args.runs);
    println!(
        "| replicas | bulk load | changes/s | bulk resources/s | bus p50 | bus p99 | stream p50 | stream p99 | bus p99 / 1-replica quiet | stream p99 / 1-replica quiet |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let base = |f: fn(&CellResult) -> f64| {
        let cells: Vec<&CellResult> = all
            .iter()
            .filter(|r| r.cell.replicas == args.replicas[0] && !r.cell.bulk)
            .collect();
        median_by(&cells, |r| f(r))
    };
    let (base_bus, base_stream) = (base(|r| r.bus_p99), base(|r| r.stream_p99));
    for &replicas in &args.replicas {
        for bulk in [false, true] {
            let cells: Vec<&CellResult> = all
                .iter()
                .filter(|r| r.cell.replicas == replicas && r.cell.bulk == bulk)
                .collect();
            let m = |f: fn(&CellResult) -> f64| median_by(&cells, |r| f(r));
            println!(
                "| {replicas} | {} | {:.0} | {:.0} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.2} | {:.2} |",
                if bulk { "yes" } else { "no" },
                m(|r| r.achieved_rate),
                m(|r| r.bulk_rate),
                m(|r| r.bus_p50),
                m(|r| r.bus_p99),
                m(|r| r.stream_p50),
                m(|r| r.stream_p99),
                m(|r| r.bus_p99) / base_bus,
                m(|r| r.stream_p99) / base_stream,
            );
        }
    }
    if !handovers.is_empty() {
        handovers.sort_by(f64::total_cmp);
        println!(
            "\nlease hand-over, SIGKILL of the relay's lease holder → the consumer's next new event: {} kills, median {:.0} ms, max {:.0} ms ({:?})",
            handovers.len(),
            stats::quantile(&handovers, 0.5),
            handovers.last().copied().unwrap_or(f64::NAN),
            handovers.iter().map(|h| h.round()).collect::<Vec<_>>(),
        );
    }
    Ok(())
}
