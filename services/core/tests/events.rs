//! The event log (outbox): one event per new version, written in the write's own
//! transaction under a gap-free sequence; pictures announced with the sequence of the
//! unit's previous picture.

#[macro_use]
mod common;

use common::*;
use ohjaamo_store::{EventBody, EventFilter, Operation, StoredEvent};
use reqwest::StatusCode;
use serde_json::json;

async fn log(h: &Harness) -> Vec<StoredEvent> {
    h.store()
        .events_after("default", 0, 100_000, EventFilter::All)
        .await
        .expect("the event log")
}

/// The events of what the test wrote (not the capacity reports the deriver writes).
fn resource_events(events: &[StoredEvent]) -> Vec<(String, i64, Operation)> {
    events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Resource {
                rtype,
                id,
                version,
                operation,
                ..
            } if rtype != "MeasureReport" => Some((id.clone(), *version, *operation)),
            EventBody::Resource { .. } => None,
            EventBody::Picture { .. } => None,
        })
        .collect()
}

fn assert_gap_free(events: &[StoredEvent]) {
    for (n, e) in events.iter().enumerate() {
        assert_eq!(e.sequence, n as i64 + 1, "sequence {n} of {events:?}");
    }
}

both_backends!(every_version_is_one_event_in_order);
async fn every_version_is_one_event_in_order(h: &Harness) {
    let ward = location("w1", "Osasto 1", "wa", None);
    h.put_resource(&ward).await;
    let mut renamed = ward.clone();
    renamed["name"] = json!("Osasto 1A");
    h.put_resource(&renamed).await;
    h.put_resource(&renamed).await; // unchanged: no version, no event
    assert_eq!(h.delete("Location/w1").await.status, StatusCode::NO_CONTENT);

    let events = log(h).await;
    assert_gap_free(&events);
    assert_eq!(
        resource_events(&events),
        vec![
            ("w1".into(), 1, Operation::Create),
            ("w1".into(), 2, Operation::Update),
            ("w1".into(), 3, Operation::Delete),
        ]
    );
    let EventBody::Resource { json, .. } = &events
        .iter()
        .find(|e| matches!(&e.body, EventBody::Resource { rtype, version: 2, .. } if rtype == "Location"))
        .unwrap()
        .body
    else {
        panic!("not a resource event")
    };
    let json: serde_json::Value = serde_json::from_str(json.as_deref().unwrap()).unwrap();
    assert_eq!(json["name"], "Osasto 1A");
    assert_eq!(json["meta"]["versionId"], "2");
}

both_backends!(a_rolled_back_transaction_leaves_no_event_and_no_gap);
async fn a_rolled_back_transaction_leaves_no_event_and_no_gap(h: &Harness) {
    h.put_resource(&location("w1", "Osasto 1", "wa", None))
        .await;
    // The second entry refers to a Location that does not exist: all is rolled back.
    let refused = h
        .post(
            "",
            &transaction(vec![
                put_entry(&location("w2", "Osasto 2", "wa", None)),
                put_entry(&location("b1", "Vuode 1", "bd", Some("nowhere"))),
            ]),
        )
        .await;
    assert!(refused.status.is_client_error(), "{}", refused.text);
    h.put_resource(&location("w3", "Osasto 3", "wa", None))
        .await;
    let events = log(h).await;
    assert_gap_free(&events);
    let ids: Vec<String> = resource_events(&events).into_iter().map(|e| e.0).collect();
    assert_eq!(ids, ["w1", "w3"]);
}

both_backends!(concurrent_writers_share_one_gap_free_sequence);
async fn concurrent_writers_share_one_gap_free_sequence(h: &Harness) {
    h.put_resource(&location("w1", "Osasto 1", "wa", None))
        .await;
    let writers = (0..6).map(|w| async move {
        for n in 0..15 {
            let id = format!("b{w}-{n}");
            h.put_resource(&location(&id, &id, "bd", Some("w1"))).await;
        }
    });
    futures_util::future::join_all(writers).await;
    h.wait_for_pictures().await;
    let events = log(h).await;
    assert_gap_free(&events);
    assert_eq!(resource_events(&events).len(), 1 + 6 * 15);
}

both_backends!(a_picture_event_names_the_unit_s_previous_one);
async fn a_picture_event_names_the_unit_s_previous_one(h: &Harness) {
    h.seed(&[
        location("w1", "Osasto 1", "wa", None),
        location("b1", "Vuode 1", "bd", Some("w1")),
    ])
    .await;
    h.wait_for_pictures().await;
    h.put_resource(&location("b2", "Vuode 2", "bd", Some("w1")))
        .await;
    h.wait_for_pictures().await;
    let pictures: Vec<(i64, i64, serde_json::Value)> = log(h)
        .await
        .into_iter()
        .filter_map(|e| match e.body {
            EventBody::Picture { previous, body, .. } => {
                Some((e.sequence, previous, serde_json::from_str(&body).unwrap()))
            }
            EventBody::Resource { .. } => None,
        })
        .collect();
    assert_eq!(pictures.len(), 2, "{pictures:?}");
    assert_eq!(pictures[0].1, 0);
    assert_eq!(pictures[1].1, pictures[0].0);
    assert_eq!(pictures[0].2["figures"]["bedsTotal"], 1);
    assert_eq!(pictures[1].2["figures"]["bedsTotal"], 2);
    // The snapshot says the sequence it is as of and each unit's own.
    let root = h.url("").trim_end_matches("/fhir").to_owned();
    let snapshot = h.get_absolute(&format!("{root}/picture")).await;
    assert_eq!(snapshot.body["units"][0]["sequence"], pictures[1].0);
    assert!(snapshot.body["sequence"].as_i64().unwrap() >= pictures[1].0);
}
