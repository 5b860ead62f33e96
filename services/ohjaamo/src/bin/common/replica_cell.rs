//! One cell of `bench_replicas`: its replicas, its probes, its changes (and bulk load),
//! and the latencies and hand-overs measured in it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::bench_server::{self, Server};
use crate::lease_holder;
use crate::probes::{self, Deliveries, StreamLog, lock};
use crate::replica_load::{self, Args};
use crate::stats::quantile;

/// What a cell runs.
#[derive(Debug, Clone, Copy)]
pub struct Cell {
    pub replicas: usize,
    pub bulk: bool,
    /// Lease hand-overs to measure after the latency phase.
    pub kills: usize,
}

#[derive(Debug)]
pub struct CellResult {
    pub cell: Cell,
    pub achieved_rate: f64,
    pub bulk_rate: f64,
    pub bus_p50: f64,
    pub bus_p99: f64,
    pub stream_p50: f64,
    pub stream_p99: f64,
    /// Changes measured on the bus and on the streams.
    pub counted: (usize, usize),
    pub handover_ms: Vec<f64>,
    /// Where the time goes: p50/p99 of each stage, ms.
    pub stages: String,
}

impl CellResult {
    pub fn line(&self) -> String {
        format!(
            "{} replica(s), bulk {}: {:.0} changes/s, bulk {:.0} resources/s; bus p50 {:.1} ms p99 {:.1} ms ({} changes), stream p50 {:.1} ms p99 {:.1} ms ({} change×client); p50/p99 ms {}{}",
            self.cell.replicas,
            if self.cell.bulk { "on" } else { "off" },
            self.achieved_rate,
            self.bulk_rate,
            self.bus_p50,
            self.bus_p99,
            self.counted.0,
            self.stream_p50,
            self.stream_p99,
            self.counted.1,
            self.stages,
            if self.handover_ms.is_empty() {
                String::new()
            } else {
                format!("; hand-over after SIGKILL {:?} ms", self.handover_ms)
            }
        )
    }
}

/// The replicas of a cell: their listen addresses and processes (`None` while one is
/// down on purpose).
struct Replicas {
    listen: Vec<String>,
    procs: Vec<Option<Server>>,
    binary: String,
    db_url: String,
    amqp_url: String,
}

impl Replicas {
    fn start(&mut self, i: usize) -> anyhow::Result<()> {
        let extra = [
            "--bus-url",
            &self.amqp_url,
            "--database-max-connections",
            "16",
        ];
        self.procs[i] = Some(bench_server::start_server(
            &self.binary,
            &self.listen[i],
            &self.db_url,
            &extra,
        )?);
        Ok(())
    }
}

pub async fn run(args: &Args, run: usize, cell: Cell) -> anyhow::Result<CellResult> {
    let (db_url, db_name) = replica_load::fresh_database(
        args,
        run,
        &format!("{}{}", cell.replicas, u8::from(cell.bulk)),
    )
    .await?;
    let result = measure(args, run, cell, &db_url, &db_name).await;
    bench_server::drop_database(&args.admin_url, &db_name).await?;
    result
}

async fn measure(
    args: &Args,
    run: usize,
    cell: Cell,
    db_url: &str,
    db_name: &str,
) -> anyhow::Result<CellResult> {
    let unique = format!(
        "{}{run}{}{}",
        std::process::id(),
        cell.replicas,
        u8::from(cell.bulk)
    );
    let org = format!("1.2.246.10.{unique}");
    let queue = format!("bench-replicas-{unique}");
    let mut replicas = Replicas {
        listen: (0..cell.replicas)
            .map(|i| format!("127.0.0.1:{}", 18_480 + i))
            .collect(),
        procs: (0..cell.replicas).map(|_| None).collect(),
        binary: args.binary.clone().unwrap_or_default(),
        db_url: db_url.to_owned(),
        amqp_url: args.amqp_url.clone(),
    };
    let http = bench_server::client(&org)?;
    // One at a time: the first runs the migrations.
    for i in 0..cell.replicas {
        replicas.start(i)?;
        bench_server::wait_ready(&http, &replicas.listen[i]).await?;
    }
    let bases: Vec<String> = replicas
        .listen
        .iter()
        .map(|l| format!("http://{l}/fhir"))
        .collect();

    // The consumer and one stream client per replica.
    let connection =
        ohjaamo_bus::connect(&args.amqp_url, "bench_replicas", Duration::from_secs(10))
            .await
            .context("RabbitMQ")?;
    let (deliveries, consumer) = probes::follow_organization(&connection, &queue, &org).await?;
    let streams: Vec<Arc<Mutex<StreamLog>>> = (0..cell.replicas).map(|_| Arc::default()).collect();
    let followers: Vec<_> = streams
        .iter()
        .zip(&replicas.listen)
        .map(|(log, l)| {
            probes::follow_stream(
                reqwest::Client::new(),
                format!("http://{l}/stream?kind=ward"),
                org.clone(),
                log.clone(),
            )
        })
        .collect();

    let beds = seed(&http, &bases[0], args).await?;
    let mut db = replica_load::connect(db_url).await?;
    settle(&mut db, &org, &deliveries).await?;
    let first = replica_load::last_sequence(&mut db, &org).await?;

    // The bulk load, running from before the first change to after the last.
    let stop_bulk = Arc::new(AtomicBool::new(false));
    let bulk = cell.bulk.then(|| {
        tokio::spawn(replica_load::bulk_load(
            http.clone(),
            bases.clone(),
            args.clone(),
            stop_bulk.clone(),
        ))
    });
    let bulk_started = Instant::now();
    if bulk.is_some() {
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let down = Arc::new(AtomicU64::new(0));
    let writer = tokio::spawn(replica_load::write_changes(
        http.clone(),
        bases.clone(),
        beds.clone(),
        args.clone(),
        stop.clone(),
        down.clone(),
    ));
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let (sent_at, ward_of) = writer.await??;
    let achieved = sent_at.len() as f64 / started.elapsed().as_secs_f64();
    stop_bulk.store(true, Ordering::Relaxed);
    let bulk_rate = match bulk {
        Some(task) => task.await?? as f64 / bulk_started.elapsed().as_secs_f64(),
        None => 0.0,
    };
    settle(&mut db, &org, &deliveries).await?;
    tokio::time::sleep(Duration::from_secs(1)).await; // the streams' last pictures

    let (bus, stream, stages) = latencies(
        &mut db,
        &org,
        first,
        &sent_at,
        &ward_of,
        &deliveries,
        &streams,
    )
    .await?;

    let mut handover_ms = Vec::new();
    for k in 0..cell.kills {
        handover_ms.push(
            handover(
                &mut replicas,
                &http,
                &bases,
                &beds,
                args,
                &mut db,
                db_name,
                &org,
                &deliveries,
                k,
            )
            .await?,
        );
    }

    for f in followers {
        f.abort();
    }
    consumer.abort();
    connection
        .create_channel()
        .await?
        .queue_delete(queue.as_str().into(), Default::default())
        .await?;
    let _ = connection.close(200, "bench done".into()).await;
    drop(db);
    drop(replicas);
    Ok(CellResult {
        cell,
        achieved_rate: achieved,
        bulk_rate,
        bus_p50: quantile(&bus, 0.5),
        bus_p99: quantile(&bus, 0.99),
        stream_p50: quantile(&stream, 0.5),
        stream_p99: quantile(&stream, 0.99),
        counted: (bus.len(), stream.len()),
        handover_ms,
        stages,
    })
}

/// Wards, beds and their Schedules (the live hospital), and the bulk hospital's beds
/// and Schedules in wards of their own; answers the live `(bed, ward)` pairs.
async fn seed(
    http: &reqwest::Client,
    base: &str,
    args: &Args,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut beds = Vec::new();
    for w in 0..args.wards {
        let ward = format!("w{w}");
        let mut entries = vec![bench_server::location_entry(&ward, "wa", None)];
        for b in 0..args.beds_per_ward {
            let bed = format!("b{w}-{b}");
            entries.push(bench_server::location_entry(&bed, "bd", Some(&ward)));
            entries.push(format!(
                r#"{{"resource":{{"resourceType":"Schedule","id":"s-{bed}","actor":[{{"reference":"Location/{bed}"}}]}},"request":{{"method":"PUT","url":"Schedule/s-{bed}"}}}}"#
            ));
            beds.push((bed, ward.clone()));
        }
        bench_server::post_bundle(http, base, "batch", &entries).await?;
    }
    for chunk in (0..args.bulk_beds).collect::<Vec<_>>().chunks(200) {
        let mut entries = Vec::new();
        for &b in chunk {
            let ward = format!("bw{}", b / 20);
            if b % 20 == 0 {
                entries.push(bench_server::location_entry(&ward, "wa", None));
            }
            entries.push(bench_server::location_entry(
                &format!("bed-{b}"),
                "bd",
                Some(&ward),
            ));
            entries.push(bench_server::schedule_entry(b));
        }
        bench_server::post_bundle(http, base, "batch", &entries).await?;
    }
    Ok(beds)
}

/// Waits until the consumer has every event of the organisation.
async fn settle(
    db: &mut sqlx::PgConnection,
    org: &str,
    deliveries: &Deliveries,
) -> anyhow::Result<()> {
    probes::settle(
        async || replica_load::last_sequence(db, org).await,
        deliveries,
        Duration::from_secs(600),
    )
    .await
}

/// Per change: sent → its resource event at the consumer; sent → the first later
/// picture of its ward at each stream client. In ms, sorted.
async fn latencies(
    db: &mut sqlx::PgConnection,
    org: &str,
    after: i64,
    sent_at: &HashMap<(String, i64), i64>,
    ward_of: &HashMap<String, String>,
    deliveries: &Deliveries,
    streams: &[Arc<Mutex<StreamLog>>],
) -> anyhow::Result<(Vec<f64>, Vec<f64>, String)> {
    let changes: Vec<(i64, String, i64, i64)> = sqlx::query_as(
        "SELECT sequence, id, version, occurred_at FROM outbox WHERE tenant = $1 \
         AND sequence > $2 AND kind = 'resource' AND rtype = 'Slot' AND id LIKE 'stay-%' \
         ORDER BY sequence",
    )
    .bind(org)
    .bind(after)
    .fetch_all(&mut *db)
    .await?;
    // When each picture was committed, for where the time goes.
    let picture_commits: HashMap<i64, i64> = sqlx::query_as::<_, (i64, i64)>(
        "SELECT sequence, occurred_at FROM outbox WHERE tenant = $1 AND sequence > $2 \
         AND kind = 'picture'",
    )
    .bind(org)
    .bind(after)
    .fetch_all(&mut *db)
    .await?
    .into_iter()
    .collect();
    // sent → committed, committed → bus, committed → picture committed, picture
    // committed → stream.
    let mut stages: [Vec<f64>; 4] = Default::default();
    let arrived = probes::first_arrivals(deliveries);
    let logs: Vec<StreamLog> = streams.iter().map(|s| lock(s).clone()).collect();
    // Per client, per ward: its pictures' (sequence, arrival) in order.
    let by_ward: Vec<HashMap<String, Vec<(i64, i64)>>> = logs
        .iter()
        .map(|log| {
            let mut m: HashMap<String, Vec<(i64, i64)>> = HashMap::new();
            for (sequence, at, unit, _) in &log.pictures {
                m.entry(unit.clone()).or_default().push((*sequence, *at));
            }
            m
        })
        .collect();
    let (mut bus, mut stream) = (Vec::new(), Vec::new());
    let ms = |from: i64, to: i64| (to - from) as f64 / 1000.0;
    for (sequence, id, version, committed) in changes {
        let Some(&sent) = sent_at.get(&(id.clone(), version)) else {
            continue;
        };
        stages[0].push(ms(sent, committed));
        if let Some(&at) = arrived.get(&(sequence as u64)) {
            bus.push(ms(sent, at));
            stages[1].push(ms(committed, at));
        }
        let Some(ward) = ward_of.get(&id) else {
            continue;
        };
        for client in &by_ward {
            let Some(pictures) = client.get(ward) else {
                continue;
            };
            let next = pictures.partition_point(|(s, _)| *s <= sequence);
            if let Some(&(picture, at)) = pictures.get(next) {
                stream.push(ms(sent, at));
                if let Some(&picture_committed) = picture_commits.get(&picture) {
                    stages[2].push(ms(committed, picture_committed));
                    stages[3].push(ms(picture_committed, at));
                }
            }
        }
    }
    bus.sort_by(f64::total_cmp);
    stream.sort_by(f64::total_cmp);
    let names = [
        "sent→commit",
        "commit→bus",
        "commit→picture",
        "picture→stream",
    ];
    let mut breakdown = Vec::new();
    for (name, mut stage) in names.into_iter().zip(stages) {
        stage.sort_by(f64::total_cmp);
        breakdown.push(format!(
            "{name} {:.1}/{:.1}",
            quantile(&stage, 0.5),
            quantile(&stage, 0.99)
        ));
    }
    Ok((bus, stream, breakdown.join(", ")))
}

/// One hand-over: with changes flowing, finds the replica holding the relay's lease,
/// stops it, checks that it still holds the lease, kills it (SIGKILL) and answers the
/// time until the consumer receives an event it had not received before; then starts
/// the replica again and lets everything settle.
#[allow(clippy::too_many_arguments)]
async fn handover(
    replicas: &mut Replicas,
    http: &reqwest::Client,
    bases: &[String],
    beds: &[(String, String)],
    args: &Args,
    db: &mut sqlx::PgConnection,
    db_name: &str,
    org: &str,
    deliveries: &Deliveries,
    attempt: usize,
) -> anyhow::Result<f64> {
    let stop = Arc::new(AtomicBool::new(false));
    let down = Arc::new(AtomicU64::new(0));
    let slow = Args {
        rate: 200,
        batch: 2,
        ..args.clone()
    };
    let writer = tokio::spawn(replica_load::write_changes(
        http.clone(),
        bases.to_vec(),
        beds.to_vec(),
        slow,
        stop.clone(),
        down.clone(),
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let (victim, killed_at, before) = loop {
        anyhow::ensure!(
            Instant::now() < deadline,
            "hand-over {attempt}: never caught the relay's lease holder"
        );
        let ports = lease_holder::lease_ports(db, db_name).await?;
        let owner = (0..replicas.procs.len()).find(|i| {
            replicas.procs[*i].as_ref().is_some_and(|p| {
                let mine = lease_holder::process_ports(p.0.id());
                ports.iter().any(|port| mine.contains(port))
            })
        });
        let Some(i) = owner else {
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        };
        let pid = replicas.procs[i]
            .as_ref()
            .map(|p| p.0.id())
            .unwrap_or_default();
        signal(pid, "STOP");
        tokio::time::sleep(Duration::from_millis(50)).await;
        // Still held 50 ms later while changes flow: the stopped one holds it (another
        // replica's round takes a few ms).
        if lease_holder::is_held(db, org, "relay").await? {
            let before = lock(deliveries)
                .iter()
                .map(|d| d.sequence)
                .max()
                .unwrap_or(0);
            down.store(i as u64 + 1, Ordering::Relaxed);
            let killed_at = probes::now_micros();
            if let Some(mut p) = replicas.procs[i].take() {
                let _ = p.0.kill();
                let _ = p.0.wait();
            }
            break (i, killed_at, before);
        }
        signal(pid, "CONT");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // The first event the consumer had not had before the holder was stopped.
    let handed = loop {
        let first_new = lock(deliveries)
            .iter()
            .filter(|d| d.sequence > before && d.at >= killed_at)
            .map(|d| d.at)
            .min();
        if let Some(at) = first_new {
            break (at - killed_at) as f64 / 1000.0;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "hand-over {attempt}: no event after the kill"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    stop.store(true, Ordering::Relaxed);
    writer.await??;
    replicas.start(victim)?;
    bench_server::wait_ready(http, &replicas.listen[victim]).await?;
    settle(db, org, deliveries).await?;
    Ok(handed)
}

fn signal(pid: u32, name: &str) {
    let _ = std::process::Command::new("kill")
        .args([format!("-{name}"), pid.to_string()])
        .status();
}
