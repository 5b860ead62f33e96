//! The small HTTP side of an adapter process: `/livez`, `/metrics` (the adapter's own
//! counters: received, pushed, retries, quarantined, last success) and `/status`
//! (each stream's last success, last error, cursor and quarantine count, as JSON).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::routing::get;
use ohjaamo_adapter_kit::{Backoff, ReportTarget, SourceIds};
use serde_json::Value;
use tokio::sync::watch;

/// What every adapter needs to write to the core: where it is, for whom, the
/// source's identifier systems, and how long to wait between retries.
#[derive(clap::Args, Debug)]
pub struct CoreTarget {
    /// The core's FHIR base URL.
    #[arg(
        long,
        env = "OHJAAMO_CORE_URL",
        default_value = "http://127.0.0.1:8080/fhir"
    )]
    pub core: String,
    /// The organisation (tenant) the source writes for.
    #[arg(long, env = "OHJAAMO_ORGANIZATION", default_value = "default")]
    pub organization: String,
    /// The source system's OID root; identifier systems are `urn:oid:<root>.<arc>`.
    #[arg(
        long,
        env = "OHJAAMO_SOURCE_OID_ROOT",
        default_value = "1.2.246.10.1234567.10"
    )]
    pub source_oid_root: String,
    /// Longest pause, in seconds, between retries while the core (or the source)
    /// fails; pauses grow from 0.2 s to this, with jitter.
    #[arg(long, env = "OHJAAMO_RETRY_MAX_SECONDS", default_value_t = 30.0)]
    pub retry_max: f64,
    /// How often the adapter reports its health to the core (`GET /sources` there).
    #[arg(long, env = "OHJAAMO_REPORT_INTERVAL_SECONDS", default_value_t = 5.0)]
    pub report_interval: f64,
    /// After how long without a delivery the core calls this source stale; unset:
    /// 15 minutes for the ADT feed, three poll intervals plus a minute for pulls.
    #[arg(long, env = "OHJAAMO_STALE_AFTER_SECONDS")]
    pub stale_after: Option<f64>,
}

impl CoreTarget {
    pub fn source_ids(&self) -> SourceIds {
        SourceIds::new(&self.source_oid_root)
    }

    /// Where this adapter's health reports go, as source `name`.
    pub fn report_target(&self, name: &str) -> ReportTarget {
        ReportTarget {
            core: self.core.clone(),
            organization: self.organization.clone(),
            name: name.to_owned(),
            interval: Duration::from_secs_f64(self.report_interval.max(0.5)),
        }
    }

    pub fn backoff(&self) -> Backoff {
        Backoff {
            base: Duration::from_millis(200),
            max: Duration::from_secs_f64(self.retry_max.max(0.2)),
        }
    }
}

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
        .route("/metrics", get(ohjaamo_core::ops::observe::render))
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
    ohjaamo_core::ops::observe::handle();
}

/// A watch channel that turns true on SIGTERM or Ctrl-C.
pub fn shutdown_channel() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        ohjaamo_core::http::server::shutdown_signal().await;
        let _ = tx.send(true);
    });
    rx
}
