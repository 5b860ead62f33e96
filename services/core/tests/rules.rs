//! Business rules: each broken rule is a 422 OperationOutcome whose message names
//! the element, and nothing is stored. Slot end after start; references to
//! Schedule, Location, Device and PractitionerRole resolve (in the request or the
//! store); a Location's partOf chain has no cycle; a bed is part of a ward or room.

#[macro_use]
mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// PUTs `resource` expecting a 422 whose message contains every one of `names`;
/// checks that the resource did not change.
async fn assert_refused(h: &Harness, resource: &Value, names: &[&str]) {
    let path = format!(
        "{}/{}",
        resource["resourceType"].as_str().unwrap(),
        id_of(resource)
    );
    let before = h.get(&path).await;
    let msg = h
        .put(&path, resource)
        .await
        .assert_outcome(StatusCode::UNPROCESSABLE_ENTITY);
    for name in names {
        assert!(msg.contains(name), "{path}: {msg:?} should name {name}");
    }
    let after = h.get(&path).await;
    assert_eq!(
        after.status, before.status,
        "{path} changed: {}",
        after.text
    );
    assert_eq!(after.body, before.body, "{path} changed");
}

both_backends!(slot_ends_after_it_starts);
async fn slot_ends_after_it_starts(h: &Harness) {
    seed_bed_schedule(h, "sch").await;
    for (start, end) in [
        ("2026-03-29T10:00:00+03:00", "2026-03-29T09:59:59+03:00"),
        ("2026-03-29T10:00:00+03:00", "2026-03-29T10:00:00+03:00"),
        // The same instant written with two offsets.
        ("2026-03-29T04:00:00+03:00", "2026-03-29T03:00:00+02:00"),
        // Across the autumn change: 03:30+02:00 is an hour after 03:30+03:00, not before.
        ("2026-10-25T03:30:00+02:00", "2026-10-25T03:45:00+03:00"),
    ] {
        assert_refused(
            h,
            &slot("s", "sch", start, end),
            &["Slot.end", "Slot.start"],
        )
        .await;
    }
    // A missing time is a structural error (R4 requires both), not a rule.
    let mut no_end = slot("s", "sch", "2026-03-29T10:00:00+03:00", "x");
    no_end.as_object_mut().unwrap().remove("end");
    let msg = h
        .put("Slot/s", &no_end)
        .await
        .assert_outcome(StatusCode::BAD_REQUEST);
    assert!(msg.contains("end"), "{msg}");
    h.get("Slot/s").await.assert_outcome(StatusCode::NOT_FOUND);

    // One second, and a span over the spring change, are fine.
    let ok = [
        ("2026-03-29T10:00:00+03:00", "2026-03-29T10:00:01+03:00"),
        ("2026-03-29T02:30:00+02:00", "2026-03-29T04:00:00+03:00"),
        ("2026-10-25T03:45:00+03:00", "2026-10-25T03:15:00+02:00"),
    ];
    for (i, (start, end)) in ok.into_iter().enumerate() {
        let r = h
            .put(
                &format!("Slot/ok{i}"),
                &slot(&format!("ok{i}"), "sch", start, end),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{start}..{end}: {}", r.text);
    }
    // Updating a stored Slot into a broken one is refused and leaves it as it was.
    let broken = slot(
        "ok0",
        "sch",
        "2026-03-29T10:00:00+03:00",
        "2026-03-29T08:00:00+03:00",
    );
    assert_refused(h, &broken, &["Slot.end"]).await;
}

both_backends!(references_resolve);
async fn references_resolve(h: &Harness) {
    seed_bed_schedule(h, "sch").await;
    h.seed(&[json!({ "resourceType": "Device", "id": "gone", "status": "active" })])
        .await;
    assert_eq!(h.delete("Device/gone").await.status, StatusCode::NO_CONTENT);

    let refused = [
        (
            slot(
                "s",
                "missing",
                "2026-03-29T10:00:00+03:00",
                "2026-03-29T11:00:00+03:00",
            ),
            vec!["Slot.schedule", "Schedule/missing"],
        ),
        (
            schedule("x", "Location/missing"),
            vec!["Schedule.actor", "Location/missing"],
        ),
        (
            schedule("x", "Device/gone"),
            vec!["Schedule.actor", "Device/gone"],
        ), // deleted
        (
            schedule("x", "PractitionerRole/missing"),
            vec!["Schedule.actor", "PractitionerRole/missing"],
        ),
        (
            json!({ "resourceType": "Device", "id": "d", "location": { "reference": "Location/missing" } }),
            vec!["Device.location", "Location/missing"],
        ),
        (
            json!({ "resourceType": "PractitionerRole", "id": "r", "location": [{ "reference": "Location/missing" }] }),
            vec!["PractitionerRole.location", "Location/missing"],
        ),
        (
            json!({ "resourceType": "HealthcareService", "id": "hs", "location": [{ "reference": "Location/missing" }] }),
            vec!["HealthcareService.location"],
        ),
        (
            json!({ "resourceType": "Encounter", "id": "e", "status": "planned",
                    "class": { "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP" },
                    "location": [{ "location": { "reference": "Location/ward" } }, { "location": { "reference": "Location/missing" } }] }),
            vec!["Encounter.location.location", "Location/missing"],
        ),
        (
            json!({ "resourceType": "Appointment", "id": "a", "status": "booked",
                    "participant": [{ "actor": { "reference": "Device/missing" }, "status": "accepted" }] }),
            vec!["Appointment.participant.actor", "Device/missing"],
        ),
        (
            location("l", "Huone", "ro", Some("missing")),
            vec!["Location.partOf", "Location/missing"],
        ),
    ];
    for (resource, names) in &refused {
        assert_refused(h, resource, names).await;
    }
    // References to types the picture does not need to resolve are accepted as they are.
    let role = json!({ "resourceType": "PractitionerRole", "id": "r",
        "practitioner": { "reference": "Practitioner/elsewhere" },
        "organization": { "reference": "Organization/elsewhere" } });
    assert_eq!(
        h.put("PractitionerRole/r", &role).await.status,
        StatusCode::CREATED
    );
    // Inside one request, the target may come in the same Bundle, after the reference.
    let bundle = transaction(vec![
        put_entry(&slot(
            "s",
            "new-sch",
            "2026-03-29T10:00:00+03:00",
            "2026-03-29T11:00:00+03:00",
        )),
        put_entry(&schedule("new-sch", "Location/bed")),
    ]);
    let r = h.post("", &bundle).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // ... but a target refused in the same batch does not count as existing.
    let bundle = batch(vec![
        put_entry(&slot(
            "orphan",
            "orphan-sch",
            "2026-03-29T10:00:00+03:00",
            "2026-03-29T11:00:00+03:00",
        )),
        put_entry(&schedule("orphan-sch", "Location/missing")),
    ]);
    let r = h.post("", &bundle).await;
    assert_eq!(entry_statuses(&r.body), [422, 422], "{}", r.text);
    let msg = diagnostics(&r.body["entry"][0]["response"]["outcome"]);
    assert!(msg.contains("Slot.schedule"), "{msg}");
    h.get("Slot/orphan")
        .await
        .assert_outcome(StatusCode::NOT_FOUND);
}

both_backends!(part_of_has_no_cycle);
async fn part_of_has_no_cycle(h: &Harness) {
    h.seed(&[
        location("site", "Sairaala", "si", None),
        location("building", "Rakennus A", "bu", Some("site")),
        location("ward", "Osasto 1", "wa", Some("building")),
        location("room", "Huone 1", "ro", Some("ward")),
    ])
    .await;
    // Itself, its child, its grandchild's grandchild.
    assert_refused(
        h,
        &location("ward", "Osasto 1", "wa", Some("ward")),
        &["Location.partOf", "Location/ward"],
    )
    .await;
    assert_refused(
        h,
        &location("ward", "Osasto 1", "wa", Some("room")),
        &["Location.partOf", "cycle"],
    )
    .await;
    assert_refused(
        h,
        &location("site", "Sairaala", "si", Some("room")),
        &["Location.partOf", "cycle"],
    )
    .await;
    // A cycle made entirely inside one Bundle.
    let bundle = transaction(vec![
        put_entry(&location("x1", "X1", "wa", Some("x2"))),
        put_entry(&location("x2", "X2", "wa", Some("x1"))),
    ]);
    let msg = h
        .post("", &bundle)
        .await
        .assert_outcome(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(msg.contains("Location.partOf"), "{msg}");
    h.get("Location/x1")
        .await
        .assert_outcome(StatusCode::NOT_FOUND);
    // Moving a subtree elsewhere is fine.
    let r = h
        .put(
            "Location/ward",
            &location("ward", "Osasto 1", "wa", Some("site")),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

both_backends!(beds_are_in_wards_or_rooms);
async fn beds_are_in_wards_or_rooms(h: &Harness) {
    h.seed(&[
        location("building", "Rakennus A", "bu", None),
        location("ward", "Osasto 1", "wa", Some("building")),
        location("room", "Huone 1", "ro", Some("ward")),
        json!({ "resourceType": "Location", "id": "untyped", "name": "Tila" }),
    ])
    .await;
    assert_refused(
        h,
        &location("bed", "Vuode", "bd", None),
        &["Location.partOf", "bed"],
    )
    .await;
    assert_refused(
        h,
        &location("bed", "Vuode", "bd", Some("building")),
        &["Location.partOf", "bu"],
    )
    .await;
    assert_refused(
        h,
        &location("bed", "Vuode", "bd", Some("untyped")),
        &["Location.partOf", "none"],
    )
    .await;
    for parent in ["ward", "room"] {
        let r = h
            .put(
                "Location/bed",
                &location("bed", "Vuode", "bd", Some(parent)),
            )
            .await;
        assert!(r.status.is_success(), "a bed in the {parent}: {}", r.text);
    }
    // A new ward and its bed in one transaction.
    let bundle = transaction(vec![
        put_entry(&location("bed-2", "Vuode 2", "bd", Some("ward-2"))),
        put_entry(&location("ward-2", "Osasto 2", "wa", None)),
    ]);
    let r = h.post("", &bundle).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // ... but not under a building in the same transaction.
    let bundle = transaction(vec![
        put_entry(&location("bed-3", "Vuode 3", "bd", Some("building-2"))),
        put_entry(&location("building-2", "Rakennus B", "bu", None)),
    ]);
    let msg = h
        .post("", &bundle)
        .await
        .assert_outcome(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(msg.contains("Location.partOf"), "{msg}");
    h.get("Location/building-2")
        .await
        .assert_outcome(StatusCode::NOT_FOUND);
}

both_backends!(appointment_ends_after_it_starts);
async fn appointment_ends_after_it_starts(h: &Harness) {
    let appointment = |end: &str| {
        json!({
            "resourceType": "Appointment",
            "id": "op1",
            "status": "booked",
            "start": "2026-10-25T03:30:00+03:00",
            "end": end,
            "participant": [{ "status": "accepted", "actor": { "display": "Sali 1" } }]
        })
    };
    // 03:15+02:00 on the autumn day is 45 minutes after 03:30+03:00: accepted.
    let r = h
        .put("Appointment/op1", &appointment("2026-10-25T03:15:00+02:00"))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_refused(
        h,
        &appointment("2026-10-25T03:29:59+03:00"),
        &["Appointment.end", "Appointment.start"],
    )
    .await;
}

both_backends!(every_date_and_period_is_checked);
async fn every_date_and_period_is_checked(h: &Harness) {
    // Elements no search indexes are checked all the same (400, naming the element),
    // and nothing is stored.
    let cases = [
        (
            json!({ "resourceType": "Practitioner", "id": "p1", "birthDate": "1990-02-30" }),
            "Practitioner.birthDate",
        ),
        (
            json!({ "resourceType": "Schedule", "id": "sc1", "active": true,
                    "actor": [{ "display": "x" }],
                    "planningHorizon": { "start": "2026-02-01", "end": "2026-01-31" } }),
            "Schedule.planningHorizon",
        ),
        (
            json!({ "resourceType": "Location", "id": "l1",
                    "hoursOfOperation": [{ "daysOfWeek": ["mon"], "openingTime": "25:00:00" }] }),
            "Location.hoursOfOperation[0].openingTime",
        ),
        (
            json!({ "resourceType": "Location", "id": "l2",
                    "hoursOfOperation": [{ "daysOfWeek": ["maanantai"] }] }),
            "Location.hoursOfOperation.daysOfWeek",
        ),
        (
            json!({ "resourceType": "Encounter", "id": "e1", "status": "in-progress",
                    "class": { "code": "IMP" },
                    "extension": [{
                        "url": "http://hl7.org/fhir/5.0/StructureDefinition/extension-Encounter.plannedEndDate",
                        "valueDateTime": "2026-03-29T10:00" }] }),
            "Encounter.extension[0].valueDateTime",
        ),
    ];
    for (resource, element) in cases {
        let path = format!(
            "{}/{}",
            resource["resourceType"].as_str().unwrap(),
            id_of(&resource)
        );
        let msg = h
            .put(&path, &resource)
            .await
            .assert_outcome(StatusCode::BAD_REQUEST);
        assert!(
            msg.contains(element),
            "{path}: {msg:?} should name {element}"
        );
        h.get(&path).await.assert_outcome(StatusCode::NOT_FOUND);
    }
}
