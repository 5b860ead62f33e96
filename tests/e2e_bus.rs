//! End to end through the bus, across processes: two core replicas on one PostgreSQL
//! database publishing to RabbitMQ, and the reference consumer (`ohjaamo
//! bed-reservations`) keeping a replica of the ward picture. A random workload of beds,
//! stays, holds, closures and moves, spread over both replicas, runs while one replica
//! is killed (SIGKILL) and restarted and the broker is stopped and started. Afterwards the consumer's replica equals `GET /picture`, every picture
//! event after its first snapshot arrived, and none was applied twice.
//!
//! Needs PostgreSQL and RabbitMQ (see `support`); skipped loudly without them, fails
//! without them when `CI=true`. The broker restart uses `rabbitmqctl stop_app` /
//! `start_app` on the local node.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use sqlx::{Connection as _, PgConnection};
use support::*;

const WARDS: usize = 4;
const BEDS_PER_WARD: usize = 6;
const OPERATIONS: usize = 360;

fn schedule(bed: &str) -> Value {
    json!({
        "resourceType": "Schedule",
        "id": format!("s-{bed}"),
        "actor": [{"reference": format!("Location/{bed}")}],
    })
}

fn slot(id: &str, bed: &str, held: bool, hours: i64) -> Value {
    let now = Timestamp::now();
    json!({
        "resourceType": "Slot",
        "id": id,
        "schedule": {"reference": format!("Schedule/s-{bed}")},
        "status": if held { "busy-tentative" } else { "busy" },
        "start": now.checked_sub(SignedDuration::from_hours(1)).unwrap().to_string(),
        "end": now.checked_add(SignedDuration::from_hours(hours)).unwrap().to_string(),
    })
}

/// The random workload's state: which bed is where, which Slots exist.
struct Hospital {
    beds: BTreeMap<String, (usize, bool)>,
    slots: Vec<String>,
    next: usize,
}

impl Hospital {
    async fn seed(api: &Api) -> Hospital {
        let mut beds = BTreeMap::new();
        for w in 0..WARDS {
            api.put(&location(&format!("w{w}"), "wa", None, false))
                .await;
            for n in 0..BEDS_PER_WARD {
                let bed = format!("b{w}-{n}");
                api.put(&location(&bed, "bd", Some(&format!("w{w}")), false))
                    .await;
                api.put(&schedule(&bed)).await;
                beds.insert(bed, (w, false));
            }
        }
        Hospital {
            beds,
            slots: Vec::new(),
            next: 0,
        }
    }

    async fn random_change(&mut self, api: &Api, rng: &mut ChaCha8Rng) {
        let bed = self
            .beds
            .keys()
            .nth(rng.random_range(0..self.beds.len()))
            .unwrap()
            .clone();
        let (ward, closed) = self.beds[&bed];
        match rng.random_range(0..100) {
            0..45 => {
                self.next += 1;
                let id = format!("stay-{}", self.next);
                api.put(&slot(
                    &id,
                    &bed,
                    rng.random_bool(0.3),
                    rng.random_range(2..60),
                ))
                .await;
                self.slots.push(id);
            }
            45..65 if !self.slots.is_empty() => {
                let id = self
                    .slots
                    .swap_remove(rng.random_range(0..self.slots.len()));
                api.send(reqwest::Method::DELETE, &format!("Slot/{id}"), None)
                    .await;
            }
            65..80 => {
                api.put(&location(&bed, "bd", Some(&format!("w{ward}")), !closed))
                    .await;
                self.beds.insert(bed, (ward, !closed));
            }
            80..90 => {
                self.next += 1;
                let new_bed = format!("nb-{}", self.next);
                let ward = rng.random_range(0..WARDS);
                api.put(&location(&new_bed, "bd", Some(&format!("w{ward}")), false))
                    .await;
                api.put(&schedule(&new_bed)).await;
                self.beds.insert(new_bed, (ward, false));
            }
            _ => {
                let to = (ward + 1) % WARDS;
                api.put(&location(&bed, "bd", Some(&format!("w{to}")), closed))
                    .await;
                self.beds.insert(bed, (to, closed));
            }
        }
    }
}

/// `(id, name, sequence, figures)` of each ward in a `/picture` or `/wards` body.
fn wards_of_core(body: &Value) -> Vec<(String, String, u64, Value)> {
    let wards = ohjaamo_bed_reservations::parse_snapshot(body)
        .expect("a snapshot")
        .wards;
    wards
        .into_iter()
        .map(|(id, w)| {
            (
                id,
                w.name,
                w.sequence,
                serde_json::to_value(w.figures).unwrap(),
            )
        })
        .collect()
}

fn wards_of_consumer(body: &Value) -> Vec<(String, String, u64, Value)> {
    body["units"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| {
            (
                u["id"].as_str().unwrap_or_default().to_owned(),
                u["name"].as_str().unwrap_or_default().to_owned(),
                u["sequence"].as_u64().unwrap_or(0),
                u["figures"].clone(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_replica_equals_the_picture_through_core_kills_and_a_broker_restart() {
    let Some((db, bus_url)) = database_and_broker().await else {
        return;
    };
    let unique = unique();
    let organization = format!("1.2.246.10.{unique}");
    let queue = format!("e2e-bed-reservations-{unique}");
    let dir = std::env::temp_dir().join(format!("ohjaamo-e2e-bus-{unique}"));
    std::fs::create_dir_all(&dir).unwrap();
    let (core_port, second_port, consumer_port) = (free_port(), free_port(), free_port());
    let core_root = format!("http://127.0.0.1:{core_port}");

    let mut core = start_core("core", &dir, core_port, &db, &["--bus-url", &bus_url]).await;
    let second = start_core(
        "second-core",
        &dir,
        second_port,
        &db,
        &["--bus-url", &bus_url],
    )
    .await;
    let consumer = start_consumer(
        &dir,
        &core_root,
        &organization,
        &bus_url,
        &queue,
        consumer_port,
    )
    .await;

    let api = Api::new(
        vec![
            format!("{core_root}/fhir"),
            format!("http://127.0.0.1:{second_port}/fhir"),
        ],
        &organization,
    );
    let mut hospital = Hospital::seed(&api).await;
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for n in 0..OPERATIONS {
        hospital.random_change(&api, &mut rng).await;
        match n {
            120 => {
                core.kill();
                core.restart();
            }
            240 => rabbitmqctl(&["stop_app"]),
            270 => rabbitmqctl(&["start_app"]),
            _ => {}
        }
    }

    // Garbage on the consumer's binding is dead-lettered, not applied, not fatal.
    publish_garbage(
        &bus_url,
        &format!("v1.{}.picture.ward.w0", organization.replace('.', "_")),
    )
    .await;

    // Then it settles: the consumer's replica equals the core's picture.
    let http = reqwest::Client::new();
    // Then it settles: the consumer's replica equals the core's picture and every
    // picture event after its first snapshot has reached it (relays may still be in
    // their reconnect backoff after the broker restart).
    let mut pg = PgConnection::connect(&db.url()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let (mut expected, mut held) = (Vec::new(), Vec::new());
    let (mut status, mut published, mut missing) = (Value::Null, Vec::new(), vec![-1]);
    while Instant::now() < deadline {
        let picture = get_json(
            &http,
            &format!("{core_root}/picture?kind=ward"),
            &organization,
        )
        .await;
        let wards = get_json(
            &http,
            &format!("http://127.0.0.1:{consumer_port}/wards"),
            &organization,
        )
        .await;
        status = get_json(
            &http,
            &format!("http://127.0.0.1:{consumer_port}/status"),
            &organization,
        )
        .await
        .unwrap_or(Value::Null);
        if let (Some(picture), Some(wards)) = (picture, wards) {
            expected = wards_of_core(&picture);
            held = wards_of_consumer(&wards);
            let first = status["replica"]["firstSnapshotSequence"]
                .as_i64()
                .unwrap_or(i64::MAX);
            let received: std::collections::HashSet<i64> = status["received"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_i64)
                .collect();
            published = sqlx::query_scalar(
                "SELECT sequence FROM outbox WHERE tenant = $1 AND kind = 'picture' AND rtype = 'ward' \
                 AND sequence > $2 ORDER BY sequence",
            )
            .bind(&organization)
            .bind(first)
            .fetch_all(&mut pg)
            .await
            .unwrap();
            missing = published
                .iter()
                .copied()
                .filter(|s| !received.contains(s))
                .collect();
            if expected == held && expected.len() == WARDS && missing.is_empty() {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    if expected != held || expected.len() != WARDS || !missing.is_empty() {
        eprintln!("files in {} are kept for inspection", dir.display());
        for p in [&core, &second, &consumer] {
            eprintln!("--- {} ---\n{}", p.name, p.tail());
        }
        panic!(
            "the replica differs from the picture or missed events:\ncore:    {expected:?}\nreplica: {held:?}\nnever delivered: {missing:?}\nstatus: {status}"
        );
    }

    // None was applied twice; garbage was dead-lettered.
    let replica = &status["replica"];
    assert_eq!(replica["appliedTwice"], 0, "{status}");
    assert_eq!(status["bus"]["undecodable"], 3, "{status}");
    assert!(
        published.len() > 100,
        "a busy workload: {} picture events",
        published.len()
    );
    eprintln!(
        "{} picture events after the first snapshot; replica {}",
        published.len(),
        json!({"applied": replica["applied"], "duplicates": replica["duplicates"],
               "gaps": replica["gaps"], "snapshots": replica["snapshots"]})
    );
    drop(pg);

    drop((core, second, consumer));
    delete_queue(&bus_url, &queue).await;
    db.drop_it().await;
    let _ = std::fs::remove_dir_all(&dir);
}

async fn publish_garbage(url: &str, routing_key: &str) {
    use ohjaamo_bus::lapin::BasicProperties;
    use ohjaamo_bus::lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
    let connection = ohjaamo_bus::connect(url, "e2e garbage", Duration::from_secs(10))
        .await
        .expect("RabbitMQ after its restart");
    let channel = connection.create_channel().await.unwrap();
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .unwrap();
    for garbage in [&b"\xff\xff\xff"[..], b"not protobuf", b"\x0a\x05ab"] {
        channel
            .basic_publish(
                ohjaamo_bus::EXCHANGE.into(),
                routing_key.into(),
                BasicPublishOptions::default(),
                garbage,
                BasicProperties::default(),
            )
            .await
            .unwrap()
            .await
            .unwrap();
    }
    let _ = connection.close(200, "done".into()).await;
}
