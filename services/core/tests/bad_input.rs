//! Bad input: malformed JSON, wrong types, unknown elements, unknown resource types,
//! huge bodies, deeply nested JSON, invalid dates, references of the wrong type,
//! bad headers and paths. Each must be a 4xx OperationOutcome — never a 5xx or a
//! panic — and must leave what is stored exactly as it was.

#[macro_use]
mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The stored world every bad request is aimed at.
async fn seed(h: &Harness) -> Value {
    seed_bed_schedule(h, "sch").await;
    h.put_resource(&slot(
        "s1",
        "sch",
        "2026-03-29T10:00:00+03:00",
        "2026-03-29T11:00:00+03:00",
    ))
    .await;
    h.read("Slot/s1").await
}

/// Nothing changed: Slot/s1 is still version 1 with the same content, and no other
/// resource appeared.
async fn assert_unchanged(h: &Harness, original: &Value, after: &str) {
    let r = h.get("Slot/s1").await;
    assert_eq!(r.status, StatusCode::OK, "after {after}: {}", r.text);
    assert_eq!(&r.body, original, "Slot/s1 changed after {after}");
    assert_eq!(
        h.read("Slot/s1/_history").await["total"],
        1,
        "after {after}"
    );
    assert_eq!(h.count("Slot").await, 1, "after {after}");
    assert_eq!(h.count("Location").await, 2, "after {after}");
}

/// Sends a raw body with a content type to `path`; asserts a 4xx OperationOutcome.
async fn send_raw(
    h: &Harness,
    method: Method,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> String {
    let r = h
        .send(
            h.request(method, path)
                .header("content-type", content_type)
                .body(body),
        )
        .await;
    r.assert_client_error()
}

fn valid_slot() -> Value {
    slot(
        "s1",
        "sch",
        "2026-03-29T10:00:00+03:00",
        "2026-03-29T12:00:00+03:00",
    )
}

both_backends!(malformed_bodies);
async fn malformed_bodies(h: &Harness) {
    let original = seed(h).await;
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        (
            "truncated JSON",
            br#"{"resourceType": "Slot", "id": "s1", "#.to_vec(),
        ),
        ("not JSON", b"resourceType=Slot".to_vec()),
        ("empty", Vec::new()),
        ("JSON null", b"null".to_vec()),
        ("a JSON array", b"[{\"resourceType\": \"Slot\"}]".to_vec()),
        ("a JSON string", b"\"Slot\"".to_vec()),
        (
            "invalid UTF-8",
            b"{\"resourceType\": \"Slot\", \"id\": \"s1\", \"comment\": \"\xff\xfe\"}".to_vec(),
        ),
        (
            "a BOM and trailing garbage",
            b"\xef\xbb\xbf{\"resourceType\": \"Slot\"} xyz".to_vec(),
        ),
        (
            "deeply nested arrays",
            format!(
                "{{\"resourceType\":\"Slot\",\"id\":\"s1\",\"x\":{}{}}}",
                "[".repeat(100_000),
                "]".repeat(100_000)
            )
            .into_bytes(),
        ),
        (
            "deeply nested objects",
            format!("{}1{}", "{\"a\":".repeat(50_000), "}".repeat(50_000)).into_bytes(),
        ),
    ];
    for (what, body) in bodies {
        for (method, path) in [
            (Method::PUT, "Slot/s1"),
            (Method::POST, "Slot"),
            (Method::POST, ""),
        ] {
            let msg = send_raw(h, method.clone(), path, FHIR_JSON, body.clone()).await;
            assert!(!msg.is_empty(), "{what}: an explanation");
        }
        assert_unchanged(h, &original, what).await;
    }
}

both_backends!(invalid_resources);
async fn invalid_resources(h: &Harness) {
    let original = seed(h).await;
    let with = |key: &str, value: Value| {
        let mut s = valid_slot();
        s[key] = value;
        s
    };
    // Extensions of extensions, `levels` deep.
    let nested = |levels: usize| {
        let mut ext = json!({ "url": "http://example.org/leaf", "valueString": "x" });
        for _ in 0..levels {
            ext = json!({ "url": "http://example.org/level", "extension": [ext] });
        }
        json!([ext])
    };
    // [what, element, value it gets, what the message must name]; all are 400.
    let cases = json!([
        ["unknown element", "colour", "red", "colour"],
        ["wrong type: number for code", "status", 7, "Slot"],
        ["wrong type: object for instant", "start", { "at": 1 }, "Slot"],
        ["wrong type: array for single", "schedule", [{ "reference": "Schedule/sch" }], "Slot.schedule"],
        ["wrong type: string for array", "identifier", "S-1", "Slot"],
        ["wrong type: object for array", "identifier", { "value": "S-1" }, "Slot.identifier"],
        ["wrong type: string for boolean", "overbooked", "true", "Slot.overbooked"],
        ["wrong type: number for string", "comment", 1.5, "Slot.comment"],
        ["null element", "comment", null, "Slot"],
        ["null in an array", "identifier", [null], "Slot.identifier[0]"],
        ["null that would drop a value", "_status", [null], "Slot.status"],
        ["empty array", "identifier", [], "Slot.identifier"],
        ["empty array for a single element", "schedule", [], "Slot.schedule"],
        ["empty nested array", "serviceType", [{ "coding": [] }], "Slot.serviceType[0].coding"],
        ["empty array in an extension", "extension", [{ "url": "http://example.org/x", "valueString": [] }],
            "Slot.extension[0].valueString"],
        ["empty array in meta", "meta", { "tag": [] }, "Slot.meta.tag"],
        ["empty array in a contained resource", "contained",
            [{ "resourceType": "Device", "id": "d", "udiCarrier": [] }], "Slot.contained[0].udiCarrier"],
        ["empty array in the narrative", "text", { "status": "generated", "div": [] }, "Slot.text.div"],
        ["invalid date: 30 February", "start", "2026-02-30T10:00:00+02:00", "Slot.start"],
        ["invalid date: hour 24", "end", "2026-03-29T24:00:00+03:00", "Slot.end"],
        ["invalid date: not a date", "start", "tomorrow", "Slot.start"],
        ["invalid date: offset +15:00", "start", "2026-03-29T10:00:00+15:00", "Slot.start"],
        ["reference of the wrong type", "schedule", { "reference": "Location/ward" }, "Slot.schedule"],
        ["reference of a foreign type", "schedule", { "reference": "Patient/p1" }, "Slot.schedule"],
        ["malformed reference", "schedule", { "reference": "Schedule/" }, "Slot.schedule"],
        ["unresolved urn:uuid", "schedule", { "reference": "urn:uuid:5b1c7b5e-0000-4000-8000-000000000000" },
            "urn:uuid:5b1c7b5e"],
        ["resourceType of another type", "resourceType", "Location", "Location"],
        ["unknown resourceType", "resourceType", "Nonsense", "Nonsense"],
        ["resourceType not a string", "resourceType", ["Slot"], "resourceType"],
        ["id of another resource", "id", "s2", "s2"]
    ]);
    let mut cases: Vec<(String, Value, String)> = cases
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let what = c[0].as_str().unwrap().to_owned();
            (
                what,
                with(c[1].as_str().unwrap(), c[2].clone()),
                c[3].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut no_type = valid_slot();
    no_type.as_object_mut().unwrap().remove("resourceType");
    cases.push(("no resourceType".into(), no_type, "resourceType".into()));
    let huge = with("colour", json!("x".repeat(2_000_000)));
    cases.push((
        "a huge string in an unknown element".into(),
        huge,
        "colour".into(),
    ));
    for (what, body, names) in &cases {
        let r = h.put("Slot/s1", body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{what}: {}", r.text);
        let msg = r.assert_outcome(StatusCode::BAD_REQUEST);
        assert!(
            msg.contains(names.as_str()),
            "{what}: {msg:?} should name {names}"
        );
        assert!(
            msg.len() < 2_000,
            "{what}: a bounded message ({} bytes)",
            msg.len()
        );
        assert_unchanged(h, &original, what).await;
    }
    // Deep nesting that serde accepts (below its 128 levels) but that would overflow
    // fhirbolt's stack is refused; legal nesting of 30 levels is fine.
    let too_deep = with("extension", nested(60));
    let msg = h
        .put("Slot/s1", &too_deep)
        .await
        .assert_outcome(StatusCode::BAD_REQUEST);
    assert!(msg.contains("deeper than"), "{msg}");
    assert_unchanged(h, &original, "60 levels of extensions").await;
    let mut deep = with("extension", nested(30));
    deep["id"] = json!("deep");
    let r = h.put("Slot/deep", &deep).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(h.delete("Slot/deep").await.status, StatusCode::NO_CONTENT);

    // The same through create and inside Bundles.
    let bad = with("status", json!(7));
    h.post("Slot", &bad)
        .await
        .assert_outcome(StatusCode::BAD_REQUEST);
    let r = h.post("", &batch(vec![put_entry(&bad)])).await;
    assert_eq!(entry_statuses(&r.body), [400], "{}", r.text);
    h.post("", &transaction(vec![put_entry(&bad)]))
        .await
        .assert_outcome(StatusCode::BAD_REQUEST);
    assert_unchanged(h, &original, "bad entries in Bundles").await;
}

both_backends!(bad_requests);
async fn bad_requests(h: &Harness) {
    let original = seed(h).await;
    let body = valid_slot();
    let cases: Vec<(&str, reqwest::RequestBuilder, StatusCode)> = vec![
        // Paths and methods.
        (
            "unknown type",
            h.with_body(
                Method::POST,
                "Patient",
                &json!({ "resourceType": "Patient" }),
            ),
            StatusCode::NOT_FOUND,
        ),
        (
            "unknown type read",
            h.request(Method::GET, "Nonsense/1"),
            StatusCode::NOT_FOUND,
        ),
        (
            "unknown type search",
            h.request(Method::GET, "slot"),
            StatusCode::NOT_FOUND,
        ),
        (
            "too many segments",
            h.request(Method::GET, "Slot/s1/_history/1/extra"),
            StatusCode::NOT_FOUND,
        ),
        (
            // What a browser's cross-site form or no-cors POST can send.
            "a body without Content-Type",
            h.request(Method::POST, "Slot").body(body.to_string()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "a body as text/plain",
            h.request(Method::POST, "Slot")
                .header("content-type", "text/plain")
                .body(body.to_string()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "DELETE metadata",
            h.request(Method::DELETE, "metadata"),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            "POST to an instance",
            h.with_body(Method::POST, "Slot/s1", &body),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            "PATCH",
            h.with_body(Method::PATCH, "Slot/s1", &body),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            "DELETE a type",
            h.request(Method::DELETE, "Slot"),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            "PUT history",
            h.with_body(Method::PUT, "Slot/s1/_history/1", &body),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            "GET the base",
            h.request(Method::GET, ""),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        // Ids.
        (
            "invalid id",
            h.with_body(Method::PUT, "Slot/a%20b", &body),
            StatusCode::BAD_REQUEST,
        ),
        (
            "too long id",
            h.request(Method::GET, &format!("Slot/{}", "a".repeat(65))),
            StatusCode::BAD_REQUEST,
        ),
        (
            "id with underscore",
            h.request(Method::DELETE, "Slot/s_1"),
            StatusCode::BAD_REQUEST,
        ),
        // Headers.
        (
            "text/plain",
            h.request(Method::PUT, "Slot/s1")
                .header("content-type", "text/plain")
                .body(body.to_string()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "XML",
            h.request(Method::POST, "Slot")
                .header("content-type", "application/fhir+xml")
                .body("<Slot/>"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "form to the base",
            h.request(Method::POST, "")
                .header("content-type", "application/x-www-form-urlencoded")
                .body("a=b"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "garbage If-Match",
            h.with_body(Method::PUT, "Slot/s1", &body)
                .header("if-match", "W/\"one\""),
            StatusCode::BAD_REQUEST,
        ),
        (
            "garbage If-Match on delete",
            h.request(Method::DELETE, "Slot/s1")
                .header("if-match", "latest"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "bad tenant",
            h.with_body(Method::PUT, "Slot/s1", &body)
                .header(TENANT, "a b"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "empty tenant",
            h.with_body(Method::PUT, "Slot/s1", &body)
                .header(TENANT, ""),
            StatusCode::BAD_REQUEST,
        ),
        (
            "long tenant",
            h.request(Method::GET, "Slot/s1")
                .header(TENANT, "o".repeat(65)),
            StatusCode::BAD_REQUEST,
        ),
        // Query strings.
        (
            "history _count",
            h.request(Method::GET, "Slot/s1/_history?_count=x"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "history _since",
            h.request(Method::GET, "Slot/_history?_since=yesterday"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "huge _count",
            h.request(Method::GET, "Slot?_count=99999999999999999999999"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a 30 kB date",
            h.request(
                Method::GET,
                &format!("Slot?start=ge2026-{}", "1".repeat(30_000)),
            ),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (what, request, status) in cases {
        let r = h.send(request).await;
        let msg = r.assert_outcome(status);
        assert!(!msg.is_empty(), "{what}");
        assert!(
            msg.len() < 2_000,
            "{what}: the message is bounded ({} bytes)",
            msg.len()
        );
        assert_unchanged(h, &original, what).await;
    }
    // A conditional update creates with the id in the body: it must be a FHIR id.
    for bad_id in ["../../x", "a b", "x/y", "ä", &"a".repeat(65), ""] {
        let mut resource = valid_slot();
        resource["id"] = json!(bad_id);
        resource["identifier"] = json!([{ "system": "urn:test", "value": "new-1" }]);
        let r = h
            .send(h.with_body(Method::PUT, "Slot?identifier=urn:test|new-1", &resource))
            .await;
        r.assert_outcome(StatusCode::BAD_REQUEST);
        assert_unchanged(h, &original, &format!("a body id of {bad_id:?}")).await;
    }
    // Extreme but valid values are answered, not crashed on.
    for query in [
        "_offset=18446744073709551615",
        "start=lt0001-01-01",
        "start=gt9999-12-31",
        "start=9999",
        "_count=0",
    ] {
        let r = h.get(&format!("Slot?{query}")).await;
        assert!(
            !r.status.is_server_error(),
            "{query}: {} {}",
            r.status,
            r.text
        );
        if !r.status.is_success() {
            r.assert_client_error();
        }
    }
    assert_unchanged(h, &original, "extreme values").await;
}

fn small_bodies() -> ohjaamo_core::Config {
    ohjaamo_core::Config {
        max_body_bytes: 4_096,
        ..ohjaamo_core::Config::default()
    }
}

both_backends!(huge_bodies, super::small_bodies());
async fn huge_bodies(h: &Harness) {
    let original = seed(h).await;
    let mut big = valid_slot();
    big["comment"] = json!("x".repeat(5_000));
    for (method, path) in [
        (Method::PUT, "Slot/s1"),
        (Method::POST, "Slot"),
        (Method::POST, ""),
    ] {
        let msg = h
            .send(h.with_body(method, path, &big))
            .await
            .assert_outcome(StatusCode::PAYLOAD_TOO_LARGE);
        assert!(msg.contains("4096"), "{msg}");
        assert_unchanged(h, &original, "a too large body").await;
    }
    // Just under the limit is fine.
    let mut fits = valid_slot();
    fits["comment"] = json!("x".repeat(3_000));
    let r = h.put("Slot/s1", &fits).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.version(), 2);
}

both_backends!(unusual_but_valid_json_is_accepted);
async fn unusual_but_valid_json_is_accepted(h: &Harness) {
    // Primitive extensions with null alignment, decimals, contained resources, a
    // narrative, client meta: valid R4 JSON that must not be mistaken for bad input.
    let loc = json!({
        "resourceType": "Location",
        "id": "odd",
        "meta": { "profile": ["http://example.org/StructureDefinition/x"], "source": "adapter-1" },
        "text": { "status": "generated",
                  "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Osasto &amp; huone</p></div>" },
        "contained": [{ "resourceType": "Organization", "id": "org", "name": "Yksikkö" }],
        "status": "active",
        "_status": { "extension": [{ "url": "http://example.org/why", "valueString": "auki" }] },
        "name": "Osasto 9",
        "alias": ["Yhdeksän", null],
        "_alias": [null, { "extension": [{ "url": "http://example.org/x", "valueBoolean": true }] }],
        "position": { "longitude": 24.9384, "latitude": 60.1699, "altitude": -1.5 },
        "managingOrganization": { "reference": "#org" },
        "hoursOfOperation": [{ "daysOfWeek": ["mon", "tue"], "allDay": false, "openingTime": "08:00:00" }]
    });
    let r = h.put("Location/odd", &loc).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let stored = h.read("Location/odd").await;
    for key in [
        "text",
        "contained",
        "_status",
        "alias",
        "_alias",
        "position",
        "hoursOfOperation",
    ] {
        assert_eq!(stored[key], loc[key], "{key}");
    }
    assert_eq!(stored["meta"]["source"], "adapter-1");
    h.assert_search("Location", &[("name", "yhdeksan")], &["odd"])
        .await;
    // Sent again unchanged: no new version.
    assert_eq!(h.put("Location/odd", &loc).await.version(), 1);
}
