//! The token endpoint: `authorization_code` (with the PKCE verifier), `refresh_token`
//! and `client_credentials`. Access tokens are ES256 JWTs of ten minutes with what the
//! core reads: `iss`, `aud`, `exp`, `sub`, `client_id`, `scope`, the organisation and,
//! for a wall screen, `ohjaamo_units`; a person's token also their `name`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::demo::issuer::clients::{AUDIENCE, Client, Kind, ORGANIZATION, person};
use crate::demo::issuer::grants::{Grant, InvalidGrant};
use crate::demo::issuer::state::{ACCESS_TOKEN_SECONDS, DevIssuer};

/// An OAuth error answer (RFC 6749 §5.2).
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl OAuthError {
    fn new(error: &'static str, description: impl Into<String>) -> OAuthError {
        let status = match error {
            "invalid_client" => StatusCode::UNAUTHORIZED,
            "temporarily_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        };
        OAuthError {
            status,
            error,
            description: description.into(),
        }
    }
}

impl From<InvalidGrant> for OAuthError {
    fn from(e: InvalidGrant) -> OAuthError {
        OAuthError::new("invalid_grant", e.0)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        (
            self.status,
            [(header::CACHE_CONTROL, "no-store")],
            axum::Json(json!({ "error": self.error, "error_description": self.description })),
        )
            .into_response()
    }
}

pub async fn handler(
    State(issuer): State<Arc<DevIssuer>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    match answer(&issuer, &headers, &form) {
        Ok(body) => (
            StatusCode::OK,
            [(header::CACHE_CONTROL, "no-store")],
            axum::Json(body),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

fn answer(
    issuer: &DevIssuer,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<Value, OAuthError> {
    let field = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let client = authenticate(issuer, headers, form)?;
    let now = Instant::now();
    match field("grant_type") {
        Some("authorization_code") => {
            let grant = issuer.grants.redeem_code(
                field("code").unwrap_or_default(),
                &client.id,
                field("redirect_uri").unwrap_or_default(),
                field("code_verifier"),
                now,
            )?;
            person_tokens(issuer, grant, now)
        }
        Some("refresh_token") => {
            let grant = issuer.grants.redeem_refresh(
                field("refresh_token").unwrap_or_default(),
                &client.id,
                now,
            )?;
            person_tokens(issuer, grant, now)
        }
        Some("client_credentials") => client_token(issuer, client, field("scope")),
        Some(other) => Err(OAuthError::new(
            "unsupported_grant_type",
            format!("grant_type {other} is not supported"),
        )),
        None => Err(OAuthError::new("invalid_request", "grant_type is missing")),
    }
}

/// The client, by its secret (HTTP Basic or the form) or, for a public client, by its
/// id alone.
fn authenticate<'a>(
    issuer: &'a DevIssuer,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<&'a Client, OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|pair| {
            let (id, secret) = pair.split_once(':')?;
            // RFC 6749 §2.3.1: both are form-urlencoded inside Basic.
            let decode = |s: &str| {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
            };
            Some((decode(id)?, decode(secret)?))
        });
    let (id, secret) = match basic {
        Some((id, secret)) => (id, Some(secret)),
        None => (
            form.get("client_id").cloned().unwrap_or_default(),
            form.get("client_secret").cloned(),
        ),
    };
    let bad = || OAuthError::new("invalid_client", "unknown client or wrong secret");
    let client = issuer.client(&id).ok_or_else(bad)?;
    match (&client.kind, secret) {
        (Kind::Public { .. }, None) => Ok(client),
        (Kind::Confidential { secret: expected }, Some(given))
            if aws_lc_rs::constant_time::verify_slices_are_equal(
                expected.as_bytes(),
                given.as_bytes(),
            )
            .is_ok() =>
        {
            Ok(client)
        }
        _ => Err(bad()),
    }
}

fn seconds_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// A person's access token, ID token and next refresh token.
fn person_tokens(issuer: &DevIssuer, grant: Grant, now: Instant) -> Result<Value, OAuthError> {
    let who =
        person(&grant.sub).ok_or_else(|| OAuthError::new("invalid_grant", "unknown person"))?;
    let iat = seconds_now();
    let access = json!({
        "iss": issuer.url,
        "aud": AUDIENCE,
        "sub": who.sub,
        "name": who.name,
        "client_id": grant.client_id,
        "scope": grant.scope,
        "organization": [ORGANIZATION],
        "iat": iat,
        "exp": iat + ACCESS_TOKEN_SECONDS,
        "jti": crate::demo::issuer::keys::random_token(12),
    });
    let mut id_token = json!({
        "iss": issuer.url,
        "aud": grant.client_id,
        "sub": who.sub,
        "name": who.name,
        "iat": iat,
        "exp": iat + ACCESS_TOKEN_SECONDS,
    });
    if let Some(nonce) = &grant.nonce {
        id_token["nonce"] = json!(nonce);
    }
    let sign = |claims: &Value| {
        issuer
            .key
            .sign(claims)
            .map_err(|e| OAuthError::new("server_error", format!("cannot sign: {e}")))
    };
    Ok(json!({
        "access_token": sign(&access)?,
        "id_token": sign(&id_token)?,
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_SECONDS,
        "scope": grant.scope,
        "refresh_token": issuer.grants.new_refresh(grant, now),
    }))
}

/// A service's or screen's token: the scopes asked for, each of which it must be
/// allowed, or all of its scopes.
fn client_token(
    issuer: &DevIssuer,
    client: &Client,
    asked: Option<&str>,
) -> Result<Value, OAuthError> {
    if client.secret().is_none() {
        return Err(OAuthError::new(
            "unauthorized_client",
            "a public client cannot use client_credentials",
        ));
    }
    let scope = match asked {
        Some(asked) => {
            if let Some(no) = asked
                .split(' ')
                .find(|s| !s.is_empty() && !client.may_have(s))
            {
                return Err(OAuthError::new(
                    "invalid_scope",
                    format!("{no} is not this client's"),
                ));
            }
            asked.to_owned()
        }
        None => client.scope.clone(),
    };
    let iat = seconds_now();
    let mut access = json!({
        "iss": issuer.url,
        "aud": AUDIENCE,
        "sub": client.id,
        "client_id": client.id,
        "scope": scope,
        "organization": [ORGANIZATION],
        "iat": iat,
        "exp": iat + ACCESS_TOKEN_SECONDS,
        "jti": crate::demo::issuer::keys::random_token(12),
    });
    if let Some(units) = &client.units {
        let Some(units) = units.get() else {
            return Err(OAuthError::new(
                "temporarily_unavailable",
                "the demo's recovery unit is not known yet (the adapters are bringing it); try again in a few seconds",
            ));
        };
        access["ohjaamo_units"] = json!(units);
    }
    let token = issuer
        .key
        .sign(&access)
        .map_err(|e| OAuthError::new("server_error", format!("cannot sign: {e}")))?;
    Ok(json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_SECONDS,
        "scope": scope,
    }))
}
