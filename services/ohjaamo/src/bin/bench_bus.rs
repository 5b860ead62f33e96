//! `bench_bus`: the bus path measured (issue 4): write-to-consumer latency at a steady
//! write rate, the relay's published events per second with confirms against what a
//! plain lapin publisher gets from the same RabbitMQ, and the cost of recomputing one
//! unit's picture.
//!
//! Each run creates a fresh PostgreSQL database and its own organisation and queue;
//! the core (API, deriver, relay) runs in this process, the broker is the local
//! RabbitMQ. It prints one line per run and the medians, for docs/benchmarks.md.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-release cargo build --release -p ohjaamo
//! /work/target-release/release/bench_bus --runs 3
//! ```

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Parser;
use jiff::{SignedDuration, Timestamp};
use ohjaamo_bus::lapin::BasicProperties;
use ohjaamo_bus::lapin::options::{
    BasicPublishOptions, ConfirmSelectOptions, QueueDeleteOptions, QueuePurgeOptions,
};
use ohjaamo_core::log::relay::Bus;
use ohjaamo_core::picture::deriver::DeriverOptions;
use ohjaamo_core::picture::place_cache::PlaceCache;
use ohjaamo_core::{AppState, Background, Config};
use ohjaamo_store::Store;
use prost::Message as _;
use serde_json::{Value, json};
use sqlx::Connection as _;
use tokio::sync::Semaphore;

#[path = "common/probes.rs"]
mod probes;
#[path = "common/stats.rs"]
mod stats;
use probes::Deliveries;
use stats::{median_by, quantile};

#[derive(Parser, Debug)]
#[command(about = "Benchmark the outbox, relay and bus path")]
struct Args {
    /// Writes per second in the latency phase.
    #[arg(long, default_value_t = 1_000)]
    rate: u64,
    /// Changes per batch Bundle in the latency phase (1 = single PUTs).
    #[arg(long, default_value_t = 20)]
    batch: u64,
    /// Seconds the latency phase lasts.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Events the relay drains in the throughput phase.
    #[arg(long, default_value_t = 100_000)]
    drain_events: usize,
    #[arg(long, default_value_t = 50)]
    wards: usize,
    #[arg(long, default_value_t = 20)]
    beds_per_ward: usize,
    #[arg(long, default_value_t = 3)]
    runs: usize,
    #[arg(
        long,
        env = "OHJAAMO_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    admin_url: String,
    #[arg(
        long,
        env = "OHJAAMO_BENCH_AMQP_URL",
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f"
    )]
    amqp_url: String,
}

#[derive(Debug)]
struct RunResult {
    /// Commit of a write to its resource event at the consumer, ms.
    /// Writes per second actually achieved in the latency phase.
    achieved_rate: f64,
    resource_p50: f64,
    resource_p99: f64,
    /// Commit of a write to the consumer receiving its ward's new picture, ms.
    picture_p50: f64,
    picture_p99: f64,
    relay_per_s: f64,
    plain_per_s: f64,
    /// One ward's picture recomputed, ms (median), and all wards at once per ward.
    unit_recompute_ms: f64,
    all_units_per_unit_ms: f64,
    /// One ward recomputed after one of its beds changed, the rest of its places
    /// kept from the round before (as the deriver does), ms (median).
    kept_recompute_ms: f64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut results = Vec::new();
    for run in 0..args.runs {
        let r = one_run(&args, run).await?;
        println!(
            "run {run}: {:.0} writes/s; latency resource p50 {:.1} ms p99 {:.1} ms, picture p50 {:.1} ms p99 {:.1} ms; \
             relay {:.0} events/s, plain lapin {:.0}/s, ratio {:.2}; recompute {:.2} ms/unit alone, {:.3} ms/unit all, {:.2} ms/unit one bed changed",
            r.achieved_rate,
            r.resource_p50,
            r.resource_p99,
            r.picture_p50,
            r.picture_p99,
            r.relay_per_s,
            r.plain_per_s,
            r.relay_per_s / r.plain_per_s,
            r.unit_recompute_ms,
            r.all_units_per_unit_ms,
            r.kept_recompute_ms,
        );
        results.push(r);
    }
    println!(
        "median of {}: latency resource p50 {:.1} ms p99 {:.1} ms, picture p50 {:.1} ms p99 {:.1} ms; \
         relay {:.0} events/s, plain {:.0}/s, ratio {:.2}; recompute {:.2} ms/unit alone, {:.3} ms/unit all, {:.2} ms/unit one bed changed",
        results.len(),
        median_by(&results, |r| r.resource_p50),
        median_by(&results, |r| r.resource_p99),
        median_by(&results, |r| r.picture_p50),
        median_by(&results, |r| r.picture_p99),
        median_by(&results, |r| r.relay_per_s),
        median_by(&results, |r| r.plain_per_s),
        median_by(&results, |r| r.relay_per_s / r.plain_per_s),
        median_by(&results, |r| r.unit_recompute_ms),
        median_by(&results, |r| r.all_units_per_unit_ms),
        median_by(&results, |r| r.kept_recompute_ms),
    );
    Ok(())
}

async fn one_run(args: &Args, run: usize) -> anyhow::Result<RunResult> {
    let unique = format!("{}{run}", Timestamp::now().as_millisecond() % 100_000_000);
    let db_name = format!("ohjaamo_bench_bus_{unique}");
    let mut admin = sqlx::PgConnection::connect(&args.admin_url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db_name}")))
        .execute(&mut admin)
        .await?;
    let mut db_url = url::Url::parse(&args.admin_url)?;
    db_url.set_path(&db_name);
    let organization = format!("1.2.246.10.{unique}");
    let queue = format!("bench-bus-{unique}");
    let result = measure(args, db_url.as_str(), &organization, &queue).await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    result
}

async fn measure(
    args: &Args,
    db_url: &str,
    organization: &str,
    queue: &str,
) -> anyhow::Result<RunResult> {
    let store = Arc::new(Store::connect(db_url, 16).await?);
    let state = AppState::new(
        store.clone(),
        Config {
            default_tenant: organization.to_owned(),
            ..Config::default()
        },
    );
    let connection = ohjaamo_bus::connect(&args.amqp_url, "bench_bus", Duration::from_secs(10))
        .await
        .context("RabbitMQ")?;
    let channel = connection.create_channel().await?;
    let (arrivals, consumer) =
        probes::follow_organization(&connection, queue, organization).await?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}/fhir", listener.local_addr()?);
    let app = ohjaamo_core::http::server::app(state.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let http = reqwest::Client::new();
    let deriver = DeriverOptions {
        refresh: Duration::from_secs(3600),
        poll: Duration::from_millis(200),
        ..DeriverOptions::default()
    };
    let background = Background::start(
        &state,
        Bus::Amqp {
            url: args.amqp_url.clone(),
        },
        deriver.clone(),
    );

    // The hospital.
    let beds = seed(&http, &base, organization, args).await?;
    settle(&store, organization, &arrivals).await?;

    // Latency at a steady rate.
    let first_latency_sequence = store.last_sequence(organization).await?;
    let started = Instant::now();
    let ward_of_write = write_at_rate(&http, &base, organization, &beds, args).await?;
    let achieved = (args.rate * args.seconds) as f64 / started.elapsed().as_secs_f64();
    settle(&store, organization, &arrivals).await?;
    let (resource, picture) = latencies(
        &store,
        organization,
        first_latency_sequence,
        &ward_of_write,
        &arrivals,
    )
    .await?;

    // Recompute cost.
    let (unit_recompute_ms, all_units_per_unit_ms, kept_recompute_ms) =
        recompute_cost(&state, organization, args).await?;

    // Relay throughput: the log fills while no relay runs, then one drains it (with no
    // consumer competing for the CPU, as for the plain publisher below).
    drop(background);
    consumer.abort();
    tokio::time::sleep(Duration::from_millis(300)).await;
    fill_log(&http, &base, organization, &beds, args.drain_events).await?;
    let last = store.last_sequence(organization).await?;
    let started = Instant::now();
    let relay = tokio::spawn(ohjaamo_core::log::relay::run(
        state.clone(),
        Bus::Amqp {
            url: args.amqp_url.clone(),
        },
    ));
    // One connection for the polling, so that watching the relay costs it nothing.
    let mut db = sqlx::PgConnection::connect(db_url).await?;
    let drained_from = relay_cursor(&mut db, organization).await?;
    while relay_cursor(&mut db, organization).await? < last {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let relay_per_s = (last - drained_from) as f64 / started.elapsed().as_secs_f64();
    relay.abort();
    channel
        .queue_purge(queue.into(), QueuePurgeOptions::default())
        .await?;

    // What RabbitMQ takes from a plain publisher: the same count and sizes, the same
    // batches awaiting confirms, and all in one window.
    let sizes = event_sizes(&store, organization, args.drain_events).await?;
    let plain_per_s = plain_publisher(&connection, organization, &sizes, queue).await?;

    channel
        .queue_delete(queue.into(), QueueDeleteOptions::default())
        .await?;
    let _ = connection.close(200, "bench done".into()).await;
    server.abort();
    store.close().await;
    Ok(RunResult {
        achieved_rate: achieved,
        resource_p50: quantile(&resource, 0.5),
        resource_p99: quantile(&resource, 0.99),
        picture_p50: quantile(&picture, 0.5),
        picture_p99: quantile(&picture, 0.99),
        relay_per_s,
        plain_per_s,
        unit_recompute_ms,
        all_units_per_unit_ms,
        kept_recompute_ms,
    })
}

/// Waits until the deriver and the relay are idle and the consumer has everything.
async fn settle(store: &Store, organization: &str, arrivals: &Deliveries) -> anyhow::Result<()> {
    probes::settle(
        async || Ok(store.last_sequence(organization).await?),
        arrivals,
        Duration::from_secs(300),
    )
    .await
}

async fn post_batch(
    http: &reqwest::Client,
    base: &str,
    org: &str,
    entries: Vec<Value>,
) -> anyhow::Result<()> {
    let bundle = json!({"resourceType": "Bundle", "type": "batch", "entry": entries});
    let r = http
        .post(base)
        .header("X-Ohjaamo-Organization", org)
        .json(&bundle)
        .send()
        .await?;
    anyhow::ensure!(r.status().is_success(), "bundle: {}", r.text().await?);
    Ok(())
}

fn put_entry(resource: Value) -> Value {
    let url = format!(
        "{}/{}",
        resource["resourceType"].as_str().unwrap_or_default(),
        resource["id"].as_str().unwrap_or_default()
    );
    json!({"resource": resource, "request": {"method": "PUT", "url": url}})
}

fn location(id: &str, physical: &str, part_of: Option<&str>) -> Value {
    let mut l = json!({
        "resourceType": "Location", "id": id, "name": id, "status": "active",
        "physicalType": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/location-physical-type",
            "code": physical}]},
    });
    if let Some(ward) = part_of {
        l["partOf"] = json!({"reference": format!("Location/{ward}")});
    }
    l
}

fn stay(id: &str, bed: &str, hours: i64) -> Value {
    let now = Timestamp::now();
    json!({
        "resourceType": "Slot", "id": id,
        "schedule": {"reference": format!("Schedule/s-{bed}")},
        "status": "busy",
        "start": now.checked_sub(SignedDuration::from_hours(1)).unwrap_or(now).to_string(),
        "end": now.checked_add(SignedDuration::from_hours(hours)).unwrap_or(now).to_string(),
    })
}

/// Wards, beds and their Schedules; answers `(bed, ward)` pairs.
async fn seed(
    http: &reqwest::Client,
    base: &str,
    org: &str,
    args: &Args,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut beds = Vec::new();
    for w in 0..args.wards {
        let ward = format!("w{w}");
        let mut entries = vec![put_entry(location(&ward, "wa", None))];
        for b in 0..args.beds_per_ward {
            let bed = format!("b{w}-{b}");
            entries.push(put_entry(location(&bed, "bd", Some(&ward))));
            entries.push(put_entry(
                json!({"resourceType": "Schedule", "id": format!("s-{bed}"),
                "actor": [{"reference": format!("Location/{bed}")}]}),
            ));
            beds.push((bed, ward.clone()));
        }
        post_batch(http, base, org, entries).await?;
    }
    Ok(beds)
}

/// Writes `args.rate` changes per second, as batch Bundles of `args.batch` (the way
/// adapters write), each change moving one bed's current stay; answers each Slot's
/// ward.
async fn write_at_rate(
    http: &reqwest::Client,
    base: &str,
    org: &str,
    beds: &[(String, String)],
    args: &Args,
) -> anyhow::Result<HashMap<String, String>> {
    let batch = args.batch.max(1);
    let total = args.rate * args.seconds;
    let in_flight = Arc::new(Semaphore::new(64));
    let mut tick =
        tokio::time::interval(Duration::from_micros(1_000_000 * batch / args.rate.max(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut ward_of = HashMap::new();
    let mut tasks = Vec::new();
    for first in (0..total).step_by(batch as usize) {
        tick.tick().await;
        let mut entries = Vec::new();
        for n in first..(first + batch).min(total) {
            // A bed's current stay changes (its planned end moves): the ward keeps its
            // size, as a real ward does, rather than piling up stays.
            let (bed, ward) = &beds[(n as usize * 7919) % beds.len()];
            let id = format!("stay-{bed}");
            ward_of.insert(id.clone(), ward.clone());
            entries.push(put_entry(stay(&id, bed, 2 + (n % 50) as i64)));
        }
        let (http, base, org) = (http.clone(), base.to_owned(), org.to_owned());
        let permit = in_flight.clone().acquire_owned().await?;
        tasks.push(tokio::spawn(async move {
            let _permit = permit;
            post_batch(&http, &base, &org, entries).await
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(ward_of)
}

/// Per write: commit → its resource event at the consumer, and commit → the first
/// later picture event of its ward at the consumer, in milliseconds, sorted.
async fn latencies(
    store: &Store,
    org: &str,
    after: i64,
    ward_of: &HashMap<String, String>,
    arrivals: &Deliveries,
) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let events = store
        .events_after(
            org,
            after,
            i64::MAX,
            ohjaamo_store::EventFilter::ResourceKeys,
        )
        .await?;
    let pictures = store
        .events_after(org, after, i64::MAX, ohjaamo_store::EventFilter::Pictures)
        .await?;
    let mut by_ward: HashMap<&str, Vec<i64>> = HashMap::new();
    for p in &pictures {
        by_ward.entry(p.unit.as_str()).or_default().push(p.sequence);
    }
    let arrivals = probes::first_arrivals(arrivals);
    let (mut resource, mut picture) = (Vec::new(), Vec::new());
    for e in &events {
        let ohjaamo_store::EventBody::Resource { id, .. } = &e.body else {
            continue;
        };
        if let Some(at) = arrivals.get(&(e.sequence as u64)) {
            resource.push((at - e.occurred_at) as f64 / 1000.0);
        }
        let Some(ward) = ward_of.get(id) else {
            continue;
        };
        let Some(sequences) = by_ward.get(ward.as_str()) else {
            continue;
        };
        let next = sequences.partition_point(|s| *s <= e.sequence);
        if let Some(at) = sequences.get(next).and_then(|s| arrivals.get(&(*s as u64))) {
            picture.push((at - e.occurred_at) as f64 / 1000.0);
        }
    }
    resource.sort_by(f64::total_cmp);
    picture.sort_by(f64::total_cmp);
    Ok((resource, picture))
}

async fn recompute_cost(
    state: &AppState,
    org: &str,
    args: &Args,
) -> anyhow::Result<(f64, f64, f64)> {
    let zone = state.config.time_zone.clone();
    let src = ohjaamo_core::picture::source::Resources::Current {
        store: &state.store,
        tenant: org,
    };
    let mut alone = Vec::new();
    for round in 0..5 {
        for w in 0..args.wards {
            let started = Instant::now();
            let pictures = ohjaamo_core::picture::ward::ward_pictures(
                &src,
                &[format!("w{w}")],
                Timestamp::now(),
                &zone,
                &mut PlaceCache::default(),
            )
            .await?;
            anyhow::ensure!(pictures.len() == 1 || round > 0, "ward w{w} has no picture");
            alone.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    alone.sort_by(f64::total_cmp);
    let all: Vec<String> = (0..args.wards).map(|w| format!("w{w}")).collect();
    let started = Instant::now();
    ohjaamo_core::picture::ward::ward_pictures(
        &src,
        &all,
        Timestamp::now(),
        &zone,
        &mut PlaceCache::default(),
    )
    .await?;
    let all_ms = started.elapsed().as_secs_f64() * 1000.0 / args.wards as f64;
    // With the places kept: every ward read once, then each recomputed after
    // forgetting one of its beds (what a change to that bed makes the deriver do).
    let mut kept = PlaceCache::default();
    ohjaamo_core::picture::ward::ward_pictures(&src, &all, Timestamp::now(), &zone, &mut kept)
        .await?;
    let mut one_bed = Vec::new();
    for round in 0..5 {
        for w in 0..args.wards {
            kept.forget([&format!("b{w}-{}", round % args.beds_per_ward.max(1))]);
            let started = Instant::now();
            ohjaamo_core::picture::ward::ward_pictures(
                &src,
                &[format!("w{w}")],
                Timestamp::now(),
                &zone,
                &mut kept,
            )
            .await?;
            one_bed.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    one_bed.sort_by(f64::total_cmp);
    Ok((quantile(&alone, 0.5), all_ms, quantile(&one_bed, 0.5)))
}

/// Writes `count` Slots in 500-entry batches (one resource event each).
async fn fill_log(
    http: &reqwest::Client,
    base: &str,
    org: &str,
    beds: &[(String, String)],
    count: usize,
) -> anyhow::Result<()> {
    for chunk in 0..count.div_ceil(500) {
        let entries: Vec<Value> = (chunk * 500..((chunk + 1) * 500).min(count))
            .map(|n| put_entry(stay(&format!("fill-{n}"), &beds[n % beds.len()].0, 24)))
            .collect();
        post_batch(http, base, org, entries).await?;
    }
    Ok(())
}

async fn relay_cursor(db: &mut sqlx::PgConnection, org: &str) -> anyhow::Result<i64> {
    let at: Option<i64> = sqlx::query_scalar(
        "SELECT sequence FROM outbox_cursor WHERE tenant = $1 AND reader = 'relay'",
    )
    .bind(org)
    .fetch_optional(db)
    .await?;
    Ok(at.unwrap_or(0))
}

/// The encoded sizes of the last `count` events, for the plain publisher to match.
async fn event_sizes(store: &Store, org: &str, count: usize) -> anyhow::Result<Vec<usize>> {
    let last = store.last_sequence(org).await?;
    let events = store
        .events_after(
            org,
            last - count as i64,
            count as i64,
            ohjaamo_store::EventFilter::All,
        )
        .await?;
    let epoch = store.log_epoch().await?;
    Ok(events
        .iter()
        .map(|e| ohjaamo_core::log::relay::envelope(org, &epoch, e).encoded_len())
        .collect())
}

/// Publishes messages of `sizes` to the exchange (routed to `queue`) as fast as the
/// broker confirms: in 500-message batches awaiting confirms (as the relay does), and
/// all in one window; answers the better rate.
async fn plain_publisher(
    connection: &ohjaamo_bus::lapin::Connection,
    org: &str,
    sizes: &[usize],
    queue: &str,
) -> anyhow::Result<f64> {
    let channel = connection.create_channel().await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    let key = format!("v1.{}.resource.Slot._", ohjaamo_bus::key_part(org));
    let payloads: Vec<Vec<u8>> = sizes.iter().map(|n| vec![b'x'; *n]).collect();
    let properties = BasicProperties::default().with_delivery_mode(2);
    let mut best: f64 = 0.0;
    for batch in [500, payloads.len()] {
        let started = Instant::now();
        for chunk in payloads.chunks(batch) {
            let mut confirms = Vec::with_capacity(chunk.len());
            for payload in chunk {
                confirms.push(
                    channel
                        .basic_publish(
                            ohjaamo_bus::EXCHANGE.into(),
                            key.as_str().into(),
                            BasicPublishOptions::default(),
                            payload,
                            properties.clone(),
                        )
                        .await?,
                );
            }
            for confirm in confirms {
                anyhow::ensure!(confirm.await?.is_ack(), "a nack from RabbitMQ");
            }
        }
        best = best.max(payloads.len() as f64 / started.elapsed().as_secs_f64());
        channel
            .queue_purge(queue.into(), QueuePurgeOptions::default())
            .await?;
    }
    Ok(best)
}
