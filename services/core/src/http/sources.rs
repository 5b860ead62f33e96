//! The sources' status: each adapter reports itself to the core (`PUT
//! /sources/{name}`, every few seconds), and the core answers `GET /sources` with every
//! source of the organisation, saying plainly which are stale.
//!
//! Why the core keeps it rather than each adapter only: the displays, the on-call
//! engineer and the alerts need one place that knows whether the picture is fed. A
//! source is *stale* when its adapter has not reported for three report intervals
//! (the adapter is down or cannot reach the core), or when its last successful
//! delivery is older than the adapter's own `staleAfterSeconds` (it runs but its source
//! gives nothing: the export answers 500s, the ADT feed went quiet). Reports are
//! stored, so every replica answers the same.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::auth::scopes::Permission;
use crate::base::error::ApiError;
use crate::base::state::AppState;
use crate::http::context::Ctx;

/// The least time without a report before a source counts as stale.
const MIN_SILENCE_SECONDS: f64 = 30.0;

// The largest report taken is the contract's: a megabyte one would be stored and
// served back to every display polling `GET /sources`.
use ohjaamo_adapter_contract::MAX_REPORT_BYTES;

/// How many source names get metric series of their own; more are `other`, so that a
/// client inventing names cannot grow `/metrics` without bound.
const MAX_SOURCE_LABELS: usize = 64;

/// `name` as a metric label value: itself while fewer than [`MAX_SOURCE_LABELS`]
/// names have been seen, `other` after.
fn source_label(name: &str) -> String {
    static SEEN: std::sync::Mutex<std::collections::BTreeSet<String>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    let mut seen = SEEN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if seen.contains(name) || seen.len() < MAX_SOURCE_LABELS {
        seen.insert(name.to_owned());
        name.to_owned()
    } else {
        "other".to_owned()
    }
}

/// What an adapter reports of itself: the wire contract, defined once beside the
/// adapters (`ohjaamo-adapter-contract`) so that both sides read the same fields.
pub use ohjaamo_adapter_contract::SourceReport;

/// With authentication on, a token reports only its own source: the one named as its
/// OAuth client id. A forged "healthy" report for another adapter would hide that it
/// has stopped; the scope alone cannot tell one adapter's token from another's.
fn own_source_only(ctx: &Ctx, name: &str) -> Result<(), ApiError> {
    let Some(principal) = ctx.access.principal() else {
        return Ok(());
    };
    match principal.client_id.as_deref() {
        Some(client) if client == name => Ok(()),
        _ => Err(ApiError::Forbidden(format!(
            "a token reports only its own source (the one named as its client id), not {name:?}"
        ))),
    }
}

/// `PUT /sources/{name}`: an adapter's report.
pub async fn put(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    ctx.access.require_permission(Permission::SourcesWrite)?;
    check_name(&name)?;
    own_source_only(&ctx, &name)?;
    if body.len() > MAX_REPORT_BYTES {
        return Err(ApiError::PayloadTooLarge(format!(
            "the report of source {name:?} is {} bytes; at most {MAX_REPORT_BYTES} are taken",
            body.len()
        )));
    }
    let report: SourceReport = serde_json::from_slice(&body).map_err(|e| {
        ApiError::BadRequest(format!(
            "the report of source {name:?} is not a source report: {e}"
        ))
    })?;
    if let Some(t) = &report.last_success {
        t.parse::<Timestamp>().map_err(|e| {
            ApiError::BadRequest(format!(
                "lastSuccess {t:?}: expected an RFC 3339 instant ({e})"
            ))
        })?;
    }
    let finite = |v: f64| v.is_finite() && v >= 0.0;
    if !finite(report.stale_after_seconds)
        || !finite(report.report_interval_seconds)
        || report.lag_seconds.is_some_and(|l| !finite(l))
    {
        return Err(ApiError::BadRequest(
            "staleAfterSeconds, reportIntervalSeconds and lagSeconds are non-negative numbers"
                .into(),
        ));
    }
    let labels = [("source", source_label(&name))];
    metrics::gauge!("ohjaamo_source_quarantined_records", &labels).set(report.quarantined as f64);
    metrics::gauge!("ohjaamo_source_data_quality_marks", &labels)
        .set(report.data_quality_marks as f64);
    if let Some(lag) = report.lag_seconds {
        metrics::gauge!("ohjaamo_source_lag_seconds", &labels).set(lag);
    }
    if let Some(t) = report
        .last_success
        .as_deref()
        .and_then(|t| t.parse::<Timestamp>().ok())
    {
        metrics::gauge!("ohjaamo_source_last_success_timestamp_seconds", &labels)
            .set(t.as_millisecond() as f64 / 1000.0);
    }
    let text = serde_json::to_string(&report)
        .map_err(|e| ApiError::Internal(format!("a source report did not serialise: {e}")))?;
    let access = crate::audit::note::for_write();
    state
        .store
        .put_source_status(
            &ctx.tenant,
            &name,
            &text,
            Timestamp::now().as_microsecond(),
            access.as_ref(),
        )
        .await?;
    if access.is_some() {
        crate::audit::note::written();
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /sources`: every source of the organisation, and whether it is stale.
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> Result<Json<Value>, ApiError> {
    ctx.access.require_permission(Permission::SourcesRead)?;
    let now = Timestamp::now();
    let rows = state.store.source_statuses(&ctx.tenant).await?;
    let sources: Vec<Value> = rows
        .iter()
        .filter_map(|row| {
            let report: SourceReport = serde_json::from_str(&row.body).ok()?;
            let reported_at = Timestamp::from_microsecond(row.reported_at).ok()?;
            let stale_reason = stale_reason(&report, reported_at, now);
            metrics::gauge!("ohjaamo_source_stale", "source" => source_label(&row.name))
                .set(if stale_reason.is_some() { 1.0 } else { 0.0 });
            Some(json!({
                "name": row.name,
                "kind": report.kind,
                "reportedAt": reported_at.to_string(),
                "lastSuccess": report.last_success,
                "lastError": report.last_error,
                "lagSeconds": report.lag_seconds,
                "quarantined": report.quarantined,
                "dataQualityMarks": report.data_quality_marks,
                "stale": stale_reason.is_some(),
                "staleReason": stale_reason,
            }))
        })
        .collect();
    // `time` is the core's now, which displays set their clocks by (the demo's is the
    // simulated hospital's); staleness above is measured on the system clock, as the
    // adapters report on it.
    let time = state.config.clock.now();
    Ok(Json(
        json!({ "time": time.to_string(), "sources": sources }),
    ))
}

/// Why the source is stale at `now`, if it is.
pub fn stale_reason(
    report: &SourceReport,
    reported_at: Timestamp,
    now: Timestamp,
) -> Option<String> {
    let silence = seconds_between(reported_at, now);
    let allowed_silence = (3.0 * report.report_interval_seconds).max(MIN_SILENCE_SECONDS);
    if silence > allowed_silence {
        return Some(format!(
            "no report from the adapter since {reported_at} ({silence:.0} s): it is down or cannot reach the core"
        ));
    }
    let last = report
        .last_success
        .as_deref()
        .and_then(|t| t.parse::<Timestamp>().ok());
    let since = last.map(|t| seconds_between(t, now));
    match (last, since) {
        (Some(t), Some(s)) if s > report.stale_after_seconds => Some(format!(
            "nothing delivered since {t} ({s:.0} s){}",
            report
                .last_error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        )),
        (None, _) => Some(match &report.last_error {
            Some(e) => format!("nothing delivered yet: {e}"),
            None => "nothing delivered yet".to_owned(),
        }),
        _ => None,
    }
}

fn seconds_between(from: Timestamp, to: Timestamp) -> f64 {
    to.duration_since(from).as_secs_f64().max(0.0)
}

fn check_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!(
            "source name {name:?}: 1 to 64 letters, digits, '-' or '_'"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(last_success: Option<&str>, error: Option<&str>) -> SourceReport {
        SourceReport {
            data_quality_marks: 0,
            kind: "pull".into(),
            last_success: last_success.map(str::to_owned),
            last_error: error.map(str::to_owned),
            lag_seconds: Some(1.0),
            quarantined: 0,
            stale_after_seconds: 60.0,
            report_interval_seconds: 5.0,
        }
    }

    fn at(t: &str) -> Timestamp {
        t.parse().unwrap()
    }

    #[test]
    fn fresh_reports_of_recent_success_are_not_stale() {
        let r = report(Some("2026-12-02T10:00:00Z"), None);
        assert_eq!(
            stale_reason(&r, at("2026-12-02T10:00:30Z"), at("2026-12-02T10:00:40Z")),
            None
        );
    }

    #[test]
    fn a_silent_adapter_is_stale() {
        let r = report(Some("2026-12-02T10:00:00Z"), None);
        let why = stale_reason(&r, at("2026-12-02T10:00:00Z"), at("2026-12-02T10:00:31Z")).unwrap();
        assert!(why.contains("no report from the adapter"), "{why}");
    }

    #[test]
    fn an_adapter_whose_source_fails_is_stale_and_says_why() {
        let r = report(Some("2026-12-02T10:00:00Z"), Some("export answered 500"));
        let why = stale_reason(&r, at("2026-12-02T10:01:05Z"), at("2026-12-02T10:01:10Z")).unwrap();
        assert!(
            why.contains("nothing delivered since") && why.contains("500"),
            "{why}"
        );
        let never = report(None, None);
        assert!(
            stale_reason(
                &never,
                at("2026-12-02T10:00:00Z"),
                at("2026-12-02T10:00:01Z")
            )
            .is_some()
        );
    }
}
