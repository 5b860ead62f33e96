//! An adapter as a process: the one trait the `ohjaamo` binary calls
//! ([`Adapter`]: its settings and its `run`), and the plumbing every adapter runs
//! inside — its admin server (`/livez`, `/status`, `/metrics`), its health reports to
//! the core, and a stop that waits for both.
//!
//! In the spirit of vector's components: an adapter crate says how to read its
//! source ([`crate::PullSource`] or [`crate::PushFeed`]) and which settings it takes;
//! [`run_pull`] and [`run_feed`] do the rest the same way for every adapter.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::watch;

use crate::admin::MetricsText;
use crate::auth::CoreAuth;
use crate::feed::{self, FeedStatus, PushFeed};
use crate::health::Observed;
use crate::intake::Intake;
use crate::report::report_until;
use crate::runner::PullRunner;
use crate::source::PullSource;
use crate::target::CoreTarget;

/// What the process around an adapter gives it. The binary makes it: it owns the
/// signals and the one metrics recorder of the process (which the core shares when
/// both run in one process, as in the demo).
#[derive(Clone)]
pub struct Process {
    /// Turns true when the adapter is to stop (SIGTERM, Ctrl-C).
    pub shutdown: watch::Receiver<bool>,
    /// The text `/metrics` answers.
    pub metrics: MetricsText,
}

/// An adapter as the `ohjaamo` binary runs it: one subcommand, `adapter-<NAME>`.
pub trait Adapter {
    /// The source's name: in the core's `/sources`, in logs and in metrics.
    const NAME: &'static str;
    /// Its settings, as flags and `OHJAAMO_*` variables; they flatten
    /// [`CoreTarget`] so that every adapter reaches the core the same way.
    type Args: clap::Args + Send + 'static;
    /// What these settings run where, in one line (for the demo's banner).
    fn describe(args: &Self::Args) -> String;
    /// Runs until `process.shutdown` turns true.
    fn run(args: Self::Args, process: Process) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// Where an adapter's plumbing serves and reports.
#[derive(Debug, Clone)]
pub struct Plumbing {
    /// The source's name (its [`Adapter::NAME`]).
    pub name: &'static str,
    pub target: CoreTarget,
    /// Address of `/livez`, `/status` and `/metrics`.
    pub admin_listen: SocketAddr,
    /// After how many seconds without a delivery the core calls the source stale.
    pub stale_after: f64,
    /// The adapter's credential for the core, for the health reports.
    pub auth: CoreAuth,
}

/// Runs a pull source's runner with its plumbing until shutdown.
pub async fn run_pull<S: PullSource + 'static>(
    runner: PullRunner<S>,
    plumbing: Plumbing,
    process: Process,
) -> anyhow::Result<()> {
    let runner = Arc::new(runner);
    let work = {
        let runner = runner.clone();
        let shutdown = process.shutdown.clone();
        async move { Ok(runner.run(shutdown).await?) }
    };
    run_with(plumbing, runner, work, process).await
}

/// Binds `listen` and serves a push feed there, taking connections as `intake`
/// says, with its plumbing, until shutdown. Plain TCP is logged as a warning: the
/// messages cross the network unencrypted unless a sidecar terminates TLS.
pub async fn run_feed<F: PushFeed>(
    feed: F,
    listen: SocketAddr,
    intake: Intake,
    plumbing: Plumbing,
    process: Process,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen for {} on {listen}", F::PROTOCOL))?;
    tracing::info!(source = plumbing.name, address = %listen, core = %plumbing.target.core,
        intake = %intake.describe(), "listening for {}", F::PROTOCOL);
    if !intake.is_tls() {
        tracing::warn!(source = plumbing.name, address = %listen,
            "{} without TLS: messages arrive unencrypted; use this only behind a sidecar that terminates TLS, or on a host-local link", F::PROTOCOL);
    }
    let feed = Arc::new(feed);
    let observed = Arc::new(FeedStatus {
        name: plumbing.name.to_owned(),
        feed: feed.clone(),
    });
    let shutdown = process.shutdown.clone();
    let name = plumbing.name;
    let work = async move {
        feed::serve_with(listener, feed, name, intake, shutdown).await;
        Ok(())
    };
    run_with(plumbing, observed, work, process).await
}

/// Runs `work` with the admin server and the reports beside it; when `work` ends
/// (on shutdown), the reports stop and the admin server finishes its requests.
pub async fn run_with(
    plumbing: Plumbing,
    observed: Arc<dyn Observed>,
    work: impl Future<Output = anyhow::Result<()>>,
    process: Process,
) -> anyhow::Result<()> {
    let shutdown = process.shutdown;
    let admin = tokio::spawn(crate::admin::serve(
        plumbing.admin_listen,
        observed.clone(),
        process.metrics,
        shutdown.clone(),
    ));
    let target = plumbing
        .target
        .report_target(plumbing.name, plumbing.auth.clone());
    let interval = target.interval.as_secs_f64();
    let (name, stale_after) = (plumbing.name, plumbing.stale_after);
    let reports = tokio::spawn(report_until(
        target,
        move || observed.health().report(name, stale_after, interval),
        shutdown,
    ));
    work.await?;
    reports.abort();
    admin.await??;
    tracing::info!(source = name, "adapter stopped");
    Ok(())
}
