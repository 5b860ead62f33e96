//! The kit's in-process core, and fixtures for the beds the messages name.

#![allow(dead_code)] // each test binary uses part of it

use reqwest::StatusCode;
use serde_json::{Value, json};

pub mod bookings;
pub mod feed;
pub mod shapes;
pub mod theatres;

pub const ROOT: &str = "1.2.246.10.1234567.10";

pub use ohjaamo_adapter_kit::testing::Core;

/// The stay with this visit number, as the core has it.
pub async fn stay(core: &Core, visit: &str) -> Option<Value> {
    core.search("Encounter", &format!("identifier=urn:oid:{ROOT}.8|{visit}"))
        .await
        .into_iter()
        .next()
}

pub fn location(id: &str, key: &str, physical: &str, part_of: Option<&str>) -> Value {
    let arc = if physical == "bd" { 4 } else { 2 };
    let mut l = json!({
        "resourceType": "Location", "id": id, "status": "active", "name": id,
        "identifier": [{ "system": format!("urn:oid:{ROOT}.{arc}"), "value": key }],
        "physicalType": { "coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/location-physical-type",
            "code": physical }] }
    });
    if let Some(parent) = part_of {
        l["partOf"] = json!({ "reference": format!("Location/{parent}") });
    }
    l
}

/// The ward K2 with beds K2-1-1 and K2-1-2.
pub async fn seed_beds(core: &Core) {
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
}

/// The ward K2 with beds K2-1-1 … K2-1-4 (`k2-1` … `k2-4`), each with a Schedule, so
/// that the core derives their occupancy and `/picture/beds` shows it.
pub async fn seed_ward(core: &Core) {
    let mut resources = vec![location("k2", "K2", "wa", None)];
    for n in 1..=4 {
        resources.push(location(
            &format!("k2-{n}"),
            &format!("K2-1-{n}"),
            "bd",
            Some("k2"),
        ));
        resources.push(json!({
            "resourceType": "Schedule", "id": format!("s-k2-{n}"),
            "actor": [{ "reference": format!("Location/k2-{n}") }]
        }));
    }
    seed(core, resources).await;
}

/// Writes each resource by its id; each must be new.
pub async fn seed(core: &Core, resources: impl IntoIterator<Item = Value>) {
    for r in resources {
        let path = format!(
            "{}/{}",
            r["resourceType"].as_str().unwrap(),
            r["id"].as_str().unwrap()
        );
        let (status, body) = core.put(&path, &r).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
}

/// Ward K2's beds now, as `/picture/beds` shows them: `(state, occupiedUntil)` by
/// Location id.
pub async fn beds(core: &Core) -> std::collections::BTreeMap<String, (String, Option<String>)> {
    let body = core.get_root("picture/beds?unit=k2").await;
    body["beds"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|b| {
            (
                b["id"].as_str().unwrap().to_owned(),
                (
                    b["state"].as_str().unwrap().to_owned(),
                    b["occupiedUntil"].as_str().map(str::to_owned),
                ),
            )
        })
        .collect()
}

/// The state of each of beds k2-1 … k2-4, in order.
pub async fn bed_states(core: &Core) -> Vec<String> {
    beds(core)
        .await
        .into_values()
        .map(|(state, _)| state)
        .collect()
}

/// `(place key, status)` of each entry of the stay's location history.
pub fn places(stay: &Value) -> Vec<(String, String)> {
    stay["location"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            (
                l["location"]["identifier"]["value"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
                l["status"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}
