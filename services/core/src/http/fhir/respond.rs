//! Building FHIR responses: the media type, ETag and Last-Modified of a version,
//! and what `Prefer: return` asks for.

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ohjaamo_fhir::ResourceType;

use crate::base::error::{ApiError, operation_outcome};
use crate::base::media_type::FHIR_JSON;
use crate::http::context::{Ctx, Return};

/// A JSON body with the FHIR media type.
pub fn json_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
    response
}

/// `W/"3"`.
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// An HTTP date (RFC 9110 IMF-fixdate) for Last-Modified.
pub fn http_date(micros: i64) -> String {
    jiff::Timestamp::from_microsecond(micros)
        .map(|t| t.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .unwrap_or_default()
}

/// A stored version as the response to a read, create or update.
pub struct VersionResponse<'a> {
    pub status: StatusCode,
    pub rtype: ResourceType,
    pub id: &'a str,
    pub version: i64,
    pub last_updated: i64,
    pub content: String,
    /// Set the Location header (create, and update that created).
    pub location: bool,
}

impl VersionResponse<'_> {
    pub fn into_response(self, ctx: &Ctx, default_return: Return) -> Response {
        let body = match ctx.prefer_return.unwrap_or(default_return) {
            Return::Representation => self.content,
            Return::Minimal => String::new(),
            Return::OperationOutcome => operation_outcome(
                "information",
                "informational",
                &format!("{}/{} is at version {}", self.rtype, self.id, self.version),
            )
            .to_string(),
        };
        let mut response = json_response(self.status, body);
        let headers = response.headers_mut();
        set(headers, header::ETAG, &etag(self.version));
        set(
            headers,
            header::LAST_MODIFIED,
            &http_date(self.last_updated),
        );
        if self.location {
            let url = format!(
                "{}/{}/{}/_history/{}",
                ctx.base, self.rtype, self.id, self.version
            );
            set(headers, header::LOCATION, &url);
            set(headers, header::CONTENT_LOCATION, &url);
        }
        response
    }
}

fn set(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

/// Parses `If-Match: W/"3"` (or `"3"`, or `3`).
pub fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("").trim();
    let bare = text.trim_start_matches("W/").trim_matches('"');
    bare.parse::<i64>().map(Some).map_err(|_| {
        ApiError::BadRequest(format!(
            "If-Match {text:?} is not a version ETag such as W/\"3\""
        ))
    })
}

/// The supported type named in a URL path, or a 404 saying what is supported.
pub fn path_type(name: &str) -> Result<ResourceType, ApiError> {
    name.parse().map_err(|e: ohjaamo_fhir::UnsupportedType| {
        ApiError::NotFound(format!(
            "{e}; supported: {}",
            ResourceType::ALL.map(|t| t.as_str()).join(", ")
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_forms() {
        let mut h = HeaderMap::new();
        assert_eq!(if_match(&h).unwrap(), None);
        for v in ["W/\"3\"", "\"3\"", "3"] {
            h.insert(header::IF_MATCH, v.parse().unwrap());
            assert_eq!(if_match(&h).unwrap(), Some(3), "{v}");
        }
        h.insert(header::IF_MATCH, "W/\"x\"".parse().unwrap());
        assert!(if_match(&h).is_err());
    }

    #[test]
    fn http_dates_are_imf_fixdate() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    }
}
