//! Bed holds (paikanvaraus): a `busy-tentative` Slot with an expiry, confirmed as
//! `busy`, released by DELETE; two coordinators cannot hold one bed (409 with a code
//! saying why); an expired hold frees the bed by itself; `GET /picture/beds` shows it.

#[macro_use]
mod common;

use common::*;
use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::{Value, json};

const HOLD: &str = "https://ohjaamo.fi/fhir/NamingSystem/bed-hold";
const CONFLICT: &str = "https://ohjaamo.fi/fhir/CodeSystem/bed-hold-conflict";

fn hold(key: &str, bed: &str, minutes: i64, status: &str) -> Value {
    let now = Timestamp::now();
    json!({
        "resourceType": "Slot",
        "identifier": [{"system": HOLD, "value": key}],
        "schedule": {"reference": format!("Schedule/s-{bed}")},
        "status": status,
        "start": now.to_string(),
        "end": (now + SignedDuration::from_mins(minutes)).to_string(),
        "comment": "Heräämöstä",
    })
}

fn hold_path(key: &str) -> String {
    format!("Slot?identifier={HOLD}|{key}")
}

async fn seed_ward(h: &Harness) {
    let mut closed = location("b3", "Vuode 3", "bd", Some("ward"));
    closed["operationalStatus"] =
        json!({"system": "http://terminology.hl7.org/CodeSystem/v2-0116", "code": "C"});
    let now = Timestamp::now();
    h.seed(&[
        location("ward", "Osasto 1", "wa", None),
        location("b1", "Vuode 1", "bd", Some("ward")),
        location("b2", "Vuode 2", "bd", Some("ward")),
        closed,
        schedule("s-b1", "Location/b1"),
        schedule("s-b2", "Location/b2"),
        schedule("s-b3", "Location/b3"),
        // A patient in b2 until tonight.
        json!({"resourceType": "Slot", "id": "stay-b2", "schedule": {"reference": "Schedule/s-b2"},
               "status": "busy", "start": (now - SignedDuration::from_hours(5)).to_string(),
               "end": (now + SignedDuration::from_hours(10)).to_string()}),
    ])
    .await;
}

fn conflict_code(resp: &Resp) -> String {
    assert_eq!(resp.status, StatusCode::CONFLICT, "{}", resp.body);
    let coding = &resp.body["issue"][0]["details"]["coding"][0];
    assert_eq!(coding["system"], CONFLICT);
    coding["code"].as_str().unwrap_or_default().to_owned()
}

async fn beds(h: &Harness) -> Vec<Value> {
    let root = h.url("").trim_end_matches("/fhir").to_owned();
    let resp = h
        .get_absolute(&format!("{root}/picture/beds?unit=ward"))
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
    resp.body["beds"].as_array().cloned().unwrap_or_default()
}

async fn ward_figures(h: &Harness) -> Value {
    h.wait_for_pictures().await;
    let root = h.url("").trim_end_matches("/fhir").to_owned();
    let resp = h
        .get_absolute(&format!("{root}/picture?unit=ward&kind=ward"))
        .await;
    resp.body["units"][0]["figures"].clone()
}

both_backends!(hold_confirm_release);
async fn hold_confirm_release(h: &Harness) {
    seed_ward(h).await;
    let body = hold("k1", "b1", 30, "busy-tentative");
    let first = h.put(&hold_path("k1"), &body).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    // A double click repeats the same request: the same hold, not a second one, and
    // no new version.
    let again = h.put(&hold_path("k1"), &body).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(id_of(&again.body), id_of(&first.body));
    assert_eq!(again.version(), 1);
    let bed = beds(h).await.into_iter().find(|b| b["id"] == "b1").unwrap();
    assert_eq!(bed["state"], "reserved");
    assert_eq!(bed["hold"]["slot"], id_of(&first.body));
    assert_eq!(bed["hold"]["note"], "Heräämöstä");
    let f = ward_figures(h).await;
    assert_eq!(
        (f["reserved"].as_u64(), f["freeNow"].as_u64()),
        (Some(1), Some(0))
    );

    // A second coordinator: refused, and told why.
    let other = h
        .put(&hold_path("k2"), &hold("k2", "b1", 30, "busy-tentative"))
        .await;
    assert_eq!(conflict_code(&other), "held");
    assert!(
        diagnostics(&other.body).contains("Vuode 1"),
        "{}",
        other.body
    );
    // An occupied bed and a closed bed cannot be held either.
    let occupied = h
        .put(&hold_path("k3"), &hold("k3", "b2", 30, "busy-tentative"))
        .await;
    assert_eq!(conflict_code(&occupied), "occupied");
    let closed = h
        .put(&hold_path("k4"), &hold("k4", "b3", 30, "busy-tentative"))
        .await;
    assert_eq!(conflict_code(&closed), "closed");
    assert_eq!(h.count("Slot").await, 2, "refused holds wrote nothing");

    // Confirm (busy): still reserved, not occupied; a stale page's confirm is 412.
    let confirm = h
        .send(
            h.with_body(
                reqwest::Method::PUT,
                &hold_path("k1"),
                &hold("k1", "b1", 60, "busy"),
            )
            .header("If-Match", "W/\"1\""),
        )
        .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    let stale = h
        .send(
            h.with_body(
                reqwest::Method::PUT,
                &hold_path("k1"),
                &hold("k1", "b1", 60, "busy"),
            )
            .header("If-Match", "W/\"1\""),
        )
        .await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.body
    );
    let f = ward_figures(h).await;
    assert_eq!(
        (f["reserved"].as_u64(), f["occupied"].as_u64()),
        (Some(1), Some(1))
    );

    // Release: the bed is free for the next coordinator.
    let released = h.delete(&format!("Slot/{}", id_of(&first.body))).await;
    assert!(released.status.is_success(), "{}", released.body);
    let bed = beds(h).await.into_iter().find(|b| b["id"] == "b1").unwrap();
    assert_eq!(
        (bed["state"].as_str(), bed["hold"].is_null()),
        (Some("free"), true)
    );
    let next = h
        .put(&hold_path("k2"), &hold("k2", "b1", 30, "busy-tentative"))
        .await;
    assert_eq!(next.status, StatusCode::CREATED, "{}", next.body);
}

both_backends!(concurrent_holds_have_one_winner);
async fn concurrent_holds_have_one_winner(h: &Harness) {
    seed_ward(h).await;
    let attempts = (0..8).map(|i| {
        let key = format!("c{i}");
        let body = hold(&key, "b1", 30, "busy-tentative");
        let path = hold_path(&key);
        async move { h.put(&path, &body).await.status }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    let won = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((won, refused), (1, 7), "{statuses:?}");
}

both_backends!(two_holds_on_one_bed_in_one_bundle_have_one_winner);
async fn two_holds_on_one_bed_in_one_bundle_have_one_winner(h: &Harness) {
    seed_ward(h).await;
    let slots_before = h.count("Slot").await;
    let entries = ["first", "second"]
        .iter()
        .map(|key| conditional_put_entry(&hold(key, "b1", 30, "busy-tentative"), HOLD, key))
        .collect();
    let r = h.post("", &batch(entries)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let statuses: Vec<&str> = r.body["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["response"]["status"].as_str().unwrap_or_default())
        .collect();
    assert!(statuses[0].starts_with("201"), "{statuses:?}");
    assert!(statuses[1].starts_with("409"), "{statuses:?}");
    let second = &r.body["entry"][1]["response"]["outcome"];
    assert_eq!(
        second["issue"][0]["details"]["coding"][0]["code"], "held",
        "{second}"
    );
    // A transaction with two holds of another bed is refused whole.
    let entries = ["third", "fourth"]
        .iter()
        .map(|key| conditional_put_entry(&hold(key, "b2", 30, "busy-tentative"), HOLD, key))
        .collect();
    let r = h.post("", &transaction(entries)).await;
    r.assert_outcome(StatusCode::CONFLICT);
    assert_eq!(
        h.count("Slot").await,
        slots_before + 1,
        "one hold stored, the transaction wrote nothing"
    );
}

both_backends!(an_expired_hold_frees_its_bed_by_itself);
async fn an_expired_hold_frees_its_bed_by_itself(h: &Harness) {
    seed_ward(h).await;
    let now = Timestamp::now();
    let mut short = hold("short", "b1", 0, "busy-tentative");
    short["end"] = json!((now + SignedDuration::from_secs(2)).to_string());
    let resp = h.put(&hold_path("short"), &short).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{}", resp.body);
    assert_eq!(ward_figures(h).await["reserved"], 1);
    // No write announces the expiry: the deriver recomputes the ward at the hold's end
    // (the harness's periodic refresh is an hour).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let root = h.url("").trim_end_matches("/fhir").to_owned();
        let f = h
            .get_absolute(&format!("{root}/picture?unit=ward&kind=ward"))
            .await
            .body["units"][0]["figures"]
            .clone();
        if f["reserved"] == 0 && f["freeNow"] == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the hold did not expire: {f}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // Another coordinator may hold the bed now.
    let next = h
        .put(
            &hold_path("after"),
            &hold("after", "b1", 30, "busy-tentative"),
        )
        .await;
    assert_eq!(next.status, StatusCode::CREATED, "{}", next.body);
    assert_eq!(beds(h).await[0]["state"], "reserved");
}

both_backends!(beds_of_an_unknown_ward_are_404);
async fn beds_of_an_unknown_ward_are_404(h: &Harness) {
    seed_ward(h).await;
    let root = h.url("").trim_end_matches("/fhir").to_owned();
    let missing = h
        .get_absolute(&format!("{root}/picture/beds?unit=nope"))
        .await;
    missing.assert_outcome(StatusCode::NOT_FOUND);
    let bed = h
        .get_absolute(&format!("{root}/picture/beds?unit=b1"))
        .await;
    bed.assert_outcome(StatusCode::NOT_FOUND);
    let none = h.get_absolute(&format!("{root}/picture/beds")).await;
    none.assert_outcome(StatusCode::BAD_REQUEST);
}

both_backends!(the_bed_list_agrees_with_the_ward_figures);
async fn the_bed_list_agrees_with_the_ward_figures(h: &Harness) {
    seed_ward(h).await;
    // A planned stay (the occupancy the core derives for a planned or reserved place):
    // reserved in the figures, so reserved in the list too — not occupied, no hold.
    let now = Timestamp::now();
    h.seed(&[json!({"resourceType": "Slot", "id": "planned-b1",
        "schedule": {"reference": "Schedule/s-b1"}, "status": "busy-tentative",
        "start": (now - SignedDuration::from_mins(5)).to_string(),
        "end": (now + SignedDuration::from_hours(3)).to_string()})])
        .await;
    let f = ward_figures(h).await;
    assert_eq!(
        (f["reserved"].as_u64(), f["occupied"].as_u64()),
        (Some(1), Some(1))
    );
    let listed = beds(h).await;
    let state = |id: &str| {
        let bed = listed.iter().find(|b| b["id"] == id).unwrap();
        (
            bed["state"].as_str().unwrap_or_default().to_owned(),
            bed["hold"].is_null(),
        )
    };
    assert_eq!(state("b1"), ("reserved".to_owned(), true));
    assert_eq!(state("b2"), ("occupied".to_owned(), true));
    assert_eq!(state("b3"), ("closed".to_owned(), true));
}
