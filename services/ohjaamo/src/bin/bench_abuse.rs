//! `bench_abuse`: a well-behaved client's search latency alone, and while sixteen
//! abusive clients hammer the same server (issue 19: its p99 must stay within 2× of
//! its p99 alone).
//!
//! Each run creates a fresh PostgreSQL database and starts the release server with
//! its default limits. Two organisations get the same ward, beds and Slots. The
//! well-behaved client (organisation A) times searches of one bed's day; the abusive
//! clients (organisation B, or A with `--same-organization`) loop over the costliest
//! requests the findings name: searches with the most alternatives, sort keys and page
//! size the limits allow, `:contains` string searches, searches past the limits, and
//! costly searches abandoned after 20 ms. Phases alternate (alone, abused, alone, …),
//! and the medians of the per-phase p99s are compared.
//!
//! ```text
//! cargo build --release -p ohjaamo
//! target/release/bench_abuse --runs 3
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use clap::Parser;

#[path = "common/bench_server.rs"]
mod bench_server;
#[path = "common/stats.rs"]
mod stats;
use bench_server::{
    client, create_database, drop_database, location_entry, post_bundle, schedule_entry,
    slot_entry, start_server, time_bed_day_searches, wait_ready,
};
use stats::{median_by, quantile};

#[derive(Parser, Debug)]
#[command(about = "A well-behaved client's search p99 alone and beside abusive clients")]
struct Args {
    /// Beds (Schedules) per organisation.
    #[arg(long, default_value_t = 200)]
    beds: usize,
    /// Hourly Slots per bed.
    #[arg(long, default_value_t = 240)]
    hours: usize,
    /// Searches the well-behaved client times per phase.
    #[arg(long, default_value_t = 1_000)]
    searches: usize,
    /// Abusive clients running during an abused phase.
    #[arg(long, default_value_t = 16)]
    abusers: usize,
    /// Alone/abused phase pairs (one database, one server).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// The abusers act for the well-behaved client's organisation too.
    #[arg(long)]
    same_organization: bool,
    #[arg(
        long,
        env = "OHJAAMO_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    admin_url: String,
    #[arg(long, default_value = "target/release/ohjaamo")]
    server: String,
    #[arg(long, default_value = "127.0.0.1:18091")]
    listen: String,
}

const GOOD: &str = "1.2.246.10.1111111";
const ABUSIVE: &str = "1.2.246.10.2222222";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let db = format!("ohjaamo_bench_abuse_{}", std::process::id());
    let db_url = create_database(&args.admin_url, &db).await?;
    let result = measure(&args, &db_url).await;
    drop_database(&args.admin_url, &db).await?;
    result
}

async fn measure(args: &Args, db_url: &str) -> anyhow::Result<()> {
    let _server = start_server(&args.server, &args.listen, db_url, &[])?;
    let base = format!("http://{}/fhir", args.listen);
    let good = client(GOOD)?;
    wait_ready(&good, &args.listen).await?;
    let abusive_org = if args.same_organization {
        GOOD
    } else {
        ABUSIVE
    };
    let mut organizations = vec![GOOD];
    if !args.same_organization {
        organizations.push(ABUSIVE);
    }
    for organization in organizations {
        seed(args, &client(organization)?, &base).await?;
    }
    eprintln!(
        "seeded {} Slots per organisation; abusers act for {abusive_org}",
        args.beds * args.hours
    );

    let mut alone = Vec::new();
    let mut abused = Vec::new();
    for run in 1..=args.runs {
        let quiet = phase(args, &good, &base).await?;
        let stop = Arc::new(AtomicBool::new(false));
        let answered = Arc::new(AtomicUsize::new(0));
        let mut abusers = Vec::new();
        for n in 0..args.abusers {
            let http = client(abusive_org)?;
            let (base, stop, answered) = (base.clone(), stop.clone(), answered.clone());
            abusers.push(tokio::spawn(abuse(n, http, base, stop, answered)));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        let loud = phase(args, &good, &base).await;
        stop.store(true, Ordering::Relaxed);
        for a in abusers {
            a.await?;
        }
        let loud = loud?;
        println!(
            "pair {run}: alone p50 {:.2} ms p99 {:.2} ms; beside {} abusers p50 {:.2} ms p99 {:.2} ms (abusive requests answered: {})",
            quiet.0,
            quiet.1,
            args.abusers,
            loud.0,
            loud.1,
            answered.load(Ordering::Relaxed)
        );
        alone.push(quiet);
        abused.push(loud);
    }
    let (alone_p99, abused_p99) = (median_by(&alone, |p| p.1), median_by(&abused, |p| p.1));
    println!(
        "median of {} pairs: p99 alone {alone_p99:.2} ms, beside abusers {abused_p99:.2} ms, ratio {:.2}; p50 {:.2} ms / {:.2} ms",
        args.runs,
        abused_p99 / alone_p99,
        median_by(&alone, |p| p.0),
        median_by(&abused, |p| p.0),
    );
    Ok(())
}

async fn seed(args: &Args, http: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    let mut entries = vec![location_entry("ward", "wa", None)];
    for b in 0..args.beds {
        entries.push(location_entry(&format!("bed-{b}"), "bd", Some("ward")));
        entries.push(schedule_entry(b));
    }
    post_bundle(http, base, "transaction", &entries).await?;
    let total = args.beds * args.hours;
    let slots: Vec<String> = (0..total)
        .map(|n| slot_entry(n, n % args.beds, n / args.beds))
        .collect();
    for batch in slots.chunks(500) {
        post_bundle(http, base, "batch", batch).await?;
    }
    Ok(())
}

/// Times the well-behaved client's searches: a random bed's one day. (p50, p99) in ms.
async fn phase(args: &Args, http: &reqwest::Client, base: &str) -> anyhow::Result<(f64, f64)> {
    let latencies =
        time_bed_day_searches(http, base, args.searches, args.beds, args.hours / 24).await?;
    Ok((quantile(&latencies, 0.5), quantile(&latencies, 0.99)))
}

/// One abusive client: loops over the costly requests until told to stop.
async fn abuse(
    n: usize,
    http: reqwest::Client,
    base: String,
    stop: Arc<AtomicBool>,
    answered: Arc<AtomicUsize>,
) {
    let list = |k: usize, f: &dyn Fn(usize) -> String| (0..k).map(f).collect::<Vec<_>>().join(",");
    let costly = [
        // As many alternatives, sort keys and rows as the limits allow.
        format!(
            "{base}/Slot?status={}&start={}&_sort=-start,status,_lastUpdated,_id&_count=1000",
            list(100, &|i| format!("code{i},busy,free")
                .split(',')
                .nth(i % 3)
                .unwrap_or("busy")
                .to_string()),
            list(100, &|i| format!("ge2026-01-{:02}", 1 + i % 28)),
        ),
        format!(
            "{base}/Location?name:contains={}",
            list(100, &|i| format!("d{i}"))
        ),
        format!(
            "{base}/Slot?_lastUpdated={}&_count=1000",
            list(100, &|i| format!("gt2025-12-{:02}", 1 + i % 28))
        ),
        // Past the limits: refused before any SQL.
        format!("{base}/Slot?_sort={}", list(1_000, &|_| "start".into())),
        format!("{base}/Slot?status={}", list(600, &|i| format!("s{i}"))),
    ];
    let mut i = n;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let url = &costly[i % costly.len()];
        if i.is_multiple_of(4) {
            // Sent, then abandoned: the client hangs up at once.
            let _ = tokio::time::timeout(Duration::from_millis(20), http.get(url).send()).await;
            continue;
        }
        if let Ok(r) = http.get(url).send().await {
            let _ = r.bytes().await;
            answered.fetch_add(1, Ordering::Relaxed);
        }
    }
}
