//! `ohjaamo adapter-adt`: the HL7 v2 ADT feed over MLLP, applied to the core's
//! Encounters. One replica per feed: the sender's message order is the order of
//! the stays' histories.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use jiff::tz::TimeZone;
use ohjaamo_adapter_kit::{Adapter, CoreTarget, Kind, Plumbing, Process, Quarantine, run_feed};
use ohjaamo_hl7::AckBuilder;

use crate::core_client::CoreClient;
use crate::listener::AdtAdapter;

/// Without a setting, the core calls the feed stale after 15 minutes without a
/// delivered message: a hospital's admissions rarely pause longer.
const STALE_AFTER_SECONDS: f64 = 15.0 * 60.0;

/// The adapter's settings.
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

/// The ADT feed as a component of the `ohjaamo` binary.
pub struct Adt;

impl Adapter for Adt {
    const NAME: &'static str = "adt";
    type Args = AdtArgs;

    fn describe(args: &AdtArgs) -> String {
        format!(
            "ADT feed: MLLP on {}, status at http://{}/status",
            args.listen, args.admin_listen
        )
    }

    async fn run(args: AdtArgs, process: Process) -> anyhow::Result<()> {
        let zone = TimeZone::get(&args.time_zone)
            .with_context(|| format!("unknown time zone {:?}", args.time_zone))?;
        let ids = args.target.source_ids();
        let core = CoreClient::new(
            &args.target.core,
            &args.target.organization,
            &ids.system(Kind::Visit),
            Duration::from_secs(30),
        )?;
        let adapter = AdtAdapter::new(
            core,
            ids,
            zone,
            AckBuilder::new(args.ack_application, args.ack_facility),
            Quarantine::new(args.quarantine_file, Self::NAME),
            args.target.backoff(),
        );
        let plumbing = Plumbing {
            name: Self::NAME,
            stale_after: args.target.stale_after.unwrap_or(STALE_AFTER_SECONDS),
            target: args.target,
            admin_listen: args.admin_listen,
        };
        run_feed(adapter, args.listen, plumbing, process).await
    }
}
