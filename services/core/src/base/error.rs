//! One error type for the whole API, rendered as a FHIR OperationOutcome with the
//! status the R4 HTTP page assigns.

use crate::base::admission::Busy;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ohjaamo_fhir::FhirError;
use ohjaamo_store::StoreError;
use serde_json::{Value, json};

use crate::base::media_type::FHIR_JSON;

/// The code system of the reasons a bed hold is refused (`held`, `occupied`,
/// `closed`): the coding of a [`ApiError::BedTaken`] OperationOutcome. It is the
/// error's to render, so it lives here; `write::holds` picks the reason.
pub const CONFLICT_SYSTEM: &str = "https://ohjaamo.fi/fhir/CodeSystem/bed-hold-conflict";

/// An API failure. The message is written for the integration engineer reading the
/// OperationOutcome: it names the element or parameter and says what was expected.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// 400: malformed JSON, non-conformant resource, bad search parameter.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no bearer token, or one that was not accepted (`invalid_token`). The
    /// client learns no more than that: why a token failed is for the server's log.
    #[error("{}", if *invalid_token { "the bearer token was not accepted" } else { "this request needs a bearer token (Authorization: Bearer …)" })]
    Unauthorized { invalid_token: bool },
    /// 403: the token is valid but does not allow this; the message names what it
    /// would need (a scope or an organisation the caller already knows of).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    /// 409 for a bed hold: the bed is held, occupied or closed. `reason` is the code
    /// in [`CONFLICT_SYSTEM`], so a display can say it in its own language.
    #[error("{message}")]
    BedTaken {
        reason: &'static str,
        message: String,
    },
    #[error("{0}")]
    Gone(String),
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 422: a business rule; the message names the element.
    #[error("{0}")]
    Unprocessable(String),
    /// 500/503: our fault; the detail is logged, the client gets a generic message.
    #[error("internal error: {0}")]
    Internal(String),
    #[error("the database is not available: {0}")]
    Unavailable(String),
    /// 503 with `Retry-After`: the server (or this organisation's share of it) is
    /// busy; the request was not started.
    #[error("{0}")]
    Throttled(String),
    /// 503: the database stopped the request's statement at the statement timeout.
    #[error("{0}")]
    TimedOut(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) | ApiError::BedTaken { .. } => StatusCode::CONFLICT,
            ApiError::Gone(_) => StatusCode::GONE,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unavailable(_) | ApiError::Throttled(_) | ApiError::TimedOut(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
        }
    }

    /// The OperationOutcome `issue.code` (http://hl7.org/fhir/issue-type).
    fn issue_code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "invalid",
            ApiError::Unauthorized { .. } => "login",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not-found",
            ApiError::MethodNotAllowed(_) => "not-supported",
            ApiError::Conflict(_) | ApiError::BedTaken { .. } => "conflict",
            ApiError::Gone(_) => "deleted",
            ApiError::PreconditionFailed(_) => "conflict",
            ApiError::PayloadTooLarge(_) => "too-costly",
            ApiError::UnsupportedMediaType(_) => "not-supported",
            ApiError::Unprocessable(_) => "business-rule",
            ApiError::Internal(_) => "exception",
            ApiError::Unavailable(_) => "transient",
            ApiError::Throttled(_) => "throttled",
            ApiError::TimedOut(_) => "timeout",
        }
    }

    /// Prefixes the message, e.g. with the Bundle entry it came from.
    pub fn within(self, context: &str) -> ApiError {
        let wrap = |m: String| format!("{context}: {m}");
        match self {
            ApiError::BadRequest(m) => ApiError::BadRequest(wrap(m)),
            ApiError::Unauthorized { invalid_token } => ApiError::Unauthorized { invalid_token },
            ApiError::Forbidden(m) => ApiError::Forbidden(wrap(m)),
            ApiError::NotFound(m) => ApiError::NotFound(wrap(m)),
            ApiError::MethodNotAllowed(m) => ApiError::MethodNotAllowed(wrap(m)),
            ApiError::Conflict(m) => ApiError::Conflict(wrap(m)),
            ApiError::BedTaken { reason, message } => ApiError::BedTaken {
                reason,
                message: wrap(message),
            },
            ApiError::Gone(m) => ApiError::Gone(wrap(m)),
            ApiError::PreconditionFailed(m) => ApiError::PreconditionFailed(wrap(m)),
            ApiError::PayloadTooLarge(m) => ApiError::PayloadTooLarge(wrap(m)),
            ApiError::UnsupportedMediaType(m) => ApiError::UnsupportedMediaType(wrap(m)),
            ApiError::Unprocessable(m) => ApiError::Unprocessable(wrap(m)),
            ApiError::Internal(m) => ApiError::Internal(wrap(m)),
            ApiError::Unavailable(m) => ApiError::Unavailable(wrap(m)),
            ApiError::Throttled(m) => ApiError::Throttled(wrap(m)),
            ApiError::TimedOut(m) => ApiError::TimedOut(wrap(m)),
        }
    }

    /// The OperationOutcome for this error. Internal details, and why the database
    /// did not answer, stay in the log.
    pub fn outcome(&self) -> Value {
        let diagnostics = match self {
            ApiError::Internal(_) => {
                "internal server error; the details are in the server log".to_owned()
            }
            // The database's own words (hosts, pool states, SQL) are for the log.
            ApiError::Unavailable(_) => {
                "the service is briefly unavailable (its database did not answer); try again \
                 shortly — the details are in the server log"
                    .to_owned()
            }
            other => other.to_string(),
        };
        let mut outcome = operation_outcome("error", self.issue_code(), &diagnostics);
        if let ApiError::BedTaken { reason, .. } = self {
            outcome["issue"][0]["details"] = json!({
                "coding": [{ "system": CONFLICT_SYSTEM, "code": reason }]
            });
        }
        outcome
    }
}

/// An OperationOutcome with one issue.
pub fn operation_outcome(severity: &str, code: &str, diagnostics: &str) -> Value {
    json!({
        "resourceType": "OperationOutcome",
        "issue": [{ "severity": severity, "code": code, "diagnostics": diagnostics }]
    })
}

/// What an error answer told the client, left on the response for the access log.
#[derive(Debug, Clone)]
pub struct ErrorText(pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        } else {
            // Refusals are what an integration engineer looks for at night.
            tracing::info!(status = status.as_u16(), error = %self, "request refused");
        }
        let mut response = (status, self.outcome().to_string()).into_response();
        response
            .extensions_mut()
            .insert(ErrorText(self.to_string()));
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
        if matches!(self, ApiError::Throttled(_)) {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if let ApiError::Unauthorized { invalid_token } = self {
            // RFC 6750 §3: the scheme always, `invalid_token` when one was presented.
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(if invalid_token {
                    "Bearer realm=\"ohjaamo\", error=\"invalid_token\""
                } else {
                    "Bearer realm=\"ohjaamo\""
                }),
            );
        }
        response
    }
}

impl From<Busy> for ApiError {
    fn from(busy: Busy) -> Self {
        ApiError::Throttled(format!(
            "the server is busy ({}); the request was not carried out, try again shortly",
            busy.describe()
        ))
    }
}

impl From<FhirError> for ApiError {
    fn from(e: FhirError) -> Self {
        ApiError::BadRequest(e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Contention(_) => ApiError::Conflict(format!(
                "{e}; another client is writing the same resources, try again"
            )),
            // Still stale after every re-plan: concurrent writers keep creating the
            // resources this request targets. The client's retry will see them.
            StoreError::Stale(_) => ApiError::Conflict(format!(
                "{e}; concurrent requests kept changing the same resources, try again"
            )),
            StoreError::TimedOut => ApiError::TimedOut(
                "the database stopped this request at the statement timeout \
                 (OHJAAMO_DATABASE_STATEMENT_TIMEOUT_SECONDS); narrow the search"
                    .into(),
            ),
            other if other.is_unavailable() => ApiError::Unavailable(other.to_string()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}
