//! `ohjaamo adapter-pull`: a Lifecare-style export pulled incrementally into the core
//! (units, bed places, rooms, equipment, shifts, operation lists). One replica per
//! source: the cursor file is its only state.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ohjaamo_adapter_kit::{
    Adapter, CoreTarget, CursorStore, Plumbing, Process, PullRunner, Quarantine, RunnerConfig,
    run_pull,
};

use crate::export::Export;

/// The adapter's settings.
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

/// The export pull as a component of the `ohjaamo` binary.
pub struct Pull;

impl Adapter for Pull {
    const NAME: &'static str = "pull";
    type Args = PullArgs;

    fn describe(args: &PullArgs) -> String {
        format!(
            "pull: the export at {} every {} s, status at http://{}/status",
            args.export, args.poll_interval, args.admin_listen
        )
    }

    async fn run(args: PullArgs, process: Process) -> anyhow::Result<()> {
        let timeout = Duration::from_secs_f64(args.timeout.max(0.1));
        let export = Export::new(
            &args.export,
            args.target.source_ids(),
            args.page_size,
            timeout,
        )?;
        let backoff = args.target.backoff();
        let auth = args.target.core_auth()?;
        let push = args.target.push_client(Self::NAME, &auth)?;
        let runner = PullRunner::new(
            export,
            push,
            CursorStore::open(&args.cursor_file).await?,
            Quarantine::new(args.quarantine_file, Self::NAME),
            RunnerConfig {
                name: Self::NAME.into(),
                poll_interval: Duration::from_secs_f64(args.poll_interval.max(0.05)),
                backoff,
                push_concurrency: args.push_concurrency,
            },
        );
        tracing::info!(export = %args.export, core = %args.target.core, "pull adapter running");
        let stale_after = args.target.pull_stale_after(args.poll_interval);
        let plumbing = Plumbing {
            name: Self::NAME,
            target: args.target,
            admin_listen: args.admin_listen,
            stale_after,
            auth,
        };
        run_pull(runner, plumbing, process).await
    }
}
