//! A wall screen's credential, confined to its unit by the `ohjaamo_units` claim: it
//! reads that unit's picture (`/picture`, `/picture/beds`, `/stream`) and nothing else;
//! a claim of the wrong shape grants no unit; a token without the claim reads any.

mod common;
mod oidc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use common::location;
use oidc::{ORG_A, call};

#[tokio::test]
async fn a_screen_token_reads_its_own_unit_only() {
    let Some((issuer, h)) = oidc::start().await else {
        return;
    };
    let admin = issuer.token_for(ORG_A, "system/*.cruds");
    for resource in [
        location("ward", "Osasto 1", "wa", None),
        location("ward-2", "Osasto 2", "wa", None),
        location("b1", "Vuode 1", "bd", Some("ward")),
    ] {
        let path = format!("/fhir/Location/{}", resource["id"].as_str().unwrap());
        let r = call(&h, Method::PUT, &path, Some(&admin), None, Some(&resource)).await;
        assert!(r.status.is_success(), "{path}: {}", r.text);
    }
    h.wait_for_pictures().await;

    let screen = |units: Value| {
        issuer.token(json!({
            "organization": ORG_A, "scope": "system/ohjaamo.picture.read", "ohjaamo_units": units,
        }))
    };
    let own = screen(json!(["ward"]));
    let cases = [
        ("/picture?unit=ward", true),
        ("/picture?unit=ward&kind=ward", true),
        ("/picture/beds?unit=ward", true),
        ("/stream?unit=ward", true),
        ("/picture", false),
        ("/picture?unit=ward-2", false),
        ("/picture/beds?unit=ward-2", false),
        ("/stream", false),
        ("/stream?unit=ward-2", false),
        ("/fhir/Location/ward", false),
    ];
    for (path, allowed) in cases {
        let status = oidc::status_of(&h, Method::GET, path, Some(&own), None, None).await;
        if allowed {
            assert!(status.is_success(), "{path}: {status}");
        } else {
            assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        }
    }

    // A claim of the wrong shape grants no unit at all.
    let malformed = screen(json!(5));
    let status = oidc::status_of(
        &h,
        Method::GET,
        "/picture?unit=ward",
        Some(&malformed),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Without the claim, a picture reader reads any unit.
    let reader = issuer.token_for(ORG_A, "system/ohjaamo.picture.read");
    for path in ["/picture", "/picture?unit=ward-2"] {
        let status = oidc::status_of(&h, Method::GET, path, Some(&reader), None, None).await;
        assert!(status.is_success(), "{path}: {status}");
    }
}
