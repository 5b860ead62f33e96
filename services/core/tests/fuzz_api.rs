//! Property-based fuzzing of the API's parsers (issue 19, point 10), under stable
//! `cargo test` with proptest: arbitrary and mutated resources through the write path
//! (structure validation, index extraction, rules), arbitrary batch and transaction
//! Bundles, and arbitrary search query strings, all through the real router over a
//! SQLite store. The property: every answer is a well-formed HTTP answer below 500
//! (an OperationOutcome when it is an error), nothing panics, and what was stored
//! before stays readable.
//!
//! The number of cases is proptest's (`PROPTEST_CASES`, 256 by default; CI sets it).
//! A failing case is shrunk and written to `proptest-regressions/fuzz_api.txt`: commit
//! that file, and the case is replayed on every run from then on.

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use ohjaamo_core::{AppState, Config};
use ohjaamo_store::Store;
use proptest::prelude::*;
use serde_json::{Value, json};
use tower::ServiceExt as _;

/// The router over one SQLite store shared by every case, with a few resources in it.
fn app() -> &'static (tokio::runtime::Runtime, Router) {
    static APP: OnceLock<(tokio::runtime::Runtime, Router)> = OnceLock::new();
    APP.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let file = std::env::temp_dir().join(format!(
            "ohjaamo-fuzz-{}-{}.db",
            std::process::id(),
            uuid::Uuid::now_v7()
        ));
        let router = runtime.block_on(async {
            let store = Store::connect(&format!("sqlite:{}", file.display()), 4)
                .await
                .expect("a SQLite store");
            let state = AppState::new(Arc::new(store), Config::default());
            let router = ohjaamo_core::http::server::app(state);
            for resource in seed() {
                let path = format!(
                    "/fhir/{}/{}",
                    resource["resourceType"].as_str().unwrap_or_default(),
                    resource["id"].as_str().unwrap_or_default()
                );
                let (status, _) = call(&router, "PUT", &path, Some(resource.to_string())).await;
                assert!(status.is_success(), "seeding {path}: {status}");
            }
            router
        });
        (runtime, router)
    })
}

fn seed() -> Vec<Value> {
    vec![
        json!({"resourceType":"Location","id":"ward","status":"active","name":"Osasto 1",
               "physicalType":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/location-physical-type","code":"wa"}]}}),
        json!({"resourceType":"Location","id":"bed","status":"active","name":"Vuode 1",
               "physicalType":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/location-physical-type","code":"bd"}]},
               "partOf":{"reference":"Location/ward"}}),
        json!({"resourceType":"Schedule","id":"sch","active":true,"actor":[{"reference":"Location/bed"}]}),
        json!({"resourceType":"Slot","id":"s1","schedule":{"reference":"Schedule/sch"},"status":"busy",
               "start":"2026-03-29T10:00:00+03:00","end":"2026-03-29T11:00:00+03:00"}),
    ]
}

async fn call(
    router: &Router,
    method: &str,
    path: &str,
    body: Option<String>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(path);
    if body.is_some() {
        request = request.header("content-type", "application/fhir+json");
    }
    let request = request
        .body(body.map_or_else(Body::empty, Body::from))
        .expect("a request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 64 << 20)
        .await
        .expect("the body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Sends one request and checks the property.
fn check(method: &str, path: &str, body: Option<String>) -> Result<(), TestCaseError> {
    let (runtime, router) = app();
    let (status, answer) = runtime.block_on(call(router, method, path, body.clone()));
    prop_assert!(
        status.as_u16() < 500,
        "{method} {path} answered {status}: {answer}\nbody: {}",
        body.unwrap_or_default()
    );
    if !status.is_success() {
        prop_assert_eq!(
            &answer["resourceType"],
            "OperationOutcome",
            "{} {}",
            method,
            path
        );
    }
    let (status, stored) = runtime.block_on(call(router, "GET", "/fhir/Slot/s1", None));
    prop_assert!(
        status == StatusCode::OK || status == StatusCode::GONE,
        "Slot/s1: {status}"
    );
    if status == StatusCode::OK {
        prop_assert_eq!(&stored["resourceType"], "Slot");
    }
    Ok(())
}

/// Words the API reacts to, so that random JSON reaches past the first check.
const WORDS: &[&str] = &[
    "resourceType",
    "id",
    "meta",
    "security",
    "status",
    "start",
    "end",
    "schedule",
    "reference",
    "identifier",
    "system",
    "value",
    "entry",
    "request",
    "method",
    "url",
    "resource",
    "fullUrl",
    "type",
    "name",
    "partOf",
    "physicalType",
    "coding",
    "code",
    "actor",
    "active",
    "period",
    "location",
    "subject",
    "Slot",
    "Location",
    "Schedule",
    "Encounter",
    "Bundle",
    "batch",
    "transaction",
    "PUT",
    "POST",
    "GET",
    "DELETE",
    "Slot/s1",
    "Schedule/sch",
    "Location/bed",
    "urn:uuid:1",
    "busy",
    "free",
    "wa",
    "bd",
    "2026-03-29T10:00:00+03:00",
    "2026-02-30",
    "",
    "\u{0}",
    "../x",
    "ä",
    "Slot?identifier=a|b",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(WORDS).prop_map(str::to_owned),
        1 => ".{0,12}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        word().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec((word(), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

/// A seeded resource with one element replaced by arbitrary JSON.
fn mutated_resource() -> impl Strategy<Value = Value> {
    (0..4usize, word(), json_value()).prop_map(|(which, key, value)| {
        let mut resource = seed()[which].clone();
        if let Some(object) = resource.as_object_mut() {
            object.insert(key, value);
        }
        resource
    })
}

fn entry() -> impl Strategy<Value = Value> {
    prop_oneof![
        json_value(),
        (
            mutated_resource(),
            proptest::sample::select(&["PUT", "POST", "DELETE", "GET", "PATCH"][..]),
            word()
        )
            .prop_map(|(resource, method, url)| {
                json!({ "resource": resource, "request": { "method": method, "url": url } })
            }),
        (
            mutated_resource(),
            proptest::sample::select(&["PUT", "POST"][..])
        )
            .prop_map(|(resource, method)| {
                let rtype = resource["resourceType"]
                    .as_str()
                    .unwrap_or("Slot")
                    .to_owned();
                let id = resource["id"].as_str().unwrap_or("x").to_owned();
                let url = if method == "PUT" {
                    format!("{rtype}/{id}")
                } else {
                    rtype
                };
                json!({ "resource": resource, "request": { "method": method, "url": url } })
            }),
    ]
}

proptest! {
    #[test]
    fn arbitrary_json_posted_to_a_type_is_answered(body in json_value()) {
        check("POST", "/fhir/Slot", Some(body.to_string()))?;
    }

    #[test]
    fn mutated_resources_are_validated_not_crashed_on(resource in mutated_resource()) {
        let rtype = resource["resourceType"].as_str().unwrap_or("Slot");
        let rtype = percent_encoding::utf8_percent_encode(rtype, percent_encoding::NON_ALPHANUMERIC);
        check("PUT", &format!("/fhir/{rtype}/fuzzed"), Some(resource.to_string()))?;
    }

    #[test]
    fn arbitrary_bundles_are_answered(
        kind in proptest::sample::select(&["batch", "transaction"][..]),
        entries in proptest::collection::vec(entry(), 0..8),
    ) {
        let bundle = json!({ "resourceType": "Bundle", "type": kind, "entry": entries });
        check("POST", "/fhir", Some(bundle.to_string()))?;
    }

    #[test]
    fn arbitrary_searches_are_answered(
        rtype in proptest::sample::select(&["Slot", "Location", "Schedule", "Encounter", "Device"][..]),
        params in proptest::collection::vec((word(), word()), 0..8),
    ) {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .finish();
        check("GET", &format!("/fhir/{rtype}?{query}"), None)?;
    }

    #[test]
    fn arbitrary_search_values_of_known_parameters_are_answered(
        param in proptest::sample::select(&[
            "_id", "_lastUpdated", "_sort", "_count", "_offset", "_include", "_total",
            "status", "start", "schedule", "identifier", "name:contains", "name:exact",
            "status:not", "schedule:Schedule", "start:missing",
        ][..]),
        value in prop_oneof![word(), "[a-z0-9,:|\\\\-]{0,40}", "(ge|le|gt|lt|eq|ne|sa|eb|ap)?20[0-9]{2}(-[01][0-9](-[0-3][0-9](T[0-2][0-9]:[0-5][0-9](:[0-5][0-9])?)?)?)?"],
    ) {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair(param, &value)
            .finish();
        check("GET", &format!("/fhir/Slot?{query}"), None)?;
    }
}
