//! `ohjaamo adapter-pull`: a Lifecare-style export pulled incrementally into the core
//! (units, bed places, rooms, equipment, shifts, operation lists). One replica per
//! source: the cursor file is its only state.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ohjaamo_adapter_kit::{
    Backoff, CursorStore, PullRunner, PushClient, Quarantine, RunnerConfig, SourceIds,
};
use ohjaamo_adapter_pull::Export;
use serde_json::json;

use crate::adapter_admin;

#[derive(clap::Args, Debug)]
pub struct PullArgs {
    /// The export's base address (its API is under /api/v1).
    #[arg(
        long,
        env = "OHJAAMO_PULL_EXPORT_URL",
        default_value = "http://127.0.0.1:8090"
    )]
    pub export: String,
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
    /// Seconds between rounds over the export's streams.
    #[arg(long, env = "OHJAAMO_PULL_INTERVAL_SECONDS", default_value_t = 10.0)]
    pub poll_interval: f64,
    /// Records asked for per page.
    #[arg(long, env = "OHJAAMO_PULL_PAGE_SIZE", default_value_t = 500)]
    pub page_size: usize,
    /// Pages pushed to the core at once while the next is read.
    #[arg(long, env = "OHJAAMO_PULL_PUSH_CONCURRENCY", default_value_t = 4)]
    pub push_concurrency: usize,
    /// Seconds before a pull is given up (and retried).
    #[arg(long, env = "OHJAAMO_PULL_TIMEOUT_SECONDS", default_value_t = 30.0)]
    pub timeout: f64,
    /// Where the stream positions are kept.
    #[arg(long, env = "OHJAAMO_CURSOR_FILE", default_value = "pull-cursor.json")]
    pub cursor_file: PathBuf,
    /// JSON-lines file of records that could not be mapped or were refused.
    #[arg(
        long,
        env = "OHJAAMO_QUARANTINE_FILE",
        default_value = "pull-quarantine.jsonl"
    )]
    pub quarantine_file: PathBuf,
    /// Longest pause, in seconds, between retries while the core (or the source)
    /// fails; pauses grow from 0.2 s to this, with jitter.
    #[arg(long, env = "OHJAAMO_RETRY_MAX_SECONDS", default_value_t = 30.0)]
    pub retry_max: f64,
    /// Address of /livez, /status and /metrics.
    #[arg(long, env = "OHJAAMO_ADMIN_LISTEN", default_value = "127.0.0.1:9103")]
    pub admin_listen: SocketAddr,
}

pub async fn run(args: PullArgs) -> anyhow::Result<()> {
    adapter_admin::install_metrics();
    let timeout = Duration::from_secs_f64(args.timeout.max(0.1));
    let export = Export::new(
        &args.export,
        SourceIds::new(&args.source_oid_root),
        args.page_size,
        timeout,
    )?;
    let backoff = Backoff {
        base: Duration::from_millis(200),
        max: Duration::from_secs_f64(args.retry_max.max(0.2)),
    };
    let push = PushClient::new(
        &args.core,
        &args.organization,
        "pull",
        Duration::from_secs(120),
        backoff,
    )?;
    let runner = Arc::new(PullRunner::new(
        export,
        push,
        CursorStore::open(&args.cursor_file).await?,
        Quarantine::new(args.quarantine_file.clone(), "pull"),
        RunnerConfig {
            name: "pull".into(),
            poll_interval: Duration::from_secs_f64(args.poll_interval.max(0.05)),
            backoff,
            push_concurrency: args.push_concurrency,
        },
    ));
    let shutdown = adapter_admin::shutdown_channel();
    let status = {
        let streams = runner.status();
        let quarantine_file = args.quarantine_file.display().to_string();
        Arc::new(move || {
            let streams = streams.lock().map(|s| s.clone()).unwrap_or_default();
            json!({"source": "pull", "streams": streams, "quarantine_file": quarantine_file})
        })
    };
    let admin = tokio::spawn(adapter_admin::serve(
        args.admin_listen,
        status,
        shutdown.clone(),
    ));
    tracing::info!(export = %args.export, core = %args.core, "pull adapter running");
    runner.run(shutdown).await?;
    admin.await??;
    tracing::info!("pull adapter stopped");
    Ok(())
}
