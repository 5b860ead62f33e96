//! The mapping against the real core: each Encounter the mapping produces is written
//! with a conditional update, read back as the core stores it (conditional references
//! resolved to Location ids), and the next event is applied to that stored version —
//! exactly the adapter's read-modify-write.

mod common;

use common::*;
use jiff::tz::TimeZone;
use ohjaamo_adapter_adt::{AdtEvent, SourceIds, apply};
use ohjaamo_hl7::Message;
use reqwest::StatusCode;

fn adt(trigger: &str, at: &str, pv1_3: &str, pv1_6: &str) -> AdtEvent {
    let text = format!(
        "MSH|^~\\&|LIFECARE|OYS|OHJAAMO|PPSHP|{at}||ADT^{trigger}|M-{trigger}-{at}|P|2.3\r\
         EVN|{trigger}|{at}\r\
         PID|1||010190-900P^^^^NNFIN||Meikäläinen^Matti\r\
         PV1|1|I|{pv1_3}|||{pv1_6}|||||||||||||V-7||||||||||||||||||||||||||\r\
         PV2|||||||||20260320\r"
    );
    let zone = TimeZone::get("Europe/Helsinki").unwrap();
    AdtEvent::read(&Message::parse(text.as_bytes()).unwrap(), &zone).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_event_is_applied_to_what_the_core_stored() {
    let core = Core::start().await;
    for l in [
        location("k2", "K2", "wa", None),
        location("k2-1", "K2-1-1", "bd", Some("k2")),
        location("k2-2", "K2-1-2", "bd", Some("k2")),
    ] {
        let (status, body) = core
            .put(&format!("Location/{}", l["id"].as_str().unwrap()), &l)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let ids = SourceIds { root: ROOT.into() };
    let visit_url = format!("Encounter?identifier=urn:oid:{ROOT}.8|V-7");
    let events = [
        adt("A01", "202603150800", "K2^1^K2-1-1^OYS", ""),
        adt("A02", "202603161000", "K2^1^K2-1-2^OYS", "K2^1^K2-1-1^OYS"),
        adt("A12", "202603161005", "K2^1^K2-1-1^OYS", "K2^1^K2-1-2^OYS"),
        adt("A03", "202603181200", "K2^1^K2-1-1^OYS", ""),
    ];
    for event in &events {
        let current = stay(&core, "V-7").await;
        let next = apply(current.as_ref(), event, &ids).unwrap();
        let (status, body) = core.put(&visit_url, &next).await;
        assert!(status.is_success(), "{:?}: {status} {body}", event.trigger);
        // Replaying the event on what is now stored is a no-op: same version.
        let stored = stay(&core, "V-7").await.unwrap();
        let again = apply(Some(&stored), event, &ids).unwrap();
        let (status, body) = core.put(&visit_url, &again).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            body["meta"]["versionId"], stored["meta"]["versionId"],
            "{:?} replayed",
            event.trigger
        );
    }
    let stay = stay(&core, "V-7").await.unwrap();
    assert_eq!(stay["status"], "finished");
    let locations = stay["location"].as_array().unwrap();
    assert_eq!(locations.len(), 1, "the cancelled transfer is gone: {stay}");
    assert_eq!(locations[0]["location"]["reference"], "Location/k2-1");
    assert_eq!(locations[0]["status"], "completed");
    assert_eq!(locations[0]["period"]["end"], "2026-03-18T12:00:00+02:00");
    assert!(
        !stay.to_string().contains("010190"),
        "no identity code stored"
    );
}

/// An event of visit V-9 in bed K2-1-1 (then K2-1-2 for the transfer), with `pd1`
/// as its PD1 segment (empty: none).
fn protected_event(trigger: &str, at: &str, pv1_3: &str, pd1: &str) -> AdtEvent {
    let text = format!(
        "MSH|^~\\&|LIFECARE|OYS|OHJAAMO|PPSHP|{at}||ADT^{trigger}|M-{trigger}-{at}|P|2.3\r\
         EVN|{trigger}|{at}\r\
         PID|1||010190-900P^^^^NNFIN||Meikäläinen^Matti\r\
         {pd1}\
         PV1|1|I|{pv1_3}||||||||||||||||V-9\r"
    );
    let zone = TimeZone::get("Europe/Helsinki").unwrap();
    AdtEvent::read(&Message::parse(text.as_bytes()).unwrap(), &zone).unwrap()
}

/// The `meta.security` codes of the stored stay.
fn security_codes(stay: &serde_json::Value) -> Vec<String> {
    stay["meta"]["security"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["code"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_protection_order_stays_until_a_message_lifts_it() {
    let core = Core::start().await;
    seed_beds(&core).await;
    let ids = SourceIds::new(ROOT);
    let visit_url = format!("Encounter?identifier=urn:oid:{ROOT}.8|V-9");
    let steps = [
        // Admitted with a protection order.
        (
            protected_event(
                "A01",
                "202603150800",
                "K2^1^K2-1-1^OYS",
                "PD1||||||||||||Y\r",
            ),
            vec!["R"],
        ),
        // A transfer without PD1 says nothing about it: the order stays.
        (
            protected_event("A02", "202603160800", "K2^1^K2-1-2^OYS", ""),
            vec!["R"],
        ),
        // An update with an empty PD1-12 says nothing either.
        (
            protected_event("A08", "202603160900", "K2^1^K2-1-2^OYS", "PD1|||||||||||\r"),
            vec!["R"],
        ),
        // An update with PD1-12 = N lifts it: normal in its place.
        (
            protected_event(
                "A08",
                "202603161000",
                "K2^1^K2-1-2^OYS",
                "PD1||||||||||||N\r",
            ),
            vec!["N"],
        ),
        // And a later transfer without PD1 does not bring it back.
        (
            protected_event("A02", "202603161100", "K2^1^K2-1-1^OYS", ""),
            vec!["N"],
        ),
    ];
    for (event, expected) in steps {
        let current = stay(&core, "V-9").await;
        let next = apply(current.as_ref(), &event, &ids).unwrap();
        let (status, body) = core.put(&visit_url, &next).await;
        assert!(status.is_success(), "{:?}: {status} {body}", event.trigger);
        let stored = stay(&core, "V-9").await.unwrap();
        assert_eq!(
            security_codes(&stored),
            expected,
            "after {:?} at {}: {stored}",
            event.trigger,
            event.occurred
        );
    }
}
