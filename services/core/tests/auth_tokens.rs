//! Authentication against a real OIDC issuer (tests/oidc/issuer.mjs): which tokens
//! get in, what a refused one is told, which routes stay open, and signing keys
//! rotating without a restart.

mod common;
mod oidc;

use std::time::Duration;

use jsonwebtoken::{EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use oidc::{ORG_A, assert_unauthorized, call, forge, parts};

const READ: &str = "system/Location.rs";

async fn get_locations(h: &common::Harness, token: Option<&str>) -> common::Resp {
    call(h, Method::GET, "/fhir/Location", token, None, None).await
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn a_valid_token_gets_in_and_a_missing_one_is_401_with_a_bearer_challenge() {
    let Some((issuer, h)) = oidc::start().await else {
        return;
    };
    let token = issuer.token_for(ORG_A, READ);
    let r = get_locations(&h, Some(&token)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    assert_unauthorized(&get_locations(&h, None).await, false);
    let basic = h
        .send(
            h.request(Method::GET, "Location")
                .basic_auth("u", Some("p")),
        )
        .await;
    assert_unauthorized(&basic, false);
}

#[tokio::test]
async fn bad_tokens_are_401_invalid_token_and_say_nothing_of_why() {
    let Some((issuer, h)) = oidc::start().await else {
        return;
    };
    let claims = |extra: Value| {
        let mut c = json!({ "organization": ORG_A, "scope": READ });
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let good = issuer.token(claims(json!({})));
    let (header, payload, signature) = parts(&good);

    // The issuer's public key as an HMAC secret: the classic algorithm confusion.
    let jwks: Value = h
        .client
        .get(format!("{}/jwks", issuer.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let public = jwks["keys"][0].to_string();
    let mut hs = Header::new(jsonwebtoken::Algorithm::HS256);
    hs.kid = Some("k1".into());
    let hs256 = jsonwebtoken::encode(
        &hs,
        &payload,
        &EncodingKey::from_secret(public.as_bytes()).unwrap(),
    )
    .unwrap();
    let hs256_n = jsonwebtoken::encode(
        &hs,
        &payload,
        &EncodingKey::from_secret(jwks["keys"][0]["n"].as_str().unwrap().as_bytes()).unwrap(),
    )
    .unwrap();

    let mut tampered = payload.clone();
    tampered["scope"] = json!("system/*.cruds");
    let mut unknown_kid = header.clone();
    unknown_kid["kid"] = json!("no-such-key");

    let cases: Vec<(&str, String)> = vec![
        (
            "expired",
            issuer.token(claims(
                json!({ "exp": now() - 600, "iat": now() - 900, "nbf": now() - 900 }),
            )),
        ),
        (
            "not yet valid",
            issuer.token(claims(json!({ "nbf": now() + 600 }))),
        ),
        (
            "wrong iss",
            issuer.token(claims(json!({ "iss": "https://evil.example" }))),
        ),
        (
            "wrong aud",
            issuer.token(claims(json!({ "aud": "someone-else" }))),
        ),
        ("no aud", issuer.token(claims(json!({ "aud": null })))),
        ("no exp", issuer.token(claims(json!({ "exp": null })))),
        (
            "alg none",
            forge(
                &json!({ "alg": "none", "kid": "k1", "typ": "JWT" }),
                &payload,
                "",
            ),
        ),
        (
            "alg none, signature kept",
            forge(&json!({ "alg": "none", "kid": "k1" }), &payload, &signature),
        ),
        ("HS256 with the public JWK as secret", hs256),
        ("HS256 with the modulus as secret", hs256_n),
        ("tampered payload", forge(&header, &tampered, &signature)),
        ("unknown kid", forge(&unknown_kid, &payload, &signature)),
        (
            "ES256 claimed for an RSA key",
            forge(
                &json!({ "alg": "ES256", "kid": "k1" }),
                &payload,
                &signature,
            ),
        ),
        ("garbage", "not.a.jwt".into()),
        ("huge", "a".repeat(20_000)),
    ];
    let mut answers = Vec::new();
    for (name, token) in &cases {
        let r = get_locations(&h, Some(token)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{name}: {}", r.text);
        answers.push(assert_unauthorized(&r, true));
    }
    // One answer for every refusal: the client learns nothing of the check it failed.
    answers.dedup();
    assert_eq!(answers.len(), 1, "{answers:?}");
    for word in ["exp", "aud", "iss", "nbf", "kid", "signature", "alg"] {
        assert!(!answers[0].contains(word), "{word} in {:?}", answers[0]);
    }
    // The same token unharmed still works: the refusals were the changes.
    assert_eq!(get_locations(&h, Some(&good)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn leeway_lets_a_token_just_past_exp_in() {
    let Some((issuer, h)) = oidc::start().await else {
        return;
    };
    let token = issuer.token(json!({
        "organization": ORG_A, "scope": READ, "exp": now() - 5, "iat": now() - 100, "nbf": now() - 100
    }));
    let r = get_locations(&h, Some(&token)).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "5 s past exp, 30 s leeway: {}",
        r.text
    );
}

#[tokio::test]
async fn health_metadata_and_smart_configuration_stay_open() {
    let Some((issuer, h)) = oidc::start().await else {
        return;
    };
    for path in [
        "/livez",
        "/readyz",
        "/fhir/metadata",
        "/.well-known/smart-configuration",
        "/displays/beds",
    ] {
        let r = call(&h, Method::GET, path, None, None, None).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
    }
    let smart = call(
        &h,
        Method::GET,
        "/.well-known/smart-configuration",
        None,
        None,
        None,
    )
    .await;
    assert_eq!(smart.body["issuer"], issuer.url.as_str());
    assert!(
        smart.body["token_endpoint"]
            .as_str()
            .unwrap()
            .starts_with(&issuer.url)
    );
    assert!(
        smart.body["capabilities"]
            .as_array()
            .unwrap()
            .contains(&json!("permission-v2"))
    );

    let cs = call(&h, Method::GET, "/fhir/metadata", None, None, None).await;
    let security = &cs.body["rest"][0]["security"];
    assert_eq!(security["service"][0]["coding"][0]["code"], "SMART-on-FHIR");
    let uris = &security["extension"][0];
    assert_eq!(
        uris["url"],
        "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
    );
    assert!(
        uris["extension"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["url"] == "token")
    );

    // Everything else needs a token, unknown paths too.
    for path in [
        "/metrics",
        "/picture",
        "/stream",
        "/sources",
        "/fhir/Nope",
        "/fhir/metadata/x",
    ] {
        let r = call(&h, Method::GET, path, None, None, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}");
    }
}

#[tokio::test]
async fn metrics_need_their_own_scope() {
    let Some((issuer, h)) = oidc::start().await else {
        return;
    };
    let everything = issuer.token_for(ORG_A, "system/*.cruds system/ohjaamo.picture.read");
    let r = call(&h, Method::GET, "/metrics", Some(&everything), None, None).await;
    r.assert_outcome(StatusCode::FORBIDDEN);
    // Metrics are the server's, not an organisation's: no organisation needed.
    let operator = issuer.token(json!({ "scope": "system/ohjaamo.metrics.read" }));
    let r = call(&h, Method::GET, "/metrics", Some(&operator), None, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("ohjaamo_http_requests_total"));
}

#[tokio::test]
async fn a_key_added_at_the_issuer_is_accepted_without_a_restart() {
    let Some((issuer, h)) = oidc::start().await else {
        return;
    };
    let before = issuer.token_for(ORG_A, READ);
    assert_eq!(
        get_locations(&h, Some(&before)).await.status,
        StatusCode::OK
    );

    issuer.add_key("k2");
    let rotated = issuer.token_with(
        "k2",
        json!({}),
        json!({ "organization": ORG_A, "scope": READ }),
    );
    // The first unknown kid may fall within the refresh interval of the first fetch
    // (1 s here); after it, the new key is fetched and the token accepted.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let r = get_locations(&h, Some(&rotated)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // And the old key still works while the issuer publishes it.
    assert_eq!(
        get_locations(&h, Some(&before)).await.status,
        StatusCode::OK
    );
}
