//! The small HTTP side of an adapter process: `/livez`, `/metrics` (the adapter's own
//! counters: received, pushed, retries, quarantined, last success) and `/status`
//! (what the adapter's [`crate::health::Observed`] says of it, as JSON).
//!
//! The metrics text comes from the process ([`crate::process::Process::metrics`]):
//! one process has one metrics recorder, and in the demo the core and the adapters
//! share it.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use axum::http::header;
use axum::routing::get;
use tokio::sync::watch;

use crate::health::Observed;

/// Renders the process's metrics as Prometheus text.
pub type MetricsText = Arc<dyn Fn() -> String + Send + Sync>;

/// Serves `/livez`, `/status` and `/metrics` on `listen` until `shutdown` turns true.
pub async fn serve(
    listen: SocketAddr,
    observed: Arc<dyn Observed>,
    metrics: MetricsText,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let app = Router::new()
        .route("/livez", get(|| async { "ok" }))
        .route(
            "/metrics",
            get(move || {
                let metrics = metrics.clone();
                async move {
                    (
                        [(
                            header::CONTENT_TYPE,
                            "text/plain; version=0.0.4; charset=utf-8",
                        )],
                        metrics(),
                    )
                }
            }),
        )
        .route(
            "/status",
            get(move || {
                let observed = observed.clone();
                async move { axum::Json(observed.status()) }
            }),
        );
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen} for /status and /metrics"))?;
    tracing::info!(address = %listen, "serving /livez, /status and /metrics");
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        })
        .await?;
    Ok(())
}
