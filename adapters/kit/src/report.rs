//! Reporting an adapter's health to the core (`PUT /sources/{name}`), so that one
//! place — the core's `GET /sources`, its displays and its metrics — knows whether
//! every source is being fed, without anyone reaching each adapter's own `/status`.
//!
//! The report is small and sent every few seconds whatever happens; a report that
//! fails (the core is away) is logged once per outage and tried again next time. The
//! core counts an adapter that stops reporting as stale by itself.

use std::sync::Mutex;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::watch;

use crate::auth::CoreAuth;

/// What the core is told: the wire contract both sides share.
pub use ohjaamo_adapter_contract::SourceReport;

/// What a pushed feed (no cursor of its own to read it from) knows of its last
/// delivery: set by the listener, read by the reporter.
#[derive(Debug, Default)]
pub struct Delivery {
    state: Mutex<DeliveryState>,
}

#[derive(Debug, Default, Clone)]
struct DeliveryState {
    last_success: Option<Timestamp>,
    lag: Option<Duration>,
    last_error: Option<String>,
}

impl Delivery {
    /// A record was stored by the core, `lag` after it arrived.
    pub fn succeeded(&self, lag: Duration) {
        if let Ok(mut s) = self.state.lock() {
            s.last_success = Some(Timestamp::now());
            s.lag = Some(lag);
            s.last_error = None;
        }
    }

    /// Delivery failed and is being retried.
    pub fn failed(&self, error: &str) {
        if let Ok(mut s) = self.state.lock() {
            s.last_error = Some(error.to_owned());
        }
    }

    /// Last success, lag in seconds and the current error.
    pub fn read(&self) -> (Option<String>, Option<f64>, Option<String>) {
        let s = self.state.lock().map(|s| s.clone()).unwrap_or_default();
        (
            s.last_success.map(|t| t.to_string()),
            s.lag.map(|l| l.as_secs_f64()),
            s.last_error,
        )
    }
}

/// Where and how often to report.
#[derive(Debug, Clone)]
pub struct ReportTarget {
    /// The core's FHIR base (`http://core:8080/fhir`); reports go to `/sources` beside it.
    pub core: String,
    pub organization: String,
    /// The source's name in the core (`adt`, `pull`, …).
    pub name: String,
    pub interval: Duration,
    /// The adapter's credential for the core (a report needs
    /// `system/ohjaamo.sources.write`, and the client id must be `name`).
    pub auth: CoreAuth,
}

impl ReportTarget {
    /// `http://core:8080/fhir` → `http://core:8080/sources/<name>`.
    pub fn url(&self) -> String {
        let base = self.core.trim_end_matches('/');
        let root = base.strip_suffix("/fhir").unwrap_or(base);
        format!("{root}/sources/{}", self.name)
    }
}

/// Sends `make()` to the core every `target.interval` until `shutdown` turns true.
pub async fn report_until(
    target: ReportTarget,
    make: impl Fn() -> SourceReport,
    mut shutdown: watch::Receiver<bool>,
) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the HTTP client for status reports");
            return;
        }
    };
    let url = target.url();
    let mut failing = false;
    loop {
        let report = make();
        let result = target
            .auth
            .send(|| {
                client
                    .put(&url)
                    .header("X-Ohjaamo-Organization", &target.organization)
                    .json(&report)
            })
            .await;
        match result.map(|r| r.status()) {
            Ok(status) if status.is_success() => {
                if failing {
                    tracing::info!(%url, "status reports reach the core again");
                }
                failing = false;
            }
            other => {
                if !failing {
                    let why = match other {
                        Ok(status) => format!("the core answered {status}"),
                        Err(e) => e.to_string(),
                    };
                    tracing::warn!(%url, error = %why, "status report not delivered; trying again");
                }
                failing = true;
            }
        }
        tokio::select! {
            () = tokio::time::sleep(target.interval) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_go_beside_the_fhir_base() {
        let t = |core: &str| ReportTarget {
            core: core.into(),
            organization: "o".into(),
            name: "adt".into(),
            interval: Duration::from_secs(5),
            auth: CoreAuth::none(),
        };
        assert_eq!(t("http://c:8080/fhir").url(), "http://c:8080/sources/adt");
        assert_eq!(t("http://c:8080/fhir/").url(), "http://c:8080/sources/adt");
        assert_eq!(
            t("http://c:8080/api").url(),
            "http://c:8080/api/sources/adt"
        );
    }

    #[test]
    fn a_delivery_clears_the_error() {
        let d = Delivery::default();
        d.failed("core away");
        assert_eq!(d.read().2.as_deref(), Some("core away"));
        d.succeeded(Duration::from_millis(30));
        let (success, lag, error) = d.read();
        assert!(success.is_some() && error.is_none());
        assert_eq!(lag, Some(0.03));
    }
}
