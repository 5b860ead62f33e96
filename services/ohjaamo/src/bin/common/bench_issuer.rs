//! An issuer for benchmarking the core with authentication on: the demo's signing key
//! (`demo/issuer/keys.rs`, a P-256 key made at start), its discovery document and key
//! set served on the loopback, and one long-lived token for the load generator. The
//! core checks the token on its production path (`--auth-issuer`), so the measured cost
//! is the real one: signature, claims, scopes and organisation per request.

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use serde_json::json;

#[path = "../../demo/issuer/keys.rs"]
#[allow(dead_code)] // the benchmark signs only; `random_token` serves the demo
mod keys;

/// The audience the core is told to expect.
pub const AUDIENCE: &str = "ohjaamo-bench";

/// A running issuer: its URL and the token a benchmark client sends.
pub struct BenchIssuer {
    pub url: String,
    pub token: String,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for BenchIssuer {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Starts the issuer on a free loopback port; the token acts for `organization` with
/// every resource scope (what an adapter and a coordinator do together).
pub async fn start(organization: &str) -> anyhow::Result<BenchIssuer> {
    let key = Arc::new(keys::SigningKey::generate()?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let now = jiff::Timestamp::now().as_second();
    let token = key.sign(&json!({
        "iss": url,
        "aud": AUDIENCE,
        "sub": "bench",
        "client_id": "bench",
        "name": "Benchmark client",
        "organization": organization,
        "scope": "system/*.cruds",
        "iat": now,
        "exp": now + 24 * 3600,
    }))?;
    let discovery = json!({
        "issuer": url,
        "jwks_uri": format!("{url}/jwks"),
        "token_endpoint": format!("{url}/token"),
        "authorization_endpoint": format!("{url}/authorize"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
    });
    let jwks = key.jwks().clone();
    let router = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || std::future::ready(axum::Json(discovery.clone()))),
        )
        .route(
            "/jwks",
            get(move || std::future::ready(axum::Json(jwks.clone()))),
        );
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(BenchIssuer { url, token, server })
}
