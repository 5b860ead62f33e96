//! The ADT adapter's conversation with the core: read a stay's Encounter by its visit
//! number, write it back with If-Match. Plain FHIR REST, as any client would.
//!
//! Every request carries the current span's W3C trace context (the listener runs each
//! message in an `adt_message` span), so the core's request spans join its trace,
//! and the adapter's access token (the kit's [`CoreAuth`]: a 401 renews it and sends
//! once more; a second 401, or a 403, is transient: the ACK is held and the message
//! retried with backoff).

use std::time::Duration;

use ohjaamo_adapter_kit::CoreAuth;
use ohjaamo_adapter_kit::push::with_trace_context;
use reqwest::StatusCode;
use serde_json::Value;

/// What went wrong, sorted by what the adapter does about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoreError {
    /// The core is unreachable, overloaded or failed (network, 5xx, 429, 409), or
    /// refuses the adapter's credential (401 after one renewal, 403): try again
    /// later; the message is not acknowledged meanwhile.
    #[error("the core did not take the write: {0}")]
    Transient(String),
    /// Someone wrote the stay since it was read (412): read again and re-apply.
    #[error("the stay changed since it was read")]
    Changed,
    /// The core refuses the content (400, 422, ...): the message can never be applied
    /// as it is. The text is the core's OperationOutcome diagnostics.
    #[error("the core refuses the Encounter: {0}")]
    Refused(String),
}

/// A stay as the core has it.
#[derive(Debug, Clone)]
pub struct StoredStay {
    pub encounter: Value,
    pub version: String,
}

pub struct CoreClient {
    pub(crate) http: reqwest::Client,
    pub(crate) fhir_base: String,
    organization: String,
    visit_system: String,
    auth: CoreAuth,
}

impl CoreClient {
    /// `fhir_base` is the core's FHIR base, e.g. `http://core:8080/fhir`.
    pub fn new(
        fhir_base: &str,
        organization: &str,
        visit_system: &str,
        timeout: Duration,
    ) -> Result<CoreClient, reqwest::Error> {
        Ok(CoreClient {
            http: reqwest::Client::builder().timeout(timeout).build()?,
            fhir_base: fhir_base.trim_end_matches('/').to_owned(),
            organization: organization.to_owned(),
            visit_system: visit_system.to_owned(),
            auth: CoreAuth::none(),
        })
    }

    /// Sends every request with a token of `auth`.
    pub fn with_auth(mut self, auth: CoreAuth) -> CoreClient {
        self.auth = auth;
        self
    }

    /// Sends what `build` makes (again, for a renewed token) with the trace context and
    /// the organisation, through the adapter's token; every request to the core does.
    pub(crate) async fn send(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, CoreError> {
        self.auth
            .send(|| {
                with_trace_context(build()).header("x-ohjaamo-organization", &self.organization)
            })
            .await
            .map_err(|e| CoreError::Transient(e.to_string()))
    }

    pub(crate) fn identifier(&self, visit: &str) -> String {
        format!("{}|{visit}", self.visit_system)
    }

    /// The stay's current Encounter, or `None` when the core has none.
    pub async fn read_stay(&self, visit: &str) -> Result<Option<StoredStay>, CoreError> {
        Ok(self
            .read_one("Encounter", &self.identifier(visit))
            .await?
            .map(|(encounter, version)| StoredStay { encounter, version }))
    }

    /// The current `rtype` with `identifier` (`system|value`) and its version, or
    /// `None` when the core has none.
    pub(crate) async fn read_one(
        &self,
        rtype: &str,
        identifier: &str,
    ) -> Result<Option<(Value, String)>, CoreError> {
        let url = self.search_url(rtype, identifier)?;
        let response = self
            .send(|| {
                self.http
                    .get(url.clone())
                    .header("accept", "application/fhir+json")
            })
            .await?;
        let status = response.status();
        let body: Value = match response.json().await {
            Ok(v) => v,
            Err(e) if status.is_success() => {
                return Err(CoreError::Transient(format!(
                    "unreadable search answer: {e}"
                )));
            }
            Err(_) => Value::Null,
        };
        if !status.is_success() {
            return Err(classify(status, &body));
        }
        let Some(resource) = body["entry"][0].get("resource").cloned() else {
            return Ok(None);
        };
        let version = resource["meta"]["versionId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        Ok(Some((resource, version)))
    }

    /// `rtype?identifier=<identifier>`, percent-encoded.
    fn search_url(&self, rtype: &str, identifier: &str) -> Result<url::Url, CoreError> {
        url::Url::parse_with_params(
            &format!("{}/{rtype}", self.fhir_base),
            &[("identifier", identifier)],
        )
        .map_err(|e| CoreError::Refused(format!("cannot build the core URL: {e}")))
    }

    /// `Encounter?identifier=system|visit`, percent-encoded.
    fn stay_url(&self, visit: &str) -> Result<url::Url, CoreError> {
        self.search_url("Encounter", &self.identifier(visit))
    }

    /// Posts `entries` as one FHIR transaction: all of them are written, or none.
    pub(crate) async fn transaction(&self, entries: Vec<Value>) -> Result<(), CoreError> {
        let bundle = serde_json::json!({ "resourceType": "Bundle", "type": "transaction", "entry": entries });
        let body = bundle.to_string();
        let response = self
            .send(|| {
                self.http
                    .post(&self.fhir_base)
                    .header("content-type", "application/fhir+json")
                    .body(body.clone())
            })
            .await?;
        written(response).await
    }

    /// Writes the stay by its visit number; with `version`, only over that version.
    pub async fn write_stay(
        &self,
        visit: &str,
        encounter: &Value,
        version: Option<&str>,
    ) -> Result<(), CoreError> {
        let url = self.stay_url(visit)?;
        let body = encounter.to_string();
        let response = self
            .send(|| {
                let request = self
                    .http
                    .put(url.clone())
                    .header("content-type", "application/fhir+json")
                    .body(body.clone());
                match version {
                    Some(v) => request.header("if-match", format!("W/\"{v}\"")),
                    None => request,
                }
            })
            .await?;
        written(response).await
    }
}

/// A write's answer: done, or why not.
pub(crate) async fn written(response: reqwest::Response) -> Result<(), CoreError> {
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let body: Value = response.json().await.unwrap_or(Value::Null);
    Err(classify(status, &body))
}

pub(crate) fn classify(status: StatusCode, body: &Value) -> CoreError {
    let diagnostics = body["issue"][0]["diagnostics"]
        .as_str()
        .map_or_else(|| status.to_string(), |d| format!("{status}: {d}"));
    match status {
        StatusCode::PRECONDITION_FAILED => CoreError::Changed,
        s if ohjaamo_adapter_kit::push::retryable(s) => CoreError::Transient(diagnostics),
        _ => CoreError::Refused(diagnostics),
    }
}
