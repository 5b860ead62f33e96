//! Where the displays sign in: `GET /displays/signin` tells the bed board the issuer,
//! its endpoints (from the issuer's discovery document), the board's client id and the
//! scopes to ask for; the page then runs the authorization code flow with PKCE itself.
//! Served only with authentication on; with `--auth none` it answers 204 No Content
//! (nothing to sign in to: the pages work without a token; not 404, which a browser
//! logs as an error on every page load). Open, like the pages: it holds nothing secret.
//!
//! The pages' Content-Security-Policy allows them to talk to this server only; with an
//! issuer, [`allow_issuer`] adds the issuer's origin to `connect-src`, for the token
//! endpoint (Keycloak's and Entra ID's are on the issuer's origin).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::base::error::ApiError;
use crate::base::state::AppState;

/// `GET /displays/signin`.
pub async fn configuration(State(state): State<AppState>) -> Response {
    let Some(verifier) = &state.auth else {
        return StatusCode::NO_CONTENT.into_response();
    };
    let discovery = match verifier.discovery().await {
        Ok(d) => d,
        Err(e) => {
            return ApiError::Unavailable(format!("the issuer's discovery document: {e}"))
                .into_response();
        }
    };
    let settings = verifier.settings();
    (
        [(header::CACHE_CONTROL, "no-cache")],
        axum::Json(json!({
            "issuer": discovery.issuer,
            "clientId": settings.displays_client_id,
            "scope": settings.displays_scopes,
            "authorizationEndpoint": discovery.authorization_endpoint,
            "tokenEndpoint": discovery.token_endpoint,
            "endSessionEndpoint": discovery.end_session_endpoint,
        })),
    )
        .into_response()
}

/// The displays' routes (`pages`) with the issuer's origin allowed in their
/// `connect-src`, when there is an issuer.
pub fn allow_issuer(pages: Router, state: &AppState) -> Router {
    let Some(origin) = state
        .auth
        .as_ref()
        .and_then(|v| origin_of(&v.settings().issuer))
    else {
        return pages;
    };
    pages.layer(axum::middleware::map_response(
        move |mut response: Response| {
            let origin = origin.clone();
            async move {
                let widened = response
                    .headers()
                    .get(header::CONTENT_SECURITY_POLICY)
                    .and_then(|v| v.to_str().ok())
                    .map(|csp| with_connect_source(csp, &origin))
                    .and_then(|csp| HeaderValue::from_str(&csp).ok());
                if let Some(csp) = widened {
                    response
                        .headers_mut()
                        .insert(header::CONTENT_SECURITY_POLICY, csp);
                }
                response
            }
        },
    ))
}

/// `scheme://host[:port]` of `url`, if it has one.
fn origin_of(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    let origin = url.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// `csp` with `origin` added to its `connect-src` directive.
fn with_connect_source(csp: &str, origin: &str) -> String {
    csp.split(';')
        .map(|directive| {
            let d = directive.trim();
            if d.starts_with("connect-src ") {
                format!("{d} {origin}")
            } else {
                d.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issuers_origin_joins_connect_src_only() {
        let csp = "default-src 'self'; connect-src 'self'; form-action 'self'";
        assert_eq!(
            with_connect_source(csp, "https://idp.example"),
            "default-src 'self'; connect-src 'self' https://idp.example; form-action 'self'"
        );
        assert_eq!(
            origin_of("https://idp.example:8443/realms/h").as_deref(),
            Some("https://idp.example:8443")
        );
        assert_eq!(origin_of("not a url"), None);
    }
}
