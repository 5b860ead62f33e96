//! "What is on this bed now": the Slots of a Schedule that overlap a window, read
//! from the scoped `start` rows by how long each Slot lasts (`scope_until`), not from
//! every Slot the Schedule ever had; and the bed-and-day search over the scoped rows
//! finding exactly what a search without the Schedule finds, long stays included.

#[macro_use]
mod common;

use common::*;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

/// A fixed "now" for the store-level windows: 2026-03-30T12:00:00Z.
fn now() -> Timestamp {
    "2026-03-30T12:00:00Z".parse().expect("a test instant")
}

fn hours(h: i64) -> SignedDuration {
    SignedDuration::from_hours(h)
}

/// Slots of bed `bed` around [`now`], `(id, start, end)` as offsets from now.
const SLOTS: &[(&str, i64, i64)] = &[
    ("ended-yesterday", -30, -26),
    ("ended-just-now", -2, 0), // ends exactly now: not on the bed any more
    ("current", -1, 1),
    ("long-stay", -24 * 60, 2), // began 60 days ago, still on the bed
    ("tomorrow", 24, 26),
    ("next-month", 24 * 30, 24 * 30 + 1),
];

async fn seed(h: &Harness) {
    let mut resources = vec![
        location("ward", "Osasto 1", "wa", None),
        location("bed", "Vuode 1", "bd", Some("ward")),
        schedule("bed", "Location/bed"),
        location("bed-2", "Vuode 2", "bd", Some("ward")),
        schedule("bed-2", "Location/bed-2"),
        // Another bed's current Slot is not this bed's.
        slot(
            "other-bed",
            "bed-2",
            &(now() - hours(1)).to_string(),
            &(now() + hours(1)).to_string(),
        ),
    ];
    for (id, start, end) in SLOTS {
        let at = |offset: &i64| (now() + hours(*offset)).to_string();
        resources.push(slot(id, "bed", &at(start), &at(end)));
    }
    h.seed(&resources).await;
}

async fn during(h: &Harness, schedules: &[&str], from: Timestamp, to: Timestamp) -> Vec<String> {
    h.slots_during(schedules, (from.as_microsecond(), to.as_microsecond()))
        .await
}

both_backends!(what_is_on_a_bed_in_a_window);
async fn what_is_on_a_bed_in_a_window(h: &Harness) {
    seed(h).await;
    let now = now();
    assert_eq!(
        during(h, &["bed"], now, now).await,
        ["current", "long-stay"],
        "what covers now, however long ago it began"
    );
    assert_eq!(
        during(h, &["bed"], now, now + hours(48)).await,
        ["current", "long-stay", "tomorrow"]
    );
    assert_eq!(
        during(h, &["bed", "bed-2"], now, now).await,
        ["current", "long-stay", "other-bed"]
    );
    assert_eq!(
        during(h, &["bed"], now - hours(29), now - hours(29)).await,
        ["ended-yesterday", "long-stay"]
    );
    assert!(
        during(h, &["bed"], now + hours(3), now + hours(4))
            .await
            .is_empty()
    );

    // An update that moves a Slot's end moves its row: the stay ends early.
    h.put_resource(&slot(
        "long-stay",
        "bed",
        &(now - hours(24 * 60)).to_string(),
        &(now - hours(3)).to_string(),
    ))
    .await;
    assert_eq!(during(h, &["bed"], now, now).await, ["current"]);
}

/// The ids a search finds, sorted.
async fn found(h: &Harness, params: &[(&str, &str)]) -> Vec<String> {
    let mut ids = match_ids(&h.search("Slot", params).await);
    ids.sort();
    ids
}

both_backends!(bed_searches_find_what_plain_searches_find);
async fn bed_searches_find_what_plain_searches_find(h: &Harness) {
    seed(h).await;
    // Every prefix, at instants and at days around each Slot's start and end: the
    // search by bed (on the scoped rows) finds what the search over all Slots finds,
    // less the other bed's Slot.
    let mut values: Vec<String> = Vec::new();
    for (_, start, end) in SLOTS {
        for offset in [*start, *end] {
            let at = now() + hours(offset);
            for edge in [-1, 0, 1] {
                let near = at + SignedDuration::from_secs(edge);
                values.push(near.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
            }
            values.push(at.strftime("%Y-%m-%d").to_string());
        }
    }
    let prefixes = ["eq", "ne", "lt", "le", "gt", "ge", "sa", "eb"];
    let mut checked = 0;
    for prefix in prefixes {
        for value in &values {
            let start = format!("{prefix}{value}");
            let plain: Vec<String> = found(h, &[("start", &start)])
                .await
                .into_iter()
                .filter(|id| id != "other-bed")
                .collect();
            let on_bed = found(h, &[("schedule", "Schedule/bed"), ("start", &start)]).await;
            assert_eq!(on_bed, plain, "start={start}");
            checked += usize::from(!plain.is_empty());
        }
    }
    assert!(
        checked > 100,
        "most of the searches find something ({checked})"
    );

    // Two bounds at once (the bed-and-day search itself).
    let day = (now() - hours(24 * 60)).strftime("%Y-%m-%d").to_string();
    let next = (now() - hours(24 * 59)).strftime("%Y-%m-%d").to_string();
    let (ge, lt) = (format!("ge{day}"), format!("lt{next}"));
    let bed_day = [
        ("schedule", "Schedule/bed"),
        ("start", ge.as_str()),
        ("start", lt.as_str()),
    ];
    assert_eq!(found(h, &bed_day).await, ["long-stay"]);
}

// The bed board reads the window: the long stay occupies the bed until its end; the
// Slot of a year ago is not read.
both_backends!(the_bed_board_reads_what_covers_now);
async fn the_bed_board_reads_what_covers_now(h: &Harness) {
    let now = Timestamp::now();
    let at = |offset: i64| (now + hours(offset)).to_string();
    h.seed(&[
        location("ward", "Osasto 1", "wa", None),
        location("bed", "Vuode 1", "bd", Some("ward")),
        schedule("bed", "Location/bed"),
        slot("old", "bed", &at(-24 * 400), &at(-24 * 399)),
        slot("stay", "bed", &at(-24 * 60), &at(5)),
    ])
    .await;
    let root = h.url("").trim_end_matches("/fhir").to_owned();
    let resp = h
        .get_absolute(&format!("{root}/picture/beds?unit=ward"))
        .await;
    let board: Value = resp.body;
    let bed = &board["beds"][0];
    assert_eq!(bed["state"], "occupied", "{board}");
    let until: Timestamp = bed["occupiedUntil"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("occupiedUntil");
    assert_eq!(until.as_second(), (now + hours(5)).as_second());
}
