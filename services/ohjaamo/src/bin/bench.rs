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

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

#[path = "common/proc_stats.rs"]
mod proc_stats;
#[path = "common/stats.rs"]
mod stats;
use proc_stats::{cpu_seconds, postgres_cpu};
use stats::{median_by, quantile};

use clap::Parser;
use sqlx::Connection;
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
    let mut results = Vec::new();
    for run in 1..=args.runs {
        let r = one_run(&args, run).await?;
        println!(
            "run {run}: ingest {:.0} Slots/s (CPU per 1,000 Slots: core {:.0} ms, PostgreSQL {:.0} ms), search p50 {:.2} ms p99 {:.2} ms, server RSS {:.0} MB (peak {:.0} MB)",
            r.ingest_per_s,
            r.core_cpu_ms_per_k,
            r.postgres_cpu_ms_per_k,
            r.search_p50_ms,
            r.search_p99_ms,
            r.rss_mb,
            r.peak_rss_mb
        );
        results.push(r);
    }
    let median = |f: fn(&RunResult) -> f64| median_by(&results, f);
    println!(
        "median of {} runs ({} Slots, batch {}, concurrency {}): ingest {:.0} Slots/s (CPU per 1,000 Slots: core {:.0} ms, PostgreSQL {:.0} ms), search p50 {:.2} ms p99 {:.2} ms, RSS {:.0} MB (peak {:.0} MB)",
        results.len(),
        args.slots,
        args.batch,
        args.concurrency,
        median(|r| r.ingest_per_s),
        median(|r| r.core_cpu_ms_per_k),
        median(|r| r.postgres_cpu_ms_per_k),
        median(|r| r.search_p50_ms),
        median(|r| r.search_p99_ms),
        median(|r| r.rss_mb),
        median(|r| r.peak_rss_mb),
    );
    Ok(())
}

/// Kills the server when the run ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn one_run(args: &Args, run: usize) -> anyhow::Result<RunResult> {
    let db = format!("ohjaamo_bench_{}_{run}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(&args.admin_url)
        .await
        .context("cannot reach PostgreSQL for the benchmark")?;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db}")))
        .execute(&mut admin)
        .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
        .execute(&mut admin)
        .await?;
    let db_url = match args.admin_url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{db}"),
        None => bail!("admin URL has no database part"),
    };
    let result = measure(args, &db_url).await;
    if args.keep_database {
        eprintln!("  kept the database: {db_url}");
        return result;
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {db} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    result
}

async fn measure(args: &Args, db_url: &str) -> anyhow::Result<RunResult> {
    let child = Command::new(&args.server)
        .args(["serve", "--listen", &args.listen, "--database-url", db_url])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .with_context(|| {
            format!(
                "cannot start {} (build it with cargo build --release -p ohjaamo)",
                args.server
            )
        })?;
    let server = Server(child);
    let base = format!("http://{}/fhir", args.listen);
    let http = client(&args.organization)?;
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
    let mut latencies = Vec::with_capacity(args.searches);
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let days = (per_schedule / 24).max(1);
    for _ in 0..args.searches {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let bed = (seed % args.schedules as u64) as usize;
        let day = (seed / 7 % days as u64) as i64;
        let date = jiff::civil::date(2026, 1, 1)
            .checked_add(jiff::Span::new().days(day))
            .context("date out of range")?;
        let next = date.tomorrow().context("date out of range")?;
        let url =
            format!("{base}/Slot?schedule=Schedule/sched-{bed}&start=ge{date}&start=lt{next}");
        let t = Instant::now();
        let response = http.get(&url).send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        latencies.push(t.elapsed());
        if !status.is_success() || body.len() < 100 {
            bail!("search {url} answered {status}");
        }
    }
    let mut latencies_ms: Vec<f64> = latencies.iter().map(|l| l.as_secs_f64() * 1e3).collect();
    latencies_ms.sort_by(f64::total_cmp);
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

/// An HTTP client that names the tenant on every request, as the API requires.
fn client(organization: &str) -> anyhow::Result<reqwest::Client> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "x-ohjaamo-organization",
        organization
            .parse()
            .context("the organization is not a valid header value")?,
    );
    Ok(reqwest::Client::builder()
        .default_headers(headers)
        .build()?)
}

async fn wait_ready(http: &reqwest::Client, listen: &str) -> anyhow::Result<()> {
    for _ in 0..100 {
        if let Ok(r) = http.get(format!("http://{listen}/readyz")).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the server did not become ready on {listen}")
}

async fn post_bundle(
    http: &reqwest::Client,
    base: &str,
    kind: &str,
    entries: &[String],
) -> anyhow::Result<()> {
    let body = format!(
        r#"{{"resourceType":"Bundle","type":"{kind}","entry":[{}]}}"#,
        entries.join(",")
    );
    let response = http
        .post(base)
        .header("content-type", "application/fhir+json")
        .body(body)
        .send()
        .await?;
    let status = response.status();
    let text = response.text().await?;
    if !status.is_success() || text.contains("\"outcome\"") {
        bail!(
            "{kind} Bundle answered {status}: {}",
            &text[..text.len().min(500)]
        );
    }
    Ok(())
}

const SYSTEM: &str = "urn:oid:1.2.246.10.99999999.10.1";

fn location_entry(id: &str, physical: &str, part_of: Option<&str>) -> String {
    let part_of = part_of.map_or(String::new(), |p| {
        format!(r#","partOf":{{"reference":"Location/{p}"}}"#)
    });
    format!(
        r#"{{"resource":{{"resourceType":"Location","id":"{id}","status":"active","name":"{id}","physicalType":{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/location-physical-type","code":"{physical}"}}]}}{part_of}}},"request":{{"method":"PUT","url":"Location/{id}"}}}}"#
    )
}

fn schedule_entry(b: usize) -> String {
    format!(
        r#"{{"resource":{{"resourceType":"Schedule","id":"sched-{b}","active":true,"actor":[{{"reference":"Location/bed-{b}"}}]}},"request":{{"method":"PUT","url":"Schedule/sched-{b}"}}}}"#
    )
}

/// Slot `n` of bed `bed`, the `hour`-th hour from 2026-01-01T00:00+02:00.
fn slot_entry(n: usize, bed: usize, hour: usize) -> String {
    let start = 1_767_218_400 + hour as i64 * 3600; // 2026-01-01T00:00:00+02:00
    let fmt = |s: i64| {
        jiff::Timestamp::from_second(s)
            .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default()
    };
    let status = if n.is_multiple_of(3) { "free" } else { "busy" };
    format!(
        r#"{{"resource":{{"resourceType":"Slot","identifier":[{{"system":"{SYSTEM}","value":"slot-{n}"}}],"schedule":{{"reference":"Schedule/sched-{bed}"}},"status":"{status}","start":"{}","end":"{}"}},"request":{{"method":"PUT","url":"Slot?identifier={SYSTEM}|slot-{n}"}}}}"#,
        fmt(start),
        fmt(start + 3600)
    )
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
