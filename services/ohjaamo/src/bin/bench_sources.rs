//! `bench-sources`: the adapters and the core together, as separate processes, on
//! PostgreSQL: the initial sync of a large hospital and the steady-state lag.
//!
//! For each run: a fresh database, the release `ohjaamo serve` on it, the simulator
//! with a large hospital on a stopped clock (`--size large`: 2,000 beds, 40
//! theatres, 90 days of bookings) and both adapters. **Initial sync** is the time from
//! starting the adapters until the pull adapter has read every stream to its end and
//! the simulator's census of stays has been acknowledged over the ADT feed. Then the
//! **steady state**: the clock moves a simulated minute every real second for
//! `--steady-seconds`; the ADT lag is the simulator's own measure (a message made →
//! its `AA`, which the adapter sends after the core stored it), the pull lag is from
//! a change appearing in the export to the pull adapter's cursor passing it (which
//! it saves after the core stored the page). Beside the feed, SIU bookings go to the
//! same HL7 v2 adapter over a connection of their own at `--siu-per-second`
//! (`common/siu_traffic.rs`), each timed from sent to `AA`; the ADT + SIU lag p99 is
//! the larger of the two p99s (a bound on the p99 of the two together).
//!
//! ```text
//! cargo build --release -p ohjaamo
//! target/release/bench_sources --runs 3
//! ```

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use serde_json::Value;
use sqlx::Connection;

#[path = "common/fhir_source_load.rs"]
mod fhir_source_load;
#[path = "common/proc_stats.rs"]
mod proc_stats;
#[path = "common/procs.rs"]
mod procs;
#[path = "common/siu_traffic.rs"]
mod siu_traffic;
#[path = "common/stats.rs"]
mod stats;
use proc_stats::{cpu_seconds, postgres_cpu, postgres_cpu_between};
use procs::{get_json, start, wait_up};
use stats::{median_by, quantile};

#[derive(Parser, Debug)]
#[command(about = "Benchmark the adapters and the core: initial sync and lag")]
struct Args {
    /// Independent runs (fresh database each); medians are reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// The simulator's size preset.
    #[arg(long, default_value = "large")]
    size: String,
    /// Seconds of steady state (one simulated minute per second).
    #[arg(long, default_value_t = 60)]
    steady_seconds: u64,
    /// The pull adapter's poll interval, in seconds.
    #[arg(long, default_value_t = 2.0)]
    poll_interval: f64,
    /// Pages the pull adapter pushes at once.
    #[arg(long, default_value_t = 4)]
    push_concurrency: usize,
    /// Records per page the pull adapter asks for.
    #[arg(long, default_value_t = 1000)]
    page_size: usize,
    /// SIU messages per second sent beside the ADT feed in the steady state. The
    /// default is a busy day of a large hospital's theatres and clinics (some 14,000
    /// booking messages a day) at the steady state's 60-fold speed.
    #[arg(long, default_value_t = 10.0)]
    siu_per_second: f64,
    /// The simulated start: a weekday morning, so that operations change all the time.
    #[arg(long, default_value = "2026-11-30T07:00:00Z")]
    start: String,
    /// Administrative connection used to create and drop the bench databases.
    #[arg(
        long,
        env = "OHJAAMO_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    admin_url: String,
    /// The binary to start.
    #[arg(long, default_value = "target/release/ohjaamo")]
    binary: String,
    /// After the initial sync, measure the FHIR source adapter's initial load of the
    /// synced core into a second core (issue 20), before the steady state.
    #[arg(long)]
    fhir_source: bool,
    /// The FHIR source's `_count` (the core serves at most 1,000).
    #[arg(long, default_value_t = 1000)]
    fhir_page_size: usize,
    /// Pages the FHIR source pushes at once.
    #[arg(long, default_value_t = 4)]
    fhir_push_concurrency: usize,
}

const CORE: &str = "127.0.0.1:18180";
const SIMULATOR: &str = "127.0.0.1:18190";
const MLLP: &str = "127.0.0.1:12675";
const PULL_ADMIN: &str = "127.0.0.1:19183";
const ADT_ADMIN: &str = "127.0.0.1:19182";
const ORGANIZATION: &str = "1.2.246.10.1234567";

struct RunResult {
    sync_seconds: f64,
    /// CPU seconds during the initial sync: core, PostgreSQL, pull adapter, simulator.
    cpu: [f64; 4],
    records: u64,
    slots: u64,
    adt_p50_ms: f64,
    adt_p99_ms: f64,
    pull_p50_ms: f64,
    pull_p99_ms: f64,
    fhir: Option<fhir_source_load::FhirLoad>,
    siu_p50_ms: f64,
    siu_p99_ms: f64,
    siu_sent: usize,
    siu_not_accepted: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut results = Vec::new();
    for run in 1..=args.runs {
        let r = one_run(&args, run).await?;
        println!(
            "run {run}: initial sync {:.1} s ({} export records, {} Slots in the core; CPU s: core {:.0}, PostgreSQL {:.0}, pull adapter {:.0}, simulator {:.0}; machine busy {:.0} %), ADT lag p50 {:.0} ms p99 {:.0} ms, SIU lag p50 {:.0} ms p99 {:.0} ms ({} messages, {} not AA), ADT + SIU p99 {:.0} ms, pull lag p50 {:.0} ms p99 {:.0} ms (poll every {} s)",
            r.sync_seconds,
            r.records,
            r.slots,
            r.cpu[0],
            r.cpu[1],
            r.cpu[2],
            r.cpu[3],
            100.0 * r.cpu.iter().sum::<f64>() / (2.0 * r.sync_seconds),
            r.adt_p50_ms,
            r.adt_p99_ms,
            r.siu_p50_ms,
            r.siu_p99_ms,
            r.siu_sent,
            r.siu_not_accepted,
            r.adt_p99_ms.max(r.siu_p99_ms),
            r.pull_p50_ms,
            r.pull_p99_ms,
            args.poll_interval
        );
        if let Some(f) = &r.fhir {
            println!(
                "run {run}: FHIR source initial load {:.1} s, {} records ({} quarantined), {:.0} records/s; CPU s: upstream core {:.0}, second core {:.0}, adapter {:.0}",
                f.seconds,
                f.records,
                f.quarantined,
                f.per_second(),
                f.cpu[0],
                f.cpu[1],
                f.cpu[2]
            );
        }
        results.push(r);
    }
    let median = |f: fn(&RunResult) -> f64| median_by(&results, f);
    println!(
        "median of {} runs (size {}, push concurrency {}, page {}, SIU {}/s): initial sync {:.1} s, ADT lag p50 {:.0} ms p99 {:.0} ms, SIU lag p50 {:.0} ms p99 {:.0} ms, ADT + SIU p99 {:.0} ms, pull lag p50 {:.0} ms p99 {:.0} ms (poll every {} s)",
        results.len(),
        args.size,
        args.push_concurrency,
        args.page_size,
        args.siu_per_second,
        median(|r| r.sync_seconds),
        median(|r| r.adt_p50_ms),
        median(|r| r.adt_p99_ms),
        median(|r| r.siu_p50_ms),
        median(|r| r.siu_p99_ms),
        median(|r| r.adt_p99_ms.max(r.siu_p99_ms)),
        median(|r| r.pull_p50_ms),
        median(|r| r.pull_p99_ms),
        args.poll_interval
    );
    if args.fhir_source {
        let loads: Vec<&fhir_source_load::FhirLoad> =
            results.iter().filter_map(|r| r.fhir.as_ref()).collect();
        println!(
            "median of {} runs: FHIR source initial load {:.1} s, {:.0} records/s (page {}, push concurrency {})",
            loads.len(),
            median_by(&loads, |l| l.seconds),
            median_by(&loads, |l| l.per_second()),
            args.fhir_page_size,
            args.fhir_push_concurrency
        );
    }
    Ok(())
}

async fn one_run(args: &Args, run: usize) -> anyhow::Result<RunResult> {
    let db = format!("ohjaamo_bench_sources_{}_{run}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(&args.admin_url)
        .await
        .context("cannot reach PostgreSQL for the benchmark")?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
        .execute(&mut admin)
        .await?;
    let db_url = match args.admin_url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{db}"),
        None => bail!("admin URL has no database part"),
    };
    let dir = std::env::temp_dir().join(&db);
    std::fs::create_dir_all(&dir)?;
    let result = measure(args, &db_url, &dir).await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {db} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn measure(args: &Args, db_url: &str, dir: &std::path::Path) -> anyhow::Result<RunResult> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let log = |name: &str| dir.join(format!("{name}.log")).display().to_string();
    let mut serve = vec!["serve", "--listen", CORE, "--database-url", db_url];
    if args.fhir_source {
        // The FHIR source pages through every Slot with the core's offset links.
        serve.extend(["--search-max-offset", "100000000"]);
    }
    let core_process = start(&args.binary, &serve, &log("core"))?;
    wait_up(&http, &format!("http://{CORE}/readyz")).await?;
    let simulator = start(
        &args.binary,
        &[
            "simulate",
            "--listen",
            SIMULATOR,
            "--size",
            &args.size,
            "--speed",
            "0",
            "--start",
            &args.start,
            "--adt-target",
            MLLP,
        ],
        &log("simulator"),
    )?;
    let sim = format!("http://{SIMULATOR}");
    wait_up(&http, &format!("{sim}/health")).await?;
    let before = get_json(&http, &format!("{sim}/ohjaus/tila")).await?;
    let records = before["muutos"].as_u64().unwrap_or(0);

    let core = format!("http://{CORE}/fhir");
    let common = [
        "--core",
        core.as_str(),
        "--organization",
        ORGANIZATION,
        "--retry-max",
        "2",
    ];
    let cursor = dir.join("cursor.json").display().to_string();
    let pull_quarantine = dir.join("pull-quarantine.jsonl").display().to_string();
    let adt_quarantine = dir.join("adt-quarantine.jsonl").display().to_string();
    let poll = args.poll_interval.to_string();
    let page = args.page_size.to_string();
    let concurrency = args.push_concurrency.to_string();
    let pg_before = postgres_cpu(&args.admin_url, db_url).await?;
    let core_before = cpu_seconds(core_process.0.id());
    let sim_before = cpu_seconds(simulator.0.id());
    let started = Instant::now();
    let mut pull_args = vec![
        "adapter-pull",
        "--export",
        &sim,
        "--poll-interval",
        &poll,
        "--page-size",
        &page,
        "--push-concurrency",
        &concurrency,
    ];
    pull_args.extend([
        "--cursor-file",
        &cursor,
        "--quarantine-file",
        &pull_quarantine,
        "--admin-listen",
        PULL_ADMIN,
    ]);
    pull_args.extend(common);
    let pull = start(&args.binary, &pull_args, &log("pull"))?;
    let mut adt_args = vec![
        "adapter-adt",
        "--listen",
        MLLP,
        "--quarantine-file",
        &adt_quarantine,
        "--admin-listen",
        ADT_ADMIN,
    ];
    adt_args.extend(common);
    let _adt = start(&args.binary, &adt_args, &log("adt"))?;

    // Initial sync: every stream read to its end once, and the census acknowledged.
    let status_url = format!("http://{PULL_ADMIN}/status");
    let deadline = Instant::now() + Duration::from_secs(900);
    loop {
        if Instant::now() > deadline {
            bail!(
                "the initial sync did not finish in 15 minutes; see {}",
                dir.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let Ok(status) = get_json(&http, &status_url).await else {
            continue;
        };
        let streams = status["streams"].as_object().cloned().unwrap_or_default();
        let synced = streams.len() == 8 && streams.values().all(|s| !s["lastSuccess"].is_null());
        let tila = get_json(&http, &format!("{sim}/ohjaus/tila")).await?;
        if synced && tila["lahettamatta_adt"] == 0 {
            break;
        }
    }
    let sync_seconds = started.elapsed().as_secs_f64();
    let cpu = [
        cpu_seconds(core_process.0.id()) - core_before,
        postgres_cpu_between(&pg_before, &postgres_cpu(&args.admin_url, db_url).await?),
        cpu_seconds(pull.0.id()),
        cpu_seconds(simulator.0.id()) - sim_before,
    ];
    let slots = count(&http, &core, "Slot").await?;
    let fhir = if args.fhir_source {
        Some(
            fhir_source_load::measure(&fhir_source_load::Setup {
                binary: &args.binary,
                admin_url: &args.admin_url,
                db_url,
                dir,
                upstream: &core,
                upstream_pid: core_process.0.id(),
                page_size: args.fhir_page_size,
                push_concurrency: args.fhir_push_concurrency,
            })
            .await?,
        )
    } else {
        None
    };

    // Steady state: a simulated minute every second.
    http.post(format!("{sim}/ohjaus/nollaa-viive"))
        .send()
        .await?
        .error_for_status()?;
    let rooms = operating_rooms(&http, &sim).await?;
    let siu = tokio::spawn(siu_traffic::send_owned(
        MLLP.to_owned(),
        rooms,
        args.siu_per_second,
        Instant::now() + Duration::from_secs(args.steady_seconds),
    ));
    let mut pull_lags: Vec<f64> = Vec::new();
    let mut waiting: Vec<(Instant, BTreeMap<String, u64>)> = Vec::new();
    let mut last_seen: BTreeMap<String, u64> = BTreeMap::new();
    let steady_end = Instant::now() + Duration::from_secs(args.steady_seconds);
    let mut next_tick = Instant::now();
    while Instant::now() < steady_end
        || (!waiting.is_empty() && Instant::now() < steady_end + Duration::from_secs(30))
    {
        if Instant::now() >= next_tick && Instant::now() < steady_end {
            next_tick += Duration::from_secs(1);
            http.post(format!("{sim}/ohjaus/eteenpain?minuutit=1"))
                .send()
                .await?
                .error_for_status()?;
            let tila = get_json(&http, &format!("{sim}/ohjaus/tila")).await?;
            let mut changed = BTreeMap::new();
            for (stream, last) in tila["virrat"].as_object().into_iter().flatten() {
                let last = last.as_u64().unwrap_or(0);
                if last_seen.get(stream).is_some_and(|seen| *seen < last) {
                    changed.insert(stream.clone(), last);
                }
                last_seen.insert(stream.clone(), last);
            }
            if !changed.is_empty() {
                waiting.push((Instant::now(), changed));
            }
        }
        if let Ok(status) = get_json(&http, &status_url).await {
            let cursor_of = |s: &str| {
                status["streams"][s]["cursor"]
                    .as_str()
                    .and_then(|c| c.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            waiting.retain(|(at, changed)| {
                let stored = changed.iter().all(|(s, last)| cursor_of(s) >= *last);
                if stored {
                    pull_lags.push(at.elapsed().as_secs_f64() * 1000.0);
                }
                !stored
            });
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let tila = get_json(&http, &format!("{sim}/ohjaus/tila")).await?;
    let adt = &tila["adt_viive_ms"];
    pull_lags.sort_by(f64::total_cmp);
    let mut siu = siu.await??;
    siu.lags_ms.sort_by(f64::total_cmp);
    Ok(RunResult {
        sync_seconds,
        cpu,
        records,
        slots,
        adt_p50_ms: adt["p50"].as_f64().unwrap_or(f64::NAN),
        adt_p99_ms: adt["p99"].as_f64().unwrap_or(f64::NAN),
        pull_p50_ms: quantile(&pull_lags, 0.5),
        pull_p99_ms: quantile(&pull_lags, 0.99),
        fhir,
        siu_p50_ms: quantile(&siu.lags_ms, 0.5),
        siu_p99_ms: quantile(&siu.lags_ms, 0.99),
        siu_sent: siu.lags_ms.len() + siu.not_accepted as usize,
        siu_not_accepted: siu.not_accepted,
    })
}

/// The operating rooms of the simulator's export (`huoneet` of type `leikkaussali`).
async fn operating_rooms(http: &reqwest::Client, sim: &str) -> anyhow::Result<Vec<String>> {
    let mut rooms = Vec::new();
    let mut after = "0".to_owned();
    loop {
        let page = get_json(
            http,
            &format!("{sim}/api/v1/huoneet?jalkeen={after}&koko=1000"),
        )
        .await?;
        for row in page["rivit"].as_array().into_iter().flatten() {
            if row["tyyppi"] == "leikkaussali"
                && let Some(key) = row["koodi"].as_str()
            {
                rooms.push(key.to_owned());
            }
        }
        after = page["seuraava"].as_str().unwrap_or_default().to_owned();
        if page["lisaa"] != true {
            return Ok(rooms);
        }
    }
}

/// Counts a type's resources as the organisation.
async fn count(http: &reqwest::Client, core: &str, rtype: &str) -> anyhow::Result<u64> {
    let bundle: Value = http
        .get(format!("{core}/{rtype}?_summary=count"))
        .header("x-ohjaamo-organization", ORGANIZATION)
        .send()
        .await?
        .json()
        .await?;
    Ok(bundle["total"].as_u64().unwrap_or(0))
}
