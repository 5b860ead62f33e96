//! Watching the core from outside, as its consumers do: a bus consumer that records
//! every delivery with its arrival time, and a `/stream` client that records every
//! picture event and, when its connection drops, resumes with `Last-Event-ID` the way
//! a display does. The replica benchmark (`bench_replicas`) and the multi-replica
//! end-to-end test (`tests/e2e_replicas.rs`) share them, so that what the benchmark
//! times is what the test checks.

#![allow(dead_code)] // the benchmark and the test each use their own part

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt as _;
use ohjaamo_bus::lapin::Channel;
use ohjaamo_bus::lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions};
use ohjaamo_bus::lapin::types::FieldTable;
use ohjaamo_proto::v1::{Event, event};
use prost::Message as _;
use serde_json::Value;

/// Microseconds since the epoch: the clock every probe and writer stamps with.
pub fn now_micros() -> i64 {
    jiff::Timestamp::now().as_microsecond()
}

/// One message the bus consumer received.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub sequence: u64,
    /// Arrival, microseconds since the epoch.
    pub at: i64,
    /// `resource` or `picture`.
    pub kind: &'static str,
    /// The unit of a picture event; `rtype/id` of a resource change.
    pub subject: String,
    /// A picture event's previous picture of its unit; a resource change's version.
    pub previous: i64,
}

/// Everything a consumer received, in arrival order, redeliveries included.
pub type Deliveries = Arc<Mutex<Vec<Delivery>>>;

/// Declares `queue` bound to every event of `organization` (as a consumer following
/// the whole organisation would) and consumes it on a channel of its own, recording
/// into the answered [`Deliveries`] until the task is aborted.
pub async fn follow_organization(
    connection: &ohjaamo_bus::lapin::Connection,
    queue: &str,
    organization: &str,
) -> anyhow::Result<(Deliveries, tokio::task::JoinHandle<anyhow::Result<()>>)> {
    ohjaamo_bus::declare_consumer_queue(
        &connection.create_channel().await?,
        &ohjaamo_bus::QueueSettings {
            name: queue.to_owned(),
            bindings: vec![format!("v1.{}.#", ohjaamo_bus::key_part(organization))],
            max_length_bytes: 4 << 30,
        },
    )
    .await?;
    let deliveries: Deliveries = Arc::default();
    let consumer = tokio::spawn(consume(
        connection.create_channel().await?,
        queue.to_owned(),
        deliveries.clone(),
    ));
    Ok((deliveries, consumer))
}

/// Consumes `queue` on `channel` until the channel closes, recording every message
/// (acknowledged after it is recorded; undecodable messages are recorded as nothing).
pub async fn consume(channel: Channel, queue: String, out: Deliveries) -> anyhow::Result<()> {
    channel.basic_qos(1_000, BasicQosOptions::default()).await?;
    let mut deliveries = channel
        .basic_consume(
            queue.as_str().into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    while let Some(delivery) = deliveries.next().await {
        let delivery = delivery?;
        let at = now_micros();
        if let Ok(e) = Event::decode(delivery.data.as_slice()) {
            let (kind, subject, previous) = match &e.payload {
                Some(event::Payload::ResourceChange(r)) => (
                    "resource",
                    format!("{}/{}", r.resource_type, r.id),
                    r.version,
                ),
                _ => ("picture", e.unit.clone(), e.unit_previous_sequence as i64),
            };
            lock(&out).push(Delivery {
                sequence: e.sequence,
                at,
                kind,
                subject,
                previous,
            });
        }
        delivery.ack(BasicAckOptions::default()).await?;
    }
    Ok(())
}

/// The first arrival (µs) of each sequence the consumer received.
pub fn first_arrivals(deliveries: &Deliveries) -> std::collections::HashMap<u64, i64> {
    let mut arrived = std::collections::HashMap::new();
    for d in lock(deliveries).iter() {
        arrived.entry(d.sequence).or_insert(d.at);
    }
    arrived
}

/// Waits until the consumer has every event up to the log's end (`last` reads it)
/// and the log stood still for half a second; fails after `within`.
pub async fn settle(
    mut last: impl AsyncFnMut() -> anyhow::Result<i64>,
    deliveries: &Deliveries,
    within: Duration,
) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + within;
    let (mut stable, mut seen) = (0, -1);
    while std::time::Instant::now() < deadline {
        let end = last().await?;
        let received = first_arrivals(deliveries).len() as i64;
        if received == end && end == seen {
            stable += 1;
            if stable >= 5 {
                return Ok(());
            }
        } else {
            stable = 0;
        }
        seen = end;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the consumer did not receive every event within {within:?}")
}

/// What one `/stream` client saw over all its connections.
#[derive(Debug, Default, Clone)]
pub struct StreamLog {
    /// `(sequence, arrival µs, unit, previous)` of every picture event, in order.
    pub pictures: Vec<(i64, i64, String, i64)>,
    /// The sequence of every snapshot received (one per connection that started
    /// without a resumable `Last-Event-ID`).
    pub snapshots: Vec<i64>,
    /// `resync` events received.
    pub resyncs: usize,
    /// Connections opened, and how many of them sent `Last-Event-ID`.
    pub connections: usize,
    pub resumed: usize,
    /// The id of the last event with one.
    pub last_id: Option<String>,
}

/// Follows `url` (a core's `/stream`) for `organization` until aborted: records every
/// event, and when the connection ends or cannot be made, connects again after a
/// short pause, sending `Last-Event-ID` once it has one.
pub fn follow_stream(
    http: reqwest::Client,
    url: String,
    organization: String,
    log: Arc<Mutex<StreamLog>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let _ = stream_once(&http, &url, &organization, &log).await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
}

async fn stream_once(
    http: &reqwest::Client,
    url: &str,
    organization: &str,
    log: &Mutex<StreamLog>,
) -> anyhow::Result<()> {
    let last_id = lock(log).last_id.clone();
    let mut request = http
        .get(url)
        .header("X-Ohjaamo-Organization", organization)
        .header("Accept", "text/event-stream");
    if let Some(id) = &last_id {
        request = request.header("Last-Event-ID", id);
    }
    let mut response = request.send().await?;
    anyhow::ensure!(response.status().is_success(), "{}", response.status());
    {
        let mut log = lock(log);
        log.connections += 1;
        log.resumed += usize::from(last_id.is_some());
    }
    let mut buffer = String::new();
    while let Some(chunk) = response.chunk().await? {
        let at = now_micros();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            record(&block, at, &mut lock(log));
        }
    }
    Ok(())
}

/// Records one Server-Sent Event (`event:`, `id:`, `data:` lines).
fn record(block: &str, at: i64, log: &mut StreamLog) {
    let (mut name, mut id, mut data) = ("message", None, String::new());
    for line in block.lines() {
        if let Some(v) = line.strip_prefix("event:") {
            name = match v.trim() {
                "snapshot" => "snapshot",
                "picture" => "picture",
                "resync" => "resync",
                _ => "other",
            };
        } else if let Some(v) = line.strip_prefix("id:") {
            id = Some(v.trim().to_owned());
        } else if let Some(v) = line.strip_prefix("data:") {
            data.push_str(v.trim_start());
        }
    }
    let body: Value = serde_json::from_str(&data).unwrap_or(Value::Null);
    match name {
        "snapshot" => log.snapshots.push(body["sequence"].as_i64().unwrap_or(-1)),
        "picture" => log.pictures.push((
            body["sequence"].as_i64().unwrap_or(-1),
            at,
            body["id"].as_str().unwrap_or_default().to_owned(),
            body["previous"].as_i64().unwrap_or(-1),
        )),
        "resync" => log.resyncs += 1,
        _ => {}
    }
    if id.is_some() {
        log.last_id = id;
    }
}

/// A lock that a panicking holder does not poison for the others.
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The version each entry of a batch-response Bundle wrote, from its `etag`
/// (`W/"3"`), in entry order; `None` for an entry without one.
pub fn written_versions(response: &Value) -> Vec<Option<i64>> {
    response["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            e["response"]["etag"]
                .as_str()
                .and_then(|t| t.trim_start_matches("W/").trim_matches('"').parse().ok())
        })
        .collect()
}
