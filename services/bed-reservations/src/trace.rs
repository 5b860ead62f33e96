//! The consumer's part of the trace: each delivery is handled in a `consume_event`
//! span whose parent is the W3C trace context the relay put in the message's AMQP
//! headers (`traceparent`, `tracestate`; docs/bus-contract.md), so a consumer's work
//! on an event joins the trace of the request that caused it. Without the headers
//! (picture changes carry none) or without OpenTelemetry the span is a root of its own.

use ohjaamo_bus::lapin::message::Delivery;
use ohjaamo_bus::lapin::types::{AMQPValue, FieldTable};
use opentelemetry::propagation::Extractor;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// Reads propagation fields from AMQP headers: the relay writes them as long
/// strings; short strings (other publishers) are read too.
struct Headers<'a>(Option<&'a FieldTable>);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        let table = self.0?.inner();
        let value = table
            .iter()
            .find(|(name, _)| name.as_str().eq_ignore_ascii_case(key))
            .map(|(_, value)| value)?;
        match value {
            AMQPValue::LongString(s) => std::str::from_utf8(s.as_bytes()).ok(),
            AMQPValue::ShortString(s) => Some(s.as_str()),
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        self.0
            .map(|table| table.inner().keys().map(|k| k.as_str()).collect())
            .unwrap_or_default()
    }
}

/// The span to handle `delivery` in: a child of the trace context its headers carry.
/// `sequence` and `unit` are recorded once the body is decoded.
pub fn delivery_span(delivery: &Delivery) -> Span {
    let span = tracing::info_span!(
        "consume_event",
        otel.kind = "consumer",
        routing_key = %delivery.routing_key,
        sequence = tracing::field::Empty,
        unit = tracing::field::Empty,
    );
    let headers = Headers(delivery.properties.headers().as_ref());
    let parent =
        opentelemetry::global::get_text_map_propagator(|propagator| propagator.extract(&headers));
    // Fails only when the span is disabled (filtered out): then there is nothing to link.
    let _ = span.set_parent(parent);
    span
}
