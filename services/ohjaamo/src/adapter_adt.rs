//! `ohjaamo adapter-adt`: the HL7 v2 ADT feed over MLLP, applied to the core's
//! Encounters. One replica per feed: the sender's message order is the order of
//! the stays' histories.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use jiff::tz::TimeZone;
use ohjaamo_adapter_adt::core_client::CoreClient;
use ohjaamo_adapter_adt::{AdtAdapter, Quarantine, serve};
use ohjaamo_adapter_kit::{Kind, SourceReport, report_until};
use ohjaamo_hl7::AckBuilder;
use serde_json::json;

use crate::adapter_admin::{self, CoreTarget};

#[derive(clap::Args, Debug)]
pub struct AdtArgs {
    #[command(flatten)]
    pub target: CoreTarget,
    /// Address the MLLP listener binds.
    #[arg(long, env = "OHJAAMO_ADT_LISTEN", default_value = "127.0.0.1:2575")]
    pub listen: SocketAddr,
    /// Zone of HL7 timestamps without an offset.
    #[arg(long, env = "OHJAAMO_TIME_ZONE", default_value = "Europe/Helsinki")]
    pub time_zone: String,
    /// JSON-lines file of messages that could not be applied.
    #[arg(
        long,
        env = "OHJAAMO_QUARANTINE_FILE",
        default_value = "adt-quarantine.jsonl"
    )]
    pub quarantine_file: PathBuf,
    /// MSH-3 / MSH-4 of the ACKs this adapter sends.
    #[arg(long, env = "OHJAAMO_ADT_ACK_APPLICATION", default_value = "OHJAAMO")]
    pub ack_application: String,
    #[arg(long, env = "OHJAAMO_ADT_ACK_FACILITY", default_value = "OHJAAMO")]
    pub ack_facility: String,
    /// Address of /livez, /status and /metrics.
    #[arg(long, env = "OHJAAMO_ADMIN_LISTEN", default_value = "127.0.0.1:9102")]
    pub admin_listen: SocketAddr,
}

pub async fn run(args: AdtArgs) -> anyhow::Result<()> {
    adapter_admin::install_metrics();
    let zone = TimeZone::get(&args.time_zone)
        .with_context(|| format!("unknown time zone {:?}", args.time_zone))?;
    let ids = args.target.source_ids();
    let core = CoreClient::new(
        &args.target.core,
        &args.target.organization,
        &ids.system(Kind::Visit),
        Duration::from_secs(30),
    )?;
    let adapter = Arc::new(AdtAdapter::new(
        core,
        ids,
        zone,
        AckBuilder::new(args.ack_application, args.ack_facility),
        Quarantine::new(args.quarantine_file.clone(), "adt"),
        args.target.backoff(),
    ));
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen for MLLP on {}", args.listen))?;
    tracing::info!(address = %args.listen, core = %args.target.core, "ADT adapter listening for MLLP");
    let shutdown = adapter_admin::shutdown_channel();
    let status = {
        let adapter = adapter.clone();
        let quarantine_file = args.quarantine_file.display().to_string();
        Arc::new(move || {
            json!({
                "source": "adt",
                "quarantined_since_start": adapter.quarantine.kept(),
                "quarantine_file": quarantine_file,
            })
        })
    };
    let admin = tokio::spawn(adapter_admin::serve(
        args.admin_listen,
        status,
        shutdown.clone(),
    ));
    let reports = {
        let adapter = adapter.clone();
        let target = args.target.report_target("adt");
        let stale_after = args.target.stale_after.unwrap_or(15.0 * 60.0);
        let interval = target.interval.as_secs_f64();
        tokio::spawn(report_until(
            target,
            move || {
                let (last_success, lag_seconds, last_error) = adapter.delivery.read();
                SourceReport {
                    kind: "adt".into(),
                    last_success,
                    last_error,
                    lag_seconds,
                    quarantined: adapter.quarantine.kept(),
                    stale_after_seconds: stale_after,
                    report_interval_seconds: interval,
                }
            },
            shutdown.clone(),
        ))
    };
    serve(listener, adapter, shutdown).await;
    reports.abort();
    admin.await??;
    tracing::info!("ADT adapter stopped");
    Ok(())
}
