//! The demo's development OpenID Connect issuer: `ohjaamo demo` runs the core with
//! authentication on, and this is who signs its tokens — so that the demo shows the
//! bed board's sign-in and the core checks tokens on exactly the production path
//! (`--auth-issuer` pointed here, on the loopback), with nothing else installed.
//!
//! **For the demo only**: people sign in by choosing a name from a list, without a
//! password; the key is made at start and kept in memory. `ohjaamo serve` cannot start
//! it (it lives under `demo`), and the demo's banner says it runs.
//!
//! What it serves, at its own address (`--issuer-listen`, 127.0.0.1:8091):
//! discovery, the key set, the authorization endpoint (code + PKCE S256 only, [`authorize`]),
//! the token endpoint (authorization_code, refresh_token, client_credentials,
//! [`token`]) and the end-session endpoint.

mod authorize;
pub mod clients;
mod grants;
mod keys;
mod state;
mod token;

pub use state::DevIssuer;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, Method, header};
use axum::routing::get;
use serde_json::json;
use tower_http::cors::CorsLayer;

/// The issuer's HTTP API.
fn router(issuer: Arc<DevIssuer>) -> Router {
    // A page of the core calls the token endpoint from its own origin: that
    // origin, and no other, may read the answers.
    let cors = CorsLayer::new()
        .allow_origin(
            HeaderValue::from_str(&issuer.core_origin).unwrap_or(HeaderValue::from_static("null")),
        )
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION]);
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/authorize", get(authorize::page).post(authorize::sign_in))
        .route("/token", axum::routing::post(token::handler))
        .route("/logout", get(authorize::sign_out))
        .layer(cors)
        .with_state(issuer)
}

async fn discovery(State(issuer): State<Arc<DevIssuer>>) -> axum::Json<serde_json::Value> {
    let url = &issuer.url;
    axum::Json(json!({
        "issuer": url,
        "authorization_endpoint": format!("{url}/authorize"),
        "token_endpoint": format!("{url}/token"),
        "jwks_uri": format!("{url}/jwks"),
        "end_session_endpoint": format!("{url}/logout"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "scopes_supported": ["openid", "profile", "offline_access"],
        "claims_supported": ["sub", "name", "organization", "ohjaamo_units"],
    }))
}

async fn jwks(State(issuer): State<Arc<DevIssuer>>) -> axum::Json<serde_json::Value> {
    axum::Json(issuer.key.jwks().clone())
}

/// Serves the issuer on `listener` until the demo ends (SIGTERM or Ctrl-C, as the
/// core).
pub async fn serve(
    issuer: Arc<DevIssuer>,
    listener: tokio::net::TcpListener,
) -> anyhow::Result<()> {
    axum::serve(listener, router(issuer))
        .with_graceful_shutdown(ohjaamo_core::http::server::shutdown_signal())
        .await?;
    Ok(())
}
