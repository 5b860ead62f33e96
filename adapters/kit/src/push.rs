//! The push client: FHIR `batch` Bundles of conditional updates to the core.
//!
//! Every write is `PUT Type?identifier=system|value` — idempotent, so sending a Bundle
//! again after a timeout or a crash changes nothing that was already stored (identical
//! content is a no-op in the core). The client sorts each entry's answer into stored,
//! refused (the content can never be stored as it is: quarantine it) or transient
//! (try again), and retries the transient ones with backoff until they settle or the
//! adapter is shutting down.
//!
//! Each push runs in a `push_batch` span, and every request it makes carries that
//! span's W3C trace context (`traceparent`, `tracestate`), so the core's request spans
//! join the adapter's trace ([`with_trace_context`]), and the adapter's access
//! token ([`crate::auth`]): a 401 renews the token and sends once more; one that
//! stays, or a 403, is retried with backoff like an unavailable core, never
//! quarantined — a credential's fault is not the record's.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::watch;
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::auth::CoreAuth;
use crate::backoff::Backoff;

/// One resource to write, by the identifier it is found with.
#[derive(Debug, Clone, PartialEq)]
pub struct Upsert {
    /// `Type?identifier=system|value` (see [`crate::SourceIds::conditional`]).
    pub conditional_url: String,
    pub op: Op,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Write this resource.
    Put(Value),
    /// The source deleted the record: set `element` of the stored resource to
    /// `value` (`status` `entered-in-error` or `inactive`, `active` false, ...),
    /// keeping the rest. Nothing to do when the core never had it.
    Retire { element: &'static str, value: Value },
}

impl Upsert {
    pub fn put(conditional_url: String, resource: Value) -> Upsert {
        Upsert {
            conditional_url,
            op: Op::Put(resource),
        }
    }

    pub fn retire(conditional_url: String, element: &'static str, value: Value) -> Upsert {
        Upsert {
            conditional_url,
            op: Op::Retire { element, value },
        }
    }
}

/// How one entry settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryOutcome {
    Stored,
    /// The core refuses the content; the text is its diagnostics.
    Refused(String),
}

/// A push stops unsettled only when the adapter is shutting down; until then it
/// retries. Nothing after the last settled push counts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    #[error("shutting down")]
    ShuttingDown,
}

pub struct PushClient {
    http: reqwest::Client,
    fhir_base: String,
    organization: String,
    backoff: Backoff,
    source: String,
    auth: CoreAuth,
}

/// What one attempt made of one entry.
enum Attempt {
    Settled(EntryOutcome),
    Again(String),
}

impl PushClient {
    /// `fhir_base` is the core's FHIR base, e.g. `http://core:8080/fhir`; `source`
    /// names the adapter in logs and metrics.
    pub fn new(
        fhir_base: &str,
        organization: &str,
        source: &str,
        timeout: Duration,
        backoff: Backoff,
    ) -> Result<PushClient, reqwest::Error> {
        Ok(PushClient {
            http: reqwest::Client::builder().timeout(timeout).build()?,
            fhir_base: fhir_base.trim_end_matches('/').to_owned(),
            organization: organization.to_owned(),
            backoff,
            source: source.to_owned(),
            auth: CoreAuth::none(),
        })
    }

    /// Sends every request with a token of `auth` (without: none, for a core run
    /// with `--auth none`).
    pub fn with_auth(mut self, auth: CoreAuth) -> PushClient {
        self.auth = auth;
        self
    }

    pub fn fhir_base(&self) -> &str {
        &self.fhir_base
    }

    /// Writes `upserts` in order as one batch, retrying what is transient, and
    /// answers each entry's outcome in the same order. Runs in a `push_batch` span
    /// (the adapter's name and the number of entries; nothing from the records).
    pub async fn push(
        &self,
        upserts: &[Upsert],
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Vec<EntryOutcome>, PushError> {
        let span = tracing::info_span!(
            "push_batch",
            otel.kind = "client",
            source = %self.source,
            entries = upserts.len(),
        );
        self.push_in_span(upserts, shutdown).instrument(span).await
    }

    async fn push_in_span(
        &self,
        upserts: &[Upsert],
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Vec<EntryOutcome>, PushError> {
        let mut outcomes: Vec<Option<EntryOutcome>> = vec![None; upserts.len()];
        let mut attempt = 0;
        loop {
            let pending: Vec<usize> = (0..upserts.len())
                .filter(|i| outcomes[*i].is_none())
                .collect();
            if pending.is_empty() {
                break;
            }
            let reason = match self.attempt(upserts, &pending).await {
                Ok(answers) => {
                    let mut again = None;
                    for (i, answer) in pending.iter().zip(answers) {
                        match answer {
                            Attempt::Settled(o) => outcomes[*i] = Some(o),
                            Attempt::Again(r) => again = Some(r),
                        }
                    }
                    match again {
                        None => break,
                        Some(r) => r,
                    }
                }
                Err(r) => r,
            };
            metrics::counter!("ohjaamo_adapter_retries_total", "source" => self.source.clone())
                .increment(1);
            tracing::warn!(source = %self.source, attempt, pending = pending.len(), reason = %reason, "push not settled; retrying");
            let pause = self.backoff.delay(attempt);
            attempt += 1;
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => return Err(PushError::ShuttingDown),
            }
        }
        let outcomes: Vec<EntryOutcome> = outcomes.into_iter().flatten().collect();
        let stored = outcomes
            .iter()
            .filter(|o| **o == EntryOutcome::Stored)
            .count();
        metrics::counter!("ohjaamo_adapter_pushed_total", "source" => self.source.clone())
            .increment(stored as u64);
        Ok(outcomes)
    }

    /// One round trip for the entries at `pending`; `Err` when the whole Bundle failed
    /// in a way worth retrying.
    async fn attempt(&self, upserts: &[Upsert], pending: &[usize]) -> Result<Vec<Attempt>, String> {
        let mut entries = Vec::with_capacity(pending.len());
        // Retirements need the stored resource: read it first; `None` = nothing to do.
        let mut answers: Vec<Option<Attempt>> = Vec::with_capacity(pending.len());
        for &i in pending {
            let upsert = &upserts[i];
            match &upsert.op {
                Op::Put(resource) => {
                    entries.push(json!({
                        "resource": resource,
                        "request": {"method": "PUT", "url": upsert.conditional_url},
                    }));
                    answers.push(None);
                }
                Op::Retire { element, value } => match self.read(&upsert.conditional_url).await? {
                    Some(mut stored) if stored[*element] != *value => {
                        let version = stored["meta"]["versionId"]
                            .as_str()
                            .unwrap_or("")
                            .to_owned();
                        stored[*element] = value.clone();
                        entries.push(json!({
                            "resource": stored,
                            "request": {"method": "PUT", "url": upsert.conditional_url,
                                        "ifMatch": format!("W/\"{version}\"")},
                        }));
                        answers.push(None);
                    }
                    _ => answers.push(Some(Attempt::Settled(EntryOutcome::Stored))),
                },
            }
        }
        if entries.is_empty() {
            return Ok(answers.into_iter().flatten().collect());
        }
        let bundle = json!({"resourceType": "Bundle", "type": "batch", "entry": entries});
        let bundle = bundle.to_string();
        let (status, body) = self
            .exchange(|| {
                self.http
                    .post(&self.fhir_base)
                    .header("content-type", "application/fhir+json")
                    .body(bundle.clone())
            })
            .await?;
        if !status.is_success() {
            let text = diagnostics(&body).unwrap_or_else(|| status.to_string());
            if retryable(status) {
                return Err(format!("{status}: {text}"));
            }
            // The whole Bundle is refused (a bug of ours, or a limit): every entry is.
            return Ok(answers
                .into_iter()
                .map(|a| {
                    a.unwrap_or_else(|| {
                        Attempt::Settled(EntryOutcome::Refused(format!("{status}: {text}")))
                    })
                })
                .collect());
        }
        let Some(replies) = body["entry"].as_array() else {
            return Err("the core's batch-response has no entries".into());
        };
        let mut replies = replies.iter();
        Ok(answers
            .into_iter()
            .map(|a| a.unwrap_or_else(|| entry_attempt(replies.next())))
            .collect())
    }

    /// Sends the request `build` makes as the organisation, with the token, and
    /// answers the status and the JSON body (`Null` when the body is not JSON).
    async fn exchange(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<(StatusCode, Value), String> {
        let response = self
            .auth
            .send(|| {
                with_trace_context(build())
                    .header("x-ohjaamo-organization", &self.organization)
                    .header("accept", "application/fhir+json")
            })
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    /// The stored resource with this conditional URL, if any.
    async fn read(&self, conditional_url: &str) -> Result<Option<Value>, String> {
        let url = format!("{}/{conditional_url}", self.fhir_base);
        let (status, body) = self.exchange(|| self.http.get(&url)).await?;
        if !status.is_success() {
            return Err(format!(
                "{status}: {}",
                diagnostics(&body).unwrap_or_default()
            ));
        }
        Ok(body["entry"][0].get("resource").cloned())
    }
}

/// Adds the current span's trace context to `request` as W3C `traceparent` and
/// `tracestate` headers, through the process's global propagator, so that the core's
/// request span becomes a child of the current span. Without OpenTelemetry (no
/// tracer, or the span filtered out) the context is empty and nothing is added.
pub fn with_trace_context(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    let context = tracing::Span::current().context();
    let mut headers = TraceHeaders::default();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut headers)
    });
    headers
        .0
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .fold(request, |request, (name, value)| {
            request.header(name, value)
        })
}

/// Collects the propagator's fields.
#[derive(Default)]
struct TraceHeaders(Vec<(String, String)>);

impl opentelemetry::propagation::Injector for TraceHeaders {
    fn set(&mut self, key: &str, value: String) {
        self.0.push((key.to_owned(), value));
    }
}

fn entry_attempt(reply: Option<&Value>) -> Attempt {
    let Some(reply) = reply else {
        return Attempt::Again("the batch-response has fewer entries than the Bundle".into());
    };
    let status_text = reply["response"]["status"].as_str().unwrap_or("");
    let code = status_text
        .split_whitespace()
        .next()
        .and_then(|c| c.parse::<u16>().ok())
        .and_then(|c| StatusCode::from_u16(c).ok());
    let reason =
        || diagnostics(&reply["response"]["outcome"]).unwrap_or_else(|| status_text.to_owned());
    match code {
        Some(c) if c.is_success() => Attempt::Settled(EntryOutcome::Stored),
        Some(c) if retryable(c) => Attempt::Again(format!("{c}: {}", reason())),
        Some(c) => Attempt::Settled(EntryOutcome::Refused(format!("{c}: {}", reason()))),
        None => Attempt::Again(format!("unreadable entry status {status_text:?}")),
    }
}

/// Whether the core's answer is worth trying again: 5xx, 408, 429, 409/412 (a
/// concurrent writer; the next attempt re-reads), and 401/403 (the adapter's
/// credential or its grants, which an operator fixes at the issuer: the content is
/// not at fault). Everything else refuses the content.
pub fn retryable(status: StatusCode) -> bool {
    status.is_server_error()
        || matches!(
            status,
            StatusCode::UNAUTHORIZED
                | StatusCode::FORBIDDEN
                | StatusCode::REQUEST_TIMEOUT
                | StatusCode::TOO_MANY_REQUESTS
                | StatusCode::CONFLICT
                | StatusCode::PRECONDITION_FAILED
        )
}

fn diagnostics(outcome: &Value) -> Option<String> {
    let issues = outcome["issue"].as_array()?;
    let texts: Vec<&str> = issues
        .iter()
        .filter_map(|i| i["diagnostics"].as_str())
        .collect();
    (!texts.is_empty()).then(|| texts.join("; "))
}
