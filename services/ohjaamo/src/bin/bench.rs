//! `bench`: measures the core as a client sees it, against a real `ohjaamo serve`
//! process on PostgreSQL.
//!
//! For each run it creates a fresh database, starts the release server on it,
//! ingests Slots through 500-entry batch Bundles of conditional updates (the way an
//! adapter writes), then times Slot searches by `schedule` + a one-day `start` range,
//! and reads the server's resident memory. It prints one line per run and the
//! medians, ready for docs/benchmarks.md.
//!
//! ```text
//! cargo build --release -p ohjaamo
//! target/release/bench --slots 1000000 --runs 3
//! ```
//!
//! With `--compare-auth` each run measures the core twice, on fresh databases, in
//! alternating order: without authentication and access log (`--auth none
//! --access-log off`), and with both (a token of a benchmark issuer, every request
//! verified and logged); it then reports both and their ratios (issue 18).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

#[path = "common/bench_issuer.rs"]
mod bench_issuer;
#[path = "common/bench_server.rs"]
mod bench_server;
#[path = "common/proc_stats.rs"]
mod proc_stats;
#[path = "common/stats.rs"]
mod stats;
use bench_issuer::BenchIssuer;
use bench_server::{
    client_with_token, create_database, drop_database, location_entry, post_bundle, schedule_entry,
    slot_entry, start_server, start_server_authenticated, time_bed_day_searches, wait_ready,
};
use proc_stats::{cpu_seconds, postgres_cpu};
use stats::{median_by, quantile};

use clap::Parser;
use tokio::sync::Semaphore;

#[derive(Parser, Debug)]
#[command(about = "Benchmark the Ohjaamo core on PostgreSQL")]
struct Args {
    /// Slots to ingest per run.
    #[arg(long, default_value_t = 1_000_000)]
    slots: usize,
    /// Schedules (beds) the Slots are spread over.
    #[arg(long, default_value_t = 1_000)]
    schedules: usize,
    /// Entries per batch Bundle.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Bundles in flight at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Searches timed per run.
    #[arg(long, default_value_t = 2_000)]
    searches: usize,
    /// Independent runs (fresh database each); medians are reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Administrative connection used to create and drop the bench databases.
    #[arg(
        long,
        env = "OHJAAMO_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    admin_url: String,
    /// The server binary to start.
    #[arg(long, default_value = "target/release/ohjaamo")]
    server: String,
    #[arg(long, default_value = "127.0.0.1:18090")]
    listen: String,
    /// Keep each run's database afterwards (for EXPLAIN and profiling); drop it by hand.
    #[arg(long)]
    keep_database: bool,
    /// The tenant every request is made for (`X-Ohjaamo-Organization`).
    #[arg(long, default_value = "1.2.246.10.1234567")]
    organization: String,
    /// Measure each run twice, without and with authentication and the access log,
    /// and report the ratios.
    #[arg(long)]
    compare_auth: bool,
}

/// How the server under measurement is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// As before: no authentication (`--auth none`), the access log on.
    Default,
    /// No authentication, no access log.
    Bare,
    /// A token verified on every request, every request logged.
    Guarded,
}

/// How often ingest progress is printed, so a long run shows it is alive.
const PROGRESS_EVERY: usize = 100_000;

struct RunResult {
    ingest_per_s: f64,
    /// CPU seconds per 1,000 Slots ingested: the core, and PostgreSQL's backends.
    core_cpu_ms_per_k: f64,
    postgres_cpu_ms_per_k: f64,
    search_p50_ms: f64,
    search_p99_ms: f64,
    rss_mb: f64,
    peak_rss_mb: f64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.compare_auth {
        return compare_auth(&args).await;
    }
    let mut results = Vec::new();
    for run in 1..=args.runs {
        let r = one_run(&args, run, Mode::Default, None).await?;
        println!("run {run}: {}", describe(&r));
        results.push(r);
    }
    println!(
        "median of {} runs ({} Slots, batch {}, concurrency {}): {}",
        results.len(),
        args.slots,
        args.batch,
        args.concurrency,
        describe(&medians(&results)),
    );
    Ok(())
}

/// Pairs of runs, bare and guarded in alternating order, and the ratios of the medians.
async fn compare_auth(args: &Args) -> anyhow::Result<()> {
    let issuer = bench_issuer::start(&args.organization).await?;
    let (mut bare, mut guarded) = (Vec::new(), Vec::new());
    for run in 1..=args.runs {
        let order = if run % 2 == 1 {
            [Mode::Bare, Mode::Guarded]
        } else {
            [Mode::Guarded, Mode::Bare]
        };
        for mode in order {
            let r = one_run(args, run, mode, Some(&issuer)).await?;
            println!("run {run} {mode:?}: {}", describe(&r));
            match mode {
                Mode::Guarded => guarded.push(r),
                _ => bare.push(r),
            }
        }
    }
    let (b, g) = (medians(&bare), medians(&guarded));
    println!(
        "median of {} pairs ({} Slots, batch {}, concurrency {}):",
        args.runs, args.slots, args.batch, args.concurrency
    );
    println!("  without auth and access log: {}", describe(&b));
    println!("  with auth and access log:    {}", describe(&g));
    println!(
        "  ratios (with / without): search p99 {:.2}x (target <= 1.2x), search p50 {:.2}x, ingest {:.2}x (target >= 0.85x)",
        g.search_p99_ms / b.search_p99_ms,
        g.search_p50_ms / b.search_p50_ms,
        g.ingest_per_s / b.ingest_per_s,
    );
    Ok(())
}

fn describe(r: &RunResult) -> String {
    format!(
        "ingest {:.0} Slots/s (CPU per 1,000 Slots: core {:.0} ms, PostgreSQL {:.0} ms), search p50 {:.2} ms p99 {:.2} ms, RSS {:.0} MB (peak {:.0} MB)",
        r.ingest_per_s,
        r.core_cpu_ms_per_k,
        r.postgres_cpu_ms_per_k,
        r.search_p50_ms,
        r.search_p99_ms,
        r.rss_mb,
        r.peak_rss_mb
    )
}

fn medians(results: &[RunResult]) -> RunResult {
    let median = |f: fn(&RunResult) -> f64| median_by(results, f);
    RunResult {
        ingest_per_s: median(|r| r.ingest_per_s),
        core_cpu_ms_per_k: median(|r| r.core_cpu_ms_per_k),
        postgres_cpu_ms_per_k: median(|r| r.postgres_cpu_ms_per_k),
        search_p50_ms: median(|r| r.search_p50_ms),
        search_p99_ms: median(|r| r.search_p99_ms),
        rss_mb: median(|r| r.rss_mb),
        peak_rss_mb: median(|r| r.peak_rss_mb),
    }
}

async fn one_run(
    args: &Args,
    run: usize,
    mode: Mode,
    issuer: Option<&BenchIssuer>,
) -> anyhow::Result<RunResult> {
    let db = format!("ohjaamo_bench_{}_{run}", std::process::id());
    let db_url = create_database(&args.admin_url, &db).await?;
    let result = measure(args, &db_url, mode, issuer).await;
    if args.keep_database {
        eprintln!("  kept the database: {db_url}");
        return result;
    }
    drop_database(&args.admin_url, &db).await?;
    result
}

async fn measure(
    args: &Args,
    db_url: &str,
    mode: Mode,
    issuer: Option<&BenchIssuer>,
) -> anyhow::Result<RunResult> {
    let (server, token) = match (mode, issuer) {
        (Mode::Default, _) => (start_server(&args.server, &args.listen, db_url, &[])?, None),
        (Mode::Bare, _) => (
            start_server(&args.server, &args.listen, db_url, &["--access-log", "off"])?,
            None,
        ),
        (Mode::Guarded, Some(issuer)) => (
            start_server_authenticated(
                &args.server,
                &args.listen,
                db_url,
                &[
                    "--auth-issuer",
                    &issuer.url,
                    "--auth-audience",
                    bench_issuer::AUDIENCE,
                    "--access-log",
                    "on",
                ],
            )?,
            Some(issuer.token.as_str()),
        ),
        (Mode::Guarded, None) => anyhow::bail!("a guarded run needs the bench issuer"),
    };
    let base = format!("http://{}/fhir", args.listen);
    let http = client_with_token(&args.organization, token)?;
    wait_ready(&http, &args.listen).await?;

    // The ward, its beds and one Schedule per bed, in one transaction.
    let mut entries = vec![location_entry("ward", "wa", None)];
    for b in 0..args.schedules {
        entries.push(location_entry(&format!("bed-{b}"), "bd", Some("ward")));
        entries.push(schedule_entry(b));
    }
    post_bundle(&http, &base, "transaction", &entries).await?;

    // Slots: each bed's hours one after another from 2026-01-01.
    let per_schedule = args.slots.div_ceil(args.schedules);
    let total = args.slots;
    let limit = Arc::new(Semaphore::new(args.concurrency));
    let core_cpu_before = cpu_seconds(server.0.id());
    let postgres_before = postgres_cpu(&args.admin_url, db_url).await?;
    let started = Instant::now();
    let stored = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for first in (0..total).step_by(args.batch) {
        let permit = limit.clone().acquire_owned().await?;
        let (http, base) = (http.clone(), base.clone());
        let entries: Vec<String> = (first..(first + args.batch).min(total))
            .map(|n| slot_entry(n, n % args.schedules, n / args.schedules))
            .collect();
        let stored = stored.clone();
        tasks.push(tokio::spawn(async move {
            let r = post_bundle(&http, &base, "batch", &entries).await;
            drop(permit);
            let before = stored.fetch_add(entries.len(), Ordering::Relaxed);
            if (before + entries.len()) / PROGRESS_EVERY > before / PROGRESS_EVERY {
                eprintln!(
                    "  {} Slots stored after {:.1} s",
                    before + entries.len(),
                    started.elapsed().as_secs_f64()
                );
            }
            r
        }));
    }
    for t in tasks {
        t.await??;
    }
    let ingest_secs = started.elapsed().as_secs_f64();
    let core_cpu = cpu_seconds(server.0.id()) - core_cpu_before;
    let postgres_after = postgres_cpu(&args.admin_url, db_url).await?;
    let postgres_cpu_used: f64 = postgres_after
        .iter()
        .map(|(pid, after)| after - postgres_before.get(pid).copied().unwrap_or(0.0))
        .sum();
    let per_k = |cpu: f64| cpu * 1e3 / (total as f64 / 1e3);

    // Searches: a random bed's one day.
    let latencies_ms = time_bed_day_searches(
        &http,
        &base,
        args.searches,
        args.schedules,
        per_schedule / 24,
    )
    .await?;
    let pct = |p: f64| quantile(&latencies_ms, p);
    let (rss, peak) = memory_of(server.0.id())?;
    Ok(RunResult {
        ingest_per_s: total as f64 / ingest_secs,
        core_cpu_ms_per_k: per_k(core_cpu),
        postgres_cpu_ms_per_k: per_k(postgres_cpu_used),
        search_p50_ms: pct(0.50),
        search_p99_ms: pct(0.99),
        rss_mb: rss,
        peak_rss_mb: peak,
    })
}

/// Current and peak resident memory of a process, in MB (Linux /proc).
/// User + system CPU seconds a process has used, from `/proc/<pid>/stat` (Linux,
/// 100 clock ticks a second); 0 when it cannot be read.
fn memory_of(pid: u32) -> anyhow::Result<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    Ok((field("VmRSS:"), field("VmHWM:")))
}
