//! A hostile or careless client, as issue 19's findings describe it: searches that
//! cost without bound, bodies that amplify into memory, slow and idle connections,
//! more requests than the server can take, forged forwarding headers. Each must meet a
//! clear refusal (an OperationOutcome naming the limit, a closed connection, a 503 with
//! `Retry-After`) — never a 500, a hung pool or a link to somebody else's host.

#[macro_use]
mod common;

use std::time::{Duration, Instant};

use common::*;
use ohjaamo_core::Config;
use ohjaamo_core::base::admission::AdmissionLimits;
use ohjaamo_core::base::config::ServerLimits;
use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// A search sent as `POST _search` with a form body (some are too long for a URL).
async fn search_form(h: &Harness, rtype: &str, form: &[(String, String)]) -> Resp {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    h.send(
        h.request(Method::POST, &format!("{rtype}/_search"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body),
    )
    .await
}

/// The parameters of a search form.
type Form = Vec<(String, String)>;

fn pairs(name: &str, values: impl IntoIterator<Item = String>) -> Form {
    values.into_iter().map(|v| (name.to_owned(), v)).collect()
}

fn joined(n: usize, value: impl Fn(usize) -> String) -> String {
    (0..n).map(value).collect::<Vec<_>>().join(",")
}

/// The searches the findings name are refused with a 400 naming the limit; the
/// largest searches within the limits answer on both backends (no "expression tree
/// is too large", no "too many SQL variables").
async fn searches_cost_within_limits(h: &Harness) {
    seed_bed_schedule(h, "sch").await;
    let ids: Vec<String> = (0..3).map(|i| format!("s{i}")).collect();
    for id in &ids {
        h.put_resource(&slot(
            id,
            "sch",
            "2026-03-29T10:00:00+03:00",
            "2026-03-29T11:00:00+03:00",
        ))
        .await;
    }

    let refused: Vec<(&str, &str, Form)> = vec![
        (
            "1,000 _sort keys",
            "Slot",
            vec![("_sort".into(), joined(1_000, |_| "start".into()))],
        ),
        (
            "600 status values",
            "Slot",
            vec![("status".into(), joined(600, |i| format!("s{i}")))],
        ),
        (
            "1,000 name parameters",
            "Location",
            pairs("name", (0..1_000).map(|i| format!("n{i}"))),
        ),
        (
            "1,000 _lastUpdated alternatives",
            "Slot",
            vec![(
                "_lastUpdated".into(),
                joined(1_000, |i| format!("gt2026-01-{:02}", 1 + i % 28)),
            )],
        ),
        (
            "40,000 ids",
            "Slot",
            vec![("_id".into(), joined(40_000, |i| format!("id{i}")))],
        ),
        (
            "20 _include values",
            "Slot",
            vec![("_include".into(), joined(20, |_| "Slot:schedule".into()))],
        ),
        (
            "an _offset of a billion",
            "Slot",
            vec![("_offset".into(), "1000000000".into())],
        ),
    ];
    for (what, rtype, form) in refused {
        let r = search_form(h, rtype, &form).await;
        let message = r.assert_outcome(StatusCode::BAD_REQUEST);
        assert!(
            message.contains("OHJAAMO_SEARCH_MAX_"),
            "{what}: the refusal does not name the limit: {message}"
        );
    }

    // At the limits: 1,000 ids (three of them stored) in chunked IN lists.
    let mut many_ids: Vec<String> = (0..997).map(|i| format!("other{i}")).collect();
    many_ids.extend(ids.iter().cloned());
    let r = search_form(h, "Slot", &[("_id".into(), many_ids.join(","))]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let mut found = match_ids(&r.body);
    found.sort();
    assert_eq!(found, ids);

    // Ten name parameters of 100 alternatives each: 1,000 values AND-ed and OR-ed.
    let form: Vec<(String, String)> = (0..10)
        .map(|p| ("name".to_owned(), joined(100, |i| format!("x{p}-{i}"))))
        .collect();
    let r = search_form(h, "Location", &form).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["total"], 0);

    // 100 alternatives in each of several token and date parameters.
    let form = vec![
        ("status".to_owned(), joined(100, |i| format!("code{i}"))),
        (
            "start".to_owned(),
            joined(100, |i| format!("ge2026-03-{:02}", 1 + i % 28)),
        ),
        ("_sort".to_owned(), "-start,_id,status,_lastUpdated".into()),
    ];
    let r = search_form(h, "Slot", &form).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}
both_backends!(searches_cost_within_limits);

/// Bodies are measured before they become a tree: a 32 MiB array of zeros and a
/// Bundle with too many entries are refused with 413 and store nothing.
async fn bodies_are_measured_before_parsing(h: &Harness) {
    let zeros = format!("[{}0]", "0,".repeat(16 * 1024 * 1024 - 2));
    let r = h
        .send(
            h.request(Method::POST, "")
                .header("content-type", FHIR_JSON)
                .body(zeros),
        )
        .await;
    let message = r.assert_outcome(StatusCode::PAYLOAD_TOO_LARGE);
    assert!(message.contains("OHJAAMO_MAX_JSON_VALUES"), "{message}");

    let entries: Vec<_> = (0..5_001)
        .map(|i| {
            json!({ "request": { "method": "PUT", "url": format!("Location/l{i}") },
                    "resource": location(&format!("l{i}"), "x", "wa", None) })
        })
        .collect();
    let bundle = json!({ "resourceType": "Bundle", "type": "batch", "entry": entries });
    let r = h.post("", &bundle).await;
    let message = r.assert_outcome(StatusCode::PAYLOAD_TOO_LARGE);
    assert!(message.contains("OHJAAMO_MAX_BUNDLE_ENTRIES"), "{message}");
    assert_eq!(h.count("Location").await, 0);
}
both_backends!(bodies_are_measured_before_parsing);

fn quick_server() -> Config {
    Config {
        server: ServerLimits {
            header_read_timeout: Duration::from_secs(1),
            body_read_timeout: Duration::from_secs(2),
            ..ServerLimits::default()
        },
        admission: AdmissionLimits {
            max_in_flight: 1,
            ..AdmissionLimits::default()
        },
        ..Config::default()
    }
}

/// The `host:port` the harness serves on.
fn address(h: &Harness) -> String {
    h.base
        .trim_start_matches("http://")
        .trim_end_matches("/fhir")
        .to_owned()
}

/// Reads until the server closes the connection; fails if it is still open after
/// `patience`.
async fn assert_closed_within(stream: &mut TcpStream, patience: Duration, what: &str) {
    let mut buffer = vec![0u8; 4096];
    let deadline = Instant::now() + patience;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return,
            Ok(Ok(_)) => continue,
            Err(_) => panic!("{what}: the connection is still open after {patience:?}"),
        }
    }
}

/// Slow and idle clients are let go: a request whose headers never finish, and a
/// connection that sends nothing, are closed after the header timeout.
async fn slow_and_idle_connections_are_closed(h: &Harness) {
    let mut partial = TcpStream::connect(address(h)).await.unwrap();
    partial
        .write_all(b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    assert_closed_within(&mut partial, Duration::from_secs(15), "partial headers").await;

    let mut idle = TcpStream::connect(address(h)).await.unwrap();
    assert_closed_within(&mut idle, Duration::from_secs(15), "an idle connection").await;

    // A kept-alive connection is closed once it idles past the timeout, too.
    let mut kept = TcpStream::connect(address(h)).await.unwrap();
    kept.write_all(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert_closed_within(
        &mut kept,
        Duration::from_secs(15),
        "a kept-alive connection",
    )
    .await;
}
both_backends!(slow_and_idle_connections_are_closed, super::quick_server());

/// Past the in-flight cap the server sheds at once with 503 and `Retry-After`, while
/// health stays answered; a body that never arrives frees its place at the body
/// timeout.
async fn load_is_shed_before_the_pool_runs_out(h: &Harness) {
    let mut stalled = TcpStream::connect(address(h)).await.unwrap();
    stalled
        .write_all(
            b"POST /fhir/Location HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n\
              Content-Length: 100\r\n\r\n{",
        )
        .await
        .unwrap();
    // The stalled upload holds the one place; wait until it does.
    let deadline = Instant::now() + Duration::from_secs(10);
    let shed = loop {
        let r = h.get("Location").await;
        if r.status == StatusCode::SERVICE_UNAVAILABLE {
            break r;
        }
        assert!(
            Instant::now() < deadline,
            "never shed: {} {}",
            r.status,
            r.text
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    shed.assert_outcome(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(shed.body["issue"][0]["code"], "throttled");
    assert_eq!(shed.header("retry-after"), Some("1"));
    let live = h
        .get_absolute(&format!("http://{}/livez", address(h)))
        .await;
    assert_eq!(live.status, StatusCode::OK);
    let ready = h
        .get_absolute(&format!("http://{}/readyz", address(h)))
        .await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);

    // The body timeout ends the stalled request; the place is free again.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = h.get("Location").await;
        if r.status == StatusCode::OK {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still shed: {} {}",
            r.status,
            r.text
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
both_backends!(load_is_shed_before_the_pool_runs_out, super::quick_server());

/// `X-Forwarded-Host` from an untrusted peer does not reach the links the server
/// builds.
async fn forwarded_hosts_need_a_trusted_proxy(h: &Harness) {
    let r = h
        .send(
            h.with_body(Method::POST, "Location", &new_location())
                .header("x-forwarded-host", "evil.example")
                .header("x-forwarded-proto", "https"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let location = r.header("location").unwrap_or_default();
    assert!(
        location.starts_with(&format!("http://{}/fhir/Location/", address(h))),
        "{location}"
    );
}
both_backends!(forwarded_hosts_need_a_trusted_proxy);

/// A Location without an id, for a create.
fn new_location() -> serde_json::Value {
    let mut l = location("x", "Osasto", "wa", None);
    l.as_object_mut().map(|o| o.remove("id"));
    l
}

fn behind_a_trusted_proxy() -> Config {
    Config {
        server: ServerLimits {
            trusted_proxies: vec!["127.0.0.0/8".parse().unwrap()],
            ..ServerLimits::default()
        },
        ..Config::default()
    }
}

async fn trusted_proxies_set_the_host(h: &Harness) {
    let r = h
        .send(
            h.with_body(Method::POST, "Location", &new_location())
                .header("x-forwarded-host", "ohjaamo.example")
                .header("x-forwarded-proto", "https"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let location = r.header("location").unwrap_or_default();
    assert!(
        location.starts_with("https://ohjaamo.example/fhir/Location/"),
        "{location}"
    );
}
both_backends!(
    trusted_proxies_set_the_host,
    super::behind_a_trusted_proxy()
);

fn small_bundle_answers() -> Config {
    Config {
        max_bundle_response_bytes: 10_000,
        ..Config::default()
    }
}

/// A Bundle's GETs are bounded: too many of them is 413 before anything runs; past
/// the response budget an entry answers 413 on its own, and a transaction whose
/// writes committed reports them as done rather than failing after the fact.
async fn bundle_reads_are_bounded(h: &Harness) {
    let locations: Vec<_> = (0..20)
        .map(|i| location(&format!("l{i}"), "Osasto", "wa", None))
        .collect();
    h.seed(&locations).await;

    let get = |url: &str| json!({ "request": { "method": "GET", "url": url } });
    let many = json!({
        "resourceType": "Bundle", "type": "batch",
        "entry": (0..101).map(|_| get("Location?_count=1000")).collect::<Vec<_>>()
    });
    let message = h
        .post("", &many)
        .await
        .assert_outcome(StatusCode::PAYLOAD_TOO_LARGE);
    assert!(message.contains("OHJAAMO_MAX_BUNDLE_READS"), "{message}");

    let batch = json!({
        "resourceType": "Bundle", "type": "batch",
        "entry": (0..5).map(|_| get("Location?_count=1000")).collect::<Vec<_>>()
    });
    let r = h.post("", &batch).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let statuses: Vec<&str> = r.body["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["response"]["status"].as_str().unwrap_or(""))
        .collect();
    assert!(statuses[0].starts_with("200"), "{statuses:?}");
    assert!(
        statuses.iter().any(|s| s.starts_with("413")),
        "{statuses:?}"
    );
    assert!(statuses.len() == 5);

    let transaction = json!({
        "resourceType": "Bundle", "type": "transaction",
        "entry": [
            { "request": { "method": "PUT", "url": "Location/new" },
              "resource": location("new", "Uusi", "wa", None) },
            get("Location?_count=1000"),
            get("Location?_count=1000"),
        ]
    });
    let r = h.post("", &transaction).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["type"], "transaction-response");
    assert!(
        r.body["entry"][0]["response"]["status"]
            .as_str()
            .unwrap_or("")
            .starts_with("201"),
        "{}",
        r.text
    );
    assert!(
        r.body["entry"][2]["response"]["status"]
            .as_str()
            .unwrap_or("")
            .starts_with("413"),
        "{}",
        r.text
    );
    assert_eq!(h.get("Location/new").await.status, StatusCode::OK);
}
both_backends!(bundle_reads_are_bounded, super::small_bundle_answers());
