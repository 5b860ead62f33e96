//! Authentication at the door, and what a request may do once in.
//!
//! With an issuer configured, [`authenticate`] checks every request's bearer token
//! before anything else runs (401 without a valid one) and leaves the verified
//! [`Principal`] in the request; handlers ask its grants through [`Access`] before each
//! interaction (403 when a scope is missing). A few routes stay open: the health
//! endpoints (probes carry no tokens), the CapabilityStatement and the SMART
//! configuration (a client reads them to learn how to get a token), and the displays'
//! static pages (they hold no data; the data they fetch is checked).
//!
//! Without an issuer (`--auth none`) nothing is checked: [`Access::Open`].

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ohjaamo_fhir::ResourceType;

use crate::auth::scopes::{Interaction, Permission};
use crate::auth::verify::{Principal, Rejected, UnitScope};
use crate::base::error::ApiError;
use crate::base::state::AppState;

/// Routes answered without a token.
pub fn open(path: &str) -> bool {
    matches!(
        path,
        "/livez"
            | "/readyz"
            | "/fhir/metadata"
            | "/.well-known/smart-configuration"
            | "/"
            | "/displays"
    ) || path.starts_with("/displays/")
}

/// The middleware: lets a request with a valid bearer token (or an open route) in.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(verifier) = &state.auth else {
        return next.run(request).await;
    };
    if open(request.uri().path()) {
        return next.run(request).await;
    }
    let Some(token) = bearer_token(&request) else {
        return ApiError::Unauthorized {
            invalid_token: false,
        }
        .into_response();
    };
    match verifier.verify(token).await {
        Ok(principal) => {
            crate::audit::note::caller(&principal);
            request.extensions_mut().insert(Arc::new(principal));
            next.run(request).await
        }
        Err(Rejected::Invalid(why)) => {
            metrics::counter!("ohjaamo_auth_rejected_tokens_total").increment(1);
            tracing::info!(reason = %why, path = request.uri().path(), "bearer token refused");
            ApiError::Unauthorized {
                invalid_token: true,
            }
            .into_response()
        }
        Err(Rejected::Unavailable(why)) => ApiError::Unavailable(format!(
            "the issuer's signing keys cannot be fetched: {why}"
        ))
        .into_response(),
    }
}

/// The token of `Authorization: Bearer <token>` (the scheme in any case, RFC 6750).
fn bearer_token(request: &Request) -> Option<&str> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// What a request may do: everything (no authentication configured), or what its
/// token grants.
#[derive(Debug, Clone)]
pub enum Access {
    Open,
    Token(Arc<Principal>),
}

impl Access {
    /// Whether `interaction` on `rtype` is allowed.
    pub fn allows(&self, rtype: ResourceType, interaction: Interaction) -> bool {
        match self {
            Access::Open => true,
            Access::Token(p) => p.grants.allows(rtype, interaction),
        }
    }

    /// 403 unless `interaction` on `rtype` is allowed.
    pub fn require(&self, rtype: ResourceType, interaction: Interaction) -> Result<(), ApiError> {
        if self.allows(rtype, interaction) {
            return Ok(());
        }
        Err(ApiError::Forbidden(format!(
            "the token's scopes do not allow this: it needs {} (or a wider scope such as \
             system/*.{})",
            interaction_scope(rtype, interaction),
            interaction.letter()
        )))
    }

    /// 403 unless the server's own `permission` is granted.
    pub fn require_permission(&self, permission: Permission) -> Result<(), ApiError> {
        match self {
            Access::Open => Ok(()),
            Access::Token(p) if p.grants.has(permission) => Ok(()),
            Access::Token(_) => Err(ApiError::Forbidden(format!(
                "the token's scopes do not allow this: it needs {}",
                permission.scope()
            ))),
        }
    }

    /// Whether the request may see `content` (a stored resource's JSON): anything
    /// when no authentication is configured or the token carries
    /// `ohjaamo.restricted.read`; otherwise not a resource labelled restricted. Without
    /// the permission a restricted resource is simply not there — a 404 on read, left
    /// out of searches — so that even its existence is not told.
    pub fn sees(&self, content: &str) -> bool {
        match self {
            Access::Open => true,
            Access::Token(p) if p.grants.has(Permission::RestrictedRead) => true,
            Access::Token(_) => !ohjaamo_store::labels::is_restricted_text(content),
        }
    }

    /// 403 unless the token may read the picture of `unit`: a token confined to some
    /// units (a wall screen's) must name one of them; others may ask for any or none.
    pub fn require_unit(&self, unit: Option<&str>) -> Result<(), ApiError> {
        let Access::Token(principal) = self else {
            return Ok(());
        };
        match (&principal.units, unit) {
            (UnitScope::Any, _) => Ok(()),
            (UnitScope::Only(units), Some(unit)) if units.iter().any(|u| u == unit) => Ok(()),
            (UnitScope::Only(units), _) => Err(ApiError::Forbidden(format!(
                "this token reads the picture of {} only; name it with ?unit=",
                if units.is_empty() {
                    "no unit".to_owned()
                } else {
                    units.join(", ")
                }
            ))),
        }
    }

    /// Who the request speaks for, if a token said.
    pub fn principal(&self) -> Option<&Principal> {
        match self {
            Access::Open => None,
            Access::Token(p) => Some(p),
        }
    }
}

fn interaction_scope(rtype: ResourceType, interaction: Interaction) -> String {
    format!("system/{rtype}.{}", interaction.letter())
}

impl FromRequestParts<AppState> for Access {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if state.auth.is_none() {
            return Ok(Access::Open);
        }
        // Authentication on and no principal: a route the middleware let through as
        // open asked for access after all. Fail closed.
        parts
            .extensions
            .get::<Arc<Principal>>()
            .cloned()
            .map(Access::Token)
            .ok_or(ApiError::Unauthorized {
                invalid_token: false,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_from_the_authorization_header() {
        let request = |value: &str| {
            axum::http::Request::builder()
                .header(header::AUTHORIZATION, value)
                .body(axum::body::Body::empty())
                .unwrap()
        };
        assert_eq!(bearer_token(&request("Bearer abc")), Some("abc"));
        assert_eq!(bearer_token(&request("bearer  abc ")), Some("abc"));
        assert_eq!(bearer_token(&request("Basic abc")), None);
        assert_eq!(bearer_token(&request("Bearer ")), None);
        assert_eq!(bearer_token(&request("Bearer")), None);
    }

    #[test]
    fn only_health_metadata_and_static_pages_are_open() {
        for path in [
            "/livez",
            "/readyz",
            "/fhir/metadata",
            "/displays/beds",
            "/.well-known/smart-configuration",
        ] {
            assert!(open(path), "{path}");
        }
        for path in [
            "/metrics",
            "/picture",
            "/stream",
            "/sources",
            "/fhir/Slot",
            "/fhir",
            "/fhir/metadata/x",
            "/displaysx",
        ] {
            assert!(!open(path), "{path}");
        }
    }
}
