//! A day of mixed traffic: the same stays' messages sent twice through the adapter
//! to a real core — once in order, once late, repeated and out of order (a
//! deterministic shuffle that delays messages behind later ones and sends some
//! again) — and the two end states are the same stays, equal to the truth written
//! out for one of them, with no data-quality mark: nothing in this traffic
//! contradicts itself, it only arrives badly.

mod common;

use std::time::Duration;

use common::feed::{Sender, adapter};
use common::shapes::{Adt, Patient, Shape};
use common::*;
use jiff::{SignedDuration, Timestamp};
use ohjaamo_adapter_adt::ledger::QUALITY_URL;
use serde_json::{Value, json};

const STAYS: usize = 6;
/// The shuffles tried: each a different bad day.
const SEEDS: [u64; 3] = [20, 7, 1234];

fn mins(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
}

fn bed(n: usize) -> String {
    format!("K2-1-{}", n % 4 + 1)
}

/// The messages of stay `k` (visit `<prefix>-k`), in event order: admission,
/// transfer, a pending transfer and its cancel, another transfer (cancelled for
/// odd stays), a pending discharge, a discharge (cancelled and done again for even
/// stays).
fn stay_messages(prefix: &str, k: usize, t0: Timestamp) -> Vec<Adt> {
    let shapes = [Shape::Lifecare23, Shape::Epic251, Shape::Esko28];
    let shape = shapes[k % 3];
    let visit = format!("{prefix}-{k}");
    let at = |m: i64| t0 + mins(m);
    let mut n = 0;
    let mut msg = |trigger: &str, m: i64, bed_now: String, prior: Option<String>| {
        n += 1;
        let patient = Patient {
            visit: Some(visit.clone()),
            id: "010190-900P".into(),
            class: "I".into(),
            bed: Some(bed_now),
            prior,
            ..Patient::default()
        };
        Adt::new(shape, trigger, &format!("{visit}-{n}"), at(m), patient)
    };
    let (b0, b1, b2, b3) = (bed(k), bed(k + 1), bed(k + 2), bed(k + 3));
    let mut out = vec![
        msg("A01", 0, b0.clone(), None),
        msg("A02", 60, b1.clone(), Some(b0.clone())),
    ];
    let mut pending = msg("A15", 90, b1.clone(), None);
    pending.patients[0].pending = Some(b3.clone());
    out.push(pending.clone());
    let mut cancel = msg("A25", 96, b1.clone(), None);
    cancel.patients[0].pending = Some(b3);
    out.push(cancel);
    out.push(msg("A02", 120, b2.clone(), Some(b1.clone())));
    let mut last = b2.clone();
    if k % 2 == 1 {
        out.push(msg("A12", 125, b1.clone(), Some(b2)));
        last = b1;
    }
    let mut leaving = msg("A16", 180, last.clone(), None);
    leaving.patients[0].expected_discharge = Some(at(240));
    out.push(leaving);
    out.push(msg("A03", 240, last.clone(), None));
    if k.is_multiple_of(2) {
        out.push(msg("A13", 245, last.clone(), None));
        out.push(msg("A03", 300, last, None));
    }
    out
}

/// A small deterministic generator (no dependency, the same traffic every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % below as u64) as usize
    }
}

/// `messages` delivered badly: each is delayed behind up to twelve later ones, and
/// one in five is sent again later.
fn badly(messages: Vec<Adt>, seed: u64) -> Vec<Adt> {
    let mut random = Lcg(seed);
    let mut keyed: Vec<(usize, usize, Adt)> = Vec::new();
    for (i, m) in messages.into_iter().enumerate() {
        let delay = random.next(13);
        if random.next(5) == 0 {
            keyed.push((i + delay + 1 + random.next(6), i, m.clone()));
        }
        keyed.push((i + delay, i, m));
    }
    keyed.sort_by_key(|(at, i, _)| (*at, *i));
    keyed.into_iter().map(|(_, _, m)| m).collect()
}

/// What of a stay the traffic decides: status, period, class, planned discharge and
/// the history of places, instants compared as instants.
fn essence(stay: &Value) -> Value {
    let instant = |v: &Value| {
        v.as_str()
            .map(|s| s.parse::<Timestamp>().unwrap().to_string())
    };
    json!({
        "status": stay["status"],
        "class": stay["class"]["code"],
        "start": instant(&stay["period"]["start"]),
        "end": instant(&stay["period"]["end"]),
        "planned": stay["extension"].as_array().into_iter().flatten()
            .find(|e| e["url"].as_str().is_some_and(|u| u.ends_with("plannedEndDate")))
            .map(|e| instant(&e["valueDateTime"])),
        "places": stay["location"].as_array().into_iter().flatten().map(|l| json!([
            l["location"]["identifier"]["value"], l["status"],
            instant(&l["period"]["start"]), instant(&l["period"]["end"]),
        ])).collect::<Vec<_>>(),
    })
}

async fn deliver(sender: &mut Sender, messages: &[Adt]) {
    for m in messages {
        sender.send(&m.bytes()).await;
        let ack = sender.ack_text(Duration::from_secs(10)).await.unwrap();
        assert!(
            ack.contains(&format!("MSA|AA|{}", m.control)),
            "{} {}: {ack}",
            m.trigger,
            m.control
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_repeated_and_out_of_order_traffic_ends_as_the_truth() {
    let core = Core::start().await;
    seed_ward(&core).await;
    let adapter = adapter(core.addr).await;
    let mut sender = Sender::connect(adapter.addr).await;
    let t0 = Timestamp::from_second(Timestamp::now().as_second()).unwrap() - mins(24 * 60);

    let in_order: Vec<Adt> = (0..STAYS)
        .flat_map(|k| stay_messages("T", k, t0 + mins(k as i64 * 7)))
        .collect();
    deliver(&mut sender, &in_order).await;
    for seed in SEEDS {
        let prefix = format!("S{seed}");
        let mut interleaved: Vec<Adt> = (0..STAYS)
            .flat_map(|k| stay_messages(&prefix, k, t0 + mins(k as i64 * 7)))
            .collect();
        interleaved.sort_by_key(|m| m.at);
        let bad = badly(interleaved, seed);
        assert!(bad.len() > in_order.len(), "some are repeated");
        let late = (0..bad.len())
            .filter(|&i| {
                bad[..i].iter().any(|before| {
                    before.at > bad[i].at && before.patients[0].visit == bad[i].patients[0].visit
                })
            })
            .count();
        assert!(
            late >= 5,
            "the traffic has late messages within stays: {late}"
        );
        deliver(&mut sender, &bad).await;
        for k in 0..STAYS {
            let truth = stay(&core, &format!("T-{k}")).await.unwrap();
            let got = stay(&core, &format!("{prefix}-{k}")).await.unwrap();
            assert_eq!(
                essence(&got),
                essence(&truth),
                "seed {seed}, stay {k}: {got}"
            );
            for s in [&truth, &got] {
                assert!(!s.to_string().contains(QUALITY_URL), "no marks: {s}");
            }
        }
    }
    // The truth, written out for stay 1 (its second transfer cancelled, discharged
    // once): two places, back in the first transfer's bed until the discharge.
    let one = essence(&stay(&core, "S20-1").await.unwrap());
    let t = |m: i64| (t0 + mins(7 + m)).to_string();
    assert_eq!(one["status"], "finished");
    assert_eq!(one["end"], t(240));
    assert_eq!(
        one["places"],
        json!([
            ["K2-1-2", "completed", t(0), t(60)],
            ["K2-1-3", "completed", t(60), t(240)],
        ])
    );
    // Stay 0: discharged, the discharge cancelled, discharged again later.
    let zero = essence(&stay(&core, "S20-0").await.unwrap());
    assert_eq!(zero["end"], (t0 + mins(300)).to_string());
    assert_eq!(zero["places"].as_array().unwrap().len(), 3);
    assert_eq!(zero["planned"], (t0 + mins(240)).to_string());
    // Every stay is over: no bed is left occupied or reserved.
    assert_eq!(bed_states(&core).await, ["free", "free", "free", "free"]);
}
