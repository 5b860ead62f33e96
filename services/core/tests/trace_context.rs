//! W3C trace context: a request that arrives with a `traceparent` is traced as part of
//! the caller's trace (the core's request span is a child of the caller's span).
//! Spans are collected with OpenTelemetry's in-memory exporter.

#[macro_use]
mod common;

use common::*;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use reqwest::StatusCode;
use std::sync::OnceLock;
use tracing_subscriber::layer::SubscriberExt as _;

/// One exporter for the process: the subscriber is global, so that the spans of the
/// server's worker threads are seen.
fn exporter() -> &'static (InMemorySpanExporter, SdkTracerProvider) {
    static SETUP: OnceLock<(InMemorySpanExporter, SdkTracerProvider)> = OnceLock::new();
    SETUP.get_or_init(|| {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        (exporter, provider)
    })
}

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN: &str = "00f067aa0ba902b7";

both_backends!(requests_join_the_callers_trace);
async fn requests_join_the_callers_trace(h: &Harness) {
    let (exporter, provider) = exporter();
    let traceparent = format!("00-{TRACE_ID}-{PARENT_SPAN}-01");
    let r = h
        .send(
            h.request(reqwest::Method::GET, "Location/absent")
                .header("traceparent", &traceparent),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Untraced requests start traces of their own.
    h.get("metadata").await;

    provider.force_flush().expect("flush");
    let spans = exporter.get_finished_spans().expect("spans");
    let request = spans
        .iter()
        .find(|s| s.name == "request" && s.span_context.trace_id().to_string() == TRACE_ID)
        .unwrap_or_else(|| {
            panic!(
                "no request span in the caller's trace among {:?}",
                spans
                    .iter()
                    .map(|s| (s.name.to_string(), s.span_context.trace_id().to_string()))
                    .collect::<Vec<_>>()
            )
        });
    assert_eq!(request.parent_span_id.to_string(), PARENT_SPAN);
    assert!(
        spans
            .iter()
            .any(|s| s.name == "request" && s.span_context.trace_id().to_string() != TRACE_ID),
        "the untraced request has a trace of its own"
    );
}
