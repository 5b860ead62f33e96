//! Building resources and Bundles for the tests, and reading Bundle responses.

use serde_json::{Value, json};

use super::{Harness, id_of};

// --- Bundles ---------------------------------------------------------------

pub fn transaction(entries: Vec<Value>) -> Value {
    json!({ "resourceType": "Bundle", "type": "transaction", "entry": entries })
}

pub fn batch(entries: Vec<Value>) -> Value {
    json!({ "resourceType": "Bundle", "type": "batch", "entry": entries })
}

/// `PUT Type/id` of a resource that has its id.
pub fn put_entry(resource: &Value) -> Value {
    let rtype = resource["resourceType"].as_str().unwrap();
    json!({
        "resource": resource,
        "request": { "method": "PUT", "url": format!("{rtype}/{}", id_of(resource)) }
    })
}

/// `POST Type`, optionally with a `urn:uuid:` fullUrl.
pub fn post_entry(resource: &Value, full_url: Option<&str>) -> Value {
    let rtype = resource["resourceType"].as_str().unwrap();
    let mut entry = json!({
        "resource": resource,
        "request": { "method": "POST", "url": rtype }
    });
    if let Some(u) = full_url {
        entry["fullUrl"] = json!(u);
    }
    entry
}

/// `PUT Type?identifier=system|value`.
pub fn conditional_put_entry(resource: &Value, system: &str, value: &str) -> Value {
    let rtype = resource["resourceType"].as_str().unwrap();
    json!({
        "resource": resource,
        "request": { "method": "PUT", "url": format!("{rtype}?identifier={system}|{value}") }
    })
}

/// The `response.status` codes of a batch- or transaction-response, in order.
pub fn entry_statuses(bundle: &Value) -> Vec<u16> {
    bundle["entry"]
        .as_array()
        .expect("response entries")
        .iter()
        .map(|e| {
            let status = e["response"]["status"].as_str().expect("response.status");
            status[..3].parse().expect("a status code")
        })
        .collect()
}

/// `Type/id` from a response entry's `response.location` (`Type/id/_history/n`).
pub fn entry_reference(entry: &Value) -> String {
    let location = entry["response"]["location"]
        .as_str()
        .expect("response.location");
    let parts: Vec<&str> = location.split('/').collect();
    let n = parts
        .iter()
        .position(|p| *p == "_history")
        .expect("_history in location");
    format!("{}/{}", parts[n - 2], parts[n - 1])
}

// --- Resources -------------------------------------------------------------

pub const PHYSICAL_TYPE: &str = "http://terminology.hl7.org/CodeSystem/location-physical-type";
pub const BED_STATUS: &str = "http://terminology.hl7.org/CodeSystem/v2-0116";
pub const ID_SYSTEM: &str = "urn:oid:1.2.246.10.1234567.10.1";

/// A Location with a physical type (`si`, `bu`, `wa`, `ro`, `bd`) and optional parent.
pub fn location(id: &str, name: &str, physical: &str, part_of: Option<&str>) -> Value {
    let mut l = json!({
        "resourceType": "Location",
        "id": id,
        "status": "active",
        "name": name,
        "physicalType": { "coding": [{ "system": PHYSICAL_TYPE, "code": physical }] }
    });
    if let Some(parent) = part_of {
        l["partOf"] = json!({ "reference": format!("Location/{parent}") });
    }
    l
}

/// A Schedule for `actor` (`Type/id`).
pub fn schedule(id: &str, actor: &str) -> Value {
    json!({
        "resourceType": "Schedule",
        "id": id,
        "active": true,
        "actor": [{ "reference": actor }]
    })
}

/// A busy Slot of `Schedule/{schedule}` from `start` to `end`.
pub fn slot(id: &str, schedule: &str, start: &str, end: &str) -> Value {
    json!({
        "resourceType": "Slot",
        "id": id,
        "schedule": { "reference": format!("Schedule/{schedule}") },
        "status": "busy",
        "start": start,
        "end": end
    })
}

/// A ward, a bed in it, and the bed's Schedule `sch`: what most Slot tests need.
pub async fn seed_bed_schedule(h: &Harness, sch: &str) {
    h.seed(&[
        location("ward", "Osasto 1", "wa", None),
        location("bed", "Vuode 1", "bd", Some("ward")),
        schedule(sch, "Location/bed"),
    ])
    .await;
}
