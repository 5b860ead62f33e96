//! A bed hold records who made it: the token's subject, written by the server over
//! whatever the client put in the extension — by a single write and in a Bundle — and
//! the token's `name` beside it, which `/picture/beds` gives the bed board to show.

mod common;
mod oidc;

use jiff::{SignedDuration, Timestamp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use common::{batch, location, put_entry, schedule};
use oidc::{ORG_A, call};

const HOLD: &str = "https://ohjaamo.fi/fhir/NamingSystem/bed-hold";
const HELD_BY: &str = "https://ohjaamo.fi/fhir/StructureDefinition/bed-hold-held-by";
const HELD_BY_NAME: &str = "https://ohjaamo.fi/fhir/StructureDefinition/bed-hold-held-by-name";

fn hold(id: &str, bed: &str) -> Value {
    let now = Timestamp::now();
    json!({
        "resourceType": "Slot",
        "id": id,
        "identifier": [{"system": HOLD, "value": id}],
        "schedule": {"reference": format!("Schedule/s-{bed}")},
        "status": "busy-tentative",
        "start": now.to_string(),
        "end": (now + SignedDuration::from_mins(30)).to_string(),
        "extension": [{"url": HELD_BY, "valueString": "somebody else"}],
    })
}

fn held_by(slot: &Value) -> Vec<String> {
    slot["extension"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["url"] == HELD_BY)
        .filter_map(|e| e["valueString"].as_str().map(str::to_owned))
        .collect()
}

/// A ward with beds b1 and b2 and their Schedules; the admin token that made them.
async fn ward_with_two_beds(issuer: &oidc::Issuer, h: &common::Harness) -> String {
    let admin = issuer.token_for(ORG_A, "system/*.cruds");
    for resource in [
        location("ward", "Osasto", "wa", None),
        location("b1", "Vuode 1", "bd", Some("ward")),
        location("b2", "Vuode 2", "bd", Some("ward")),
        schedule("s-b1", "Location/b1"),
        schedule("s-b2", "Location/b2"),
    ] {
        let path = format!(
            "/fhir/{}/{}",
            resource["resourceType"].as_str().unwrap(),
            resource["id"].as_str().unwrap()
        );
        let r = call(h, Method::PUT, &path, Some(&admin), None, Some(&resource)).await;
        assert!(r.status.is_success(), "{path}: {}", r.text);
    }
    admin
}

#[tokio::test]
async fn a_hold_names_the_coordinator_who_made_it() {
    let Some((issuer, h)) = oidc::start().await else {
        return;
    };
    let admin = ward_with_two_beds(&issuer, &h).await;
    let coordinator = issuer.token(json!({
        "organization": ORG_A, "scope": "user/Slot.crus", "sub": "coordinator-a",
    }));

    let r = call(
        &h,
        Method::PUT,
        "/fhir/Slot/h1",
        Some(&coordinator),
        None,
        Some(&hold("h1", "b1")),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let bundle = batch(vec![put_entry(&hold("h2", "b2"))]);
    let r = call(
        &h,
        Method::POST,
        "/fhir",
        Some(&coordinator),
        None,
        Some(&bundle),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    for id in ["h1", "h2"] {
        let r = call(
            &h,
            Method::GET,
            &format!("/fhir/Slot/{id}"),
            Some(&admin),
            None,
            None,
        )
        .await;
        let slot: Value = serde_json::from_str(&r.text).unwrap();
        assert_eq!(held_by(&slot), ["coordinator-a"], "{id}: {slot}");
    }
}

#[tokio::test]
async fn a_hold_shows_its_holders_name() {
    let Some((issuer, h)) = oidc::start().await else {
        return;
    };
    ward_with_two_beds(&issuer, &h).await;
    let scope = "user/Slot.cruds user/ohjaamo.picture.read";
    let named = issuer.token(json!({
        "organization": ORG_A, "scope": scope, "sub": "coordinator-a", "name": "Aino Virtanen",
    }));
    let nameless = issuer.token(json!({
        "organization": ORG_A, "scope": scope, "sub": "coordinator-b",
    }));
    for (id, bed, token) in [("h1", "b1", &named), ("h2", "b2", &nameless)] {
        let mut slot = hold(id, bed);
        // Another name sent by the client is not kept.
        slot["extension"] = json!([{"url": HELD_BY_NAME, "valueString": "Someone Else"}]);
        let path = format!("/fhir/Slot/{id}");
        let r = call(&h, Method::PUT, &path, Some(token), None, Some(&slot)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let r = call(
        &h,
        Method::GET,
        "/picture/beds?unit=ward",
        Some(&named),
        None,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let hold_of = |bed: &str| -> Value {
        r.body["beds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["id"] == bed)
            .unwrap()["hold"]
            .clone()
    };
    assert_eq!(hold_of("b1")["heldBy"], "coordinator-a");
    assert_eq!(hold_of("b1")["heldByName"], "Aino Virtanen");
    assert_eq!(hold_of("b2")["heldBy"], "coordinator-b");
    assert_eq!(
        hold_of("b2")["heldByName"],
        Value::Null,
        "no name in the token, none kept from the client"
    );
}

/// Two coordinators reach for one bed: the first holds it, the second is refused (409)
/// and the bed stays held by the first; the access log names both, the refusal too.
#[tokio::test]
async fn two_coordinators_one_bed_the_first_holds_it_and_the_log_names_both() {
    let Some((issuer, h)) = oidc::start().await else {
        return;
    };
    ward_with_two_beds(&issuer, &h).await;
    let scope = "user/Slot.cruds user/ohjaamo.picture.read";
    let first =
        issuer.token(json!({ "organization": ORG_A, "scope": scope, "sub": "coordinator-a" }));
    let second =
        issuer.token(json!({ "organization": ORG_A, "scope": scope, "sub": "coordinator-b" }));
    let mark = h.access_records_after(0).await.last().map_or(0, |s| s.id);

    let r = call(
        &h,
        Method::PUT,
        "/fhir/Slot/h1",
        Some(&first),
        None,
        Some(&hold("h1", "b1")),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let r = call(
        &h,
        Method::PUT,
        "/fhir/Slot/h2",
        Some(&second),
        None,
        Some(&hold("h2", "b1")),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);

    let r = call(
        &h,
        Method::GET,
        "/picture/beds?unit=ward",
        Some(&first),
        None,
        None,
    )
    .await;
    let bed = r.body["beds"]
        .as_array()
        .and_then(|beds| beds.iter().find(|b| b["id"] == "b1"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(bed["hold"]["heldBy"], "coordinator-a", "{}", r.text);

    let records = h.access_records_after(mark).await;
    let who: Vec<(Option<&str>, u16)> = records
        .iter()
        .filter(|s| s.record.interaction == "update")
        .map(|s| (s.record.subject.as_deref(), s.record.status))
        .collect();
    // The first hold created its Slot (201, as the client was told), the second was
    // refused.
    assert_eq!(
        who,
        [(Some("coordinator-a"), 201), (Some("coordinator-b"), 409)]
    );
}
