//! Who gets in when the server is busy.
//!
//! A request is admitted only while there is room (see `base::admission`): in flight
//! in the whole server, in flight for its organisation (so one tenant's burst cannot
//! take the database pool from the rest), and, for a request with a body, room in the
//! memory budget for bodies being parsed. Past the first two the answer is an
//! immediate 503 with `Retry-After`, before the request costs anything — shedding load
//! early, while the pool can still serve the requests already admitted. A body waits
//! briefly for the memory budget, then is refused the same way. Health endpoints are
//! never shed (a busy pod is not a dead one), and live streams have caps of their own.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::base::error::ApiError;
use crate::base::state::AppState;
use crate::http::context::tenant_of;

/// Paths that are never shed or counted here.
fn exempt(path: &str) -> bool {
    matches!(path, "/livez" | "/readyz" | "/metrics" | "/stream")
}

/// The middleware: admits the request or answers 503 with `Retry-After`.
pub async fn admit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if exempt(request.uri().path()) {
        return next.run(request).await;
    }
    // A request with a bad organisation header is counted under "" and refused by
    // its handler with a 400.
    let tenant = tenant_of(request.headers(), &state.config).unwrap_or_default();
    let body = body_bytes(&request, state.config.max_body_bytes);
    match state.admission.admit(&tenant, body).await {
        Ok(admitted) => {
            let response = next.run(request).await;
            drop(admitted);
            response
        }
        Err(busy) => {
            metrics::counter!("ohjaamo_http_requests_shed_total", "reason" => busy.label())
                .increment(1);
            ApiError::from(busy).into_response()
        }
    }
}

/// The body a request will read, for the memory budget: its `Content-Length`, or the
/// largest allowed body when it does not say (chunked). `None` for a request without
/// a body.
fn body_bytes(request: &Request, max_body_bytes: usize) -> Option<usize> {
    if matches!(
        request.method().as_str(),
        "GET" | "HEAD" | "DELETE" | "OPTIONS"
    ) {
        return None;
    }
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    match declared {
        Some(0) => None,
        Some(n) => Some(n.min(max_body_bytes)),
        None => Some(max_body_bytes),
    }
}
