//! `ohjaamo adapter-pull`: a Lifecare-style export pulled incrementally into the core
//! (units, bed places, rooms, equipment, shifts, operation lists). One replica per
//! source: the cursor file is its only state.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use std::collections::BTreeMap;

use ohjaamo_adapter_kit::runner::StreamStatus;
use ohjaamo_adapter_kit::{
    CursorStore, PullRunner, PushClient, Quarantine, RunnerConfig, SourceReport, report_until,
};
use ohjaamo_adapter_pull::Export;
use serde_json::json;

use crate::adapter_admin::{self, CoreTarget};

#[derive(clap::Args, Debug)]
pub struct PullArgs {
    #[command(flatten)]
    pub target: CoreTarget,
    /// The export's base address (its API is under /api/v1).
    #[arg(
        long,
        env = "OHJAAMO_PULL_EXPORT_URL",
        default_value = "http://127.0.0.1:8090"
    )]
    pub export: String,
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
    /// Address of /livez, /status and /metrics.
    #[arg(long, env = "OHJAAMO_ADMIN_LISTEN", default_value = "127.0.0.1:9103")]
    pub admin_listen: SocketAddr,
}

pub async fn run(args: PullArgs) -> anyhow::Result<()> {
    adapter_admin::install_metrics();
    let timeout = Duration::from_secs_f64(args.timeout.max(0.1));
    let export = Export::new(
        &args.export,
        args.target.source_ids(),
        args.page_size,
        timeout,
    )?;
    let backoff = args.target.backoff();
    let push = PushClient::new(
        &args.target.core,
        &args.target.organization,
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
    let reports = {
        let streams = runner.status();
        let target = args.target.report_target("pull");
        let stale_after = args
            .target
            .stale_after
            .unwrap_or(3.0 * args.poll_interval + 60.0);
        let interval = target.interval.as_secs_f64();
        tokio::spawn(report_until(
            target,
            move || {
                let streams = streams.lock().map(|s| s.clone()).unwrap_or_default();
                pull_report(&streams, stale_after, interval)
            },
            shutdown.clone(),
        ))
    };
    tracing::info!(export = %args.export, core = %args.target.core, "pull adapter running");
    runner.run(shutdown).await?;
    reports.abort();
    admin.await??;
    tracing::info!("pull adapter stopped");
    Ok(())
}

/// The report of a pull source: as fresh as its least fresh stream (a display must not
/// look current while one export stream is stuck), with the first stream error.
fn pull_report(
    streams: &BTreeMap<String, StreamStatus>,
    stale_after: f64,
    interval: f64,
) -> SourceReport {
    let successes: Vec<Option<jiff::Timestamp>> = streams
        .values()
        .map(|s| s.last_success.as_deref().and_then(|t| t.parse().ok()))
        .collect();
    let oldest = if successes.is_empty() || successes.iter().any(Option::is_none) {
        None
    } else {
        successes.into_iter().flatten().min()
    };
    SourceReport {
        kind: "pull".into(),
        last_success: oldest.map(|t| t.to_string()),
        last_error: streams
            .iter()
            .find_map(|(name, s)| s.last_error.as_ref().map(|e| format!("{name}: {e}"))),
        lag_seconds: oldest.map(|t| {
            jiff::Timestamp::now()
                .duration_since(t)
                .as_secs_f64()
                .max(0.0)
        }),
        quarantined: streams.values().map(|s| s.records_quarantined).sum(),
        stale_after_seconds: stale_after,
        report_interval_seconds: interval,
    }
}
