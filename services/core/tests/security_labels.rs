//! Security labels: an update without `meta.security` keeps the stored labels (a
//! protection order is not lifted by a message that does not mention it), one with
//! labels replaces them, and what goes on the bus of a restricted stay is its bed state
//! only.

#[macro_use]
mod common;

use common::*;
use ohjaamo_store::labels::CONFIDENTIALITY;
use serde_json::{Value, json};

fn stay(status: &str, labels: Option<&str>) -> Value {
    let mut e = json!({
        "resourceType": "Encounter",
        "id": "stay",
        "identifier": [{"system": "urn:oid:1.2.246.10.99.1", "value": "VISIT-4711"}],
        "status": status,
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
        "subject": {"display": "Virtanen Matti"},
        "location": [{"location": {"reference": "Location/bed-1"}, "status": "active",
                      "period": {"start": "2026-12-01T08:00:00Z"}}],
    });
    if let Some(code) = labels {
        e["meta"] = json!({"security": [{"system": CONFIDENTIALITY, "code": code}]});
    }
    e
}

async fn seed(h: &Harness) {
    h.seed(&[
        location("ward", "Osasto 1", "wa", None),
        location("bed-1", "Vuode 1", "bd", Some("ward")),
    ])
    .await;
}

fn labels(resource: &Value) -> Vec<String> {
    resource["meta"]["security"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["code"].as_str().map(str::to_owned))
        .collect()
}

both_backends!(labels_outlive_an_update_that_does_not_name_them);
async fn labels_outlive_an_update_that_does_not_name_them(h: &Harness) {
    seed(h).await;
    h.put_resource(&stay("in-progress", Some("R"))).await;
    // A transfer that says nothing of the protection order.
    let v2 = h.put_resource(&stay("in-progress", None)).await;
    let read = h.read("Encounter/stay").await;
    assert_eq!(labels(&read), ["R"], "{read}");
    // The same again changes nothing: no new version for the labels carried over.
    assert_eq!(h.put_resource(&stay("in-progress", None)).await, v2);
    // A discharge without labels keeps them too.
    h.put_resource(&stay("finished", None)).await;
    assert_eq!(labels(&h.read("Encounter/stay").await), ["R"]);
    // Labels named replace them: the order lifted.
    h.put_resource(&stay("finished", Some("N"))).await;
    assert_eq!(labels(&h.read("Encounter/stay").await), ["N"]);

    // Within one transaction, a later entry without labels keeps what an earlier
    // entry of the same request set.
    let bundle = transaction(vec![
        put_entry(&stay("in-progress", Some("R"))),
        put_entry(&stay("finished", None)),
    ]);
    let r = h.post("", &bundle).await;
    assert!(r.status.is_success(), "{}", r.body);
    let read = h.read("Encounter/stay").await;
    assert_eq!(
        (read["status"].as_str(), labels(&read)),
        (Some("finished"), vec!["R".to_owned()])
    );
}

both_backends!(the_bus_carries_a_restricted_stay_as_its_bed_state_only);
async fn the_bus_carries_a_restricted_stay_as_its_bed_state_only(h: &Harness) {
    seed(h).await;
    h.put_resource(&stay("in-progress", Some("R"))).await;
    h.put_resource(&stay("finished", None)).await; // restricted still
    let epoch = h.store().log_epoch().await.unwrap();
    let events = h
        .store()
        .events_after("default", 0, 1000, ohjaamo_store::EventFilter::All)
        .await
        .unwrap();
    let mut stays = 0;
    for event in &events {
        let envelope = ohjaamo_core::log::relay::envelope("default", &epoch, event);
        let Some(ohjaamo_proto::v1::event::Payload::ResourceChange(change)) = envelope.payload
        else {
            continue;
        };
        if change.resource_type != "Encounter" {
            continue;
        }
        stays += 1;
        for secret in ["VISIT-4711", "Virtanen"] {
            assert!(
                !change.resource_json.contains(secret),
                "{}",
                change.resource_json
            );
        }
        let sent: Value = serde_json::from_str(&change.resource_json).unwrap();
        assert_eq!(
            sent["location"][0]["location"]["reference"],
            "Location/bed-1"
        );
        assert_eq!(labels(&sent), ["R"]);
    }
    assert_eq!(stays, 2);
    // The API, for those allowed to read it, still has the whole stay.
    assert_eq!(
        h.read("Encounter/stay").await["identifier"][0]["value"],
        "VISIT-4711"
    );
}
