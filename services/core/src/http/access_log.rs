//! The access log at the door: every request that reads or changes an organisation's
//! data — and every refusal of one — leaves a record, written before the answer goes
//! out (a write's inside its own transaction, see `write::apply`).
//!
//! This layer sits outside authentication, so a refused token is recorded too. It
//! opens the request's [`Note`], runs the request inside it, and writes what was noted
//! with the answer's status; if the record cannot be written the answer is a 503, not
//! the data: an access that cannot be logged does not happen.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ohjaamo_store::AccessRecord;

use crate::audit::note::Note;
use crate::base::error::{ApiError, ErrorText};
use crate::base::state::AppState;
use crate::http::context::{TENANT_HEADER, client_address};

/// The header a request's id travels in, both ways.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Routes that read or change no organisation's data: not logged. They are the routes
/// open without a token, and `/metrics` (figures about the server, no one's data).
fn unlogged(path: &str) -> bool {
    crate::http::access::open(path) || path == "/metrics"
}

/// The middleware.
pub async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(log) = state.access_log.clone() else {
        return next.run(request).await;
    };
    if unlogged(request.uri().path()) {
        return next.run(request).await;
    }
    let draft = draft(&state, &request);
    let request_id = draft.request_id.clone();
    let note = Note::new(draft);
    let mut response = note.clone().scope(next.run(request)).await;
    let outcome = response
        .extensions()
        .get::<ErrorText>()
        .map(|e| e.0.clone());
    if let Some(record) = note.finish(response.status().as_u16(), outcome)
        && let Err(e) = log.write(record).await
    {
        response = ApiError::Unavailable(format!(
            "{e}; the request was not answered (an access that cannot be logged is refused)"
        ))
        .into_response();
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

/// The record as far as the request itself tells: when, from where, what it asks.
fn draft(state: &AppState, request: &Request) -> AccessRecord {
    let headers = request.headers();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let path = request.uri().path().to_owned();
    let request_id = header(REQUEST_ID_HEADER)
        .filter(|id| is_request_id(id))
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
    let (interaction, resource_type) = classify(request.method(), &path);
    AccessRecord {
        // Real time, also in the demo (whose picture runs on a simulated clock): the log
        // says when an access happened.
        recorded: jiff::Timestamp::now().as_microsecond(),
        claimed_tenant: header(TENANT_HEADER).map(|t| t.chars().take(64).collect()),
        interaction: interaction.to_owned(),
        method: request.method().to_string(),
        query: request
            .uri()
            .query()
            .map(|q| q.chars().take(4096).collect()),
        resource_type,
        address: client_address(headers, peer, &state.config),
        request_id,
        traceparent: header("traceparent")
            .filter(|t| t.len() <= 128)
            .map(str::to_owned),
        path: path.chars().take(512).collect(),
        ..AccessRecord::default()
    }
}

/// A client's request id is kept when it is short and plain; otherwise one is made.
fn is_request_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// The interaction and resource type a request's method and path name. A Bundle's
/// kind (`batch`, `transaction`) is noted by its handler once read.
fn classify(method: &Method, path: &str) -> (&'static str, Option<String>) {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let rtype = |i: usize| segments.get(i).map(|s| (*s).to_owned());
    match (method, segments.as_slice()) {
        (&Method::GET, ["picture"]) => ("picture", None),
        (&Method::GET, ["picture", "beds"]) => ("picture-beds", None),
        (&Method::GET, ["stream"]) => ("stream", None),
        (&Method::GET, ["sources"]) => ("sources-read", None),
        (&Method::PUT, ["sources", _]) => ("sources-write", None),
        (&Method::POST, ["fhir"]) => ("batch", None),
        (&Method::GET, ["fhir", _]) | (&Method::POST, ["fhir", _, "_search"]) => {
            ("search-type", rtype(1))
        }
        (&Method::POST, ["fhir", _]) => ("create", rtype(1)),
        (&Method::PUT, ["fhir", _] | ["fhir", _, _]) => ("update", rtype(1)),
        (&Method::GET, ["fhir", _, "_history"]) => ("history-type", rtype(1)),
        (&Method::GET, ["fhir", _, _]) => ("read", rtype(1)),
        (&Method::DELETE, ["fhir", _, _]) => ("delete", rtype(1)),
        (&Method::GET, ["fhir", _, _, "_history"]) => ("history-instance", rtype(1)),
        (&Method::GET, ["fhir", _, _, "_history", _]) => ("vread", rtype(1)),
        _ => ("other", None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_their_interactions() {
        let c = |m: Method, p: &str| classify(&m, p).0;
        assert_eq!(c(Method::GET, "/fhir/Slot"), "search-type");
        assert_eq!(c(Method::POST, "/fhir/Slot/_search"), "search-type");
        assert_eq!(c(Method::GET, "/fhir/Slot/1"), "read");
        assert_eq!(c(Method::GET, "/fhir/Slot/_history"), "history-type");
        assert_eq!(c(Method::GET, "/fhir/Slot/1/_history"), "history-instance");
        assert_eq!(c(Method::GET, "/fhir/Slot/1/_history/2"), "vread");
        assert_eq!(c(Method::PUT, "/fhir/Slot"), "update");
        assert_eq!(c(Method::DELETE, "/fhir/Slot/1"), "delete");
        assert_eq!(c(Method::POST, "/fhir/"), "batch");
        assert_eq!(c(Method::PUT, "/sources/adt"), "sources-write");
        assert_eq!(c(Method::PATCH, "/fhir/Slot/1"), "other");
    }

    #[test]
    fn the_health_routes_and_pages_are_not_logged() {
        assert!(unlogged("/livez") && unlogged("/displays/beds") && unlogged("/metrics"));
        assert!(!unlogged("/picture") && !unlogged("/fhir/AuditEvent"));
    }
}
