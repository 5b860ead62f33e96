//! The settings every adapter shares: where the core is, for which organisation the
//! source writes, its identifier systems, and how it retries and reports. One clap
//! group that each adapter's `Args` flattens, so every adapter has the same flags and
//! `OHJAAMO_*` variables for them.

use std::time::Duration;

use crate::auth::{CoreAuth, CoreAuthArgs};
use crate::backoff::Backoff;
use crate::ids::SourceIds;
use crate::push::PushClient;
use crate::report::ReportTarget;

/// What every adapter needs to write to the core: where it is, for whom, the
/// source's identifier systems, and how long to wait between retries.
#[derive(clap::Args, Debug, Clone)]
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
    /// How the adapter authenticates to the core (none set: no token).
    #[command(flatten)]
    pub auth: CoreAuthArgs,
}

impl CoreTarget {
    pub fn source_ids(&self) -> SourceIds {
        SourceIds::new(&self.source_oid_root)
    }

    /// The adapter's credential for the core, from the settings; logs which mode
    /// is in use. Make it once per adapter and share it (one token for all).
    pub fn core_auth(&self) -> anyhow::Result<CoreAuth> {
        CoreAuth::from_args(&self.auth)
    }

    /// Where this adapter's health reports go, as source `name`, sent with `auth`.
    pub fn report_target(&self, name: &str, auth: CoreAuth) -> ReportTarget {
        ReportTarget {
            core: self.core.clone(),
            organization: self.organization.clone(),
            name: name.to_owned(),
            interval: Duration::from_secs_f64(self.report_interval.max(0.5)),
            auth,
        }
    }

    /// The client that pushes source `name`'s Bundles to the core with `auth`
    /// (two minutes for a Bundle's answer; this target's backoff between retries).
    pub fn push_client(&self, name: &str, auth: &CoreAuth) -> Result<PushClient, reqwest::Error> {
        Ok(PushClient::new(
            &self.core,
            &self.organization,
            name,
            Duration::from_secs(120),
            self.backoff(),
        )?
        .with_auth(auth.clone()))
    }

    /// A pulled source's default staleness: three rounds missed and a minute's grace.
    pub fn pull_stale_after(&self, poll_interval: f64) -> f64 {
        self.stale_after.unwrap_or(3.0 * poll_interval + 60.0)
    }

    pub fn backoff(&self) -> Backoff {
        Backoff {
            base: Duration::from_millis(200),
            max: Duration::from_secs_f64(self.retry_max.max(0.2)),
        }
    }
}
