//! What every FHIR request carries besides its path: the organisation (tenant) it
//! acts for, what it may do there, the base URL links are built on, and the client's
//! `Prefer` header.
//!
//! **The organisation comes from the token.** With authentication on, the token's
//! organisation claim lists the organisations the caller may act for; the
//! `X-Ohjaamo-Organization` header only chooses among them (403 for any other). Without
//! the header a token of one organisation acts for it, and one of several is asked to
//! choose (400): guessing would act for an organisation the caller did not mean.
//! Without authentication (`--auth none`) the header (or the configured default) alone
//! decides.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::base::config::Config;
use crate::base::error::ApiError;
use crate::base::state::AppState;
use crate::http::access::Access;

/// The header naming the organisation a request acts for: one of its token's, when
/// authentication is on.
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
    /// What the request may do.
    pub access: Access,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let access = Access::from_request_parts(parts, state).await?;
        let headers = &parts.headers;
        let tenant = match access.principal() {
            None => tenant_of(headers, &state.config)?,
            Some(principal) => tenant_of_token(headers, &principal.organizations)?,
        };
        crate::audit::note::acting_for(&tenant);
        let base = link_base(parts, state);
        let (strict, prefer_return) = parse_prefer(headers);
        Ok(Ctx {
            tenant,
            base,
            strict,
            prefer_return,
            access,
        })
    }
}

/// Just the base URL for links, for a route that acts for no organisation.
pub struct LinkBase(pub String);

impl FromRequestParts<AppState> for LinkBase {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(LinkBase(link_base(parts, state)))
    }
}

/// The base URL links are built on: the configured public URL, or the request's host
/// (through a trusted proxy's `X-Forwarded-*`).
pub fn link_base(parts: &Parts, state: &AppState) -> String {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    match &state.config.public_base_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => derived_base(&parts.headers, forwarded_is_trusted(peer, &state.config)),
    }
}

/// The organisation a request with a token acts for: the header's, when the token
/// lists it; the token's only one without the header.
pub fn tenant_of_token(headers: &HeaderMap, organizations: &[String]) -> Result<String, ApiError> {
    let allowed: Vec<&String> = organizations.iter().filter(|o| is_tenant(o)).collect();
    match headers.get(TENANT_HEADER) {
        Some(value) => {
            let value = value.to_str().unwrap_or("");
            allowed
                .iter()
                .find(|o| o.as_str() == value)
                .map(|o| (*o).clone())
                .ok_or_else(|| {
                    ApiError::Forbidden(format!(
                        "the token does not allow acting for the organisation named in                          {TENANT_HEADER}"
                    ))
                })
        }
        None => match allowed.as_slice() {
            [only] => Ok((*only).clone()),
            [] => Err(ApiError::Forbidden(
                "the token names no organisation this server can act for".into(),
            )),
            _ => Err(ApiError::BadRequest(format!(
                "the token allows several organisations: name one in {TENANT_HEADER}"
            ))),
        },
    }
}

/// The organisation a request acts for: its header, or the configured default.
pub fn tenant_of(headers: &HeaderMap, config: &Config) -> Result<String, ApiError> {
    match headers.get(TENANT_HEADER) {
        None => Ok(config.default_tenant.clone()),
        Some(value) => {
            let value = value.to_str().unwrap_or("");
            if !is_tenant(value) {
                return Err(ApiError::BadRequest(format!(
                    "header {TENANT_HEADER} must be an organisation identifier of 1-64 \
                     characters from A-Z a-z 0-9 . - _ :"
                )));
            }
            Ok(value.to_owned())
        }
    }
}

/// The client's address: `peer`, or — through a trusted proxy — the first address of
/// its `X-Forwarded-For`.
pub fn client_address(
    headers: &HeaderMap,
    peer: Option<IpAddr>,
    config: &Config,
) -> Option<String> {
    if forwarded_is_trusted(peer, config)
        && let Some(first) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok())
    {
        return Some(first.to_string());
    }
    peer.map(|p| p.to_string())
}

/// Whether `X-Forwarded-*` from `peer` may be believed: only from a configured
/// trusted proxy. Anyone else could point the links this server builds (a created
/// resource's `Location`, paging links) at a host of their choosing.
fn forwarded_is_trusted(peer: Option<IpAddr>, config: &Config) -> bool {
    let Some(peer) = peer else {
        return false;
    };
    let peer = match peer {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(peer, IpAddr::V4),
        v4 => v4,
    };
    config
        .server
        .trusted_proxies
        .iter()
        .any(|net| net.contains(&peer))
}

fn is_tenant(value: &str) -> bool {
    (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'))
}

fn derived_base(headers: &HeaderMap, forwarded_trusted: bool) -> String {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let forwarded = |name: &str| header(name).filter(|_| forwarded_trusted);
    let host = forwarded("x-forwarded-host")
        .or_else(|| header("host"))
        .filter(|h| is_host(h))
        .unwrap_or("localhost");
    let scheme = match forwarded("x-forwarded-proto") {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}/fhir")
}

/// A `host[:port]` as a link may carry it: no path, query, user info or spaces.
fn is_host(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 255
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
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
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let mut h = HeaderMap::new();
        h.insert("host", "ohjaamo.internal:8080".parse().unwrap());
        h.insert("x-forwarded-host", "evil.example".parse().unwrap());
        h.insert("x-forwarded-proto", "https".parse().unwrap());
        assert_eq!(derived_base(&h, false), "http://ohjaamo.internal:8080/fhir");
        assert_eq!(derived_base(&h, true), "https://evil.example/fhir");

        let config = Config {
            server: crate::base::config::ServerLimits {
                trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
                ..Default::default()
            },
            ..Config::default()
        };
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert!(forwarded_is_trusted(ip("10.1.2.3"), &config));
        assert!(forwarded_is_trusted(ip("::ffff:10.1.2.3"), &config));
        assert!(!forwarded_is_trusted(ip("192.168.1.1"), &config));
        assert!(!forwarded_is_trusted(None, &config));
        assert!(!forwarded_is_trusted(ip("10.1.2.3"), &Config::default()));

        h.insert("host", "a/b@c".parse().unwrap());
        assert_eq!(derived_base(&h, false), "http://localhost/fhir");
    }

    #[test]
    fn a_token_chooses_among_its_organisations_only() {
        let orgs = ["1.2.246.10.1".to_owned(), "1.2.246.10.2".to_owned()];
        let mut h = HeaderMap::new();
        assert_eq!(tenant_of_token(&h, &orgs[..1]).unwrap(), "1.2.246.10.1");
        assert_eq!(
            tenant_of_token(&h, &orgs).unwrap_err().status(),
            axum::http::StatusCode::BAD_REQUEST
        );
        assert_eq!(
            tenant_of_token(&h, &[]).unwrap_err().status(),
            axum::http::StatusCode::FORBIDDEN
        );
        h.insert(TENANT_HEADER, "1.2.246.10.2".parse().unwrap());
        assert_eq!(tenant_of_token(&h, &orgs).unwrap(), "1.2.246.10.2");
        assert_eq!(
            tenant_of_token(&h, &orgs[..1]).unwrap_err().status(),
            axum::http::StatusCode::FORBIDDEN
        );
        let bad = ["a b".to_owned()];
        h.insert(TENANT_HEADER, "a b".parse().unwrap());
        assert!(tenant_of_token(&h, &bad).is_err(), "not an identifier");
    }

    #[test]
    fn tenants_are_plain_identifiers() {
        assert!(is_tenant("1.2.246.10.2345678.10.0"));
        assert!(!is_tenant(""));
        assert!(!is_tenant("a b"));
        assert!(!is_tenant(&"x".repeat(65)));
    }
}
