//! **Interim, demo-only**: a loopback forwarder in front of the core for each of the
//! demo's adapters, which adds that adapter's client-credentials token to every
//! request. The adapters do not get OAuth tokens themselves yet (issue 18, point 8, is
//! being built in adapters/kit); until they do, this keeps the demo's core on
//! authentication with the adapters feeding it, each as its own client (`adt`, `pull`:
//! a report to `/sources/{name}` is accepted only under the source's own client id).
//! It goes away once the kit's client is wired into the demo.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::demo::service_token::ServiceToken;

/// The largest request an adapter sends (a Bundle of a page of the export).
const MAX_BODY: usize = 64 * 1024 * 1024;

struct Gate {
    core_root: String,
    http: reqwest::Client,
    token: ServiceToken,
}

/// Forwards what arrives on `listener` to `core_root` with `token`'s bearer token.
pub async fn serve(
    listener: tokio::net::TcpListener,
    core_root: String,
    token: ServiceToken,
) -> anyhow::Result<()> {
    let gate = Arc::new(Gate {
        core_root,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?,
        token,
    });
    let app = axum::Router::new().fallback(forward).with_state(gate);
    axum::serve(listener, app)
        .with_graceful_shutdown(ohjaamo_core::http::server::shutdown_signal())
        .await?;
    Ok(())
}

/// Headers that belong to one hop, or that the gate sets itself.
fn passes(name: &HeaderName) -> bool {
    ![
        header::HOST,
        header::AUTHORIZATION,
        header::CONNECTION,
        header::TRANSFER_ENCODING,
        header::CONTENT_LENGTH,
    ]
    .contains(name)
}

async fn forward(State(gate): State<Arc<Gate>>, request: Request) -> Response {
    match relay(&gate, request).await {
        Ok(response) => response,
        Err(e) => (StatusCode::BAD_GATEWAY, format!("demo adapter gate: {e:#}")).into_response(),
    }
}

async fn relay(gate: &Gate, request: Request) -> anyhow::Result<Response> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, MAX_BODY).await?;
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let url = format!("{}{path}", gate.core_root);
    // Once more with a new token if the core refuses the cached one (the demo's
    // issuer restarted with a new key, or the clock jumped).
    let mut retried = false;
    loop {
        let token = gate.token.get().await?;
        let mut out = gate
            .http
            .request(parts.method.clone(), &url)
            .bearer_auth(&token)
            .body(body.clone());
        for (name, value) in parts.headers.iter().filter(|(n, _)| passes(n)) {
            out = out.header(name, value);
        }
        let answer = out.send().await?;
        if answer.status() == StatusCode::UNAUTHORIZED && !retried {
            retried = true;
            gate.token.forget().await;
            continue;
        }
        let mut response = Response::builder().status(answer.status());
        for (name, value) in answer.headers().iter().filter(|(n, _)| passes(n)) {
            response = response.header(name, value);
        }
        return Ok(response.body(Body::from(answer.bytes().await?))?);
    }
}
