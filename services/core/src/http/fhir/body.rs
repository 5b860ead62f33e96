//! Reading a FHIR JSON request body with our own limits and errors: a too-large
//! body is a 413 OperationOutcome, a wrong media type 415, bad JSON 400.

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use ohjaamo_fhir::json_shape::{ShapeError, measure};
use serde_json::Value;

use crate::base::error::ApiError;
use crate::base::state::AppState;

/// A request body parsed as JSON.
pub struct FhirJson(pub Value);

impl FromRequest<AppState> for FhirJson {
    type Rejection = ApiError;

    async fn from_request(req: Request<Body>, state: &AppState) -> Result<Self, Self::Rejection> {
        // A body must say it is JSON: a browser's cross-site "simple" POST (no
        // Content-Type, or text/plain) must not be read as one (CSRF).
        let Some(ct) = req.headers().get(header::CONTENT_TYPE) else {
            return Err(ApiError::UnsupportedMediaType(
                "a request body needs Content-Type: application/fhir+json".into(),
            ));
        };
        let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
        let media = ct.split(';').next().unwrap_or("").trim();
        if !matches!(
            media,
            "application/fhir+json" | "application/json" | "application/json+fhir"
        ) {
            return Err(ApiError::UnsupportedMediaType(format!(
                "Content-Type {media} is not supported; send application/fhir+json"
            )));
        }
        let limit = state.config.max_body_bytes;
        let bytes = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|e| {
                if is_length_limit(&e) {
                    ApiError::PayloadTooLarge(format!(
                        "the request body is larger than the configured limit of {limit} bytes"
                    ))
                } else {
                    ApiError::BadRequest(format!("the request body could not be read: {e}"))
                }
            })?;
        if bytes.is_empty() {
            return Err(ApiError::BadRequest("the request body is empty".into()));
        }
        check_shape(&bytes, state)?;
        Ok(FhirJson(ohjaamo_fhir::parse_json(&bytes)?))
    }
}

/// Refuses a body whose tree would be too large, before building it: too many JSON
/// values, or a Bundle with more entries than allowed.
fn check_shape(bytes: &[u8], state: &AppState) -> Result<(), ApiError> {
    let max_values = state.config.max_json_values;
    let shape = match measure(bytes, max_values) {
        Ok(shape) => shape,
        Err(ShapeError::TooManyValues { limit }) => {
            return Err(ApiError::PayloadTooLarge(format!(
                "the request body has more than {limit} JSON values, the limit of this \
                 server (OHJAAMO_MAX_JSON_VALUES); send it in smaller Bundles"
            )));
        }
        Err(ShapeError::NotJson(e)) => {
            return Err(ApiError::BadRequest(format!(
                "the body is not valid JSON: {e}"
            )));
        }
    };
    let max_entries = state.config.max_bundle_entries;
    if shape.entries > max_entries {
        return Err(ApiError::PayloadTooLarge(format!(
            "the Bundle has {} entries; the limit is {max_entries} (OHJAAMO_MAX_BUNDLE_ENTRIES)",
            shape.entries
        )));
    }
    Ok(())
}

/// Whether reading failed on the size limit (rather than, say, a dropped connection).
fn is_length_limit(e: &axum::Error) -> bool {
    let mut cause: Option<&dyn std::error::Error> = Some(e);
    while let Some(c) = cause {
        if c.to_string().contains("length limit exceeded") {
            return true;
        }
        cause = c.source();
    }
    false
}
