//! What every FHIR request carries besides its path: the organisation (tenant) it
//! acts for, the base URL links are built on, and the client's `Prefer` header.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::base::error::ApiError;
use crate::base::state::AppState;

/// The header naming the organisation a request acts for. Authentication (a later
/// issue) will check that the caller may act for it; today it only scopes data.
pub const TENANT_HEADER: &str = "x-ohjaamo-organization";

/// `Prefer: return=…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Return {
    Minimal,
    Representation,
    OperationOutcome,
}

#[derive(Debug, Clone)]
pub struct Ctx {
    pub tenant: String,
    /// `http://host/fhir`, without a trailing slash.
    pub base: String,
    /// `Prefer: handling=strict`.
    pub strict: bool,
    /// `Prefer: return=…`, if the client said.
    pub prefer_return: Option<Return>,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let headers = &parts.headers;
        let tenant = match headers.get(TENANT_HEADER) {
            None => state.config.default_tenant.clone(),
            Some(value) => {
                let value = value.to_str().unwrap_or("");
                if !is_tenant(value) {
                    return Err(ApiError::BadRequest(format!(
                        "header {TENANT_HEADER} must be an organisation identifier of 1-64 \
                         characters from A-Z a-z 0-9 . - _ :"
                    )));
                }
                value.to_owned()
            }
        };
        let base = match &state.config.public_base_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => derived_base(headers),
        };
        let (strict, prefer_return) = parse_prefer(headers);
        Ok(Ctx {
            tenant,
            base,
            strict,
            prefer_return,
        })
    }
}

fn is_tenant(value: &str) -> bool {
    (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'))
}

fn derived_base(headers: &HeaderMap) -> String {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let host = header("x-forwarded-host")
        .or_else(|| header("host"))
        .filter(|h| h.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or("localhost");
    let scheme = match header("x-forwarded-proto") {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}/fhir")
}

fn parse_prefer(headers: &HeaderMap) -> (bool, Option<Return>) {
    let mut strict = false;
    let mut ret = None;
    for value in headers.get_all("prefer") {
        let Ok(value) = value.to_str() else { continue };
        for token in value.split([',', ';']) {
            match token.trim().replace(' ', "").as_str() {
                "handling=strict" => strict = true,
                "handling=lenient" => strict = false,
                "return=minimal" => ret = Some(Return::Minimal),
                "return=representation" => ret = Some(Return::Representation),
                "return=OperationOutcome" => ret = Some(Return::OperationOutcome),
                _ => {}
            }
        }
    }
    (strict, ret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefer_parts_are_read() {
        let mut h = HeaderMap::new();
        h.insert("prefer", "handling=strict, return=minimal".parse().unwrap());
        assert_eq!(parse_prefer(&h), (true, Some(Return::Minimal)));
    }

    #[test]
    fn tenants_are_plain_identifiers() {
        assert!(is_tenant("1.2.246.10.2345678.10.0"));
        assert!(!is_tenant(""));
        assert!(!is_tenant("a b"));
        assert!(!is_tenant(&"x".repeat(65)));
    }
}
