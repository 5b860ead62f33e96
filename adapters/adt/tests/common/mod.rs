//! The kit's in-process core, and fixtures for the beds the messages name.

#![allow(dead_code)] // each test binary uses part of it

use reqwest::StatusCode;
use serde_json::{Value, json};

pub mod feed;

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
