//! One conversation with the issuer: find the token endpoint (OpenID Connect
//! discovery) and ask it for an access token with the client-credentials grant
//! (RFC 6749 §4.4), the client authenticated by a secret or a signed assertion.
//!
//! What an error says comes from the endpoint's `error` and `error_description`
//! (RFC 6749 §5.2) or the status, never from what was sent.

use std::time::Duration;

use base64::Engine as _;
use serde::Deserialize;

use crate::auth::assertion::{KeyError, SigningKey};
use crate::auth::config::{Secret, SecretMethod};

/// What the client proves itself with, ready to use.
pub enum Proof {
    Secret {
        secret: Secret,
        method: SecretMethod,
    },
    Key(SigningKey),
}

/// Why no token was had.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("cannot reach the token endpoint {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the token endpoint {url} refused the client: {reason}")]
    Refused { url: String, reason: String },
    #[error("the token endpoint {url} answered something that is not a bearer token: {reason}")]
    Unreadable { url: String, reason: String },
    #[error("the issuer's discovery document {url} names no usable token endpoint: {reason}")]
    Discovery { url: String, reason: String },
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The last attempt failed a moment ago; not asked again yet.
    #[error("no token: {0} (asked less than a second ago)")]
    Recent(String),
}

/// An access token and how long the endpoint said it lives.
#[derive(Debug, Clone)]
pub struct Grant {
    pub access_token: String,
    pub lifetime: Duration,
}

/// Without `expires_in` a token is taken to live this long (it is renewed at 80 %).
const ASSUMED_LIFETIME: Duration = Duration::from_secs(300);

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    token_type: String,
    expires_in: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct ErrorResponse {
    error: String,
    error_description: Option<String>,
}

/// The token endpoint of `issuer`, from its discovery document. Its `issuer` must
/// be the one asked for (OpenID Connect Discovery §4.3).
pub async fn discover(http: &reqwest::Client, issuer: &str) -> Result<String, TokenError> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let error = |reason: String| TokenError::Discovery {
        url: url.clone(),
        reason,
    };
    let response = http
        .get(&url)
        .send()
        .await
        .map_err(|e| error(e.to_string()))?;
    if !response.status().is_success() {
        return Err(error(format!("it answered {}", response.status())));
    }
    let document: serde_json::Value = response.json().await.map_err(|e| error(e.to_string()))?;
    if document["issuer"].as_str().map(|i| i.trim_end_matches('/'))
        != Some(issuer.trim_end_matches('/'))
    {
        return Err(error(format!(
            "its issuer is {}, not {issuer}",
            document["issuer"]
        )));
    }
    match document["token_endpoint"].as_str() {
        Some(endpoint) if !endpoint.is_empty() => Ok(endpoint.to_owned()),
        _ => Err(error("it has no token_endpoint".into())),
    }
}

/// Asks `endpoint` for a token for `client_id`.
pub async fn request(
    http: &reqwest::Client,
    endpoint: &str,
    client_id: &str,
    proof: &Proof,
    scope: Option<&str>,
) -> Result<Grant, TokenError> {
    let mut form: Vec<(&str, String)> = vec![("grant_type", "client_credentials".into())];
    if let Some(scope) = scope {
        form.push(("scope", scope.to_owned()));
    }
    let mut request = http.post(endpoint).header("accept", "application/json");
    match proof {
        Proof::Secret {
            secret,
            method: SecretMethod::Basic,
        } => {
            // RFC 6749 §2.3.1: both parts form-urlencoded before Basic's base64.
            let pair = format!(
                "{}:{}",
                form_encode(client_id),
                form_encode(secret.expose())
            );
            let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
            request = request.header("authorization", format!("Basic {encoded}"));
        }
        Proof::Secret {
            secret,
            method: SecretMethod::Post,
        } => {
            form.push(("client_id", client_id.to_owned()));
            form.push(("client_secret", secret.expose().to_owned()));
        }
        Proof::Key(key) => {
            let now = jiff::Timestamp::now().as_second();
            form.push(("client_id", client_id.to_owned()));
            form.push((
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
            ));
            form.push(("client_assertion", key.assertion(client_id, endpoint, now)?));
        }
    }
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form.iter().map(|(k, v)| (*k, v.as_str())))
        .finish();
    let response = request
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .map_err(|e| TokenError::Unreachable {
            url: endpoint.to_owned(),
            reason: without_url(&e),
        })?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() {
        let reason = match serde_json::from_str::<ErrorResponse>(&text) {
            Ok(e) => match e.error_description {
                Some(d) => format!("{status} {}: {d}", e.error),
                None => format!("{status} {}", e.error),
            },
            Err(_) => status.to_string(),
        };
        return Err(if status.is_server_error() || status.as_u16() == 429 {
            TokenError::Unreachable {
                url: endpoint.to_owned(),
                reason,
            }
        } else {
            TokenError::Refused {
                url: endpoint.to_owned(),
                reason,
            }
        });
    }
    let unreadable = |reason: String| TokenError::Unreadable {
        url: endpoint.to_owned(),
        reason,
    };
    let token: TokenResponse =
        serde_json::from_str(&text).map_err(|e| unreadable(e.to_string()))?;
    if !token.token_type.eq_ignore_ascii_case("bearer") {
        return Err(unreadable(format!("token_type {:?}", token.token_type)));
    }
    if token.access_token.is_empty() {
        return Err(unreadable("an empty access_token".into()));
    }
    // Some servers send expires_in as a string; a non-positive one is not trusted.
    let seconds = match &token.expires_in {
        Some(serde_json::Value::Number(n)) => n.as_f64(),
        Some(serde_json::Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    let lifetime = seconds
        .filter(|s| s.is_finite() && *s > 0.0)
        .map_or(ASSUMED_LIFETIME, |s| {
            Duration::from_secs_f64(s.min(86_400.0))
        });
    Ok(Grant {
        access_token: token.access_token,
        lifetime,
    })
}

fn form_encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// A transport error's text without the URL reqwest adds (the caller names it).
fn without_url(error: &reqwest::Error) -> String {
    let mut reason = error.to_string();
    if let Some(url) = error.url() {
        reason = reason.replace(&format!(" ({url})"), "");
    }
    reason
}
