//! `GET /picture`: a ward's figures from its beds, their occupancy derived from
//! stays, and holds — as of now in the core's time zone.

#[macro_use]
mod common;

use common::*;
use jiff::Timestamp;
use reqwest::StatusCode;
use serde_json::{Value, json};

const PLANNED_END: &str =
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-Encounter.plannedEndDate";
const PLACE_KIND: &str = "https://ohjaamo.fi/fhir/CodeSystem/place-kind";

fn stay(id: &str, bed: &str, start: Timestamp, planned: Option<&str>) -> Value {
    let mut e = json!({
        "resourceType": "Encounter",
        "id": id,
        "status": "in-progress",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
        "period": {"start": start.to_string()},
        "location": [{"location": {"reference": format!("Location/{bed}")}, "status": "active",
                      "period": {"start": start.to_string()}}],
    });
    if let Some(date) = planned {
        e["extension"] = json!([{"url": PLANNED_END, "valueDateTime": date}]);
    }
    e
}

async fn picture(h: &Harness, query: &str) -> Resp {
    let root = h.url("").trim_end_matches("/fhir").to_owned();
    h.get_absolute(&format!("{root}/picture{query}")).await
}

/// The picture once the deriver has dealt with every event so far.
async fn settled_picture(h: &Harness, query: &str) -> Resp {
    h.wait_for_pictures().await;
    picture(h, query).await
}

both_backends!(a_ward_s_figures);
async fn a_ward_s_figures(h: &Harness) {
    let zone = jiff::tz::TimeZone::get("Europe/Helsinki").unwrap();
    let now = Timestamp::now();
    let today = now.to_zoned_datetime(zone.clone()).date();
    let tomorrow = today.tomorrow().unwrap();
    let yesterday = now
        .checked_sub(jiff::SignedDuration::from_hours(24))
        .unwrap();

    let mut closed = location("b4", "Vuode 4", "bd", Some("ward"));
    closed["operationalStatus"] =
        json!({"system": "http://terminology.hl7.org/CodeSystem/v2-0116", "code": "C"});
    let mut over = location("y1", "Ylipaikka 1", "bd", Some("ward"));
    over["type"] = json!([{"coding": [{"system": PLACE_KIND, "code": "over-capacity"}]}]);
    let mut resources = vec![location("ward", "Osasto 1", "wa", None)];
    for b in ["b1", "b2", "b3", "b5"] {
        resources.push(location(b, b, "bd", Some("ward")));
    }
    resources.extend([closed, over]);
    for b in ["b1", "b2", "b3", "b4", "b5", "y1"] {
        resources.push(schedule(&format!("s-{b}"), &format!("Location/{b}")));
    }
    h.seed(&resources).await;
    // b1 leaves today, b2 tomorrow, y1 (over capacity) has no planned day; b3 is held
    // for an incoming patient for the next two hours; b5 is free.
    h.put_resource(&stay("e1", "b1", yesterday, Some(&today.to_string())))
        .await;
    h.put_resource(&stay("e2", "b2", yesterday, Some(&tomorrow.to_string())))
        .await;
    h.put_resource(&stay("e3", "y1", yesterday, None)).await;
    let mut held = slot(
        "hold-b3",
        "s-b3",
        &now.to_string(),
        &now.checked_add(jiff::SignedDuration::from_hours(2))
            .unwrap()
            .to_string(),
    );
    held["status"] = json!("busy-tentative");
    h.put_resource(&held).await;

    let r = settled_picture(h, "?unit=ward").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let figures = &r.body["units"][0]["figures"];
    assert_eq!(r.body["units"][0]["name"], "Osasto 1");
    let expect = json!({
        "beds_total": 5, "beds_closed": 1, "beds_open": 4, "occupied": 2, "reserved": 1,
        "free_now": 1, "freeing_today": 1, "freeing_tomorrow": 1, "over_capacity_patients": 1,
        "patients": 3, "occupancy_percent": 75.0
    });
    assert_eq!(figures, &expect, "{}", r.text);
    // The same figures as a SANER-shaped MeasureReport, found by a FHIR search.
    let reports = h
        .search("MeasureReport", &[("subject", "Location/ward")])
        .await;
    let report = &reports["entry"][0]["resource"];
    assert_eq!(report["type"], "summary", "{reports}");
    let count = |code: &str| {
        report["group"][0]["population"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["code"]["coding"][1]["code"] == code)
            .map(|p| p["count"].clone())
    };
    assert_eq!(count("total-beds"), Some(json!(5)));
    assert_eq!(count("occupied-beds"), Some(json!(2)));
    assert_eq!(count("available-beds"), Some(json!(1)));
    assert_eq!(count("freeing-today"), Some(json!(1)));
    assert_eq!(count("freeing-tomorrow"), Some(json!(1)));
    assert_eq!(count("over-capacity-patients"), Some(json!(1)));

    // Every ward when no unit is named.
    let all = picture(h, "").await;
    assert_eq!(
        all.body["units"].as_array().map(Vec::len),
        Some(1),
        "{}",
        all.text
    );

    // What is not served yet says so.
    assert_eq!(
        picture(h, "?kind=theatre").await.status,
        StatusCode::BAD_REQUEST
    );
    // As of an instant: recomputed from history. Close b5 now; the picture as of before
    // still has it free.
    let before = Timestamp::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let mut b5 = location("b5", "b5", "bd", Some("ward"));
    b5["operationalStatus"] =
        json!({"system": "http://terminology.hl7.org/CodeSystem/v2-0116", "code": "C"});
    h.put_resource(&b5).await;
    let then = picture(h, &format!("?unit=ward&at={}", before)).await;
    assert_eq!(then.status, StatusCode::OK, "{}", then.text);
    assert_eq!(then.body["units"][0]["figures"], expect, "{}", then.text);
    assert!(then.body["sequence"].as_i64().is_some(), "{}", then.text);
    let now = settled_picture(h, "?unit=ward").await;
    assert_eq!(now.body["units"][0]["figures"]["beds_closed"], 2);
    assert_eq!(now.body["units"][0]["figures"]["free_now"], 0);
    // Before anything was written there was nothing.
    let empty = picture(h, "?at=2020-01-01T00:00:00Z").await;
    assert_eq!(empty.body["units"], json!([]), "{}", empty.text);
    for bad in [
        "?at=yesterday",
        "?at=2999-01-01T00:00:00Z",
        "?at=2026-01-01T00:00:00Z&kind=equipment",
    ] {
        assert_eq!(
            picture(h, bad).await.status,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
    assert_eq!(picture(h, "?unit=nope").await.status, StatusCode::NOT_FOUND);
}

both_backends!(equipment_and_staff_of_a_unit);
async fn equipment_and_staff_of_a_unit(h: &Harness) {
    let now = Timestamp::now();
    let hours = |n: i64| {
        now.checked_add(jiff::SignedDuration::from_hours(n))
            .unwrap()
            .to_string()
    };
    let device = |id: &str, kind: &str, status: &str| {
        json!({"resourceType": "Device", "id": id, "status": status,
               "type": {"coding": [{"system": "https://ohjaamo.fi/fhir/CodeSystem/equipment-kind", "code": kind}]},
               "location": {"reference": "Location/u1"}})
    };
    let device_schedule = |id: &str| json!({"resourceType": "Schedule", "id": format!("s-{id}"), "actor": [{"reference": format!("Device/{id}")}]});
    let role = |id: &str, code: &str, start: i64, end: i64| {
        json!({"resourceType": "PractitionerRole", "id": id, "active": true,
               "period": {"start": hours(start), "end": hours(end)},
               "code": [{"coding": [{"system": "https://ohjaamo.fi/fhir/CodeSystem/staff-role", "code": code}]}],
               "location": [{"reference": "Location/u1"}]})
    };
    let mut serviced = slot("huolto-p2", "s-p2", &hours(-1), &hours(2));
    serviced["status"] = json!("busy-unavailable");
    let mut in_use = slot("kaytto-p3", "s-p3", &hours(-1), &hours(1));
    in_use["status"] = json!("busy");
    h.seed(&[
        location("u1", "Heräämö", "wa", None),
        device("p1", "infuusiopumppu", "active"),
        device("p2", "infuusiopumppu", "active"),
        device("p3", "infuusiopumppu", "active"),
        device("v1", "ventilaattori", "inactive"),
        device_schedule("p2"),
        device_schedule("p3"),
        serviced,
        in_use,
        role("r1", "sairaanhoitaja", -2, 6),
        role("r2", "sairaanhoitaja", -2, 6),
        role("r3", "sairaanhoitaja", 6, 14),
        role("r4", "lahihoitaja", 6, 14),
    ])
    .await;
    let r = settled_picture(h, "?unit=u1&kind=equipment").await;
    assert_eq!(
        r.body["units"][0]["figures"],
        json!([{"device_type": "infuusiopumppu", "total": 3, "in_use": 1, "free": 1, "in_maintenance": 1}]),
        "{}",
        r.text
    );
    assert_eq!(r.body["units"][0]["name"], "Heräämö");
    let r = picture(h, "?unit=u1&kind=staff").await;
    assert_eq!(
        r.body["units"][0]["figures"],
        json!([
            {"role": "lahihoitaja", "on_shift_now": 0, "on_next_shift": 1},
            {"role": "sairaanhoitaja", "on_shift_now": 2, "on_next_shift": 1},
        ]),
        "{}",
        r.text
    );
    // The unit's three pictures side by side.
    let all = picture(h, "?unit=u1").await;
    let mut kinds: Vec<&str> = all.body["units"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["kind"].as_str())
        .collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["equipment", "staff", "ward"]);
}
