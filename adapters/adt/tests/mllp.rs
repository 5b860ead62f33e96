//! The adapter as a sender sees it: MLLP frames in, ACKs out, against the real core.

mod common;

use std::time::Duration;

use common::feed::{Sender, adapter, edit, hl7};
use common::*;
use ohjaamo_adapter_adt::Quarantine;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledges_after_the_core_stored_the_stay() {
    let core = Core::start().await;
    seed_beds(&core).await;
    let adapter = adapter(core.addr).await;
    let mut sender = Sender::connect(adapter.addr).await;
    sender.send(&hl7("A01", "101", "K2-1-1")).await;
    assert_eq!(
        sender.ack(Duration::from_secs(10)).await.as_deref(),
        Some("AA")
    );
    let stored = stay(&core, "V-101").await.expect("stored before the AA");
    assert_eq!(
        stored["location"][0]["location"]["reference"],
        "Location/k2-1"
    );
    // A resend of the same message is acknowledged and changes nothing.
    sender.send(&hl7("A01", "101", "K2-1-1")).await;
    assert_eq!(
        sender.ack(Duration::from_secs(10)).await.as_deref(),
        Some("AA")
    );
    assert_eq!(
        stay(&core, "V-101").await.unwrap()["meta"]["versionId"],
        "1"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_messages_are_answered_and_quarantined_and_the_connection_goes_on() {
    let core = Core::start().await;
    seed_beds(&core).await;
    let adapter = adapter(core.addr).await;
    let mut sender = Sender::connect(adapter.addr).await;

    // Garbage before a frame, then a frame that is not HL7 at all: AR.
    sender.stream.try_write(b"\x00\xffgarbage").unwrap();
    sender.send(b"this is not HL7").await;
    assert_eq!(
        sender.ack(Duration::from_secs(5)).await.as_deref(),
        Some("AR")
    );
    // A message type this adapter does not use: AA with a note, not quarantined
    // (an interface engine goes on), counted per type.
    sender
        .send(&edit(hl7("A01", "102", "K2-1-1"), "ADT^A01", "ADT^A60"))
        .await;
    let ack = sender.ack_text(Duration::from_secs(5)).await.unwrap();
    assert!(ack.contains("MSA|AA|102|ADT\\S\\A60 not used"), "{ack}");
    // An admission, and then its discharge dated a day before it: it contradicts the
    // stay, so it is not applied, and the stay is marked — but it is acknowledged,
    // not refused (a queue stopped on an AE stops every stay).
    sender.send(&hl7("A01", "104", "K2-1-2")).await;
    assert_eq!(
        sender.ack(Duration::from_secs(10)).await.as_deref(),
        Some("AA")
    );
    let early = edit(
        edit(hl7("A03", "105", "K2-1-2"), "V-105", "V-104"),
        "202603150800",
        "202603140800",
    );
    sender.send(&early).await;
    assert_eq!(
        sender.ack(Duration::from_secs(10)).await.as_deref(),
        Some("AA")
    );
    let marked = stay(&core, "V-104").await.unwrap();
    assert_eq!(marked["status"], "in-progress", "{marked}");
    assert!(
        marked.to_string().contains("data-quality") && marked.to_string().contains("not applied"),
        "{marked}"
    );
    // A message without a visit key: AE with HL7 error 101 at PV1-19, quarantined.
    sender
        .send(&edit(hl7("A01", "106", "K2-1-1"), "V-106", ""))
        .await;
    let ack = sender.ack_text(Duration::from_secs(10)).await.unwrap();
    assert!(ack.contains("MSA|AE|106"), "{ack}");
    assert!(ack.contains("ERR|PV1^4^19^101&no visit key"), "{ack}");
    assert!(ack.contains("PV1-19 (visit number)"), "{ack}");
    // And the connection still works.
    sender.send(&hl7("A01", "107", "K2-1-1")).await;
    assert_eq!(
        sender.ack(Duration::from_secs(10)).await.as_deref(),
        Some("AA")
    );

    let quarantine = Quarantine::new(adapter.quarantine.clone(), "adt");
    let kept = quarantine.list().await.unwrap();
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(
        kept[1]["reason"].as_str().unwrap().contains("no visit key"),
        "{}",
        kept[1]
    );
    let file = std::fs::read_to_string(&adapter.quarantine).unwrap();
    assert!(
        !file.contains(&hex_of("010190-900P")),
        "identity codes are not kept"
    );
}

fn hex_of(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holds_the_ack_while_the_core_is_down() {
    // A port for the core, not yet served.
    let reserved = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let core_addr = reserved.local_addr().unwrap();
    drop(reserved);
    let adapter = adapter(core_addr).await;
    let mut sender = Sender::connect(adapter.addr).await;
    // A cancel of an admission names no place, so the empty core can take it as soon
    // as it is up (no beds to seed first).
    sender.send(&hl7("A11", "201", "K2-1-1")).await;
    assert_eq!(
        sender.ack(Duration::from_millis(800)).await,
        None,
        "no ACK while the core is down"
    );
    let listener = tokio::net::TcpListener::bind(core_addr).await.unwrap();
    let core = Core::start_on(listener).await;
    seed_beds(&core).await;
    assert_eq!(
        sender.ack(Duration::from_secs(15)).await.as_deref(),
        Some("AA")
    );
    assert!(stay(&core, "V-201").await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stay_in_a_place_the_core_does_not_know_yet_is_kept_by_identifier() {
    let core = Core::start().await;
    seed_beds(&core).await;
    let adapter = adapter(core.addr).await;
    let mut sender = Sender::connect(adapter.addr).await;
    // K9-1-1 is not in the core: the export has not brought it yet.
    sender.send(&hl7("A01", "301", "K9-1-1")).await;
    assert_eq!(
        sender.ack(Duration::from_secs(10)).await.as_deref(),
        Some("AA")
    );
    let stored = stay(&core, "V-301").await.expect("the stay is stored");
    let place = &stored["location"][0]["location"];
    assert!(place.get("reference").is_none(), "{place}");
    assert_eq!(place["identifier"]["value"], "K9-1-1");
    // The next event of the stay moves it to a known bed, and the history is whole.
    sender
        .send(&edit(hl7("A02", "302", "K2-1-2"), "V-302", "V-301"))
        .await;
    assert_eq!(
        sender.ack(Duration::from_secs(10)).await.as_deref(),
        Some("AA")
    );
    let stored = stay(&core, "V-301").await.unwrap();
    let places = stored["location"].as_array().unwrap();
    assert_eq!(places.len(), 2, "{stored}");
    assert_eq!(places[0]["status"], "completed");
    assert_eq!(places[1]["location"]["reference"], "Location/k2-2");
    assert!(
        Quarantine::new(adapter.quarantine.clone(), "adt")
            .list()
            .await
            .unwrap()
            .is_empty()
    );
}
