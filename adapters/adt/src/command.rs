//! `ohjaamo adapter-adt`: the HL7 v2 ADT feed over MLLP, applied to the core's
//! Encounters. One replica per feed: the sender's message order is the order of
//! the stays' histories.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::builder::TypedValueParser as _;
use jiff::tz::TimeZone;
use ohjaamo_adapter_kit::intake::{AllowList, Intake, IntakeConfig, TlsFiles};
use ohjaamo_adapter_kit::{Adapter, CoreTarget, Kind, Plumbing, Process, Quarantine, run_feed};
use ohjaamo_hl7::AckBuilder;

use crate::adapter::{
    AdtAdapter, DEFAULT_IDLE_TIMEOUT_SECONDS, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_MESSAGE_BYTES,
    Limits, NotUsed,
};
use crate::core_client::CoreClient;
use crate::replay::ReplayArgs;
use crate::visit_key::{Reading, VisitRule};

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
    /// MLLP connections served at once; one more is closed as soon as it is accepted.
    #[arg(long, env = "OHJAAMO_ADT_MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS,
        value_parser = clap::value_parser!(u32).range(1..).map(|n| n as usize))]
    pub max_connections: usize,
    /// Seconds an MLLP connection may send nothing before it is closed.
    #[arg(long, env = "OHJAAMO_ADT_IDLE_TIMEOUT_SECONDS", default_value_t = DEFAULT_IDLE_TIMEOUT_SECONDS,
        value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout: u64,
    /// Largest HL7 message in bytes; a larger one is answered AR and only its start kept.
    #[arg(long, env = "OHJAAMO_ADT_MAX_MESSAGE_BYTES", default_value_t = DEFAULT_MAX_MESSAGE_BYTES,
        value_parser = clap::value_parser!(u32).range(1..).map(|n| n as usize))]
    pub max_message_bytes: usize,
    /// Which fields identify a stay, in order: pv1-19, pid-18, pid-3+pv1-44
    /// (comma-separated; a message is keyed by the first it has, and found by any).
    #[arg(long, env = "OHJAAMO_ADT_VISIT_KEY", default_value = "pv1-19")]
    pub visit_key: VisitRule,
    /// The key of the pseudonym PID-3 is turned into (needed by pid-3+pv1-44).
    #[arg(long, env = "OHJAAMO_ADT_VISIT_KEY_SECRET", hide_env_values = true)]
    pub visit_key_secret: Option<String>,
    /// What a message type the adapter does not use is answered: accept (AA with a
    /// note) or reject (AR, and quarantined).
    #[arg(long, env = "OHJAAMO_ADT_UNSUPPORTED", value_enum, default_value_t = NotUsed::Accept)]
    pub unsupported: NotUsed,
    /// PEM file of the MLLP listener's TLS certificate, then its intermediates;
    /// with --tls-key it serves MLLP over TLS. Unset: plain MLLP, warned at start
    /// (for a sidecar that terminates TLS).
    #[arg(long, env = "OHJAAMO_ADT_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM file of the TLS certificate's private key.
    #[arg(long, env = "OHJAAMO_ADT_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// PEM file of the CA(s) whose certificates senders must present (mutual TLS); a
    /// sender without one signed by it is refused in the handshake.
    #[arg(long, env = "OHJAAMO_ADT_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// Addresses and CIDR blocks senders may connect from, comma-separated
    /// (`10.1.2.3,10.20.0.0/16`); a connection from elsewhere is closed at once.
    /// Unset: every address.
    #[arg(long, env = "OHJAAMO_ADT_ALLOW_FROM", default_value = "")]
    pub allow_from: AllowList,
    #[command(subcommand)]
    pub action: Option<AdtAction>,
}

impl AdtArgs {
    /// How the MLLP listener takes connections.
    pub fn intake(&self) -> IntakeConfig {
        IntakeConfig {
            tls: match (&self.tls_cert, &self.tls_key) {
                (Some(cert_chain), Some(key)) => Some(TlsFiles {
                    cert_chain: cert_chain.clone(),
                    key: key.clone(),
                    client_ca: self.tls_client_ca.clone(),
                }),
                _ => None,
            },
            allow: self.allow_from.clone(),
        }
    }
}

/// What else than listening the command can do.
#[derive(clap::Subcommand, Debug)]
pub enum AdtAction {
    /// Send quarantined messages through the mapping to the core again (see
    /// docs/adapters.md); the adapter's flags and variables go before it.
    ReplayQuarantine(ReplayArgs),
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
        let reading = Reading::new(args.visit_key.clone(), args.visit_key_secret.clone())
            .map_err(anyhow::Error::msg)?;
        let ids = args.target.source_ids();
        let intake = args.intake();
        let auth = args.target.core_auth()?;
        let core = CoreClient::new(
            &args.target.core,
            &args.target.organization,
            &ids.system(Kind::Visit),
            Duration::from_secs(30),
        )?
        .with_auth(auth.clone());
        let adapter = AdtAdapter::new(
            core,
            ids,
            zone,
            AckBuilder::new(args.ack_application, args.ack_facility),
            Quarantine::new(args.quarantine_file, Self::NAME),
            args.target.backoff(),
        )
        .with_limits(Limits {
            max_connections: args.max_connections,
            idle_timeout: Duration::from_secs(args.idle_timeout),
            max_message_bytes: args.max_message_bytes,
        })
        .with_reading(reading)
        .with_not_used(args.unsupported);
        if let Some(AdtAction::ReplayQuarantine(which)) = args.action {
            return crate::replay::run(&adapter, which, process.shutdown).await;
        }
        let intake = Intake::new(&intake)?;
        let plumbing = Plumbing {
            name: Self::NAME,
            stale_after: args.target.stale_after.unwrap_or(STALE_AFTER_SECONDS),
            target: args.target,
            admin_listen: args.admin_listen,
            auth,
        };
        run_feed(adapter, args.listen, intake, plumbing, process).await
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    /// `ohjaamo adapter-adt` as the binary parses it.
    #[derive(clap::Parser, Debug)]
    struct Command {
        #[command(flatten)]
        adt: AdtArgs,
    }

    fn parse(args: &[&str]) -> Result<AdtArgs, clap::Error> {
        Command::try_parse_from(std::iter::once("adapter-adt").chain(args.iter().copied()))
            .map(|c| c.adt)
    }

    #[test]
    fn limits_have_their_defaults_and_refuse_zero() {
        let args = parse(&[]).unwrap();
        assert_eq!(
            (
                args.max_connections,
                args.idle_timeout,
                args.max_message_bytes
            ),
            (16, 300, 1024 * 1024)
        );
        assert!(args.action.is_none());
        assert_eq!(args.visit_key, VisitRule::default());
        assert_eq!(args.unsupported, NotUsed::Accept);
        for zero in ["--max-connections", "--idle-timeout", "--max-message-bytes"] {
            assert!(parse(&[zero, "0"]).is_err(), "{zero} 0");
        }
    }

    #[test]
    fn the_visit_key_and_the_answer_to_unused_types_are_read() {
        let args = parse(&[
            "--visit-key",
            "pv1-19,pid-18,pid-3+pv1-44",
            "--unsupported",
            "reject",
        ])
        .unwrap();
        assert_eq!(args.visit_key.to_string(), "pv1-19,pid-18,pid-3+pv1-44");
        assert_eq!(args.unsupported, NotUsed::Reject);
        assert!(parse(&["--visit-key", "pv1-99"]).is_err());
        assert!(parse(&["--unsupported", "maybe"]).is_err());
    }

    #[test]
    fn tls_needs_a_certificate_and_a_key_and_the_allow_list_parses() {
        assert_eq!(parse(&[]).unwrap().intake(), IntakeConfig::default());
        assert!(parse(&["--tls-cert", "c.pem"]).is_err(), "a key too");
        assert!(parse(&["--tls-key", "k.pem"]).is_err(), "a certificate too");
        assert!(
            parse(&["--tls-client-ca", "ca.pem"]).is_err(),
            "only with TLS"
        );
        assert!(parse(&["--allow-from", "10.0.0.0/40"]).is_err());
        let intake = parse(&[
            "--tls-cert",
            "c.pem",
            "--tls-key",
            "k.pem",
            "--tls-client-ca",
            "ca.pem",
            "--allow-from",
            "10.0.0.0/8, 192.0.2.7",
        ])
        .unwrap()
        .intake();
        let tls = intake.tls.unwrap();
        assert_eq!(tls.client_ca, Some(PathBuf::from("ca.pem")));
        assert!(intake.allow.allows("192.0.2.7".parse().unwrap()));
        assert!(!intake.allow.allows("192.0.2.8".parse().unwrap()));
    }

    #[test]
    fn replay_takes_one_id_or_all() {
        let args = parse(&[
            "--quarantine-file",
            "q.jsonl",
            "replay-quarantine",
            "--id",
            "x",
        ])
        .unwrap();
        assert_eq!(args.quarantine_file, PathBuf::from("q.jsonl"));
        assert!(matches!(
            args.action,
            Some(AdtAction::ReplayQuarantine(ReplayArgs { id: Some(ref id), all: false })) if id == "x"
        ));
        assert!(parse(&["replay-quarantine", "--all"]).is_ok());
        assert!(parse(&["replay-quarantine"]).is_err(), "one of the two");
        assert!(
            parse(&["replay-quarantine", "--all", "--id", "x"]).is_err(),
            "not both"
        );
    }
}
