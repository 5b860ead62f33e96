//! What one sender may hold of the adapter, over real TCP connections: a capped number
//! of connections, no silent connection kept open, no message larger than the limit
//! buffered or kept.

mod common;

use std::time::Duration;

use common::feed::{Sender, adapter_with, edit, hl7};
use ohjaamo_adapter_adt::{Limits, Quarantine};

/// A core address nobody serves: these tests need answers the adapter gives alone.
fn no_core() -> std::net::SocketAddr {
    let reserved = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    reserved.local_addr().unwrap()
}

fn limits() -> Limits {
    Limits {
        max_connections: 2,
        idle_timeout: Duration::from_secs(30),
        max_message_bytes: 4_096,
    }
}

/// Not HL7 at all: the adapter answers AR without asking the core.
const NOT_HL7: &[u8] = b"this is not HL7";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_past_the_cap_is_closed_at_once() {
    let adapter = adapter_with(no_core(), limits()).await;
    let mut first = Sender::connect(adapter.addr).await;
    let mut second = Sender::connect(adapter.addr).await;
    for sender in [&mut first, &mut second] {
        sender.send(NOT_HL7).await;
        assert_eq!(
            sender.ack(Duration::from_secs(5)).await.as_deref(),
            Some("AR")
        );
    }
    let mut third = Sender::connect(adapter.addr).await;
    assert!(
        third.closed_within(Duration::from_secs(5)).await,
        "the third connection is closed"
    );
    // The two served go on; when one goes away, a new one is served.
    first.send(NOT_HL7).await;
    assert_eq!(
        first.ack(Duration::from_secs(5)).await.as_deref(),
        Some("AR")
    );
    drop(second);
    let mut fourth = None;
    for _ in 0..50 {
        // The slot is free once the adapter has seen the close.
        let mut sender = Sender::connect(adapter.addr).await;
        sender.send(NOT_HL7).await;
        if sender.ack(Duration::from_millis(500)).await.as_deref() == Some("AR") {
            fourth = Some(sender);
            break;
        }
    }
    assert!(
        fourth.is_some(),
        "a connection is served again below the cap"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_connection_is_closed_and_a_talking_one_is_not() {
    let idle = Duration::from_millis(400);
    let adapter = adapter_with(
        no_core(),
        Limits {
            idle_timeout: idle,
            ..limits()
        },
    )
    .await;
    let mut silent = Sender::connect(adapter.addr).await;
    let mut talking = Sender::connect(adapter.addr).await;
    let started = std::time::Instant::now();
    for _ in 0..4 {
        tokio::time::sleep(idle / 2).await;
        talking.send(NOT_HL7).await;
        assert_eq!(
            talking.ack(Duration::from_secs(5)).await.as_deref(),
            Some("AR")
        );
    }
    assert!(
        started.elapsed() > idle * 2,
        "the talking one outlived the timeout"
    );
    assert!(silent.closed_within(Duration::from_secs(5)).await);
    assert!(started.elapsed() >= idle);
    talking.send(NOT_HL7).await;
    assert_eq!(
        talking.ack(Duration::from_secs(5)).await.as_deref(),
        Some("AR")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_past_the_size_limit_is_refused_and_only_its_start_kept() {
    let adapter = adapter_with(no_core(), limits()).await;
    let mut sender = Sender::connect(adapter.addr).await;
    // A message of 400 kB: MSH, PID, then a very long segment.
    let mut large = hl7("A01", "LARGE1", "K2-1-1");
    large.extend(b"ZXX|");
    large.resize(400_000, b'x');
    large.push(b'\r');
    sender.send(&large).await;
    let (code, answers) = sender
        .ack_segments(Duration::from_secs(5))
        .await
        .expect("an ACK");
    assert_eq!((code.as_str(), answers.as_str()), ("AR", "LARGE1"));
    // The connection goes on.
    sender.send(NOT_HL7).await;
    assert_eq!(
        sender.ack(Duration::from_secs(5)).await.as_deref(),
        Some("AR")
    );

    let kept = Quarantine::new(adapter.quarantine.clone(), "adt")
        .list()
        .await
        .unwrap();
    assert_eq!(kept.len(), 2, "{kept:?}");
    let entry = &kept[0];
    assert_eq!(entry["key"], "LARGE1");
    assert!(
        entry["reason"]
            .as_str()
            .unwrap()
            .contains("message of 400001 bytes"),
        "{entry}"
    );
    assert!(
        entry.get("message_hex").is_none(),
        "not replayable: {entry}"
    );
    let prefix = hex::decode(entry["message_prefix_hex"].as_str().unwrap()).unwrap();
    let text = String::from_utf8_lossy(&prefix);
    assert!(text.starts_with("MSH|^~\\&|LIFECARE"), "{text}");
    // PID stays only as an empty segment (its PID-18 would be kept: none here).
    assert!(
        !text.contains("PID|") && !text.contains("010190") && !text.contains("Meik"),
        "{text}"
    );
    assert!(prefix.len() <= ohjaamo_hl7::mllp::KEPT_PREFIX, "bounded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_at_the_limit_is_read() {
    let adapter = adapter_with(no_core(), limits()).await;
    let mut sender = Sender::connect(adapter.addr).await;
    // Exactly the limit, and unmappable (no visit key) so that no core is needed.
    let mut message = edit(hl7("A01", "EXACT", "K2-1-1"), "V-EXACT", "");
    message.extend(b"ZXX|");
    message.resize(limits().max_message_bytes - 1, b'x');
    message.push(b'\r');
    sender.send(&message).await;
    let (code, answers) = sender.ack_segments(Duration::from_secs(5)).await.unwrap();
    assert_eq!((code.as_str(), answers.as_str()), ("AE", "EXACT"));
    let kept = Quarantine::new(adapter.quarantine.clone(), "adt")
        .list()
        .await
        .unwrap();
    assert!(
        kept[0]["reason"].as_str().unwrap().contains("no visit key"),
        "{}",
        kept[0]
    );
    assert!(
        kept[0].get("message_hex").is_some(),
        "kept whole, minimised"
    );
}
