//! `GET /metrics`: requests by route template and status, and the write outcomes
//! that make the ingest rate, in the Prometheus text format; and what the service says
//! of itself to strangers (503s, `/readyz`, the display pages' headers).

#[macro_use]
mod common;

use common::*;
use reqwest::StatusCode;

/// The value of the first sample line that starts with `series`, if any.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

both_backends!(metrics_count_requests_and_writes);
async fn metrics_count_requests_and_writes(h: &Harness) {
    seed_bed_schedule(h, "sch").await;
    let r = h
        .put(
            "Slot/m1",
            &slot(
                "m1",
                "sch",
                "2026-03-29T10:00:00+03:00",
                "2026-03-29T11:00:00+03:00",
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    h.get("Slot/never-was")
        .await
        .assert_outcome(StatusCode::NOT_FOUND);

    let metrics_url = h.base.trim_end_matches("/fhir").to_owned() + "/metrics";
    let response = h.client.get(&metrics_url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = response.text().await.unwrap();

    // Route templates, never concrete ids, as label values.
    let not_found = sample(
        &text,
        r#"ohjaamo_http_requests_total{method="GET",route="/fhir/{rtype}/{id}",status="404"}"#,
    )
    .unwrap_or_else(|| panic!("no 404 series in:\n{text}"));
    assert!(not_found >= 1.0);
    assert!(!text.contains("never-was"), "ids must not become labels");
    let created = sample(
        &text,
        r#"ohjaamo_resources_written_total{type="Slot",outcome="created"}"#,
    )
    .unwrap_or_else(|| panic!("no written series in:\n{text}"));
    assert!(created >= 1.0);
    assert!(
        text.contains("ohjaamo_http_request_duration_seconds_bucket"),
        "durations are histograms"
    );

    // Methods a client makes up are one label value, not one series each.
    for invented in ["BREW", "PROPFIND", "X-OHJAAMO-MADE-UP"] {
        let method = reqwest::Method::from_bytes(invented.as_bytes()).unwrap();
        h.send(h.request(method, "Slot")).await;
    }
    let text = h
        .client
        .get(&metrics_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for invented in ["BREW", "PROPFIND", "X-OHJAAMO-MADE-UP"] {
        assert!(!text.contains(invented), "{invented} became a label value");
    }
    assert!(
        text.contains(r#"method="other""#),
        "invented methods count as other:\n{text}"
    );
}

both_backends!(an_unanswering_database_is_a_503_without_its_words);
async fn an_unanswering_database_is_a_503_without_its_words(h: &Harness) {
    h.store().close().await;
    let r = h.get("Slot?_count=1").await;
    let message = r.assert_outcome(StatusCode::SERVICE_UNAVAILABLE);
    let readyz = h.base.trim_end_matches("/fhir").to_owned() + "/readyz";
    let ready = h.client.get(&readyz).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let ready = ready.text().await.unwrap();
    for leak in ["pool", "closed", "sqlx", "database error", "postgres://"] {
        assert!(
            !message.to_lowercase().contains(leak),
            "the 503 says {leak:?}: {message}"
        );
        assert!(
            !ready.to_lowercase().contains(leak),
            "/readyz says {leak:?}: {ready}"
        );
    }
}

both_backends!(display_pages_cannot_be_framed_or_run_foreign_scripts);
async fn display_pages_cannot_be_framed_or_run_foreign_scripts(h: &Harness) {
    let root = h.base.trim_end_matches("/fhir").to_owned();
    for page in [
        "/displays/",
        "/displays/beds",
        "/displays/recovery",
        "/displays/assets/beds.js",
    ] {
        let r = h.client.get(format!("{root}{page}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{page}");
        let csp = r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        for directive in [
            "script-src 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ] {
            assert!(csp.contains(directive), "{page}: {csp}");
        }
        assert_eq!(r.headers()["x-content-type-options"], "nosniff", "{page}");
        assert_eq!(r.headers()["x-frame-options"], "DENY", "{page}");
        let text = r.text().await.unwrap();
        assert!(
            !text.contains("<script>") && !text.contains("<script type=\"module\">"),
            "{page} has an inline script the policy would refuse"
        );
    }
}
