//! Concurrent writers of the same resource: If-Match lets exactly one win, plain
//! updates all land as consecutive versions, concurrent creates of one id or one
//! identifier make one resource. Every assertion is about outcomes, never timing.

#[macro_use]
mod common;

use std::collections::BTreeSet;

use common::*;
use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn device(id: Option<&str>, serial: usize) -> Value {
    let mut d = json!({
        "resourceType": "Device",
        "status": "active",
        "identifier": [{ "system": ID_SYSTEM, "value": "DEV-RACE" }],
        "serialNumber": format!("SN-{serial}")
    });
    if let Some(id) = id {
        d["id"] = json!(id);
    }
    d
}

/// All versions of `Device/{id}` in its history, oldest first.
async fn history_versions(h: &Harness, id: &str) -> Vec<i64> {
    let history = h.read(&format!("Device/{id}/_history?_count=1000")).await;
    let mut versions: Vec<i64> = history["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e["resource"]["meta"]["versionId"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(history["total"].as_u64(), Some(versions.len() as u64));
    versions.reverse();
    versions
}

both_backends!(if_match_race_has_one_winner);
async fn if_match_race_has_one_winner(h: &Harness) {
    h.put_resource(&device(Some("d"), 0)).await;
    let requests = (1..=20).map(|n| {
        h.send(
            h.with_body(Method::PUT, "Device/d", &device(Some("d"), n))
                .header("if-match", "W/\"1\""),
        )
    });
    let responses = join_all(requests).await;
    let winners: Vec<&Resp> = responses
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one update wins");
    for r in &responses {
        if r.status != StatusCode::OK {
            r.assert_outcome(StatusCode::PRECONDITION_FAILED);
        }
    }
    assert_eq!(winners[0].version(), 2);
    let current = h.read("Device/d").await;
    assert_eq!(current["meta"]["versionId"], "2");
    // What is stored is what the winner sent.
    assert_eq!(current["serialNumber"], winners[0].body["serialNumber"]);
    assert_eq!(history_versions(h, "d").await, [1, 2]);
}

both_backends!(concurrent_updates_make_consecutive_versions);
async fn concurrent_updates_make_consecutive_versions(h: &Harness) {
    h.put_resource(&device(Some("d"), 0)).await;
    let bodies: Vec<Value> = (1..=50).map(|n| device(Some("d"), n)).collect();
    let responses = join_all(bodies.iter().map(|b| h.put("Device/d", b))).await;
    for r in &responses {
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    // Each update got its own version: 2..=51, no duplicates.
    let given: BTreeSet<i64> = responses.iter().map(Resp::version).collect();
    assert_eq!(given, (2..=51).collect());
    assert_eq!(history_versions(h, "d").await, (1..=51).collect::<Vec<_>>());
    // The current version is the last one, with the content that version was given.
    let current = h.read("Device/d").await;
    assert_eq!(current["meta"]["versionId"], "51");
    let last = responses.iter().find(|r| r.version() == 51).unwrap();
    assert_eq!(current["serialNumber"], last.body["serialNumber"]);
    // Every version holds the content of the request that made it.
    for r in responses.iter().filter(|r| r.version() % 10 == 0) {
        let v = h.read(&format!("Device/d/_history/{}", r.version())).await;
        assert_eq!(v["serialNumber"], r.body["serialNumber"]);
    }
    // The search index follows the last version only.
    let b = h.search("Device", &[("identifier", "DEV-RACE")]).await;
    assert_eq!(b["total"], 1);
}

both_backends!(concurrent_creates_of_one_id);
async fn concurrent_creates_of_one_id(h: &Harness) {
    let bodies: Vec<Value> = (1..=10).map(|n| device(Some("new"), n)).collect();
    let responses = join_all(bodies.iter().map(|b| h.put("Device/new", b))).await;
    let created = responses
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let updated = responses
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    assert_eq!((created, updated), (1, 9), "{responses:?}");
    assert_eq!(
        history_versions(h, "new").await,
        (1..=10).collect::<Vec<_>>()
    );
    assert_eq!(h.count("Device").await, 1);
}

both_backends!(concurrent_conditional_creates);
async fn concurrent_conditional_creates(h: &Harness) {
    let path = format!("Device?identifier={ID_SYSTEM}|DEV-RACE");
    let bodies: Vec<Value> = (1..=10).map(|n| device(None, n)).collect();
    let responses = join_all(bodies.iter().map(|b| h.put(&path, b))).await;
    for r in &responses {
        assert!(
            r.status == StatusCode::OK || r.status == StatusCode::CREATED,
            "{}",
            r.text
        );
    }
    let created = responses
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "one identifier, one resource");
    let ids: BTreeSet<&str> = responses
        .iter()
        .map(|r| r.body["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(h.count("Device").await, 1);
    let id = ids.into_iter().next().unwrap();
    assert_eq!(history_versions(h, id).await, (1..=10).collect::<Vec<_>>());
    // The stored resource carries its own id, not one of the losing candidates'.
    assert_eq!(h.read(&format!("Device/{id}")).await["id"], id);
}

both_backends!(concurrent_batches_of_conditional_updates);
async fn concurrent_batches_of_conditional_updates(h: &Harness) {
    // Five adapters push overlapping batches of the same 20 identifiers at once.
    let bundle = |round: usize| {
        batch(
            (0..20)
                .map(|i| {
                    let mut d = device(None, round);
                    d["identifier"][0]["value"] = json!(format!("DEV-{i}"));
                    conditional_put_entry(&d, ID_SYSTEM, &format!("DEV-{i}"))
                })
                .collect(),
        )
    };
    let bodies: Vec<Value> = (0..5).map(bundle).collect();
    let responses = join_all(bodies.iter().map(|b| h.post("", b))).await;
    for r in &responses {
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        for s in entry_statuses(&r.body) {
            assert!(s == 200 || s == 201, "{}", r.text);
        }
    }
    assert_eq!(h.count("Device").await, 20, "one Device per identifier");
    let b = h.search("Device", &[("_count", "100")]).await;
    for d in entries_with_mode(&b, "match") {
        let versions = history_versions(h, id_of(&d)).await;
        assert_eq!(versions, (1..=versions.len() as i64).collect::<Vec<_>>());
        assert_eq!(versions.len(), 5, "one version per batch");
    }
}
