//! A hospital's theatres as the pull adapter writes them: site OYS, theatre suite
//! LEIK with operating rooms SALI1 and SALI2, recovery unit HER with bays HER-1 and
//! HER-2, and the device PUMPPU-1, each bookable thing with its Schedule.

use serde_json::{Value, json};

use super::{Core, ROOT};

fn identifier(arc: u32, key: &str) -> Value {
    json!([{ "system": format!("urn:oid:{ROOT}.{arc}"), "value": key }])
}

fn place(id: &str, arc: u32, physical: &str, kind: Option<&str>, part_of: Option<&str>) -> Value {
    let mut l = json!({
        "resourceType": "Location", "id": id, "status": "active", "name": id,
        "identifier": identifier(arc, &id.to_uppercase()),
        "physicalType": { "coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/location-physical-type",
            "code": physical }] }
    });
    if let Some(kind) = kind {
        l["type"] = json!([{"coding": [{"system": "https://ohjaamo.fi/fhir/CodeSystem/unit-kind", "code": kind}]}]);
    }
    if let Some(parent) = part_of {
        l["partOf"] = json!({ "reference": format!("Location/{parent}") });
    }
    l
}

fn schedule(actor: &str, arc: u32) -> Value {
    let kind = if arc == 5 { "Device" } else { "Location" };
    json!({
        "resourceType": "Schedule", "id": format!("s-{actor}"),
        "identifier": identifier(9, &format!("{arc}/{}", actor.to_uppercase())),
        "actor": [{ "reference": format!("{kind}/{actor}") }]
    })
}

/// Seeds the theatres (Location ids are the keys in lower case: `sali1`, `her-1`).
pub async fn seed_theatres(core: &Core) {
    let resources = [
        place("oys", 1, "si", None, None),
        place("leik", 2, "wa", Some("theatre-suite"), Some("oys")),
        place("sali1", 3, "ro", Some("operating-room"), Some("leik")),
        place("sali2", 3, "ro", Some("operating-room"), Some("leik")),
        place("her", 2, "wa", Some("recovery-unit"), Some("oys")),
        place("her-1", 4, "bd", None, Some("her")),
        place("her-2", 4, "bd", None, Some("her")),
        json!({
            "resourceType": "Device", "id": "pumppu-1", "status": "active",
            "identifier": identifier(5, "PUMPPU-1"),
            "location": {"reference": "Location/leik"}
        }),
        schedule("sali1", 3),
        schedule("sali2", 3),
        schedule("her-1", 4),
        schedule("her-2", 4),
        schedule("pumppu-1", 5),
    ];
    super::seed(core, resources).await;
}

/// The booking with this key (filler id, or `placer:<id>`), as the core has it.
pub async fn booking(core: &Core, key: &str) -> Option<Value> {
    core.search("Appointment", &format!("identifier=urn:oid:{ROOT}.7|{key}"))
        .await
        .into_iter()
        .next()
}

/// The Slot with this key, as the core has it.
pub async fn window(core: &Core, key: &str) -> Option<Value> {
    core.search(
        "Slot",
        &format!("identifier=urn:oid:{ROOT}.10|{}", key.replace('/', "%2F")),
    )
    .await
    .into_iter()
    .next()
}
