//! The HTTP server around the API: request tracing, a panic guard, admission, health,
//! the connection limits (header and body timeouts, a cap on open connections) and a
//! graceful shutdown that lets requests in flight finish.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::auth::scopes::Permission;
use crate::base::error::ApiError;
use crate::base::state::AppState;
use crate::http::access::Access;

/// The whole application: `/fhir`, `/livez`, `/readyz`, `/metrics`.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/livez", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .route(
            "/.well-known/smart-configuration",
            get(crate::http::smart::configuration),
        )
        .route("/picture", get(crate::http::picture::handler))
        .route("/picture/beds", get(crate::http::beds::handler))
        .route("/stream", get(crate::http::stream::handler))
        .route("/displays/signin", get(crate::http::signin::configuration))
        .route("/sources", get(crate::http::sources::list))
        .route(
            "/sources/{name}",
            axum::routing::put(crate::http::sources::put),
        )
        .with_state(state.clone())
        .merge(crate::http::fhir::router(state.clone()))
        .merge(crate::http::signin::allow_issuer(
            crate::http::web::router(),
            &state,
        ))
        .layer(RequestBodyTimeoutLayer::new(
            state.config.server.body_read_timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::http::admission::admit,
        ))
        // Before admission: a request without a valid token costs no organisation's
        // share of the server.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::http::access::authenticate,
        ))
        // Outside authentication: a refused token is recorded too.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::http::access_log::record,
        ))
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
/// Needs `system/ohjaamo.metrics.read` when authentication is on: the figures tell
/// who writes how much, and when.
async fn metrics(State(state): State<AppState>, access: Access) -> Response {
    if let Err(refused) = access.require_permission(Permission::MetricsRead) {
        return refused.into_response();
    }
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
///
/// HTTP/1.1 and HTTP/2 on one port. A client gets `header_read_timeout` to send a
/// request's headers (also the idle time allowed between requests), a request body
/// `body_read_timeout`; past `max_connections` open connections a new one is closed at
/// once, so slow or idle clients cannot pile up file descriptors and tasks.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.config.server.clone();
    let stopping = state.stopping.clone();
    let router = app(state);
    let connections = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(limits.header_read_timeout);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = connections.clone().try_acquire_owned() else {
            metrics::counter!("ohjaamo_http_connections_refused_total").increment(1);
            drop(stream);
            continue;
        };
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request)
        });
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let first_bytes = limits.header_read_timeout;
        tokio::spawn(async move {
            // Until a client's first bytes arrive hyper waits without a timer (it
            // cannot yet tell HTTP/1 from HTTP/2): a connection that never speaks is
            // closed here after the header timeout.
            let mut first = [0u8; 1];
            if !matches!(
                tokio::time::timeout(first_bytes, stream.peek(&mut first)).await,
                Ok(Ok(1..))
            ) {
                drop(slot);
                return;
            }
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            if let Err(e) = watcher.watch(connection.into_owned()).await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
            drop(slot);
        });
    }
    // Live streams never finish by themselves: end them, or the shutdown waits for
    // every display to go away.
    stopping.send_replace(true);
    graceful.shutdown().await;
    Ok(())
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
