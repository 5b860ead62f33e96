//! Date search: every prefix (eq, ne, lt, le, gt, ge, sa, eb) with boundary cases,
//! instants around the daylight-saving changes in Europe/Helsinki, values without an
//! offset (read in Helsinki), Periods (Encounter.date), and `_lastUpdated`.
//!
//! 2026-03-29: 03:00 local jumps to 04:00 (01:00Z); the local day is 23 hours,
//! [2026-03-28T22:00Z, 2026-03-29T21:00Z).
//! 2026-10-25: 04:00 local falls back to 03:00 (01:00Z); the local day is 25 hours,
//! [2026-10-24T21:00Z, 2026-10-25T22:00Z).

#[macro_use]
mod common;

use common::*;
use serde_json::{Value, json};

/// Slots around the spring change, `(id, start)`, in time order. Each lasts 30 min.
const SPRING: &[(&str, &str)] = &[
    ("s-before", "2026-03-28T23:59:59+02:00"), // 21:59:59Z, the last second of the 28th
    ("s-first", "2026-03-29T00:00:00+02:00"),  // 22:00:00Z on the 28th, local midnight
    ("s-0030", "2026-03-29T00:30:00+02:00"),
    ("s-0259", "2026-03-29T02:59:59+02:00"), // 00:59:59Z, the last second before the jump
    ("s-0400", "2026-03-29T04:00:00+03:00"), // 01:00:00Z, the first second after it
    ("s-noon", "2026-03-29T09:00:00Z"),      // 12:00+03:00, written in UTC
    ("s-last", "2026-03-29T23:59:59+03:00"), // 20:59:59Z, the last second of the day
    ("s-after", "2026-03-30T00:00:00+03:00"), // 21:00:00Z, the next local midnight
];

/// Slots around the autumn change.
const AUTUMN: &[(&str, &str)] = &[
    ("a-before", "2026-10-24T23:59:59+03:00"), // 20:59:59Z
    ("a-first", "2026-10-25T00:00:00+03:00"),  // 21:00Z on the 24th
    ("a-0330s", "2026-10-25T03:30:00+03:00"),  // 00:30Z, the first 03:30 (summer time)
    ("a-0330w", "2026-10-25T03:30:00+02:00"),  // 01:30Z, the second 03:30 (winter time)
    ("a-0400", "2026-10-25T04:00:00+02:00"),   // 02:00Z
    ("a-last", "2026-10-25T23:59:59+02:00"),   // 21:59:59Z
    ("a-after", "2026-10-26T00:00:00+02:00"),  // 22:00Z, the next local midnight
];

fn ids(set: &[(&'static str, &str)], pick: &[usize]) -> Vec<&'static str> {
    pick.iter().map(|i| set[*i].0).collect()
}

async fn seed_slots(h: &Harness) {
    let mut resources = vec![
        location("ward", "Osasto 1", "wa", None),
        location("bed", "Vuode 1", "bd", Some("ward")),
        schedule("spring", "Location/bed"),
        schedule("autumn", "Location/bed"),
    ];
    for (sch, set) in [("spring", SPRING), ("autumn", AUTUMN)] {
        for (id, start) in set {
            let end = start.parse::<jiff::Timestamp>().expect("a test instant")
                + jiff::SignedDuration::from_mins(30);
            resources.push(slot(id, sch, start, &end.to_string()));
        }
    }
    h.seed(&resources).await;
}

both_backends!(spring_forward_day);
async fn spring_forward_day(h: &Harness) {
    seed_slots(h).await;
    let all: Vec<usize> = (0..SPRING.len()).collect();
    let inside = &all[1..7]; // s-first ..= s-last
    let (before, after) = (&[0][..], &[7][..]);
    let cases: &[(&str, Vec<usize>)] = &[
        // The 23-hour local day, with every prefix.
        ("2026-03-29", inside.to_vec()),
        ("eq2026-03-29", inside.to_vec()),
        ("ne2026-03-29", [before, after].concat()),
        ("lt2026-03-29", before.to_vec()),
        ("le2026-03-29", all[..7].to_vec()),
        ("gt2026-03-29", after.to_vec()),
        ("ge2026-03-29", all[1..].to_vec()),
        ("sa2026-03-29", after.to_vec()),
        ("eb2026-03-29", before.to_vec()),
        // Times without an offset are Helsinki time: 04:00 is 01:00Z, after the jump.
        ("ge2026-03-29T04:00", vec![4, 5, 6, 7]),
        ("lt2026-03-29T04:00", vec![0, 1, 2, 3]),
        ("2026-03-29T04:00", vec![4]),
        ("2026-03-29T02:59:59", vec![3]),
        ("gt2026-03-29T02:59:59", vec![4, 5, 6, 7]),
        ("le2026-03-29T02:59:59", vec![0, 1, 2, 3]),
        ("sa2026-03-29T02:59:59", vec![4, 5, 6, 7]),
        ("eb2026-03-29T04:00:00", vec![0, 1, 2, 3]),
        // The same instant written three ways.
        ("2026-03-29T04:00:00+03:00", vec![4]),
        ("2026-03-29T03:00:00+02:00", vec![4]),
        ("2026-03-29T01:00:00Z", vec![4]),
        ("ne2026-03-29T01:00:00Z", vec![0, 1, 2, 3, 5, 6, 7]),
        // 03:30 does not exist that night; it is read as 03:30+02:00 = 04:30+03:00.
        ("2026-03-29T03:30", vec![]),
        ("ge2026-03-29T03:30", vec![5, 6, 7]),
        // The first and last second of the local day, and the day's UTC edges.
        ("ge2026-03-28T22:00:00Z", all[1..].to_vec()),
        ("lt2026-03-28T22:00:00Z", before.to_vec()),
        ("lt2026-03-29T21:00:00Z", all[..7].to_vec()),
        ("ge2026-03-29T21:00:00Z", after.to_vec()),
        // Month and year precision; OR and AND.
        ("2026-03", all.clone()),
        ("2026", all.clone()),
        ("2026-03-28,2026-03-30", [before, after].concat()),
        ("lt2026-03-28,gt2026-03-29", after.to_vec()),
    ];
    for (value, expected) in cases {
        let params = [("schedule", "spring"), ("start", value)];
        h.assert_search("Slot", &params, &ids(SPRING, expected))
            .await;
    }
    let params = [
        ("schedule", "spring"),
        ("start", "ge2026-03-29T00:30"),
        ("start", "lt2026-03-29T04:00"),
    ];
    h.assert_search("Slot", &params, &["s-0030", "s-0259"])
        .await;
}

both_backends!(fall_back_day);
async fn fall_back_day(h: &Harness) {
    seed_slots(h).await;
    let cases: &[(&str, &[usize])] = &[
        // The 25-hour local day.
        ("2026-10-25", &[1, 2, 3, 4, 5]),
        ("ne2026-10-25", &[0, 6]),
        ("lt2026-10-25", &[0]),
        ("le2026-10-25", &[0, 1, 2, 3, 4, 5]),
        ("gt2026-10-25", &[6]),
        ("ge2026-10-25", &[1, 2, 3, 4, 5, 6]),
        ("sa2026-10-25", &[6]),
        ("eb2026-10-25", &[0]),
        // 03:30 happens twice; without an offset it is the first one (summer time).
        ("2026-10-25T03:30", &[2]),
        ("ge2026-10-25T03:30", &[2, 3, 4, 5, 6]),
        ("gt2026-10-25T03:30", &[3, 4, 5, 6]),
        ("2026-10-25T03:30+02:00", &[3]),
        ("2026-10-25T01:30:00Z", &[3]),
        ("ge2026-10-25T01:00:00Z", &[3, 4, 5, 6]),
        ("lt2026-10-25T01:00:00Z", &[0, 1, 2]),
        // 04:00 exists once, in winter time: 02:00Z.
        ("2026-10-25T04:00", &[4]),
        ("ge2026-10-25T22:00:00Z", &[6]),
        ("lt2026-10-24T21:00:00Z", &[0]),
    ];
    for (value, expected) in cases {
        let params = [("schedule", "autumn"), ("start", value)];
        h.assert_search("Slot", &params, &ids(AUTUMN, expected))
            .await;
    }
}

both_backends!(sort_by_start);
async fn sort_by_start(h: &Harness) {
    seed_slots(h).await;
    let ascending: Vec<&str> = SPRING.iter().chain(AUTUMN).map(|(id, _)| *id).collect();
    let b = h
        .search("Slot", &[("_sort", "start"), ("_count", "100")])
        .await;
    assert_eq!(match_ids(&b), ascending);
    let b = h
        .search("Slot", &[("_sort", "-start"), ("_count", "100")])
        .await;
    let mut descending = ascending.clone();
    descending.reverse();
    assert_eq!(match_ids(&b), descending);
}

// Encounters whose Periods sit in every relation to 2026-03-29 (local day
// [2026-03-28T22:00Z, 2026-03-29T21:00Z)), and what each prefix must find.
both_backends!(period_prefixes);
async fn period_prefixes(h: &Harness) {
    let enc = |id: &str, start: Option<&str>, end: Option<&str>| {
        let mut e = json!({
            "resourceType": "Encounter", "id": id, "status": "finished",
            "class": { "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP" },
            "period": {}
        });
        if let Some(s) = start {
            e["period"]["start"] = json!(s);
        }
        if let Some(x) = end {
            e["period"]["end"] = json!(x);
        }
        e
    };
    h.seed(&[
        enc(
            "inside",
            Some("2026-03-29T08:00:00+03:00"),
            Some("2026-03-29T16:00:00+03:00"),
        ),
        enc("whole-day", Some("2026-03-29"), Some("2026-03-29")),
        enc(
            "over-start",
            Some("2026-03-28T20:00:00+02:00"),
            Some("2026-03-29T10:00:00+03:00"),
        ),
        enc(
            "over-end",
            Some("2026-03-29T20:00:00+03:00"),
            Some("2026-03-30T10:00:00+03:00"),
        ),
        enc(
            "spanning",
            Some("2026-03-28T10:00:00+02:00"),
            Some("2026-03-30T10:00:00+03:00"),
        ),
        enc("open-end", Some("2026-03-29T10:00:00+03:00"), None),
        enc("open-start", None, Some("2026-03-29T10:00:00+03:00")),
        enc(
            "before",
            Some("2026-03-27T10:00:00+02:00"),
            Some("2026-03-28T23:00:00+02:00"),
        ),
        // Ends in the last second before the day: its range ends exactly at midnight.
        enc(
            "touch-before",
            Some("2026-03-28T20:00:00+02:00"),
            Some("2026-03-28T23:59:59+02:00"),
        ),
        enc(
            "after",
            Some("2026-03-30T00:00:00+03:00"),
            Some("2026-03-30T08:00:00+03:00"),
        ),
    ])
    .await;
    let table: &[(&str, &[&str])] = &[
        ("eq", &["inside", "whole-day"]),
        (
            "ne",
            &[
                "over-start",
                "over-end",
                "spanning",
                "open-end",
                "open-start",
                "before",
                "touch-before",
                "after",
            ],
        ),
        (
            "lt",
            &[
                "over-start",
                "spanning",
                "open-start",
                "before",
                "touch-before",
            ],
        ),
        (
            "le",
            &[
                "inside",
                "whole-day",
                "over-start",
                "spanning",
                "open-start",
                "before",
                "touch-before",
            ],
        ),
        ("gt", &["over-end", "spanning", "open-end", "after"]),
        (
            "ge",
            &[
                "inside",
                "whole-day",
                "over-end",
                "spanning",
                "open-end",
                "after",
            ],
        ),
        ("sa", &["after"]),
        ("eb", &["before", "touch-before"]),
    ];
    for (prefix, expected) in table {
        h.assert_search(
            "Encounter",
            &[("date", &format!("{prefix}2026-03-29"))],
            expected,
        )
        .await;
    }
    // Sorting by a Period: ascending by its start, descending by its end; an
    // open start sorts first ascending, an open end first descending.
    // Ties go by id.
    let b = h.search("Encounter", &[("_sort", "date")]).await;
    let ascending = [
        "open-start",
        "before",
        "spanning",
        "over-start",
        "touch-before",
        "whole-day",
        "inside",
        "open-end",
        "over-end",
        "after",
    ];
    assert_eq!(match_ids(&b), ascending);
    let b = h.search("Encounter", &[("_sort", "-date")]).await;
    let descending = [
        "open-end",
        "over-end",
        "spanning",
        "after",
        "whole-day",
        "inside",
        "open-start",
        "over-start",
        "touch-before",
        "before",
    ];
    assert_eq!(match_ids(&b), descending);
}

both_backends!(last_updated);
async fn last_updated(h: &Harness) {
    let device = |id: &str| json!({ "resourceType": "Device", "id": id, "status": "active" });
    h.put_resource(&device("first")).await;
    let first = h.read("Device/first").await;
    // Make sure the second write is stamped later than the first, whatever the
    // clock's resolution.
    let mut second = Value::Null;
    for n in 0..1000 {
        let mut d = device("second");
        d["serialNumber"] = json!(n.to_string());
        h.put_resource(&d).await;
        second = h.read("Device/second").await;
        if second["meta"]["lastUpdated"] != first["meta"]["lastUpdated"] {
            break;
        }
    }
    let t1 = first["meta"]["lastUpdated"].as_str().unwrap();
    let t2 = second["meta"]["lastUpdated"].as_str().unwrap();
    assert!(t1 < t2, "{t1} < {t2}");

    let checks: &[(String, &[&str])] = &[
        (t1.to_owned(), &["first"]),
        (format!("eq{t2}"), &["second"]),
        (format!("ge{t1}"), &["first", "second"]),
        (format!("gt{t1}"), &["second"]),
        (format!("sa{t1}"), &["second"]),
        (format!("lt{t2}"), &["first"]),
        (format!("eb{t2}"), &["first"]),
        (format!("le{t2}"), &["first", "second"]),
        (format!("ne{t1}"), &["second"]),
        ("ge2020-01-01".to_owned(), &["first", "second"]),
        ("lt2020-01-01".to_owned(), &[]),
        (format!("{t1},{t2}"), &["first", "second"]),
    ];
    for (value, expected) in checks {
        h.assert_search("Device", &[("_lastUpdated", value)], expected)
            .await;
    }
    // Sorted by when they changed.
    let b = h.search("Device", &[("_sort", "-_lastUpdated")]).await;
    assert_eq!(match_ids(&b), ["second", "first"]);
    // An update moves a resource's lastUpdated.
    let mut d = device("first");
    d["status"] = json!("inactive");
    h.put_resource(&d).await;
    let b = h.search("Device", &[("_sort", "_lastUpdated")]).await;
    assert_eq!(match_ids(&b), ["second", "first"]);
    h.assert_search(
        "Device",
        &[("_lastUpdated", &format!("gt{t2}"))],
        &["first"],
    )
    .await;
}
