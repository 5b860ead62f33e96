//! The access log with authentication on, through a real issuer: every request leaves
//! a record saying who (subject, client, name, scopes), for which organisation, and how
//! it ended — refusals too (401, 403, a foreign organisation) — and only an auditor
//! reads the log, as AuditEvents.

mod common;
mod oidc;

use ohjaamo_store::StoredAccess;
use reqwest::{Method, StatusCode};
use serde_json::json;

use common::{Harness, location};
use oidc::{ORG_A, ORG_B, call};

async fn records_after(h: &Harness, after: i64) -> Vec<StoredAccess> {
    h.access_records_after(after).await
}

/// The one record a request left (after record `after`).
async fn only_record(h: &Harness, after: i64) -> StoredAccess {
    let mut records = records_after(h, after).await;
    assert_eq!(records.len(), 1, "{records:#?}");
    records.remove(0)
}

async fn last(h: &Harness) -> i64 {
    records_after(h, 0).await.last().map_or(0, |s| s.id)
}

#[tokio::test]
async fn callers_and_refusals_are_recorded_and_only_auditors_read_them() {
    let Some((issuer, h)) = oidc::start().await else {
        return;
    };
    let admin = issuer.token_for(ORG_A, "system/*.cruds");
    let r = call(
        &h,
        Method::PUT,
        "/fhir/Location/w1",
        Some(&admin),
        None,
        Some(&location("w1", "Osasto", "wa", None)),
    )
    .await;
    assert!(r.status.is_success(), "{}", r.text);

    // No token: a 401 with no one named, the organisation it asked for kept apart.
    let mark = last(&h).await;
    let r = call(
        &h,
        Method::GET,
        "/fhir/Location/w1",
        None,
        Some(ORG_A),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let s = only_record(&h, mark).await;
    assert_eq!((s.record.status, s.record.subject.as_deref()), (401, None));
    assert_eq!(s.record.tenant, "");
    assert_eq!(s.record.claimed_tenant.as_deref(), Some(ORG_A));

    // A coordinator without the scope: a 403 naming who was refused.
    let nurse = issuer.token(json!({
        "organization": ORG_A, "scope": "user/Slot.rs", "sub": "nurse-7",
        "client_id": "bed-board", "name": "Hoitaja Seitsemän",
    }));
    let mark = last(&h).await;
    let r = call(
        &h,
        Method::GET,
        "/fhir/Location/w1",
        Some(&nurse),
        None,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let s = only_record(&h, mark).await;
    assert_eq!(s.record.status, 403);
    assert_eq!(s.record.subject.as_deref(), Some("nurse-7"));
    assert_eq!(s.record.client_id.as_deref(), Some("bed-board"));
    assert_eq!(s.record.subject_name.as_deref(), Some("Hoitaja Seitsemän"));
    assert_eq!(s.record.scopes, vec!["user/Slot.rs".to_owned()]);
    assert_eq!(s.record.tenant, ORG_A);
    assert!(
        s.record
            .outcome
            .as_deref()
            .unwrap_or("")
            .contains("Location.r")
    );

    // Another organisation's: refused, and recorded as claimed, not acted for.
    let mark = last(&h).await;
    let r = call(
        &h,
        Method::GET,
        "/fhir/Location/w1",
        Some(&admin),
        Some(ORG_B),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let s = only_record(&h, mark).await;
    assert_eq!(
        (s.record.tenant.as_str(), s.record.claimed_tenant.as_deref()),
        ("", Some(ORG_B))
    );

    // A successful read names the caller and what it read.
    let reader = issuer.token(json!({
        "organization": ORG_A, "scope": "user/Location.rs", "sub": "coordinator-1",
    }));
    let mark = last(&h).await;
    let r = call(
        &h,
        Method::GET,
        "/fhir/Location?name=osasto",
        Some(&reader),
        None,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let s = only_record(&h, mark).await;
    assert_eq!(s.record.subject.as_deref(), Some("coordinator-1"));
    assert_eq!(s.record.entities.len(), 1);
    assert_eq!(s.record.entities[0].reference, "Location/w1");

    // The log itself: not for a token of every resource scope, only for an auditor.
    let r = call(
        &h,
        Method::GET,
        "/fhir/AuditEvent",
        Some(&admin),
        None,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let auditor = issuer.token(json!({
        "organization": ORG_A, "scope": "user/ohjaamo.audit.read", "sub": "auditor-1",
    }));
    let r = call(
        &h,
        Method::GET,
        "/fhir/AuditEvent?agent=nurse-7",
        Some(&auditor),
        None,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let entries = r.body["entry"].as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 1, "{}", r.text);
    let event = &entries[0]["resource"];
    assert_eq!(event["outcome"], "4");
    assert_eq!(event["agent"][0]["who"]["identifier"]["value"], "nurse-7");
    assert_eq!(event["agent"][0]["name"], "Hoitaja Seitsemän");
    ohjaamo_fhir::check_r4_structure(event.clone()).expect("an R4 AuditEvent");
    // The auditor reads nothing else.
    let r = call(
        &h,
        Method::GET,
        "/fhir/Location/w1",
        Some(&auditor),
        None,
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // And the auditor's reading is itself in the log.
    let r = call(
        &h,
        Method::GET,
        "/fhir/AuditEvent?agent=auditor-1",
        Some(&auditor),
        None,
        None,
    )
    .await;
    assert!(
        r.body["entry"].as_array().is_some_and(|e| !e.is_empty()),
        "{}",
        r.text
    );
}
