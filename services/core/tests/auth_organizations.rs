//! The organisation comes from the token: a token with every scope but for another
//! organisation succeeds on no route, the header only chooses among the token's
//! organisations, and data stays with the organisation it was written for.

mod common;
mod oidc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use common::{batch, location, put_entry};
use oidc::{ORG_A, ORG_B, call, status_of};

const ALL: &str = "system/*.cruds system/ohjaamo.picture.read system/ohjaamo.sources.read \
                   system/ohjaamo.sources.write system/ohjaamo.metrics.read";

/// Every route that reads or changes an organisation's data.
fn routes() -> Vec<(Method, &'static str, Option<Value>)> {
    let ward = location("ward", "Osasto", "wa", None);
    let mut identified = location("ward-2", "Osasto 2", "wa", None);
    identified["identifier"] = json!([{ "system": "urn:x", "value": "1" }]);
    vec![
        (Method::GET, "/fhir/Location/ward", None),
        (Method::GET, "/fhir/Location/ward/_history/1", None),
        (Method::GET, "/fhir/Location/ward/_history", None),
        (Method::GET, "/fhir/Location/_history", None),
        (Method::GET, "/fhir/Location?name=osasto", None),
        (Method::POST, "/fhir/Location/_search", None),
        (Method::POST, "/fhir/Location", Some(ward.clone())),
        (Method::PUT, "/fhir/Location/ward", Some(ward.clone())),
        (
            Method::PUT,
            "/fhir/Location?identifier=urn:x|1",
            Some(identified),
        ),
        (Method::DELETE, "/fhir/Location/ward", None),
        (Method::POST, "/fhir", Some(batch(vec![put_entry(&ward)]))),
        (Method::GET, "/picture", None),
        (Method::GET, "/picture?at=2026-03-01T08:00:00Z", None),
        (Method::GET, "/picture/beds?unit=ward", None),
        (Method::GET, "/stream", None),
        (Method::GET, "/sources", None),
        (
            Method::PUT,
            "/sources/test-client",
            Some(oidc::source_report()),
        ),
    ]
}

#[tokio::test]
async fn a_foreign_organisation_succeeds_on_no_route() {
    let Some((issuer, h)) = oidc::start().await else {
        return;
    };
    let own = issuer.token_for(ORG_A, ALL);
    let r = call(
        &h,
        Method::PUT,
        "/fhir/Location/ward",
        Some(&own),
        None,
        Some(&location("ward", "Osasto", "wa", None)),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

    let mut successes = Vec::new();
    for (method, path, body) in routes() {
        // Token for A, header naming B: 403 everywhere.
        let status = status_of(
            &h,
            method.clone(),
            path,
            Some(&own),
            Some(ORG_B),
            body.as_ref(),
        )
        .await;
        if status != StatusCode::FORBIDDEN {
            successes.push(format!("{method} {path} with header B: {status}"));
        }
        // Header not an identifier at all: refused too.
        let status = status_of(
            &h,
            method.clone(),
            path,
            Some(&own),
            Some("evil org"),
            body.as_ref(),
        )
        .await;
        if status.is_success() {
            successes.push(format!("{method} {path} with a bad header: {status}"));
        }
        // A token with no organisation claim at all.
        let nobody = issuer.token(json!({ "scope": ALL }));
        let status = status_of(&h, method.clone(), path, Some(&nobody), None, body.as_ref()).await;
        if status != StatusCode::FORBIDDEN {
            successes.push(format!("{method} {path} without an organisation: {status}"));
        }
        // The claim in the wrong shape grants no organisation.
        let odd = issuer.token(json!({ "scope": ALL, "organization": { "id": ORG_A } }));
        let status = status_of(
            &h,
            method.clone(),
            path,
            Some(&odd),
            Some(ORG_A),
            body.as_ref(),
        )
        .await;
        if status != StatusCode::FORBIDDEN {
            successes.push(format!("{method} {path} with an object claim: {status}"));
        }
    }
    assert!(successes.is_empty(), "{successes:#?}");

    // The own organisation succeeds on every one of them (the check is not a blanket
    // refusal); the delete comes last in the list, so the reads see the ward.
    for (method, path, body) in routes() {
        let status = status_of(
            &h,
            method.clone(),
            path,
            Some(&own),
            Some(ORG_A),
            body.as_ref(),
        )
        .await;
        assert!(status.is_success(), "{method} {path}: {status}");
    }
}

#[tokio::test]
async fn the_header_chooses_among_the_tokens_organisations() {
    let Some((issuer, h)) = oidc::start().await else {
        return;
    };
    let both =
        issuer.token(json!({ "organization": [ORG_A, ORG_B], "scope": "system/Location.cruds" }));
    let ward = location("ward", "Osasto", "wa", None);

    // Two organisations and no header: the caller must say which.
    let r = call(
        &h,
        Method::PUT,
        "/fhir/Location/ward",
        Some(&both),
        None,
        Some(&ward),
    )
    .await;
    let diagnostics = r.assert_outcome(StatusCode::BAD_REQUEST);
    assert!(
        diagnostics
            .to_lowercase()
            .contains("x-ohjaamo-organization"),
        "{diagnostics}"
    );

    let r = call(
        &h,
        Method::PUT,
        "/fhir/Location/ward",
        Some(&both),
        Some(ORG_A),
        Some(&ward),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // Written for A, so B does not see it.
    let r = call(
        &h,
        Method::GET,
        "/fhir/Location/ward",
        Some(&both),
        Some(ORG_B),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = call(
        &h,
        Method::GET,
        "/fhir/Location/ward",
        Some(&both),
        Some(ORG_A),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // A token of one organisation (as a string) acts for it without the header.
    let only_a = issuer.token_for(ORG_A, "system/Location.r");
    let r = call(
        &h,
        Method::GET,
        "/fhir/Location/ward",
        Some(&only_a),
        None,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let only_b = issuer.token_for(ORG_B, "system/Location.r");
    let r = call(
        &h,
        Method::GET,
        "/fhir/Location/ward",
        Some(&only_b),
        None,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
}
