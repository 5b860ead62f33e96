//! W3C trace context on incoming requests.
//!
//! An adapter that sends a Bundle with a `traceparent` header wants the core's work on
//! it to appear in the same trace. The request span is made a child of the context in
//! the headers, using whatever propagator the process installed (the binary installs
//! W3C Trace Context). Without OpenTelemetry configured this costs one header look-up
//! and changes nothing.

use axum::http::{HeaderMap, Request};
use opentelemetry::propagation::Extractor;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// Reads propagation fields from HTTP headers.
struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

/// The span of one HTTP request, child of the caller's trace when it sent one.
pub fn request_span<B>(request: &Request<B>) -> Span {
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        uri = %request.uri().path(),
        version = ?request.version(),
    );
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&Headers(request.headers()))
    });
    // Fails only when the span is disabled (filtered out): then there is nothing to link.
    let _ = span.set_parent(parent);
    span
}

/// Collects propagation fields into the strings an event carries.
#[derive(Default)]
struct Fields(std::collections::HashMap<String, String>);

impl opentelemetry::propagation::Injector for Fields {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
}

/// The trace context of the current span, for the events a write appends: a consumer
/// that continues from it joins the trace of the request that caused the change.
/// Empty when tracing is off.
pub fn current_event_trace() -> ohjaamo_store::EventTrace {
    let context = Span::current().context();
    let mut fields = Fields::default();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut fields)
    });
    ohjaamo_store::EventTrace {
        traceparent: fields.0.remove("traceparent").unwrap_or_default(),
        tracestate: fields.0.remove("tracestate").unwrap_or_default(),
    }
}
