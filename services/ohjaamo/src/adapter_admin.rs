//! The small HTTP side of an adapter process: `/livez`, `/metrics` (the adapter's own
//! counters: received, pushed, retries, quarantined, last success) and `/status`
//! (each stream's last success, last error, cursor and quarantine count, as JSON).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use axum::routing::get;
use serde_json::Value;
use tokio::sync::watch;

/// Answers the status document when asked.
pub type StatusFn = Arc<dyn Fn() -> Value + Send + Sync>;

/// Serves until `shutdown` turns true.
pub async fn serve(
    listen: SocketAddr,
    status: StatusFn,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let app = Router::new()
        .route("/livez", get(|| async { "ok" }))
        .route("/metrics", get(ohjaamo_core::observe::render))
        .route(
            "/status",
            get(move || {
                let status = status.clone();
                async move { axum::Json(status()) }
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

/// Installs the process's metrics recorder. Call it first: counts made before a
/// recorder exists are lost.
pub fn install_metrics() {
    ohjaamo_core::observe::handle();
}

/// A watch channel that turns true on SIGTERM or Ctrl-C.
pub fn shutdown_channel() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        ohjaamo_core::server::shutdown_signal().await;
        let _ = tx.send(true);
    });
    rx
}
