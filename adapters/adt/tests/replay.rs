//! Replaying the quarantine against the real core: what succeeds now leaves it, what
//! still fails stays with the new reason, what was never kept whole is not replayed,
//! and two replays never run at once.

mod common;

use std::time::Duration;

use common::feed::{Sender, adapter, adt_adapter, edit, hl7, quarantine_file, remove_quarantine};
use common::*;
use ohjaamo_adapter_adt::minimise::{Kept, for_quarantine};
use ohjaamo_adapter_adt::replay::{self, ReplayArgs};
use ohjaamo_adapter_adt::{Quarantine, Reading};
use ohjaamo_adapter_kit::quarantine::Payload;
use serde_json::Value;
use tokio::sync::watch;

fn one(id: &str) -> ReplayArgs {
    ReplayArgs {
        id: Some(id.to_owned()),
        all: false,
    }
}

fn all() -> ReplayArgs {
    ReplayArgs {
        id: None,
        all: true,
    }
}

async fn entries(path: &std::path::Path) -> Vec<Value> {
    Quarantine::new(path.to_path_buf(), "adt")
        .list()
        .await
        .unwrap()
}

/// An admission of a sender that leaves PV1-19 empty and sends the account number
/// in PID-18 (`account`; none when empty).
fn admission_by_account(control: &str, account: &str) -> Vec<u8> {
    let message = edit(hl7("A01", control, "K2-1-1"), &format!("V-{control}"), "");
    edit(
        message,
        "PID|1||010190-900P^^^^NNFIN||Meikäläinen^Matti",
        &format!("PID|1||010190-900P^^^^NNFIN||Meikäläinen^Matti|||||||||||||{account}"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_settles_what_now_succeeds_and_keeps_what_still_fails() {
    let core = Core::start().await;
    seed_beds(&core).await;
    let live = adapter(core.addr).await;
    let mut sender = Sender::connect(live.addr).await;
    let wait = Duration::from_secs(10);

    // Keyed by PV1-19 alone, the source's admissions without it are AE and kept:
    // one with an account number in PID-18, one with nothing at all.
    sender.send(&admission_by_account("1", "T-1")).await;
    assert_eq!(sender.ack(wait).await.as_deref(), Some("AE"));
    sender.send(&admission_by_account("2", "")).await;
    assert_eq!(sender.ack(wait).await.as_deref(), Some("AE"));
    // Bytes that are not HL7: AR.
    sender.send(b"PID|1||010190-900P").await;
    assert_eq!(sender.ack(wait).await.as_deref(), Some("AR"));
    let kept = entries(&live.quarantine).await;
    assert_eq!(kept.len(), 3, "{kept:?}");
    assert!(kept[0]["reason"].as_str().unwrap().contains("no visit key"));
    let ids: Vec<String> = kept
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kept[2]["diagnostic"].as_str().map(|d| d.contains("PID")),
        Some(false)
    );

    // The source is configured to fall back to PID-18; replaying the first by its id
    // now stores the stay, by its account number, and the entry goes.
    let (_stop, stopped) = watch::channel(false);
    let replayer = adt_adapter(core.addr, live.quarantine.clone())
        .with_reading(Reading::new("pv1-19,pid-18".parse().unwrap(), None).unwrap());
    replay::run(&replayer, one(&ids[0]), stopped.clone())
        .await
        .expect("the admission applies now");
    let stay = stay(&core, "account:T-1").await.unwrap();
    let places = stay["location"].as_array().unwrap();
    assert_eq!(places.len(), 1, "{stay}");
    assert_eq!(places[0]["status"], "active");
    assert_eq!(places[0]["location"]["reference"], "Location/k2-1");
    assert!(!stay.to_string().contains("010190"), "{stay}");
    let kept = entries(&live.quarantine).await;
    assert_eq!(kept.len(), 2);
    assert!(kept.iter().all(|e| e["id"] != ids[0].as_str()));

    // All: the one without any key fails again and stays with the new reason; the
    // diagnostic cannot be replayed; the command says so.
    let outcome = replay::run(&replayer, all(), stopped).await;
    assert!(outcome.is_err(), "entries stay, and the command fails");
    let kept = entries(&live.quarantine).await;
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert_eq!(kept[0]["id"], ids[1].as_str());
    assert_eq!(kept[0]["replay_attempts"], 1);
    assert!(
        kept[0]["reason"]
            .as_str()
            .unwrap()
            .contains("PV1-19 (visit number), else PID-18"),
        "{}",
        kept[0]
    );
    assert_eq!(kept[1]["id"], ids[2].as_str());
    assert!(kept[1].get("replay_attempts").is_none(), "not replayed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_minimised_admission_replays_to_the_same_restricted_stay() {
    let core = Core::start().await;
    seed_beds(&core).await;
    let file = quarantine_file();
    // What the listener would have kept of an admission with a protection order.
    let admission = edit(
        hl7("A01", "7", "K2-1-2"),
        "PV1|",
        "PD1|||||||||||Kunta|Y\rNK1|1|Meikäläinen^Maija\rPV1|",
    );
    let Kept::Message(kept) = for_quarantine(&admission) else {
        panic!("an HL7 message");
    };
    let quarantine = Quarantine::new(file.clone(), "adt");
    let id = quarantine
        .put(
            "adt",
            "7",
            "the core was refusing it",
            Payload::Bytes(&kept),
        )
        .await
        .unwrap();
    let (_stop, stopped) = watch::channel(false);
    replay::run(&adt_adapter(core.addr, file.clone()), one(&id), stopped)
        .await
        .unwrap();
    let stay = stay(&core, "V-7").await.expect("stored by visit number");
    assert_eq!(stay["status"], "in-progress");
    assert_eq!(
        stay["location"][0]["location"]["reference"],
        "Location/k2-2"
    );
    assert_eq!(stay["meta"]["security"][0]["code"], "R", "{stay}");
    let text = stay.to_string();
    assert!(
        !text.contains("010190") && !text.contains("Maija"),
        "{text}"
    );
    assert!(entries(&file).await.is_empty());
    remove_quarantine(&file);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_replay_is_refused_while_one_runs() {
    let file = quarantine_file();
    let quarantine = Quarantine::new(file.clone(), "adt");
    quarantine
        .put("adt", "1", "x", Payload::Bytes(b"MSH|^~\\&|A"))
        .await
        .unwrap();
    let running = quarantine.lock_for_replay().unwrap();
    let unserved = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (_stop, stopped) = watch::channel(false);
    let refused = replay::run(&adt_adapter(unserved, file.clone()), all(), stopped)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("another replay"), "{refused}");
    assert_eq!(entries(&file).await.len(), 1, "nothing touched");
    drop(running);
    remove_quarantine(&file);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_id_is_an_error() {
    let file = quarantine_file();
    let unserved = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (_stop, stopped) = watch::channel(false);
    let error = replay::run(&adt_adapter(unserved, file.clone()), one("nope"), stopped)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("no entry nope"), "{error}");
    remove_quarantine(&file);
}
