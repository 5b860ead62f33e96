//! A bed hold records who made it: the token's subject, written by the server over
//! whatever the client put in the extension — by a single write and in a Bundle.

mod common;
mod oidc;

use jiff::{SignedDuration, Timestamp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use common::{batch, location, put_entry, schedule};
use oidc::{ORG_A, call};

const HOLD: &str = "https://ohjaamo.fi/fhir/NamingSystem/bed-hold";
const HELD_BY: &str = "https://ohjaamo.fi/fhir/StructureDefinition/bed-hold-held-by";

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

#[tokio::test]
async fn a_hold_names_the_coordinator_who_made_it() {
    let Some((issuer, h)) = oidc::start().await else {
        return;
    };
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
        let r = call(&h, Method::PUT, &path, Some(&admin), None, Some(&resource)).await;
        assert!(r.status.is_success(), "{path}: {}", r.text);
    }
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
