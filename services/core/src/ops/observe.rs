//! Prometheus metrics: what an on-call engineer graphs and alerts on.
//!
//! The `metrics` facade is recorded into one process-wide Prometheus recorder and
//! served as text at `GET /metrics`. Names and labels are documented in
//! docs/operations.md; labels never carry ids or personal data, only routes, types and
//! outcomes, so the number of series stays bounded.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use ohjaamo_store::WriteStatus;

/// Request durations are histograms with these bounds (seconds): the API answers in
/// milliseconds, a 1,000-entry Bundle in a second or two.
const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed on first use. A process that already has
/// another global recorder (an embedding application) still gets a handle, which
/// then renders only what this recorder sees.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), DURATION_BUCKETS)
            .map(PrometheusBuilder::build_recorder)
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "histogram buckets refused; using summaries");
                PrometheusBuilder::new().build_recorder()
            });
        let handle = recorder.handle();
        if let Err(e) = metrics::set_global_recorder(recorder) {
            tracing::warn!(error = %e, "another metrics recorder is installed; /metrics shows only Ohjaamo's own view");
        }
        describe();
        handle
    })
}

fn describe() {
    metrics::describe_counter!(
        "ohjaamo_http_requests_total",
        "HTTP requests answered, by method, route template and status"
    );
    metrics::describe_histogram!(
        "ohjaamo_http_request_duration_seconds",
        metrics::Unit::Seconds,
        "Time to answer an HTTP request, by method and route template"
    );
    metrics::describe_counter!(
        "ohjaamo_resources_written_total",
        "Resources written through the API, by type and outcome (created, updated, unchanged, deleted, refused)"
    );
    metrics::describe_counter!(
        "ohjaamo_background_errors_total",
        "Failed rounds of a background task (picture deriver, relay), by task"
    );
    metrics::describe_counter!(
        "ohjaamo_events_published_total",
        "Events the bus confirmed (RabbitMQ publisher confirms, or the in-process bus)"
    );
    metrics::describe_gauge!(
        "ohjaamo_outbox_backlog_events",
        "Events committed but not yet confirmed by the bus"
    );
    metrics::describe_gauge!(
        "ohjaamo_bus_connected",
        "1 while the relay holds a connection to the bus, 0 otherwise"
    );
    metrics::describe_counter!(
        "ohjaamo_publish_failures_total",
        "Relay rounds that failed to publish (broker away, channel closed, confirms missing or negative)"
    );
    metrics::describe_counter!(
        "ohjaamo_relay_unreadable_pictures_total",
        "Stored unit pictures whose figures did not read as their kind's (published without figures; a bug)"
    );
    metrics::describe_gauge!(
        "ohjaamo_outbox_oldest_event_age_seconds",
        "How long the oldest event not yet confirmed by the bus has waited (0 when none waits)"
    );
    metrics::describe_histogram!(
        "ohjaamo_picture_round_seconds",
        metrics::Unit::Seconds,
        "Time a picture deriver round took to recompute its units, by cause (change or refresh)"
    );
    metrics::describe_gauge!(
        "ohjaamo_source_lag_seconds",
        "Each source's lag as its adapter last reported it"
    );
    metrics::describe_gauge!(
        "ohjaamo_source_quarantined_records",
        "Records in each source adapter's quarantine since it started, as last reported"
    );
    metrics::describe_gauge!(
        "ohjaamo_source_stale",
        "1 when a source is stale (no report, or no delivery for too long) as of the last GET /sources"
    );
    metrics::describe_counter!(
        "ohjaamo_picture_units_recomputed_total",
        "Unit pictures recomputed by the deriver"
    );
    metrics::describe_counter!(
        "ohjaamo_picture_units_changed_total",
        "Unit pictures that changed and were announced"
    );
}

/// `GET /metrics`: the Prometheus text format.
pub async fn render() -> Response {
    let handle = handle();
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

/// Middleware: counts and times every request by its route template (`/fhir/{rtype}/{id}`),
/// never by its concrete path, so ids do not become label values.
pub async fn track_requests(request: Request, next: Next) -> Response {
    handle();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = method_label(request.method()).to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(
        "ohjaamo_http_requests_total",
        "method" => method.clone(),
        "route" => route.clone(),
        "status" => status
    )
    .increment(1);
    metrics::histogram!(
        "ohjaamo_http_request_duration_seconds",
        "method" => method,
        "route" => route
    )
    .record(started.elapsed().as_secs_f64());
    response
}

/// A request's method as a metric label, from a closed set: a client inventing
/// methods must not invent label values (each is a series kept for good).
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts one request's write outcomes: the ingest rate is the rate of this counter.
pub fn count_writes<'a>(outcomes: impl Iterator<Item = (&'a str, Option<WriteStatus>)>) {
    for (rtype, status) in outcomes {
        let outcome = match status {
            Some(WriteStatus::Created) => "created",
            Some(WriteStatus::Updated) => "updated",
            Some(WriteStatus::Unchanged) => "unchanged",
            Some(WriteStatus::Deleted | WriteStatus::AlreadyAbsent) => "deleted",
            None => "refused",
        };
        metrics::counter!(
            "ohjaamo_resources_written_total",
            "type" => rtype.to_owned(),
            "outcome" => outcome
        )
        .increment(1);
    }
}

/// Counts a failed round of the background task `task`.
pub fn note_background_error(task: &'static str) {
    metrics::counter!("ohjaamo_background_errors_total", "task" => task).increment(1);
}

/// Counts one deriver round's recomputed and changed unit pictures.
pub fn note_pictures_derived(recomputed: usize, changed: usize) {
    metrics::counter!("ohjaamo_picture_units_recomputed_total").increment(recomputed as u64);
    metrics::counter!("ohjaamo_picture_units_changed_total").increment(changed as u64);
}

/// Counts events the bus confirmed.
pub fn note_published(events: usize) {
    metrics::counter!("ohjaamo_events_published_total").increment(events as u64);
}
