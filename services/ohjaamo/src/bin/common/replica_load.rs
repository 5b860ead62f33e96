//! What `bench_replicas` runs against its replicas: its settings, the live changes,
//! the bulk load beside them, and the cell's own database.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use serde_json::{Value, json};
use sqlx::Connection as _;

#[derive(Parser, Debug, Clone)]
#[command(about = "Benchmark single-change latency with replicas and a bulk load")]
pub struct Args {
    /// Changes per second.
    #[arg(long, default_value_t = 1_000)]
    pub rate: u64,
    /// Changes per batch Bundle.
    #[arg(long, default_value_t = 20)]
    pub batch: u64,
    /// Seconds of changes per cell.
    #[arg(long, default_value_t = 15)]
    pub seconds: u64,
    #[arg(long, default_value_t = 50)]
    pub wards: usize,
    #[arg(long, default_value_t = 20)]
    pub beds_per_ward: usize,
    /// Beds of the bulk-loaded hospital (its Slots are what the bulk load writes).
    #[arg(long, default_value_t = 2_000)]
    pub bulk_beds: usize,
    /// Entries per bulk Bundle.
    #[arg(long, default_value_t = 500)]
    pub bulk_batch: usize,
    /// Bulk Bundles in flight.
    #[arg(long, default_value_t = 2)]
    pub bulk_in_flight: usize,
    /// Replica counts to measure, each with and without the bulk load.
    #[arg(long, value_delimiter = ',', default_value = "1,3")]
    pub replicas: Vec<usize>,
    /// Lease hand-overs measured per run (in the cell with the most replicas, no bulk).
    #[arg(long, default_value_t = 3)]
    pub kills: usize,
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// The `ohjaamo` binary to start; by default the one beside this benchmark.
    #[arg(long)]
    pub binary: Option<String>,
    #[arg(
        long,
        env = "OHJAAMO_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    pub admin_url: String,
    #[arg(
        long,
        env = "OHJAAMO_BENCH_AMQP_URL",
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f"
    )]
    pub amqp_url: String,
}

/// The writer of live changes: `args.rate` per second as batch Bundles of
/// `args.batch`, taking turns between `bases`, until `stop`; answers each change's
/// `(Slot id, version) → sent at (µs)` and each Slot's ward.
pub async fn write_changes(
    http: reqwest::Client,
    bases: Vec<String>,
    beds: Vec<(String, String)>,
    args: Args,
    stop: Arc<AtomicBool>,
    down: Arc<AtomicU64>,
) -> anyhow::Result<(HashMap<(String, i64), i64>, HashMap<String, String>)> {
    let batch = args.batch.max(1);
    let mut tick =
        tokio::time::interval(Duration::from_micros(1_000_000 * batch / args.rate.max(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = Vec::new();
    let mut ward_of = HashMap::new();
    let mut n: u64 = 0;
    let mut turn = 0usize;
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        let mut ids = Vec::new();
        let mut entries = Vec::new();
        for _ in 0..batch {
            let (bed, ward) = &beds[(n as usize * 7919) % beds.len()];
            let id = format!("stay-{bed}");
            ward_of.insert(id.clone(), ward.clone());
            entries.push(stay_entry(&id, bed, 2 + (n % 50) as i64));
            ids.push(id);
            n += 1;
        }
        // Skip a replica that is down on purpose (the hand-over phase).
        turn += 1;
        let mut base = &bases[turn % bases.len()];
        if down.load(Ordering::Relaxed) == (turn % bases.len()) as u64 + 1 {
            turn += 1;
            base = &bases[turn % bases.len()];
        }
        let (http, base) = (http.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let sent = crate::probes::now_micros();
            let body =
                serde_json::json!({"resourceType": "Bundle", "type": "batch", "entry": entries});
            let response = http.post(&base).json(&body).send().await?;
            anyhow::ensure!(response.status().is_success(), "{}", response.status());
            let answer: Value = response.json().await?;
            let versions = crate::probes::written_versions(&answer);
            Ok::<_, anyhow::Error>(
                ids.into_iter()
                    .zip(versions)
                    .filter_map(|(id, v)| Some(((id, v?), sent)))
                    .collect::<Vec<_>>(),
            )
        }));
    }
    let mut sent_at = HashMap::new();
    for task in tasks {
        // A batch sent to a replica the moment it was killed fails: not a change.
        if let Ok(Ok(sent)) = task.await {
            sent_at.extend(sent);
        }
    }
    Ok((sent_at, ward_of))
}

/// The bulk load until `stop`: batch Bundles of conditional Slot upserts, `in flight`
/// at a time, taking turns between `bases`; answers the resources written.
pub async fn bulk_load(
    http: reqwest::Client,
    bases: Vec<String>,
    args: Args,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<u64> {
    let next = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for w in 0..args.bulk_in_flight.max(1) {
        let (http, base, args, stop, next) = (
            http.clone(),
            bases[w % bases.len()].clone(),
            args.clone(),
            stop.clone(),
            next.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut written = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let first = next.fetch_add(args.bulk_batch as u64, Ordering::Relaxed) as usize;
                let entries: Vec<String> = (first..first + args.bulk_batch)
                    .map(|n| {
                        crate::bench_server::slot_entry(n, n % args.bulk_beds, n / args.bulk_beds)
                    })
                    .collect();
                crate::bench_server::post_bundle(&http, &base, "batch", &entries)
                    .await
                    .context("bulk Bundle")?;
                written += entries.len() as u64;
            }
            Ok::<_, anyhow::Error>(written)
        }));
    }
    let mut written = 0;
    for w in workers {
        written += w.await??;
    }
    Ok(written)
}

/// A fresh database for the cell named `cell` of run `run`; answers its URL and name.
pub async fn fresh_database(
    args: &Args,
    run: usize,
    cell: &str,
) -> anyhow::Result<(String, String)> {
    let name = format!("ohjaamo_bench_replicas_{}_{run}_{cell}", std::process::id());
    let url = crate::bench_server::create_database(&args.admin_url, &name).await?;
    Ok((url, name))
}

/// The organisation's last sequence, read on a connection of the benchmark's own.
pub async fn last_sequence(db: &mut sqlx::PgConnection, org: &str) -> anyhow::Result<i64> {
    let last: Option<i64> = sqlx::query_scalar("SELECT last FROM event_sequence WHERE tenant = $1")
        .bind(org)
        .fetch_optional(db)
        .await?;
    Ok(last.unwrap_or(0))
}

/// Connects to a cell's database.
pub async fn connect(url: &str) -> anyhow::Result<sqlx::PgConnection> {
    Ok(sqlx::PgConnection::connect(url).await?)
}

/// A batch entry moving bed `bed`'s current stay `id` to end in `hours`.
pub fn stay_entry(id: &str, bed: &str, hours: i64) -> Value {
    let now = jiff::Timestamp::now();
    let start = now - jiff::SignedDuration::from_hours(1);
    let end = now + jiff::SignedDuration::from_hours(hours);
    json!({
        "resource": {
            "resourceType": "Slot", "id": id,
            "schedule": {"reference": format!("Schedule/s-{bed}")},
            "status": "busy", "start": start.to_string(), "end": end.to_string(),
        },
        "request": {"method": "PUT", "url": format!("Slot/{id}")},
    })
}
