//! The FHIR source between two real cores: the upstream core plays the hospital's
//! FHIR server. After a round the second core holds every Location, Schedule, Slot,
//! Appointment and Encounter, its references resolved to its own ids; the next round
//! reads only what changed (the cursor); what the upstream deletes, or marks
//! entered-in-error, is retired; the upstream's derived occupancy Slots are not
//! copied (the second core derives its own).

mod common;

use common::{Options, by_upstream_id, id_system, setup};
use ohjaamo_adapter_kit::testing::{Core, TENANT};
use serde_json::{Value, json};

const SYS: &str = "urn:oid:1.2.246.10.99.1";

fn ident(value: &str) -> Value {
    json!([{"system": SYS, "value": value}])
}

async fn put(core: &Core, rtype: &str, key: &str, mut resource: Value) -> String {
    resource["resourceType"] = json!(rtype);
    resource["identifier"] = ident(key);
    let (status, body) = core
        .put(&format!("{rtype}?identifier={SYS}|{key}"), &resource)
        .await;
    assert!(status.is_success(), "{rtype} {key}: {status} {body}");
    body["id"].as_str().unwrap().to_owned()
}

/// A small hospital in the upstream: a site, a ward, two beds with Schedules, a
/// theatre room with a Schedule, its Slots, a booking and a stay in bed 1.
async fn hospital(up: &Core) -> Value {
    let site = put(up, "Location", "SITE", json!({"name": "Sairaala", "status": "active",
        "physicalType": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/location-physical-type", "code": "si"}]}})).await;
    let ward = put(up, "Location", "W1", json!({"name": "Osasto 1", "status": "active",
        "physicalType": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/location-physical-type", "code": "wa"}]},
        "partOf": {"reference": format!("Location/{site}")}})).await;
    let mut beds = Vec::new();
    for b in ["B1", "B2"] {
        let bed = put(up, "Location", b, json!({"name": b, "status": "active",
            "physicalType": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/location-physical-type", "code": "bd"}]},
            "partOf": {"reference": format!("Location/{ward}")}})).await;
        put(
            up,
            "Schedule",
            &format!("S-{b}"),
            json!({"active": true,
            "actor": [{"reference": format!("Location/{bed}")}]}),
        )
        .await;
        beds.push(bed);
    }
    let room = put(up, "Location", "OR1", json!({"name": "Sali 1", "status": "active",
        "physicalType": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/location-physical-type", "code": "ro"}]},
        "partOf": {"reference": format!("Location/{site}")}})).await;
    let schedule = put(
        up,
        "Schedule",
        "S-OR1",
        json!({"active": true,
        "actor": [{"reference": format!("Location/{room}")}]}),
    )
    .await;
    let mut slots = Vec::new();
    for (n, hour) in ["08", "10", "12"].iter().enumerate() {
        slots.push(put(up, "Slot", &format!("OR1-{n}"), json!({"status": "busy",
            "schedule": {"reference": format!("Schedule/{schedule}")},
            "start": format!("2026-12-01T{hour}:00:00Z"), "end": format!("2026-12-01T{hour}:45:00Z")})).await);
    }
    let appointment = put(up, "Appointment", "A1", json!({"status": "booked",
        "start": "2026-12-01T08:00:00Z", "end": "2026-12-01T08:45:00Z",
        "slot": [{"reference": format!("Slot/{}", slots[0])}],
        "participant": [{"actor": {"reference": format!("Location/{room}")}, "status": "accepted"}]})).await;
    put(up, "Encounter", "V1", json!({"status": "in-progress",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
        "period": {"start": "2026-11-30T07:00:00Z"},
        "location": [{"location": {"reference": format!("Location/{}", beds[0])}, "status": "active",
                      "period": {"start": "2026-11-30T07:00:00Z"}}]})).await;
    json!({"slots": slots, "appointment": appointment, "room": room})
}

#[tokio::test]
async fn a_second_core_is_read_paged_incrementally_and_deletes_retire() {
    let up = Core::start().await;
    let down = Core::start().await;
    let ids = hospital(&up).await;
    // The upstream derived a busy Slot for bed 1 from the stay.
    let derived_up = up
        .search(
            "Slot",
            "identifier=https://ohjaamo.fi/fhir/NamingSystem/encounter-occupancy|",
        )
        .await;
    assert_eq!(derived_up.len(), 1, "{derived_up:?}");

    let s = setup(&up.base, &down, Options::default()).await;
    s.sync().await;
    assert_eq!(s.quarantined(), Vec::<Value>::new());

    // Everything is here, references resolved to this core's ids.
    assert_eq!(down.search("Location", "").await.len(), 5);
    assert_eq!(down.search("Schedule", "").await.len(), 3);
    let upstream_slot = &ids["slots"][0].as_str().unwrap();
    let slot = by_upstream_id(&down, "Slot", upstream_slot).await;
    let upstream_schedule = up
        .search("Schedule", &format!("identifier={SYS}|S-OR1"))
        .await
        .remove(0);
    let schedule =
        by_upstream_id(&down, "Schedule", upstream_schedule["id"].as_str().unwrap()).await;
    assert_eq!(
        slot["schedule"]["reference"],
        format!("Schedule/{}", schedule["id"].as_str().unwrap())
    );
    assert!(
        slot["identifier"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["system"] == SYS && i["value"] == "OR1-0"),
        "the upstream's own identifiers are kept: {slot}"
    );
    let appointment =
        by_upstream_id(&down, "Appointment", ids["appointment"].as_str().unwrap()).await;
    assert_eq!(
        appointment["slot"][0]["reference"],
        format!("Slot/{}", slot["id"].as_str().unwrap())
    );
    // The stay arrived, and this core derived bed 1's Slot itself: one, not two.
    let derived = down
        .search(
            "Slot",
            "identifier=https://ohjaamo.fi/fhir/NamingSystem/encounter-occupancy|",
        )
        .await;
    assert_eq!(
        derived.len(),
        1,
        "the upstream's derived Slot is not copied: {derived:?}"
    );
    assert_eq!(down.search("Slot", "").await.len(), 4);

    let cursors: Value = serde_json::from_slice(&std::fs::read(&s.cursor).unwrap()).unwrap();
    for t in common::TYPES {
        let position: Value = serde_json::from_str(cursors[t].as_str().unwrap()).unwrap();
        assert!(
            position["since"].is_string() && position["next"].is_null(),
            "{t}: {position}"
        );
    }
    let stored = |t: &str| s.runner.streams()[t].records_stored;
    let before = stored("Slot");

    // A change, a delete and an entered-in-error upstream; the next round reads just
    // those.
    put(&up, "Slot", "OR1-1", json!({"status": "free",
        "schedule": {"reference": format!("Schedule/{}", up.search("Schedule", &format!("identifier={SYS}|S-OR1")).await[0]["id"].as_str().unwrap())},
        "start": "2026-12-01T10:00:00Z", "end": "2026-12-01T10:45:00Z"})).await;
    let deleted = reqwest::Client::new()
        .delete(format!(
            "{}/Appointment/{}",
            up.base,
            ids["appointment"].as_str().unwrap()
        ))
        .header("x-ohjaamo-organization", TENANT)
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success(), "{}", deleted.status());
    let mut gone = up
        .search("Slot", &format!("identifier={SYS}|OR1-2"))
        .await
        .remove(0);
    gone["status"] = json!("entered-in-error");
    let (status, _) = up
        .put(&format!("Slot/{}", gone["id"].as_str().unwrap()), &gone)
        .await;
    assert!(status.is_success());

    s.sync().await;
    assert_eq!(
        stored("Slot") - before,
        2,
        "only the two changed Slots are read again"
    );
    let free = by_upstream_id(&down, "Slot", ids["slots"][1].as_str().unwrap()).await;
    assert_eq!(free["status"], "free");
    let retired = by_upstream_id(&down, "Slot", ids["slots"][2].as_str().unwrap()).await;
    assert_eq!(retired["status"], "entered-in-error");
    let appointment =
        by_upstream_id(&down, "Appointment", ids["appointment"].as_str().unwrap()).await;
    assert_eq!(
        appointment["status"], "entered-in-error",
        "the upstream's delete retires it"
    );
    assert_eq!(s.quarantined(), Vec::<Value>::new());

    // A round with nothing new reads nothing.
    let before = (stored("Slot"), stored("Appointment/_history"));
    s.sync().await;
    assert_eq!((stored("Slot"), stored("Appointment/_history")), before);
    assert_eq!(id_system("Slot"), "urn:oid:1.2.246.10.1234567.10.20.3");
}
