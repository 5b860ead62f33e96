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
        "bedsTotal": 5, "bedsClosed": 1, "bedsOpen": 4, "occupied": 2, "reserved": 1,
        "freeNow": 1, "freeingToday": 1, "freeingTomorrow": 1, "overCapacityPatients": 1,
        "patients": 3, "occupancyPercent": 75.0
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
    assert_eq!(now.body["units"][0]["figures"]["bedsClosed"], 2);
    assert_eq!(now.body["units"][0]["figures"]["freeNow"], 0);
    // Before anything was written there was nothing.
    let empty = picture(h, "?at=2020-01-01T00:00:00Z").await;
    assert_eq!(empty.body["units"], json!([]), "{}", empty.text);
    for bad in [
        "?at=yesterday",
        "?at=2999-01-01T00:00:00Z",
        "?at=2026-01-01T00:00:00Z&kind=theatre",
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
        json!([{"deviceType": "infuusiopumppu", "total": 3, "inUse": 1, "free": 1, "inMaintenance": 1}]),
        "{}",
        r.text
    );
    assert_eq!(r.body["units"][0]["name"], "Heräämö");
    let r_equipment = r.body["units"][0]["figures"].clone();
    let r = picture(h, "?unit=u1&kind=staff").await;
    assert_eq!(
        r.body["units"][0]["figures"],
        json!([
            {"role": "lahihoitaja", "onShiftNow": 0, "onNextShift": 1},
            {"role": "sairaanhoitaja", "onShiftNow": 2, "onNextShift": 1},
        ]),
        "{}",
        r.text
    );
    let r_staff = r.body["units"][0]["figures"].clone();
    // As of before the pump in use was handed back and a nurse's shift was taken off
    // the roster: recomputed from history as the deriver computed it then.
    let before = Timestamp::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let mut returned = slot("kaytto-p3", "s-p3", &hours(-1), &hours(1));
    returned["status"] = json!("free");
    let mut off = role("r1", "sairaanhoitaja", -2, 6);
    off["active"] = json!(false);
    h.put_resource(&returned).await;
    h.put_resource(&off).await;
    let now = settled_picture(h, "?unit=u1&kind=equipment").await;
    assert_eq!(
        now.body["units"][0]["figures"][0]["inUse"], 0,
        "{}",
        now.text
    );
    let then = picture(h, &format!("?unit=u1&kind=equipment&at={before}")).await;
    assert_eq!(then.status, StatusCode::OK, "{}", then.text);
    assert_eq!(
        then.body["units"][0]["figures"], r_equipment,
        "{}",
        then.text
    );
    let then = picture(h, &format!("?unit=u1&kind=staff&at={before}")).await;
    assert_eq!(then.body["units"][0]["figures"], r_staff, "{}", then.text);
    let now = picture(h, "?unit=u1&kind=staff").await;
    assert_eq!(
        now.body["units"][0]["figures"][1]["onShiftNow"], 1,
        "{}",
        now.text
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

/// An operation as the pull adapter writes it: the room (and the bay, once in
/// recovery) as participants, the phase and real times as extensions.
fn operation(id: &str, room: &str, planned: (Timestamp, Timestamp), phase: &str) -> Value {
    json!({
        "resourceType": "Appointment", "id": id, "status": "booked",
        "description": format!("T-{id}"),
        "start": planned.0.to_string(), "end": planned.1.to_string(),
        "participant": [{"actor": {"reference": format!("Location/{room}")}, "status": "accepted"}],
        "extension": [{"url": format!("{EXTENSIONS}operation-phase"), "valueCode": phase}],
    })
}

const EXTENSIONS: &str = "https://ohjaamo.fi/fhir/StructureDefinition/";

fn with_extension(mut resource: Value, name: &str, element: &str, value: Value) -> Value {
    resource["extension"]
        .as_array_mut()
        .unwrap()
        .push(json!({"url": format!("{EXTENSIONS}{name}"), element: value}));
    resource
}

both_backends!(operating_rooms_and_the_recovery_unit);
async fn operating_rooms_and_the_recovery_unit(h: &Harness) {
    let zone = jiff::tz::TimeZone::get("Europe/Helsinki").unwrap();
    let now = Timestamp::now();
    let at = |minutes: i64| {
        now.checked_add(jiff::SignedDuration::from_mins(minutes))
            .unwrap()
    };
    let midnight = now
        .to_zoned_datetime(zone.clone())
        .start_of_day()
        .unwrap()
        .timestamp();
    let today = |t: Timestamp| t >= midnight && t <= now;
    let typed = |mut l: Value, code: &str| {
        l["type"] = json!([{"coding": [{"system": "https://ohjaamo.fi/fhir/CodeSystem/unit-kind", "code": code}]}]);
        l
    };
    let mut closed_bay = location("her3", "Paikka 3", "bd", Some("her"));
    closed_bay["operationalStatus"] =
        json!({"system": "http://terminology.hl7.org/CodeSystem/v2-0116", "code": "C"});
    let mut closure = slot(
        "sulku-sali2",
        "s-sali2",
        &at(-60).to_string(),
        &at(60).to_string(),
    );
    closure["status"] = json!("busy-unavailable");
    let period = |start: i64, end: Option<i64>| {
        let mut p = json!({"start": at(start).to_string()});
        if let Some(end) = end {
            p["end"] = json!(at(end).to_string());
        }
        p
    };
    // In the room since 50 minutes, planned for 90: expected to end in 40.
    let current = with_extension(
        operation("1", "sali1", (at(-60), at(30)), "in-operation"),
        "operation-actual",
        "valuePeriod",
        period(-50, None),
    );
    let next = operation("2", "sali1", (at(60), at(120)), "waiting");
    // In recovery bay 1 since 30 minutes, ready to leave, going to the ward.
    let mut recovering = operation("3", "sali1", (at(-150), at(-40)), "in-recovery");
    recovering["participant"]
        .as_array_mut()
        .unwrap()
        .push(json!({"actor": {"reference": "Location/her1"}, "status": "accepted"}));
    let recovering = with_extension(
        with_extension(
            with_extension(
                recovering,
                "operation-actual",
                "valuePeriod",
                period(-150, Some(-30)),
            ),
            "recovery-ready",
            "valueDateTime",
            json!(at(-10).to_string()),
        ),
        "discharge-destination",
        "valueReference",
        json!({"reference": "Location/os1"}),
    );
    // From theatre 2 through bay 2, home an hour ago.
    let mut gone = operation("4", "sali2", (at(-300), at(-200)), "left-recovery");
    gone["status"] = json!("fulfilled");
    gone["participant"]
        .as_array_mut()
        .unwrap()
        .push(json!({"actor": {"reference": "Location/her2"}, "status": "accepted"}));
    let gone = with_extension(
        with_extension(
            with_extension(
                gone,
                "operation-actual",
                "valuePeriod",
                period(-290, Some(-180)),
            ),
            "recovery-period",
            "valuePeriod",
            period(-180, Some(-60)),
        ),
        "discharge-destination",
        "valueCode",
        json!("home"),
    );
    let mut cancelled = operation("5", "sali2", (at(30), at(90)), "waiting");
    cancelled["status"] = json!("cancelled");
    // Beyond the week an operating room's next case is looked for in.
    let far = operation(
        "6",
        "sali2",
        (at(14 * 24 * 60), at(14 * 24 * 60 + 60)),
        "waiting",
    );
    h.seed(&[
        location("s1", "Sairaala 1", "si", None),
        typed(
            location("leik", "Leikkausosasto", "wa", Some("s1")),
            "theatre-suite",
        ),
        typed(
            location("sali1", "Sali 1", "ro", Some("leik")),
            "operating-room",
        ),
        typed(
            location("sali2", "Sali 2", "ro", Some("leik")),
            "operating-room",
        ),
        typed(
            location("her", "Heräämö", "wa", Some("s1")),
            "recovery-unit",
        ),
        location("her1", "Paikka 1", "bd", Some("her")),
        location("her2", "Paikka 2", "bd", Some("her")),
        closed_bay,
        location("os1", "Osasto 1", "wa", Some("s1")),
        schedule("s-sali2", "Location/sali2"),
        closure,
        current,
        next,
        recovering.clone(),
        gone,
        cancelled,
        far,
    ])
    .await;

    let r = settled_picture(h, "?kind=operating-room").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let unit = |body: &Value, id: &str| {
        body["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no picture of {id}: {body}"))
    };
    let sali1 = unit(&r.body, "sali1")["figures"].clone();
    assert_eq!(sali1["state"], "in-use", "{sali1}");
    assert_eq!(sali1["currentCase"], "T-1");
    assert_eq!(sali1["currentPlannedEnd"], json!(at(30).to_string()));
    assert_eq!(sali1["currentExpectedEnd"], json!(at(40).to_string()));
    assert_eq!(sali1["nextCase"], "T-2");
    assert_eq!(
        sali1["casesLeftToday"],
        u32::from(at(60) < midnight_after(&zone, now))
    );
    // Case 1 since 50 minutes, case 3 for two hours before it (from midnight, if later).
    let today_part = |from: Timestamp, to: Timestamp| {
        to.max(midnight)
            .duration_since(from.max(midnight))
            .as_secs()
    };
    let in_use = ((today_part(at(-50), now) + today_part(at(-150), at(-30))) / 60) as u64;
    // The deriver's clock runs a little after ours: a minute may have turned.
    let used = sali1["useTodayMinutes"].as_u64().unwrap();
    assert!((in_use..=in_use + 1).contains(&used), "{sali1}");
    let sali2 = unit(&r.body, "sali2");
    assert_eq!(sali2["figures"]["state"], "closed", "{sali2}");
    assert_eq!(sali2["figures"]["nextCase"], Value::Null, "{sali2}");
    assert_eq!(
        sali2["site"], "s1",
        "an operating room's site is its suite's"
    );
    // The suite and the recovery unit have no ward picture; the ward has.
    let wards = picture(h, "?kind=ward").await;
    let ward_ids: Vec<&str> = wards.body["units"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["id"].as_str())
        .collect();
    assert_eq!(ward_ids, ["os1"]);

    let r = picture(h, "?kind=recovery-unit&unit=her").await;
    let her = r.body["units"][0]["figures"].clone();
    assert_eq!(
        (
            &her["baysTotal"],
            &her["baysClosed"],
            &her["baysOccupied"],
            &her["baysFree"],
            &her["patients"],
            &her["waitingForWardBed"]
        ),
        (
            &json!(3),
            &json!(1),
            &json!(1),
            &json!(1),
            &json!(1),
            &json!(1)
        ),
        "{her}"
    );
    // Case 1 is expected out in 40 minutes, case 2 at its planned end in two hours.
    let first_hour: Timestamp = her["expectedArrivals"][0]["hourStart"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let mut expected = vec![0; 8];
    for end in [at(40), at(120)] {
        expected[(end.duration_since(first_hour).as_secs() / 3600) as usize] += 1;
    }
    let counts: Vec<u64> = her["expectedArrivals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["count"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, expected, "{her}");
    let mut flows = Vec::new();
    if today(at(-60)) {
        flows.push(json!({"from": "her", "to": "home", "count": 1}));
    }
    let from_sali1 = u32::from(today(at(-30)));
    if from_sali1 > 0 {
        flows.push(json!({"from": "sali1", "to": "her", "count": from_sali1}));
    }
    if today(at(-180)) {
        flows.push(json!({"from": "sali2", "to": "her", "count": 1}));
    }
    assert_eq!(her["flowsToday"], json!(flows), "{her}");

    // Case 3 leaves for the ward: recomputed from that one change.
    let mut left = recovering;
    left["status"] = json!("fulfilled");
    for e in left["extension"].as_array_mut().unwrap() {
        if e["url"] == format!("{EXTENSIONS}operation-phase") {
            e["valueCode"] = json!("left-recovery");
        }
    }
    let left = with_extension(left, "recovery-period", "valuePeriod", period(-30, Some(0)));
    let before = Timestamp::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    h.put_resource(&left).await;
    let r = settled_picture(h, "?kind=recovery-unit&unit=her").await;
    let her = &r.body["units"][0]["figures"];
    assert_eq!(
        (
            &her["baysOccupied"],
            &her["baysFree"],
            &her["waitingForWardBed"]
        ),
        (&json!(0), &json!(2), &json!(0)),
        "{her}"
    );
    assert!(
        her["flowsToday"]
            .as_array()
            .unwrap()
            .contains(&json!({"from": "her", "to": "os1", "count": 1})),
        "{her}"
    );
    // As of before case 3 left, from history: the patient still waiting for a bed,
    // and the operating rooms as they were.
    let then = picture(h, &format!("?at={before}")).await;
    assert_eq!(then.status, StatusCode::OK, "{}", then.text);
    let her_then = unit(&then.body, "her")["figures"].clone();
    assert_eq!(
        (&her_then["baysOccupied"], &her_then["waitingForWardBed"]),
        (&json!(1), &json!(1)),
        "{her_then}"
    );
    let sali1_then = unit(&then.body, "sali1")["figures"].clone();
    assert_eq!(
        (
            &sali1_then["state"],
            &sali1_then["currentCase"],
            &sali1_then["nextCase"]
        ),
        (&json!("in-use"), &json!("T-1"), &json!("T-2")),
        "{sali1_then}"
    );
    assert_eq!(unit(&then.body, "sali2")["figures"]["state"], "closed");
}

/// The next local midnight after `now`.
fn midnight_after(zone: &jiff::tz::TimeZone, now: Timestamp) -> Timestamp {
    now.to_zoned_datetime(zone.clone())
        .date()
        .tomorrow()
        .unwrap()
        .to_zoned_datetime(zone.clone())
        .unwrap()
        .timestamp()
}

both_backends!(kept_places_agree_with_a_fresh_recompute);
/// The deriver keeps what it read of each bed between rounds and forgets what a
/// change touched; after a run of changes of every kind (stays, holds, ends, closures,
/// beds moved between wards, Slots deleted) its pictures equal the ones recomputed
/// from scratch.
async fn kept_places_agree_with_a_fresh_recompute(h: &Harness) {
    let now = Timestamp::now();
    let hours = |n: i64| {
        now.checked_add(jiff::SignedDuration::from_hours(n))
            .unwrap()
            .to_string()
    };
    let mut seed = vec![];
    for w in 0..3 {
        seed.push(location(
            &format!("w{w}"),
            &format!("Osasto {w}"),
            "wa",
            None,
        ));
        for b in 0..5 {
            let bed = format!("w{w}b{b}");
            seed.push(location(&bed, &bed, "bd", Some(&format!("w{w}"))));
            seed.push(schedule(&format!("s-{bed}"), &format!("Location/{bed}")));
        }
    }
    h.seed(&seed).await;
    // A fixed pseudo-random walk (no dependency for it), the same every run.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n
    };
    for step in 0..60 {
        let bed = format!("w{}b{}", next(3), next(5));
        match next(6) {
            0 | 1 => {
                let mut s = slot(
                    &format!("slot-{}", next(8)),
                    &format!("s-{bed}"),
                    &hours(-1),
                    &hours(1 + next(40) as i64),
                );
                s["status"] = json!(["busy", "busy-tentative", "free"][next(3) as usize]);
                h.put_resource(&s).await;
            }
            2 => {
                let mut l = location(&bed, &bed, "bd", Some(&format!("w{}", next(3))));
                if next(2) == 0 {
                    l["operationalStatus"] = json!({"system": "http://terminology.hl7.org/CodeSystem/v2-0116", "code": "C"});
                }
                h.put_resource(&l).await;
            }
            3 => {
                // A Slot moves to another bed's Schedule.
                let s = slot(
                    &format!("slot-{}", next(8)),
                    &format!("s-{bed}"),
                    &hours(-2),
                    &hours(3),
                );
                h.put_resource(&s).await;
            }
            4 => {
                // Gone: the deriver finds its bed only in the version before.
                let r = h.delete(&format!("Slot/slot-{}", next(8))).await;
                // Not written yet (or gone already) is 404: nothing to follow.
                assert!(
                    r.status.is_success() || r.status == StatusCode::NOT_FOUND,
                    "{}",
                    r.text
                );
            }
            _ => {
                let mut s = slot(
                    &format!("slot-{}", next(8)),
                    &format!("s-{bed}"),
                    &hours(-3),
                    &hours(-1),
                );
                s["status"] = json!("busy");
                h.put_resource(&s).await;
            }
        }
        if step % 7 == 0 {
            h.wait_for_pictures().await;
        }
    }
    let kept = settled_picture(h, "?kind=ward").await;
    let fresh = picture(h, &format!("?kind=ward&at={}", Timestamp::now())).await;
    let figures = |body: &Value| {
        let mut units: Vec<(String, Value)> = body["units"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| (u["id"].as_str().unwrap().to_owned(), u["figures"].clone()))
            .collect();
        units.sort_by(|a, b| a.0.cmp(&b.0));
        units
    };
    assert_eq!(
        figures(&kept.body),
        figures(&fresh.body),
        "{}\n{}",
        kept.text,
        fresh.text
    );
    assert_eq!(figures(&kept.body).len(), 3);
}

both_backends!(a_unit_counts_its_day_in_its_own_time_zone);
/// A ward whose Location names its IANA time zone counts "today" there, and its
/// capacity report's period is that day.
async fn a_unit_counts_its_day_in_its_own_time_zone(h: &Harness) {
    let mut tokyo = location("tokyo", "Osasto Tokio", "wa", None);
    tokyo["extension"] = json!([{"url": "http://hl7.org/fhir/StructureDefinition/timezone", "valueCode": "Asia/Tokyo"}]);
    h.seed(&[tokyo, location("home", "Osasto 1", "wa", None)])
        .await;
    let r = settled_picture(h, "?kind=ward").await;
    let zone_of = |id: &str| {
        r.body["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["id"] == id)
            .map(|u| u["timeZone"].clone())
    };
    assert_eq!(zone_of("tokyo"), Some(json!("Asia/Tokyo")), "{}", r.text);
    assert_eq!(
        zone_of("home"),
        Some(json!("Europe/Helsinki")),
        "{}",
        r.text
    );
    let report = h.get("MeasureReport/ward-capacity-tokyo").await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text);
    let start = report.body["period"]["start"].as_str().unwrap();
    assert!(start.ends_with("T00:00:00+09:00"), "{start}");
}
