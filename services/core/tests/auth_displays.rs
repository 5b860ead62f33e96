//! What the displays' sign-in needs of the core, against a real issuer: where to sign
//! in (`/displays/signin`), and the issuer's origin in the pages' `connect-src` (the
//! page calls the token endpoint). The holder's name on a hold: auth_holds.rs.

mod common;
mod oidc;

use reqwest::{Method, StatusCode};

use common::{Backend, Harness};
use oidc::call;

fn csp(r: &common::Resp) -> String {
    r.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_pages_learn_where_to_sign_in_and_may_reach_the_issuer() {
    let Some((issuer, h)) = oidc::start().await else {
        return;
    };
    let r = call(&h, Method::GET, "/displays/signin", None, None, None).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "open, without a token: {}",
        r.text
    );
    assert_eq!(r.body["issuer"], issuer.url.as_str());
    assert_eq!(r.body["clientId"], "ohjaamo-displays");
    for endpoint in ["authorizationEndpoint", "tokenEndpoint"] {
        let url = r.body[endpoint].as_str().unwrap_or_default();
        assert!(url.starts_with(&issuer.url), "{endpoint}: {url}");
    }
    let scope = r.body["scope"].as_str().unwrap();
    for wanted in ["openid", "user/ohjaamo.picture.read", "user/Slot.cruds"] {
        assert!(scope.split(' ').any(|s| s == wanted), "{wanted} in {scope}");
    }
    let origin = url::Url::parse(&issuer.url)
        .unwrap()
        .origin()
        .ascii_serialization();
    let page = call(&h, Method::GET, "/displays/beds", None, None, None).await;
    assert!(
        csp(&page).contains(&format!("connect-src 'self' {origin};")),
        "{}",
        csp(&page)
    );
}

#[tokio::test]
async fn without_authentication_there_is_nothing_to_sign_in_to() {
    let Some(h) = Harness::start(Backend::Sqlite, Default::default()).await else {
        return;
    };
    let r = call(&h, Method::GET, "/displays/signin", None, None, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let page = call(&h, Method::GET, "/displays/beds", None, None, None).await;
    assert!(csp(&page).contains("connect-src 'self';"), "{}", csp(&page));
}
