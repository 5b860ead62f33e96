//! `PUT /sources/{name}` (an adapter's report) and `GET /sources` (every source and
//! whether it is stale), on both backends.

#[macro_use]
mod common;

use common::*;
use jiff::{SignedDuration, Timestamp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn report(last_success: Timestamp, error: Option<&str>) -> Value {
    json!({
        "kind": "pull",
        "lastSuccess": last_success.to_string(),
        "lastError": error,
        "lagSeconds": 0.4,
        "quarantined": 3,
        "staleAfterSeconds": 60.0,
        "reportIntervalSeconds": 5.0,
    })
}

async fn put_report(h: &Harness, name: &str, body: &Value) -> Resp {
    let root = h.url("").trim_end_matches("/fhir").to_owned();
    h.send(
        h.client
            .request(Method::PUT, format!("{root}/sources/{name}"))
            .json(body),
    )
    .await
}

async fn sources(h: &Harness) -> Vec<Value> {
    let root = h.url("").trim_end_matches("/fhir").to_owned();
    let resp = h.get_absolute(&format!("{root}/sources")).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
    resp.body["sources"].as_array().cloned().unwrap_or_default()
}

both_backends!(reports_are_listed_and_staleness_is_said);
async fn reports_are_listed_and_staleness_is_said(h: &Harness) {
    let now = Timestamp::now();
    let fresh = put_report(h, "pull", &report(now, None)).await;
    assert_eq!(fresh.status, StatusCode::NO_CONTENT, "{}", fresh.text);
    let old = now - SignedDuration::from_mins(10);
    let stuck = put_report(h, "export-2", &report(old, Some("the export answered 500"))).await;
    assert_eq!(stuck.status, StatusCode::NO_CONTENT, "{}", stuck.text);
    // A later report replaces the earlier one.
    assert_eq!(
        put_report(h, "pull", &report(now, None)).await.status,
        StatusCode::NO_CONTENT
    );

    let listed = sources(h).await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    let by = |name: &str| listed.iter().find(|s| s["name"] == name).cloned().unwrap();
    let pull = by("pull");
    assert_eq!(
        (pull["stale"].as_bool(), pull["quarantined"].as_u64()),
        (Some(false), Some(3))
    );
    assert_eq!(pull["lagSeconds"], 0.4);
    let export = by("export-2");
    assert_eq!(export["stale"], true);
    let why = export["staleReason"].as_str().unwrap_or_default();
    assert!(
        why.contains("nothing delivered since") && why.contains("500"),
        "{why}"
    );
}

both_backends!(bad_reports_are_refused_with_an_outcome);
async fn bad_reports_are_refused_with_an_outcome(h: &Harness) {
    let now = Timestamp::now();
    let mut unknown = report(now, None);
    unknown["surprise"] = json!(1);
    put_report(h, "pull", &unknown)
        .await
        .assert_outcome(StatusCode::BAD_REQUEST);
    let mut bad_time = report(now, None);
    bad_time["lastSuccess"] = json!("yesterday");
    put_report(h, "pull", &bad_time)
        .await
        .assert_outcome(StatusCode::BAD_REQUEST);
    let mut negative = report(now, None);
    negative["lagSeconds"] = json!(-1);
    put_report(h, "pull", &negative)
        .await
        .assert_outcome(StatusCode::BAD_REQUEST);
    put_report(h, "no%20spaces", &report(now, None))
        .await
        .assert_outcome(StatusCode::BAD_REQUEST);
    // A report is small; a huge one would be served back to every display.
    let huge = report(now, Some(&"x".repeat(1_900_000)));
    put_report(h, "pull", &huge)
        .await
        .assert_outcome(StatusCode::PAYLOAD_TOO_LARGE);
    assert!(sources(h).await.is_empty(), "nothing refused was kept");
}
