//! The upstream FHIR server as the adapter talks to it: every request with the
//! adapter's SMART Backend Services token, and every fault sorted by what to do
//! about it.
//!
//! - **401**: the kit's auth client renews the token once and sends again
//!   ([`CoreAuth::send`]); a second 401 is a credential's fault, reported as such and
//!   retried with backoff by the runner (an operator fixes it at the upstream).
//! - **429 with `Retry-After`**: the server said how long to wait; the adapter waits
//!   exactly that (seconds or an HTTP date) and asks again, showing the wait in its
//!   status and in the report to the core meanwhile. Without a usable `Retry-After`
//!   (or one longer than `max_retry_after`) it is an ordinary transient failure.
//! - **5xx, network errors, timeouts**: transient; the runner retries with backoff.
//! - **other 4xx**: the request itself is wrong (or a paging link expired):
//!   [`UpstreamError::Refused`], which the caller decides about.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ohjaamo_adapter_kit::CoreAuth;
use ohjaamo_adapter_kit::source::PullError;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::watch;

/// Why a request to the upstream did not give an answer to use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    /// Worth trying again later (network, 5xx, 401 after a renewal, 429 without a
    /// usable Retry-After).
    #[error("{0}")]
    Transient(String),
    /// The upstream refuses this request (4xx other than 401 and 429).
    #[error("{what}: the upstream answered {status}{detail}")]
    Refused {
        what: String,
        status: u16,
        detail: String,
    },
    /// The adapter is stopping.
    #[error("shutting down")]
    ShuttingDown,
}

impl From<UpstreamError> for PullError {
    fn from(e: UpstreamError) -> PullError {
        match e {
            UpstreamError::Refused { .. } => PullError::Unusable(e.to_string()),
            other => PullError::Unavailable(other.to_string()),
        }
    }
}

/// The upstream's current trouble, if any, for the status and the core's
/// `/sources`: set while the adapter waits out a 429, cleared by the next answer.
#[derive(Debug, Default)]
pub struct Faults {
    current: Mutex<Option<String>>,
    /// The latest `X-Progress` of a running `$export`.
    export_progress: Mutex<Option<String>>,
}

impl Faults {
    pub fn set(&self, fault: String) {
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = Some(fault);
    }

    pub fn clear(&self) {
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    pub fn current(&self) -> Option<String> {
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn set_progress(&self, progress: Option<String>) {
        *self
            .export_progress
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = progress;
    }

    pub fn progress(&self) -> Option<String> {
        self.export_progress
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

pub struct Upstream {
    http: reqwest::Client,
    base: String,
    auth: CoreAuth,
    faults: Arc<Faults>,
    shutdown: watch::Receiver<bool>,
    max_retry_after: Duration,
    headers: reqwest::header::HeaderMap,
}

impl Upstream {
    /// `base` is the upstream's FHIR base (`https://ehr.example/api/FHIR/R4`).
    pub fn new(
        base: &str,
        auth: CoreAuth,
        timeout: Duration,
        max_retry_after: Duration,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Upstream, reqwest::Error> {
        Ok(Upstream {
            http: reqwest::Client::builder().timeout(timeout).build()?,
            base: base.trim_end_matches('/').to_owned(),
            auth,
            faults: Arc::default(),
            shutdown,
            max_retry_after,
            headers: reqwest::header::HeaderMap::new(),
        })
    }

    /// Sends `headers` (`Name: value`) with every request to the upstream: what a
    /// gateway in front of it asks for, or the organisation an upstream Ohjaamo
    /// answers for (`X-Ohjaamo-Organization: <oid>`).
    pub fn with_headers(mut self, headers: &[String]) -> anyhow::Result<Upstream> {
        for line in headers.iter().filter(|h| !h.trim().is_empty()) {
            let Some((name, value)) = line.split_once(':') else {
                anyhow::bail!("--upstream-header {line:?} is not `Name: value`");
            };
            let name = reqwest::header::HeaderName::from_bytes(name.trim().as_bytes())
                .map_err(|e| anyhow::anyhow!("--upstream-header {line:?}: {e}"))?;
            let value = reqwest::header::HeaderValue::from_str(value.trim())
                .map_err(|e| anyhow::anyhow!("--upstream-header {line:?}: {e}"))?;
            self.headers.append(name, value);
        }
        Ok(self)
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn faults(&self) -> Arc<Faults> {
        self.faults.clone()
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// `GET url` for a FHIR JSON answer: the body and the answer's `Date` header.
    pub async fn get_json(
        &self,
        what: &str,
        url: &str,
    ) -> Result<(Value, Option<jiff::Timestamp>), UpstreamError> {
        let response = self
            .send(what, true, || {
                self.http.get(url).header("accept", "application/fhir+json")
            })
            .await?;
        let date = header(&response, "date").and_then(|d| http_date(&d));
        let text = response
            .text()
            .await
            .map_err(|e| UpstreamError::Transient(format!("{what}: reading the answer: {e}")))?;
        let body = serde_json::from_str(&text).map_err(|e| {
            let start: String = text.chars().take(60).collect();
            UpstreamError::Refused {
                what: what.to_owned(),
                status: 200,
                detail: format!(" that is not JSON ({e}); it starts {start:?}"),
            }
        })?;
        Ok((body, date))
    }

    /// Sends what `build` makes (with a token when `with_token`) until the answer is
    /// not a 429 the adapter can wait out; answers any 2xx.
    pub async fn send(
        &self,
        what: &str,
        with_token: bool,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, UpstreamError> {
        let build = || build().headers(self.headers.clone());
        loop {
            let sent = if with_token {
                self.auth.send(build).await.map_err(|e| e.to_string())
            } else {
                build().send().await.map_err(|e| e.to_string())
            };
            let response = sent.map_err(|e| {
                UpstreamError::Transient(format!("{what}: cannot reach the upstream: {e}"))
            })?;
            let status = response.status();
            if status.is_success() {
                self.faults.clear();
                return Ok(response);
            }
            metrics::counter!("ohjaamo_fhir_source_upstream_errors_total",
                "status" => status.as_u16().to_string())
            .increment(1);
            match status {
                StatusCode::TOO_MANY_REQUESTS => {
                    let Some(wait) = header(&response, "retry-after").and_then(|v| retry_after(&v))
                    else {
                        return Err(UpstreamError::Transient(format!(
                            "{what}: the upstream answered 429 Too Many Requests without a usable Retry-After; backing off"
                        )));
                    };
                    if wait > self.max_retry_after {
                        return Err(UpstreamError::Transient(format!(
                            "{what}: the upstream answered 429 and asks to wait {} s, longer than the {} s allowed (--upstream-max-retry-after); backing off",
                            wait.as_secs(),
                            self.max_retry_after.as_secs()
                        )));
                    }
                    self.faults.set(format!(
                        "{what}: the upstream answered 429 Too Many Requests; waiting {:.1} s as its Retry-After says",
                        wait.as_secs_f64()
                    ));
                    tracing::warn!(
                        what,
                        wait_seconds = wait.as_secs_f64(),
                        "the upstream answered 429; waiting as its Retry-After says"
                    );
                    let mut shutdown = self.shutdown.clone();
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        _ = shutdown.wait_for(|stop| *stop) => return Err(UpstreamError::ShuttingDown),
                    }
                }
                StatusCode::UNAUTHORIZED if with_token && self.auth.has_client() => {
                    return Err(UpstreamError::Transient(format!(
                        "{what}: the upstream refused the access token (401) after one renewal; check the client's registration and scopes at the upstream"
                    )));
                }
                StatusCode::UNAUTHORIZED => {
                    return Err(UpstreamError::Transient(format!(
                        "{what}: the upstream answered 401 to a request without a token; configure the client (--upstream-token-url, --upstream-client-id, --upstream-client-key)"
                    )));
                }
                s if s.is_server_error() => {
                    let detail = diagnostics(response).await;
                    return Err(UpstreamError::Transient(format!(
                        "{what}: the upstream answered {s}{detail}; backing off"
                    )));
                }
                s => {
                    let detail = diagnostics(response).await;
                    return Err(UpstreamError::Refused {
                        what: what.to_owned(),
                        status: s.as_u16(),
                        detail,
                    });
                }
            }
        }
    }
}

/// A header's value as text.
pub fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// `Retry-After`: delay-seconds, or an HTTP date (RFC 9110 §10.2.3).
pub fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = http_date(value)?;
    let wait = at.duration_since(jiff::Timestamp::now());
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

/// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn http_date(value: &str) -> Option<jiff::Timestamp> {
    jiff::fmt::rfc2822::parse(value.trim())
        .ok()
        .map(|z| z.timestamp())
}

/// `: <diagnostics>` of an OperationOutcome answer, or nothing.
async fn diagnostics(response: reqwest::Response) -> String {
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let texts: Vec<&str> = body["issue"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["diagnostics"].as_str().or(i["details"]["text"].as_str()))
        .collect();
    if texts.is_empty() {
        String::new()
    } else {
        format!(": {}", texts.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        assert_eq!(retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO),
            "a date in the past: no wait"
        );
        let later = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(120);
        let text = jiff::fmt::rfc2822::to_string(&later.in_tz("UTC").unwrap()).unwrap();
        let wait = retry_after(&text).unwrap();
        assert!(
            wait > Duration::from_secs(100) && wait <= Duration::from_secs(120),
            "{wait:?}"
        );
        assert_eq!(retry_after("soon"), None);
        assert_eq!(retry_after("-3"), None);
    }
}
