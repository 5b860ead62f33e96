//! `private_key_jwt` as SMART Backend Services specify it, checked by a token
//! endpoint that verifies assertions (the test issuer does not: it is stood up here,
//! with jsonwebtoken, as a hospital's IdP would check them): the RS384 and ES384
//! assertions verify with the client's public key, name the client and the endpoint,
//! expire within five minutes and never repeat a `jti`; the token the endpoint hands
//! out then writes to a real core. A client signing with a key the endpoint does not
//! know gets no token, and so sends nothing.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _, RsaKeyPair,
};
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::Json;
use common::*;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use ohjaamo_adapter_kit::auth::token::TokenError;
use ohjaamo_adapter_kit::auth::{
    AssertionAlgorithm, ClientConfig, Credentials, Secret, SendError, TokenEndpoint,
};
use ohjaamo_adapter_kit::testing::TENANT;
use ohjaamo_adapter_kit::testing::issuer::TestIssuer;
use ohjaamo_adapter_kit::{Backoff, CoreAuth, EntryOutcome, PushClient, SourceIds};
use serde_json::{Value, json};
use tokio::sync::watch;

/// A client the endpoint knows: the public key it registered and its `kid`.
struct Registered {
    key: Vec<u8>,
    algorithm: Algorithm,
    kid: String,
}

/// The endpoint's state: who it knows, and what it saw.
struct Endpoint {
    url: String,
    issuer: Arc<TestIssuer>,
    clients: HashMap<String, Registered>,
    seen_jti: Mutex<HashSet<String>>,
    accepted: Mutex<Vec<Value>>,
    refused: Mutex<Vec<String>>,
}

impl Endpoint {
    /// The assertion's claims when it is one this endpoint accepts.
    fn check(&self, form: &HashMap<String, String>) -> Result<Value, String> {
        let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
        if field("grant_type") != "client_credentials" {
            return Err(format!("grant_type {:?}", field("grant_type")));
        }
        if field("client_assertion_type")
            != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        {
            return Err("not a JWT-bearer assertion".into());
        }
        if form.contains_key("client_secret") {
            return Err("a secret beside the assertion".into());
        }
        let client_id = field("client_id");
        let client = self.clients.get(client_id).ok_or("unknown client")?;
        let assertion = field("client_assertion");
        let header = jsonwebtoken::decode_header(assertion).map_err(|e| e.to_string())?;
        if header.alg != client.algorithm || header.kid.as_deref() != Some(&client.kid) {
            return Err(format!("header {:?}", header));
        }
        let key = match client.algorithm {
            Algorithm::RS384 => DecodingKey::from_rsa_der(&client.key),
            _ => DecodingKey::from_ec_der(&client.key),
        };
        let mut validation = Validation::new(client.algorithm);
        validation.leeway = 0;
        validation.set_audience(&[&self.url]);
        validation.set_issuer(&[client_id]);
        validation.sub = Some(client_id.to_owned());
        validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
        let claims = jsonwebtoken::decode::<Value>(assertion, &key, &validation)
            .map_err(|e| format!("the assertion does not verify: {e}"))?
            .claims;
        let now = jiff::Timestamp::now().as_second();
        let exp = claims["exp"].as_i64().unwrap_or(0);
        if exp - now > 300 {
            return Err(format!(
                "exp {exp} is more than five minutes ahead of {now}"
            ));
        }
        let jti = claims["jti"].as_str().ok_or("no jti")?.to_owned();
        if !self.seen_jti.lock().unwrap().insert(jti.clone()) {
            return Err(format!("jti {jti} used again"));
        }
        Ok(claims)
    }
}

async fn token(
    State(endpoint): State<Arc<Endpoint>>,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    match endpoint.check(&form) {
        Ok(claims) => {
            endpoint.accepted.lock().unwrap().push(claims);
            let mut grant = adapter_claims();
            grant["client_id"] = json!(form["client_id"]);
            let issuer = endpoint.issuer.clone();
            let access_token =
                tokio::task::spawn_blocking(move || issuer.sign(grant, Duration::from_secs(60)))
                    .await
                    .unwrap();
            (
                StatusCode::OK,
                Json(
                    json!({ "access_token": access_token, "token_type": "Bearer", "expires_in": 1 }),
                ),
            )
        }
        Err(reason) => {
            endpoint.refused.lock().unwrap().push(reason);
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({ "error": "invalid_client" })),
            )
        }
    }
}

fn pem(der: &[u8]) -> Secret {
    Secret::new(ohjaamo_adapter_kit::testing::private_key_pem(der))
}

/// An ES384 key: its PKCS#8 PEM and its public key.
fn es384() -> (Secret, Vec<u8>) {
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, &SystemRandom::new())
            .unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
    (pem(pkcs8.as_ref()), pair.public_key().as_ref().to_vec())
}

/// An RS384 key: its PKCS#8 PEM and its public key (PKCS#1).
fn rs384() -> (Secret, Vec<u8>) {
    let pair = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let pkcs8 = pair.as_der().unwrap();
    (pem(pkcs8.as_ref()), pair.public_key().as_ref().to_vec())
}

fn client(url: &str, id: &str, key: Secret, kid: &str) -> CoreAuth {
    CoreAuth::client(ClientConfig {
        endpoint: TokenEndpoint::Url(url.to_owned()),
        client_id: id.into(),
        credentials: Credentials::PrivateKeyJwt {
            key_pem: key,
            key_id: Some(kid.into()),
            algorithm: None,
        },
        scope: Some("system/*.cus".into()),
    })
    .unwrap()
}

/// Writes ward `key` through the push client with `auth`.
async fn push(core_base: &str, auth: CoreAuth, key: &str) -> Vec<EntryOutcome> {
    let ids = SourceIds::new(ROOT);
    let (record, _) = (
        ohjaamo_adapter_kit::source::Record {
            key: key.into(),
            body: json!({ "nimi": key }),
        },
        (),
    );
    let source = Paced {
        ids: ids.clone(),
        pages: 1,
        pace: Duration::ZERO,
    };
    let ohjaamo_adapter_kit::Mapped::Upserts(upserts) =
        ohjaamo_adapter_kit::PullSource::map(&source, "paikat", &record)
    else {
        panic!("a ward maps");
    };
    let push = PushClient::new(
        core_base,
        TENANT,
        "jwt",
        Duration::from_secs(5),
        Backoff::default(),
    )
    .unwrap()
    .with_auth(auth);
    let (_stop, mut shutdown) = watch::channel(false);
    push.push(&upserts, &mut shutdown).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assertions_verify_at_a_checking_endpoint_and_its_tokens_write_to_the_core() {
    let Some(issuer) = TestIssuer::launch() else {
        return;
    };
    let issuer = Arc::new(issuer);
    let core = core_for(&issuer).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    let (es_key, es_public) = es384();
    let (rs_key, rs_public) = rs384();
    let (stranger_key, _) = es384();
    let endpoint = Arc::new(Endpoint {
        url: url.clone(),
        issuer: issuer.clone(),
        clients: HashMap::from([
            (
                "adt-es".to_owned(),
                Registered {
                    key: es_public,
                    algorithm: Algorithm::ES384,
                    kid: "es-1".into(),
                },
            ),
            (
                "adt-rs".to_owned(),
                Registered {
                    key: rs_public,
                    algorithm: Algorithm::RS384,
                    kid: "rs-1".into(),
                },
            ),
        ]),
        seen_jti: Mutex::default(),
        accepted: Mutex::default(),
        refused: Mutex::default(),
    });
    let app = axum::Router::new()
        .route("/token", axum::routing::post(token))
        .with_state(endpoint.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let es = client(&url, "adt-es", es_key, "es-1");
    let rs = client(&url, "adt-rs", rs_key, "rs-1");
    assert_eq!(
        push(&core.base, es.clone(), "B1").await,
        [EntryOutcome::Stored]
    );
    assert_eq!(
        push(&core.base, rs.clone(), "B2").await,
        [EntryOutcome::Stored]
    );
    // The endpoint's tokens live a second: the next push renews with a new assertion.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        push(&core.base, es.clone(), "B3").await,
        [EntryOutcome::Stored]
    );
    assert_eq!(units(&core, &issuer).await, 3);
    assert_eq!(
        endpoint.refused.lock().unwrap().as_slice(),
        &[] as &[String]
    );
    let accepted = endpoint.accepted.lock().unwrap().clone();
    assert_eq!(accepted.len(), 3, "{accepted:?}");
    assert_eq!((es.counts().0, rs.counts().0), (2, 1));

    // A key the endpoint does not know gets no token, and nothing reaches the core.
    let stranger = client(&url, "adt-es", stranger_key, "es-1");
    let sent = stranger
        .send(|| reqwest::Client::new().get(format!("{}/metadata", core.base)))
        .await;
    assert!(
        matches!(sent, Err(SendError::Token(TokenError::Refused { .. }))),
        "{sent:?}"
    );
    let refused = endpoint.refused.lock().unwrap().clone();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(refused[0].contains("does not verify"), "{refused:?}");
}

#[test]
fn the_algorithm_follows_the_key_unless_set() {
    let (es_key, _) = es384();
    let config = |key: Secret, algorithm| ClientConfig {
        endpoint: TokenEndpoint::Url("http://127.0.0.1:1/token".into()),
        client_id: "adt".into(),
        credentials: Credentials::PrivateKeyJwt {
            key_pem: key,
            key_id: None,
            algorithm,
        },
        scope: None,
    };
    assert!(CoreAuth::client(config(es_key.clone(), None)).is_ok());
    let error = CoreAuth::client(config(es_key, Some(AssertionAlgorithm::Rs384)))
        .expect_err("an EC key cannot sign RS384")
        .to_string();
    assert!(error.contains("RS384"), "{error}");
}
