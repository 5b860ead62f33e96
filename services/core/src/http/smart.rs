//! How a client learns to get a token: `GET /.well-known/smart-configuration` (SMART
//! App Launch v2) and the `security` element of the CapabilityStatement, both from the
//! issuer's discovery document. Without authentication there is nothing to publish:
//! the configuration is 404 and the CapabilityStatement has no `security`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::auth::scopes::PERMISSIONS;
use crate::base::error::ApiError;
use crate::base::state::AppState;

/// `GET /.well-known/smart-configuration`.
pub async fn configuration(State(state): State<AppState>) -> Response {
    let Some(verifier) = &state.auth else {
        return ApiError::NotFound("authentication is off on this server (--auth none)".into())
            .into_response();
    };
    let discovery = match verifier.discovery().await {
        Ok(d) => d,
        Err(e) => {
            return ApiError::Unavailable(format!("the issuer's discovery document: {e}"))
                .into_response();
        }
    };
    let mut scopes: Vec<String> = vec!["system/*.cruds".into(), "user/*.cruds".into()];
    scopes.extend(
        PERMISSIONS
            .iter()
            .map(|(_, resource, word, _)| format!("system/{resource}.{word}")),
    );
    let mut body = json!({
        "issuer": discovery.issuer,
        "jwks_uri": discovery.jwks_uri,
        "grant_types_supported": ["client_credentials", "authorization_code"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": scopes,
        "capabilities": ["permission-v2", "permission-v1", "client-confidential-asymmetric", "client-confidential-symmetric"]
    });
    if let Some(token) = &discovery.token_endpoint {
        body["token_endpoint"] = json!(token);
    }
    if let Some(authorize) = &discovery.authorization_endpoint {
        body["authorization_endpoint"] = json!(authorize);
    }
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// The CapabilityStatement's `rest.security`, or `None` without authentication.
pub async fn capability_security(state: &AppState) -> Option<Value> {
    let verifier = state.auth.as_ref()?;
    let mut security = json!({
        "service": [{
            "coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                "code": "SMART-on-FHIR"
            }]
        }],
        "description": "OAuth 2.0 bearer tokens (JWT) of the configured OpenID Connect issuer, with SMART v2 scopes; the organisation comes from the token (docs/security.md)."
    });
    // The endpoints when the issuer answers; the service is declared either way.
    if let Ok(discovery) = verifier.discovery().await {
        let mut uris = Vec::new();
        if let Some(token) = &discovery.token_endpoint {
            uris.push(json!({ "url": "token", "valueUri": token }));
        }
        if let Some(authorize) = &discovery.authorization_endpoint {
            uris.push(json!({ "url": "authorize", "valueUri": authorize }));
        }
        security["extension"] = json!([{
            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
            "extension": uris
        }]);
    }
    Some(security)
}
