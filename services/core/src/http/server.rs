//! The HTTP server around the API: request tracing, a panic guard, health, and a
//! graceful shutdown that lets requests in flight finish.

use std::future::Future;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::base::error::ApiError;
use crate::base::state::AppState;

/// The whole application: `/fhir`, `/livez`, `/readyz`, `/metrics`.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/livez", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .route("/picture", get(crate::http::picture::handler))
        .route("/picture/beds", get(crate::http::beds::handler))
        .route("/stream", get(crate::http::stream::handler))
        .route("/sources", get(crate::http::sources::list))
        .route(
            "/sources/{name}",
            axum::routing::put(crate::http::sources::put),
        )
        .with_state(state.clone())
        .merge(crate::http::fhir::router(state))
        .merge(crate::http::web::router())
        .layer(axum::middleware::from_fn(
            crate::ops::observe::track_requests,
        ))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::Internal("a request handler panicked".into()).into_response()
        }))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &axum::extract::Request| {
                    crate::ops::trace_context::request_span(request)
                })
                .on_response(DefaultOnResponse::new().level(Level::DEBUG)),
        )
}

/// `/metrics`, with the gauges that are a matter of the clock brought up to now.
async fn metrics(State(state): State<AppState>) -> Response {
    metrics::gauge!("ohjaamo_outbox_oldest_event_age_seconds")
        .set(state.relay.oldest_waiting_seconds());
    crate::ops::observe::render().await
}

/// Ready when the database answers; 503 with the reason otherwise. The bus is
/// reported but does not decide readiness: without it the API still serves and the
/// outbox keeps the events until the relay reconnects.
async fn ready(State(state): State<AppState>) -> Response {
    let bus = state.relay.to_json();
    // Ready but degraded while the bus is away: the API serves, events wait.
    let status = if state.relay.is_connected() {
        "ready"
    } else {
        "degraded"
    };
    match state.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            axum::Json(json!({
                "status": status,
                "database": state.store.backend_name(),
                "bus": bus,
            })),
        )
            .into_response(),
        Err(e) => {
            // The database's own words (hosts, pool states) go to the log, not to
            // whoever can reach the port.
            tracing::warn!(error = %e, "not ready: the database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(
                    json!({ "status": "not ready", "database": "not answering", "bus": bus }),
                ),
            )
                .into_response()
        }
    }
}

/// Serves until `shutdown` completes, then stops accepting and waits for the
/// requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let stopping = state.stopping.clone();
    axum::serve(listener, app(state))
        .with_graceful_shutdown(async move {
            shutdown.await;
            // Live streams never finish by themselves: end them, or the shutdown
            // waits for every display to go away.
            stopping.send_replace(true);
        })
        .await
}

/// Completes on SIGTERM (Kubernetes stopping the pod) or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received; finishing requests in flight"),
        () = terminate => tracing::info!("SIGTERM received; finishing requests in flight"),
    }
}
