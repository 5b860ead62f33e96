//! `POST /fhir` with batch and transaction Bundles: size, per-entry outcomes,
//! `urn:uuid:` references, all-or-nothing transactions, conditional references and
//! conditional updates inside a Bundle, and GET entries.

#[macro_use]
mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn unidentified_slot(start: &str, end: &str, schedule_ref: &str) -> Value {
    json!({
        "resourceType": "Slot",
        "schedule": { "reference": schedule_ref },
        "status": "busy",
        "start": start,
        "end": end
    })
}

both_backends!(batch_of_a_thousand);
async fn batch_of_a_thousand(h: &Harness) {
    seed_bed_schedule(h, "sch").await;
    let entries: Vec<Value> = (0..1000)
        .map(|i| {
            let start = "2026-01-01T00:00:00Z".parse::<jiff::Timestamp>().unwrap()
                + jiff::SignedDuration::from_hours(i);
            let end = start + jiff::SignedDuration::from_mins(30);
            let mut s = unidentified_slot(&start.to_string(), &end.to_string(), "Schedule/sch");
            s["identifier"] = json!([{ "system": ID_SYSTEM, "value": format!("S-{i}") }]);
            conditional_put_entry(&s, ID_SYSTEM, &format!("S-{i}"))
        })
        .collect();
    let bundle = batch(entries);
    let r = h.post("", &bundle).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["type"], "batch-response");
    let statuses = entry_statuses(&r.body);
    assert_eq!(statuses.len(), 1000);
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    assert_eq!(h.count("Slot").await, 1000);
    // Entries answer in order: entry i is the Slot with identifier S-i.
    let entry = &r.body["entry"][737];
    let slot = h.read(&entry_reference(entry)).await;
    assert_eq!(slot["identifier"][0]["value"], "S-737");
    assert!(
        entry.get("resource").is_none(),
        "no resources unless asked for"
    );
    assert_eq!(entry["response"]["etag"], "W/\"1\"");

    // The same batch again (an adapter retrying) changes nothing.
    let r = h.post("", &bundle).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(entry_statuses(&r.body).iter().all(|s| *s == 200));
    assert!(
        r.body["entry"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["response"]["etag"] == "W/\"1\"")
    );
    assert_eq!(h.count("Slot").await, 1000);
    assert_eq!(h.read("Slot/_history?_count=1").await["total"], 1000);
}

both_backends!(batch_entries_fail_alone);
async fn batch_entries_fail_alone(h: &Harness) {
    seed_bed_schedule(h, "sch").await;
    let good_slot = slot(
        "good",
        "sch",
        "2026-03-29T10:00:00+03:00",
        "2026-03-29T11:00:00+03:00",
    );
    let ends_early = slot(
        "early",
        "sch",
        "2026-03-29T10:00:00+03:00",
        "2026-03-29T09:00:00+03:00",
    );
    let mut unknown_element = location("odd", "Outo", "ro", Some("ward"));
    unknown_element["colour"] = json!("red");
    let dangling = slot(
        "dangling",
        "nope",
        "2026-03-29T10:00:00+03:00",
        "2026-03-29T11:00:00+03:00",
    );
    let device = json!({ "resourceType": "Device", "status": "active" });
    let bundle = batch(vec![
        put_entry(&good_slot),
        put_entry(&ends_early),
        put_entry(&unknown_element),
        post_entry(&device, None),
        put_entry(&dangling),
        json!({ "request": { "method": "POST", "url": "Patient" }, "resource": { "resourceType": "Patient" } }),
        json!({ "request": { "method": "PATCH", "url": "Device/x" } }),
        json!({ "resource": device }),
        json!({ "request": { "method": "GET", "url": "Location/ward" } }),
        json!({ "request": { "method": "GET", "url": "Location/missing" } }),
        json!({ "request": { "method": "DELETE", "url": "Location/missing" } }),
    ]);
    let r = h.post("", &bundle).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["type"], "batch-response");
    assert_eq!(
        entry_statuses(&r.body),
        [201, 422, 400, 201, 422, 404, 405, 400, 200, 404, 404]
    );
    let entries = r.body["entry"].as_array().unwrap();
    for (i, expect) in [
        (1, "Slot.end"),
        (2, "colour"),
        (4, "Slot.schedule"),
        (5, "Patient"),
    ] {
        let outcome = &entries[i]["response"]["outcome"];
        assert_outcome_body(outcome, &r.text);
        let msg = diagnostics(outcome);
        assert!(msg.contains(expect), "entry {i}: {msg}");
    }
    for i in [6, 7, 9, 10] {
        assert_outcome_body(&entries[i]["response"]["outcome"], &r.text);
    }
    assert_eq!(entries[8]["resource"]["id"], "ward");
    // The good ones are stored, the bad ones are not.
    h.assert_search("Slot", &[], &["good"]).await;
    assert_eq!(h.count("Device").await, 1);
    h.get("Location/odd")
        .await
        .assert_outcome(StatusCode::NOT_FOUND);
}

both_backends!(transaction_resolves_urn_uuids);
async fn transaction_resolves_urn_uuids(h: &Harness) {
    let ward = "urn:uuid:0a4d1c3e-0000-4000-8000-000000000001";
    let bed = "urn:uuid:0a4d1c3e-0000-4000-8000-000000000002";
    let sch = "urn:uuid:0a4d1c3e-0000-4000-8000-000000000003";
    let mut bed_loc = location("x", "Vuode 9", "bd", None);
    bed_loc.as_object_mut().unwrap().remove("id");
    bed_loc["partOf"] = json!({ "reference": ward });
    let mut ward_loc = location("x", "Osasto 9", "wa", None);
    ward_loc.as_object_mut().unwrap().remove("id");
    // The Slots come first: references may point forward in the Bundle.
    let bundle = transaction(vec![
        post_entry(
            &unidentified_slot(
                "2026-03-29T01:00:00+02:00",
                "2026-03-29T05:00:00+03:00",
                sch,
            ),
            None,
        ),
        post_entry(
            &unidentified_slot(
                "2026-03-29T05:00:00+03:00",
                "2026-03-29T06:00:00+03:00",
                sch,
            ),
            None,
        ),
        post_entry(
            &json!({ "resourceType": "Schedule", "actor": [{ "reference": bed }] }),
            Some(sch),
        ),
        post_entry(&bed_loc, Some(bed)),
        post_entry(&ward_loc, Some(ward)),
    ]);
    let r = h.post("", &bundle).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["type"], "transaction-response");
    assert_eq!(entry_statuses(&r.body), [201, 201, 201, 201, 201]);
    let refs: Vec<String> = r.body["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(entry_reference)
        .collect();
    let (schedule_ref, bed_ref, ward_ref) = (&refs[2], &refs[3], &refs[4]);
    assert!(schedule_ref.starts_with("Schedule/"));

    for slot_ref in &refs[..2] {
        let s = h.read(slot_ref).await;
        assert_eq!(s["schedule"]["reference"], schedule_ref.as_str());
    }
    let s = h.read(schedule_ref).await;
    assert_eq!(s["actor"][0]["reference"], bed_ref.as_str());
    let b = h.read(bed_ref).await;
    assert_eq!(b["partOf"]["reference"], ward_ref.as_str());
    // And the rewritten references are searchable.
    let sch_id = schedule_ref.trim_start_matches("Schedule/");
    let found = h.search("Slot", &[("schedule", sch_id)]).await;
    assert_eq!(found["total"], 2);

    // A urn:uuid that names no entry is refused, and nothing is stored.
    let before = h.count("Slot").await;
    let bundle = transaction(vec![post_entry(
        &unidentified_slot(
            "2026-03-29T10:00:00+03:00",
            "2026-03-29T11:00:00+03:00",
            "urn:uuid:0a4d1c3e-0000-4000-8000-0000000000ff",
        ),
        None,
    )]);
    let msg = h
        .post("", &bundle)
        .await
        .assert_outcome(StatusCode::BAD_REQUEST);
    assert!(msg.contains("Slot.schedule"), "names the element: {msg}");
    assert_eq!(h.count("Slot").await, before);

    // Asked for, the written resources come back; the base may be written with a
    // trailing slash.
    let bundle = transaction(vec![post_entry(
        &json!({ "resourceType": "Device", "status": "active" }),
        None,
    )]);
    let r = h
        .send(
            h.client
                .post(format!("{}/", h.url("")))
                .header(reqwest::header::CONTENT_TYPE, FHIR_JSON)
                .body(bundle.to_string())
                .header("prefer", "return=representation"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["entry"][0]["resource"]["status"], "active");
    assert_eq!(r.body["entry"][0]["resource"]["meta"]["versionId"], "1");
}

/// Asserts that nothing of the world changed: counts and the ward's version.
async fn assert_untouched(h: &Harness, slots: u64, locations: u64) {
    assert_eq!(h.count("Slot").await, slots, "Slots");
    assert_eq!(h.count("Location").await, locations, "Locations");
    assert_eq!(h.count("Schedule").await, 1, "Schedules");
    assert_eq!(h.get("Location/ward").await.version(), 1);
    assert_eq!(h.read("Location/ward/_history").await["total"], 1);
}

both_backends!(transaction_rolls_back);
async fn transaction_rolls_back(h: &Harness) {
    seed_bed_schedule(h, "sch").await;
    let new_room = location("room", "Huone 1", "ro", Some("ward"));
    let mut renamed = location("ward", "Osasto 1 (uusi)", "wa", None);
    renamed["status"] = json!("suspended");
    let good_slot = slot(
        "s1",
        "sch",
        "2026-03-29T10:00:00+03:00",
        "2026-03-29T11:00:00+03:00",
    );
    let failing: Vec<(Value, StatusCode, &str)> = vec![
        // A business rule (checked before the store is touched).
        (
            put_entry(&slot(
                "s2",
                "sch",
                "2026-03-29T12:00:00+03:00",
                "2026-03-29T12:00:00+03:00",
            )),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Slot.end",
        ),
        // A stale If-Match (found inside the store's transaction).
        (
            {
                let mut e = put_entry(&renamed);
                e["request"]["ifMatch"] = json!("W/\"9\"");
                e
            },
            StatusCode::PRECONDITION_FAILED,
            "Location/ward",
        ),
        // A structural error.
        (
            put_entry(&json!({ "resourceType": "Slot", "id": "s3", "status": 7 })),
            StatusCode::BAD_REQUEST,
            "Slot",
        ),
        // An entry the server cannot route.
        (
            json!({ "request": { "method": "POST", "url": "Nonsense" }, "resource": { "resourceType": "Nonsense" } }),
            StatusCode::NOT_FOUND,
            "Nonsense",
        ),
        // A read of something missing fails a transaction too.
        (
            json!({ "request": { "method": "GET", "url": "Location/missing" } }),
            StatusCode::NOT_FOUND,
            "Location/missing",
        ),
        // A delete of a resource that never existed answers 404: nothing commits.
        (
            json!({ "request": { "method": "DELETE", "url": "Location/never-was" } }),
            StatusCode::NOT_FOUND,
            "Location/never-was",
        ),
        // A read of what the same transaction deletes.
        (
            json!({ "request": { "method": "GET", "url": "Schedule/sch" } }),
            StatusCode::GONE,
            "Schedule/sch",
        ),
    ];
    for (bad, status, names) in failing {
        let bundle = transaction(vec![
            put_entry(&new_room),
            put_entry(&good_slot),
            json!({ "request": { "method": "DELETE", "url": "Schedule/sch" } }),
            put_entry(&json!({ "resourceType": "Location", "id": "ward", "name": "changed" })),
            bad,
        ]);
        let r = h.post("", &bundle).await;
        let msg = r.assert_outcome(status);
        assert!(msg.contains("entry[4]"), "names the entry: {msg}");
        assert!(msg.contains(names), "{msg}");
        assert_untouched(h, 0, 2).await;
        h.get("Location/room")
            .await
            .assert_outcome(StatusCode::NOT_FOUND);
        assert_eq!(h.read("Location/ward").await["name"], "Osasto 1");
    }
    // Without the bad entry the same transaction goes through.
    let bundle = transaction(vec![put_entry(&new_room), put_entry(&good_slot)]);
    let r = h.post("", &bundle).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_untouched(h, 1, 3).await;
}

both_backends!(conditional_references);
async fn conditional_references(h: &Harness) {
    seed_bed_schedule(h, "sch").await;
    let mut sch = schedule("sch", "Location/bed");
    sch["identifier"] = json!([{ "system": ID_SYSTEM, "value": "SCH-1" }]);
    h.put_resource(&sch).await;
    let cond = format!("Schedule?identifier={ID_SYSTEM}|SCH-1");

    // To a stored resource, by identifier (with or without the system).
    let bundle = batch(vec![
        post_entry(
            &unidentified_slot(
                "2026-03-29T10:00:00+03:00",
                "2026-03-29T11:00:00+03:00",
                &cond,
            ),
            None,
        ),
        post_entry(
            &unidentified_slot(
                "2026-03-29T11:00:00+03:00",
                "2026-03-29T12:00:00+03:00",
                "Schedule?identifier=SCH-1",
            ),
            None,
        ),
        post_entry(
            &unidentified_slot(
                "2026-03-29T12:00:00+03:00",
                "2026-03-29T13:00:00+03:00",
                &format!("Schedule?identifier={ID_SYSTEM}|SCH-404"),
            ),
            None,
        ),
        post_entry(
            &unidentified_slot(
                "2026-03-29T12:00:00+03:00",
                "2026-03-29T13:00:00+03:00",
                "Schedule?name=x",
            ),
            None,
        ),
    ]);
    let r = h.post("", &bundle).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(entry_statuses(&r.body), [201, 201, 422, 400]);
    let msg = diagnostics(&r.body["entry"][2]["response"]["outcome"]);
    assert!(msg.contains("SCH-404"), "{msg}");
    for entry in &r.body["entry"].as_array().unwrap()[..2] {
        let s = h.read(&entry_reference(entry)).await;
        assert_eq!(s["schedule"]["reference"], "Schedule/sch");
    }

    // To a resource created in the same transaction by a conditional update; the
    // adapter never learns the server ids.
    let mut loc = location("x", "Osasto 2", "wa", None);
    loc.as_object_mut().unwrap().remove("id");
    loc["identifier"] = json!([{ "system": ID_SYSTEM, "value": "WARD-2" }]);
    let new_sch = json!({
        "resourceType": "Schedule",
        "identifier": [{ "system": ID_SYSTEM, "value": "SCH-2" }],
        "actor": [{ "reference": format!("Location?identifier={ID_SYSTEM}|WARD-2") }]
    });
    let mut s = unidentified_slot(
        "2026-03-29T10:00:00+03:00",
        "2026-03-29T11:00:00+03:00",
        &format!("Schedule?identifier={ID_SYSTEM}|SCH-2"),
    );
    s["identifier"] = json!([{ "system": ID_SYSTEM, "value": "SLOT-2" }]);
    let bundle = transaction(vec![
        conditional_put_entry(&s, ID_SYSTEM, "SLOT-2"),
        conditional_put_entry(&new_sch, ID_SYSTEM, "SCH-2"),
        conditional_put_entry(&loc, ID_SYSTEM, "WARD-2"),
    ]);
    let r = h.post("", &bundle).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(entry_statuses(&r.body), [201, 201, 201]);
    let slot_ref = entry_reference(&r.body["entry"][0]);
    let sch_ref = entry_reference(&r.body["entry"][1]);
    let loc_ref = entry_reference(&r.body["entry"][2]);
    assert_eq!(
        h.read(&slot_ref).await["schedule"]["reference"],
        sch_ref.as_str()
    );
    assert_eq!(
        h.read(&sch_ref).await["actor"][0]["reference"],
        loc_ref.as_str()
    );
    // Sent again, everything resolves to the same resources and nothing changes.
    let r = h.post("", &bundle).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(entry_statuses(&r.body), [200, 200, 200]);
    assert_eq!(entry_reference(&r.body["entry"][0]), slot_ref);
    assert_eq!(h.get(&slot_ref).await.version(), 1);

    // An identifier shared by two resources is ambiguous: 422, nothing stored.
    let mut twin = schedule("twin", "Location/bed");
    twin["identifier"] = json!([{ "system": ID_SYSTEM, "value": "SCH-1" }]);
    h.put_resource(&twin).await;
    let before = h.count("Slot").await;
    let bundle = transaction(vec![post_entry(
        &unidentified_slot(
            "2026-03-29T10:00:00+03:00",
            "2026-03-29T11:00:00+03:00",
            &cond,
        ),
        None,
    )]);
    let msg = h
        .post("", &bundle)
        .await
        .assert_outcome(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(msg.contains("SCH-1"), "{msg}");
    assert_eq!(h.count("Slot").await, before);
}

both_backends!(bundle_shape_errors);
async fn bundle_shape_errors(h: &Harness) {
    let device = json!({ "resourceType": "Device", "status": "active" });
    for (body, status) in [
        (
            json!({ "resourceType": "Bundle", "type": "collection", "entry": [] }),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({ "resourceType": "Bundle", "entry": [] }),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({ "resourceType": "Bundle", "type": "batch", "entry": {} }),
            StatusCode::BAD_REQUEST,
        ),
        (device.clone(), StatusCode::BAD_REQUEST),
        (json!([1, 2, 3]), StatusCode::BAD_REQUEST),
        (
            transaction(vec![json!({ "resource": device })]),
            StatusCode::BAD_REQUEST,
        ),
        (
            transaction(vec![
                json!({ "request": { "method": "POST", "url": "Device" } }),
            ]),
            StatusCode::BAD_REQUEST,
        ),
        (
            transaction(vec![
                json!({ "request": { "method": "PUT", "url": "Device/a/b" }, "resource": device }),
            ]),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        h.post("", &body).await.assert_outcome(status);
    }
    assert_eq!(h.count("Device").await, 0);
    // Entry URLs may be absolute.
    let mut abs = device.clone();
    abs["id"] = json!("abs");
    let entry = json!({
        "resource": abs,
        "request": { "method": "PUT", "url": h.url("Device/abs") }
    });
    let r = h.post("", &transaction(vec![entry])).await;
    assert_eq!(entry_statuses(&r.body), [201], "{}", r.text);
    assert_eq!(h.read("Device/abs").await["id"], "abs");
    // An empty batch is fine.
    let r = h.post("", &batch(vec![])).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["type"], "batch-response");
}

fn small_bundles() -> ohjaamo_core::Config {
    ohjaamo_core::Config {
        max_bundle_entries: 10,
        ..ohjaamo_core::Config::default()
    }
}

both_backends!(too_many_entries, super::small_bundles());
async fn too_many_entries(h: &Harness) {
    let entry = |i: usize| {
        post_entry(
            &json!({ "resourceType": "Device", "status": "active", "serialNumber": i.to_string() }),
            None,
        )
    };
    let r = h.post("", &batch((0..11).map(entry).collect())).await;
    let msg = r.assert_outcome(StatusCode::PAYLOAD_TOO_LARGE);
    assert!(msg.contains("10"), "{msg}");
    assert_eq!(h.count("Device").await, 0);
    let r = h.post("", &batch((0..10).map(entry).collect())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(h.count("Device").await, 10);
}

both_backends!(one_identifier_written_two_ways_is_one_resource);
async fn one_identifier_written_two_ways_is_one_resource(h: &Harness) {
    seed_bed_schedule(h, "sch").await;
    let mut s = unidentified_slot(
        "2026-10-25T03:30:00+03:00",
        "2026-10-25T03:30:00+02:00",
        "Schedule/sch",
    );
    s["identifier"] = json!([{ "system": ID_SYSTEM, "value": "TWICE" }]);
    let mut later = s.clone();
    later["status"] = json!("free");
    let with_system = conditional_put_entry(&s, ID_SYSTEM, "TWICE");
    let mut without_system = conditional_put_entry(&later, ID_SYSTEM, "TWICE");
    without_system["request"]["url"] = json!("Slot?identifier=TWICE");
    for entries in [
        vec![with_system.clone(), without_system.clone()],
        vec![without_system, with_system],
    ] {
        let r = h.post("", &transaction(entries)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(h.count("Slot").await, 1, "{}", r.text);
    }
}

both_backends!(a_batch_entry_refused_for_if_match_is_not_referred_to);
async fn a_batch_entry_refused_for_if_match_is_not_referred_to(h: &Harness) {
    seed_bed_schedule(h, "sch").await;
    // A Schedule that does not exist yet, written with an If-Match that cannot hold,
    // and a Slot in the same batch that points at it.
    let mut new_schedule = put_entry(&json!({
        "resourceType": "Schedule", "id": "sch2", "active": true,
        "actor": [{ "reference": "Location/ward" }]
    }));
    new_schedule["request"]["ifMatch"] = json!("W/\"3\"");
    let dependent = put_entry(&slot(
        "s-dep",
        "sch2",
        "2026-03-29T10:00:00+03:00",
        "2026-03-29T11:00:00+03:00",
    ));
    let r = h.post("", &batch(vec![new_schedule, dependent])).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(entry_statuses(&r.body), [412, 422], "{}", r.text);
    h.get("Slot/s-dep")
        .await
        .assert_outcome(StatusCode::NOT_FOUND);
    h.get("Schedule/sch2")
        .await
        .assert_outcome(StatusCode::NOT_FOUND);
}
