//! `bench_forecast`: the cost of recomputing the ward occupancy forecast (issue 22,
//! point 8) for a hospital of `--wards` wards, 48 hours ahead with intervals, per ward
//! and per site.
//!
//! The hospital is the simulator's seasonal model ([`ohjaamo_simulator::seasons`]),
//! lived for ten weeks; at its end the forecast is recomputed `--runs` times from what
//! is known then. Two figures: the forecast from a learned baseline (what a refresh on
//! a change costs), and learning the baseline from eight weeks of stays first (what a
//! nightly or hourly relearn adds). CPU seconds of this process, from `/proc`.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-release cargo build --release -p ohjaamo --bin bench_forecast
//! /work/target-release/release/bench_forecast --wards 50 --runs 20
//! ```

use std::time::Instant;

use clap::Parser;
use jiff::SignedDuration;
use jiff::tz::TimeZone;
use ohjaamo_forecast::forecast_hospital;
use ohjaamo_forecast::hours::plus_hours;
use ohjaamo_simulator::seasons::{Season, wards};

#[path = "../forecast_backtest/known.rs"]
mod known;
#[path = "common/proc_stats.rs"]
#[allow(dead_code)]
mod proc_stats;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 50)]
    wards: usize,
    #[arg(long, default_value_t = 24)]
    beds_per_ward: u32,
    #[arg(long, default_value_t = 20)]
    runs: u32,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn cpu() -> f64 {
    proc_stats::cpu_seconds(std::process::id())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        args.runs > 0 && args.wards > 0,
        "--runs and --wards must be positive"
    );
    let zone = TimeZone::get("Europe/Helsinki")?;
    let start: jiff::Timestamp = "2026-11-01T22:00:00Z".parse()?;
    let at = plus_hours(start, 10 * 168 + 10);
    let lived = Instant::now();
    let season = Season::live(
        args.seed,
        wards(args.wards, args.beds_per_ward),
        start,
        plus_hours(at, 49),
        zone.clone(),
    );
    println!(
        "{} wards, {} beds, {} stays lived in {:.2} s",
        season.wards.len(),
        season.wards.iter().map(|w| u64::from(w.beds)).sum::<u64>(),
        season.stays.len(),
        lived.elapsed().as_secs_f64()
    );
    let learning = known::Learning {
        history: SignedDuration::from_hours(8 * 168),
        level: SignedDuration::from_hours(14 * 24),
    };

    let (cpu0, wall0) = (cpu(), Instant::now());
    let mut known = None;
    for _ in 0..args.runs {
        known = Some(known::known_at(&season, at, &learning));
    }
    let learn_cpu = (cpu() - cpu0) / f64::from(args.runs);
    let learn_wall = wall0.elapsed().as_secs_f64() / f64::from(args.runs);
    let (known_wards, baseline) = known.expect("runs > 0");

    let (cpu0, wall0) = (cpu(), Instant::now());
    let mut hours = 0;
    for _ in 0..args.runs {
        let (per_ward, per_site) = forecast_hospital(&known_wards, &baseline, at, &zone, 48);
        hours = per_ward
            .iter()
            .chain(&per_site)
            .map(|f| f.hours.len())
            .sum::<usize>();
    }
    let forecast_cpu = (cpu() - cpu0) / f64::from(args.runs);
    let forecast_wall = wall0.elapsed().as_secs_f64() / f64::from(args.runs);
    let patients: usize = known_wards.iter().map(|w| w.stays.len()).sum();
    println!("{patients} patients on the wards, {hours} ward and site hours forecast per run");
    println!(
        "forecast from a learned baseline: {:.3} s CPU, {:.3} s wall per recompute (mean of {})",
        forecast_cpu, forecast_wall, args.runs
    );
    println!(
        "learning the baseline and what is known: {:.3} s CPU, {:.3} s wall per run",
        learn_cpu, learn_wall
    );
    println!("both: {:.3} s CPU", forecast_cpu + learn_cpu);
    Ok(())
}
