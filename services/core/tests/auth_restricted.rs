//! Restricted stays (a protection order: `meta.security` R) through a real issuer's
//! tokens: a token without `ohjaamo.restricted.read` does not see them — read, vread,
//! history, search, `_include` and Bundle GET entries — as if they were not there; one
//! with it sees them all; unrestricted resources are seen either way.

mod common;
mod oidc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use common::{Harness, batch, location};
use oidc::{Issuer, ORG_A, call};

const CONFIDENTIALITY: &str = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";

fn stay(id: &str, restricted: bool) -> Value {
    let mut e = json!({
        "resourceType": "Encounter",
        "id": id,
        "status": "in-progress",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
        "location": [{"location": {"reference": "Location/bed-1"}, "status": "active"}],
    });
    if restricted {
        e["meta"] = json!({"security": [{"system": CONFIDENTIALITY, "code": "R"}]});
    }
    e
}

async fn seeded(issuer: &Issuer, h: &Harness) {
    let admin = issuer.token_for(ORG_A, "system/*.cruds system/ohjaamo.restricted.read");
    for resource in [
        location("ward", "Osasto", "wa", None),
        location("bed-1", "Vuode 1", "bd", Some("ward")),
        stay("open-stay", false),
        stay("protected", true),
        json!({"resourceType": "Schedule", "id": "sch-protected",
               "meta": {"security": [{"system": CONFIDENTIALITY, "code": "R"}]},
               "actor": [{"reference": "Location/bed-1"}]}),
        json!({"resourceType": "Slot", "id": "slot-1", "status": "busy",
               "schedule": {"reference": "Schedule/sch-protected"},
               "start": "2026-12-01T08:00:00Z", "end": "2026-12-01T09:00:00Z"}),
    ] {
        let path = format!(
            "/fhir/{}/{}",
            resource["resourceType"].as_str().unwrap(),
            resource["id"].as_str().unwrap()
        );
        let r = call(h, Method::PUT, &path, Some(&admin), None, Some(&resource)).await;
        assert!(r.status.is_success(), "{path}: {}", r.text);
    }
}

/// The Encounter ids a searchset or history Bundle holds.
fn encounters(body: &str) -> Vec<String> {
    of_type(body, "Encounter")
}

/// The ids of the resources of `rtype` a Bundle holds.
fn of_type(body: &str, rtype: &str) -> Vec<String> {
    let bundle: Value = serde_json::from_str(body).unwrap();
    let mut ids: Vec<String> = bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["resource"]["resourceType"] == rtype)
        .filter_map(|e| e["resource"]["id"].as_str().map(str::to_owned))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

#[tokio::test]
async fn a_restricted_stay_is_not_there_without_the_permission() {
    let Some((issuer, h)) = oidc::start().await else {
        return;
    };
    seeded(&issuer, &h).await;
    let plain = issuer.token_for(ORG_A, "system/*.rs");
    let allowed = issuer.token_for(ORG_A, "system/*.rs system/ohjaamo.restricted.read");

    for (token, sees) in [(&plain, false), (&allowed, true)] {
        let get = |path: &'static str| call(&h, Method::GET, path, Some(token), None, None);
        let r = get("/fhir/Encounter/protected").await;
        assert_eq!(r.status == StatusCode::OK, sees, "read: {}", r.text);
        if !sees {
            // Not there, told in the same words as for what does not exist.
            r.assert_outcome(StatusCode::NOT_FOUND);
            let missing = get("/fhir/Encounter/never-was").await;
            assert_eq!(
                r.text.replace("protected", "X"),
                missing.text.replace("never-was", "X")
            );
        }
        let r = get("/fhir/Encounter/protected/_history/1").await;
        assert_eq!(r.status == StatusCode::OK, sees, "vread: {}", r.text);
        assert_eq!(
            get("/fhir/Encounter/open-stay").await.status,
            StatusCode::OK
        );

        let expected: Vec<String> = if sees {
            vec!["open-stay".into(), "protected".into()]
        } else {
            vec!["open-stay".into()]
        };
        let search = get("/fhir/Encounter?status=in-progress").await;
        assert_eq!(encounters(&search.text), expected, "search");
        let history = get("/fhir/Encounter/_history").await;
        assert_eq!(encounters(&history.text), expected, "type history");
        let instance = get("/fhir/Encounter/protected/_history").await;
        assert_eq!(
            encounters(&instance.text).is_empty(),
            !sees,
            "instance history"
        );

        // An `_include`d resource that is restricted: left out too.
        let included =
            get("/fhir/Slot?schedule=Schedule/sch-protected&_include=Slot:schedule").await;
        assert_eq!(
            of_type(&included.text, "Schedule"),
            if sees {
                vec!["sch-protected".to_owned()]
            } else {
                Vec::new()
            },
            "_include: {}",
            included.text
        );
        assert_eq!(
            of_type(&included.text, "Slot"),
            ["slot-1"],
            "the match stays"
        );

        // Bundle GET entries answer the same.
        let bundle = batch(vec![
            json!({"request": {"method": "GET", "url": "Encounter/protected"}}),
            json!({"request": {"method": "GET", "url": "Encounter?status=in-progress"}}),
        ]);
        let r = call(&h, Method::POST, "/fhir", Some(token), None, Some(&bundle)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let out: Value = serde_json::from_str(&r.text).unwrap();
        let status = out["entry"][0]["response"]["status"]
            .as_str()
            .unwrap_or_default();
        assert_eq!(status.starts_with("200"), sees, "Bundle read: {status}");
        assert_eq!(
            encounters(&out["entry"][1]["resource"].to_string()),
            expected,
            "Bundle search"
        );
    }
}
