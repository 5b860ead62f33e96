//! SMART scopes against every FHIR interaction, through a real issuer's tokens: each
//! scope kind against each interaction (a matrix), scopes that do not parse, Bundles
//! with entries of mixed permissions, and `_include`s the token may not read.

mod common;
mod oidc;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use common::{Harness, batch, entry_statuses, location, post_entry, put_entry, transaction};
use oidc::{Issuer, ORG_A, call};

/// Every interaction, with what it needs (a SMART v2 letter, or two).
const INTERACTIONS: [(&str, &str); 9] = [
    ("create", "c"),
    ("read", "r"),
    ("vread", "r"),
    ("instance history", "r"),
    ("update", "u"),
    ("delete", "d"),
    ("search", "s"),
    ("type history", "s"),
    ("conditional update", "us"),
];

/// Runs one interaction on Location with `token`; true when it succeeded (2xx).
async fn attempt(h: &Harness, token: &str, interaction: &str, n: usize) -> bool {
    let id = format!("loc-{n}");
    let body = location(&id, "Osasto", "wa", None);
    let mut identified = body.clone();
    identified["identifier"] = json!([{ "system": "urn:test", "value": id }]);
    let (method, path, body): (Method, String, Option<&Value>) = match interaction {
        "create" => (Method::POST, "/fhir/Location".into(), Some(&body)),
        "read" => (Method::GET, "/fhir/Location/seed".into(), None),
        "vread" => (Method::GET, "/fhir/Location/seed/_history/1".into(), None),
        "instance history" => (Method::GET, "/fhir/Location/seed/_history".into(), None),
        "update" => (Method::PUT, format!("/fhir/Location/{id}"), Some(&body)),
        "delete" => (Method::DELETE, "/fhir/Location/doomed".into(), None),
        "search" => (Method::GET, "/fhir/Location?name=osasto".into(), None),
        "type history" => (Method::GET, "/fhir/Location/_history".into(), None),
        "conditional update" => (
            Method::PUT,
            format!("/fhir/Location?identifier=urn:test|{id}"),
            Some(&identified),
        ),
        other => panic!("{other}"),
    };
    let r = call(h, method, &path, Some(token), None, body).await;
    match r.status.as_u16() {
        200..=299 => true,
        403 => {
            r.assert_outcome(StatusCode::FORBIDDEN);
            false
        }
        other => panic!("{interaction}: unexpected {other}: {}", r.text),
    }
}

async fn seeded(issuer: &Issuer, h: &Harness) {
    let admin = issuer.token_for(ORG_A, "system/*.cruds");
    for id in ["seed", "doomed"] {
        let r = call(
            h,
            Method::PUT,
            &format!("/fhir/Location/{id}"),
            Some(&admin),
            None,
            Some(&location(id, "Osasto", "wa", None)),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
}

#[tokio::test]
async fn each_scope_allows_exactly_its_interactions() {
    let Some((issuer, h)) = oidc::start().await else {
        return;
    };
    seeded(&issuer, &h).await;
    // (scope, the letters it grants on Location)
    let scopes: [(&str, &str); 14] = [
        ("system/Location.c", "c"),
        ("system/Location.r", "r"),
        ("system/Location.u", "u"),
        ("system/Location.d", "d"),
        ("system/Location.s", "s"),
        ("user/Location.rs", "rs"),
        ("system/Location.cruds", "cruds"),
        ("system/*.cruds", "cruds"),
        ("user/*.r", "r"),
        ("system/Location.read", "rs"),
        ("system/Location.write", "cud"),
        ("system/Location.*", "cruds"),
        ("system/Slot.cruds", ""),
        ("patient/Location.cruds", ""),
    ];
    let mut n = 0;
    for (scope, letters) in scopes {
        let token = issuer.token_for(ORG_A, scope);
        for (interaction, needs) in INTERACTIONS {
            n += 1;
            let expected = needs.chars().all(|l| letters.contains(l));
            let got = attempt(&h, &token, interaction, n).await;
            assert_eq!(got, expected, "{scope} × {interaction}");
            if got && interaction == "delete" {
                // Put it back for the next scope.
                let admin = issuer.token_for(ORG_A, "system/*.cruds");
                call(
                    &h,
                    Method::PUT,
                    "/fhir/Location/doomed",
                    Some(&admin),
                    None,
                    Some(&location("doomed", "Osasto", "wa", None)),
                )
                .await;
            }
        }
    }
}

#[tokio::test]
async fn scopes_that_do_not_parse_grant_nothing() {
    let Some((issuer, h)) = oidc::start().await else {
        return;
    };
    seeded(&issuer, &h).await;
    for scope in [
        "system/Location.sr",
        "system/Location.rrs",
        "system/Location.rsx",
        "system/location.rs",
        "system/Location.rs?name=osasto",
        "system/Patient.cruds",
        "Location.rs",
        "system/Location",
        "openid profile fhirUser",
        "",
    ] {
        let token = issuer.token_for(ORG_A, scope);
        for (n, (interaction, _)) in INTERACTIONS.iter().enumerate() {
            assert!(
                !attempt(&h, &token, interaction, 1000 + n).await,
                "{scope:?} × {interaction}"
            );
        }
    }
    // One bad scope beside a good one spoils nothing but itself.
    let token = issuer.token_for(ORG_A, "system/Location.sr system/Location.r");
    assert!(attempt(&h, &token, "read", 2000).await);
    assert!(!attempt(&h, &token, "search", 2001).await);
}

#[tokio::test]
async fn bundle_entries_are_checked_one_by_one() {
    let Some((issuer, h)) = oidc::start().await else {
        return;
    };
    seeded(&issuer, &h).await;
    let token = issuer.token_for(ORG_A, "system/Location.cr");
    let schedule = common::schedule("s1", "Location/seed");
    let entries = || {
        vec![
            post_entry(&location("new-1", "Uusi", "wa", None), None),
            put_entry(&schedule),
            json!({ "request": { "method": "GET", "url": "Location/seed" } }),
            json!({ "request": { "method": "GET", "url": "Schedule?actor=Location/seed" } }),
            json!({ "request": { "method": "DELETE", "url": "Location/doomed" } }),
        ]
    };
    let r = call(
        &h,
        Method::POST,
        "/fhir",
        Some(&token),
        None,
        Some(&batch(entries())),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(entry_statuses(&r.body), vec![201, 403, 200, 403, 403]);

    let admin = issuer.token_for(ORG_A, "system/*.cruds");
    let count = |rtype: &'static str| {
        let h = &h;
        let admin = admin.clone();
        async move {
            let r = call(
                h,
                Method::GET,
                &format!("/fhir/{rtype}?_summary=count"),
                Some(&admin),
                None,
                None,
            )
            .await;
            r.body["total"].as_u64().unwrap()
        }
    };
    let locations = count("Location").await;
    assert_eq!(count("Schedule").await, 0);

    // A transaction with one refused entry is refused whole and writes nothing.
    let r = call(
        &h,
        Method::POST,
        "/fhir",
        Some(&token),
        None,
        Some(&transaction(entries())),
    )
    .await;
    let diagnostics = r.assert_outcome(StatusCode::FORBIDDEN);
    assert!(diagnostics.contains("Bundle.entry[1]"), "{diagnostics}");
    assert_eq!(count("Location").await, locations);
    // The same transaction with what the token may do goes through.
    let allowed = transaction(vec![post_entry(
        &location("new-2", "Uusi", "wa", None),
        None,
    )]);
    let r = call(
        &h,
        Method::POST,
        "/fhir",
        Some(&token),
        None,
        Some(&allowed),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(count("Location").await, locations + 1);
}

#[tokio::test]
async fn included_resources_the_token_may_not_read_are_left_out() {
    let Some((issuer, h)) = oidc::start().await else {
        return;
    };
    let admin = issuer.token_for(ORG_A, "system/*.cruds");
    let seed = transaction(vec![
        put_entry(&location("ward", "Osasto", "wa", None)),
        put_entry(&common::schedule("s1", "Location/ward")),
        put_entry(&common::slot(
            "slot-1",
            "s1",
            "2026-03-01T08:00:00Z",
            "2026-03-01T09:00:00Z",
        )),
    ]);
    let r = call(&h, Method::POST, "/fhir", Some(&admin), None, Some(&seed)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let search = "/fhir/Slot?_include=Slot:schedule";
    let slots_only = issuer.token_for(ORG_A, "system/Slot.rs");
    let r = call(&h, Method::GET, search, Some(&slots_only), None, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(common::match_ids(&r.body), vec!["slot-1"]);
    assert!(
        common::entries_with_mode(&r.body, "include").is_empty(),
        "{}",
        r.text
    );
    assert!(r.text.contains("left out"), "a warning says so: {}", r.text);

    let both = issuer.token_for(ORG_A, "system/Slot.rs system/Schedule.r");
    let r = call(&h, Method::GET, search, Some(&both), None, None).await;
    assert_eq!(
        common::entries_with_mode(&r.body, "include").len(),
        1,
        "{}",
        r.text
    );
}

#[tokio::test]
async fn the_servers_own_routes_need_their_own_scopes() {
    let Some((issuer, h)) = oidc::start().await else {
        return;
    };
    let fhir_only = issuer.token_for(ORG_A, "system/*.cruds");
    let ward = location("ward", "Osasto", "wa", None);
    let r = call(
        &h,
        Method::PUT,
        "/fhir/Location/ward",
        Some(&fhir_only),
        None,
        Some(&ward),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let report = oidc::source_report();
    let routes: [(Method, &str, Option<&Value>, &str); 6] = [
        (Method::GET, "/picture", None, "system/ohjaamo.picture.read"),
        (
            Method::GET,
            "/picture?at=2026-03-01T08:00:00Z",
            None,
            "system/ohjaamo.picture.read",
        ),
        (
            Method::GET,
            "/picture/beds?unit=ward",
            None,
            "system/ohjaamo.picture.read",
        ),
        (Method::GET, "/stream", None, "user/ohjaamo.picture.read"),
        (Method::GET, "/sources", None, "system/ohjaamo.sources.read"),
        (
            Method::PUT,
            "/sources/test-client",
            Some(&report),
            "system/ohjaamo.sources.write",
        ),
    ];
    for (method, path, body, scope) in routes {
        let refused = oidc::status_of(&h, method.clone(), path, Some(&fhir_only), None, body).await;
        assert_eq!(refused, StatusCode::FORBIDDEN, "{path} without {scope}");
        let token = issuer.token_for(ORG_A, scope);
        let status = oidc::status_of(&h, method, path, Some(&token), None, body).await;
        assert!(status.is_success(), "{path} with {scope}: {status}");
    }

    // A token reports only its own source (its client id): the ADT adapter's token
    // cannot file a "healthy" report for the pull adapter.
    let adt = issuer.token(json!({
        "organization": ORG_A, "scope": "system/ohjaamo.sources.write", "client_id": "adt",
    }));
    for (path, expected) in [
        ("/sources/adt", StatusCode::NO_CONTENT),
        ("/sources/pull", StatusCode::FORBIDDEN),
    ] {
        let r = call(&h, Method::PUT, path, Some(&adt), None, Some(&report)).await;
        assert_eq!(
            r.status.is_success(),
            expected.is_success(),
            "{path}: {}",
            r.text
        );
        if !expected.is_success() {
            r.assert_outcome(StatusCode::FORBIDDEN);
        }
    }
}
