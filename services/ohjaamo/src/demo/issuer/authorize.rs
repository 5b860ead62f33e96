//! The authorization endpoint and the end-session endpoint: a page listing the demo's
//! people (choose one to sign in, no password: it is the demo), in Finnish, English or
//! Swedish as the bed board asks (`ui_locales`).
//!
//! Only the authorization code flow with PKCE S256 is served: a request without a
//! `code_challenge`, or with the `plain` method (or none, which means plain, RFC 7636
//! §4.3), is refused — a code intercepted on its way back must be useless.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::demo::issuer::clients::{Kind, PEOPLE, person};
use crate::demo::issuer::grants::{Grant, is_s256_challenge};
use crate::demo::issuer::state::DevIssuer;

type Params = HashMap<String, String>;

/// An authorization request that may go on.
#[derive(Debug)]
struct Request {
    client_id: String,
    redirect_uri: String,
    scope: String,
    state: Option<String>,
    nonce: Option<String>,
    challenge: String,
}

/// Why it may not.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    /// The client or its address is not known: nothing to send the person back to
    /// (RFC 6749 §4.1.2.1), the page says why.
    Page(String),
    /// Back to the client with `error` (and the request's state).
    Back {
        to: String,
        error: &'static str,
        why: String,
    },
}

fn check(issuer: &DevIssuer, p: &Params) -> Result<Request, Refusal> {
    let get = |name: &str| p.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let client_id = get("client_id").ok_or_else(|| Refusal::Page("client_id is missing".into()))?;
    let client = issuer
        .client(client_id)
        .ok_or_else(|| Refusal::Page(format!("unknown client {client_id}")))?;
    let Kind::Public { redirect_uris } = &client.kind else {
        return Err(Refusal::Page(format!(
            "{client_id} is not a client people sign in to"
        )));
    };
    let redirect_uri = get("redirect_uri")
        .filter(|r| redirect_uris.iter().any(|known| known == r))
        .ok_or_else(|| Refusal::Page("redirect_uri is not one registered for the client".into()))?;
    let back = |error: &'static str, why: &str| {
        let mut to = url::Url::parse(redirect_uri).expect("a registered redirect_uri parses");
        to.query_pairs_mut()
            .append_pair("error", error)
            .append_pair("error_description", why);
        if let Some(state) = get("state") {
            to.query_pairs_mut().append_pair("state", state);
        }
        Refusal::Back {
            to: to.to_string(),
            error,
            why: why.to_owned(),
        }
    };
    if get("response_type") != Some("code") {
        return Err(back(
            "unsupported_response_type",
            "only response_type=code is served",
        ));
    }
    let challenge = get("code_challenge").ok_or_else(|| {
        back(
            "invalid_request",
            "PKCE is required: code_challenge is missing",
        )
    })?;
    if get("code_challenge_method") != Some("S256") {
        return Err(back(
            "invalid_request",
            "only code_challenge_method=S256 is accepted (plain is refused)",
        ));
    }
    if !is_s256_challenge(challenge) {
        return Err(back(
            "invalid_request",
            "code_challenge is not an S256 challenge",
        ));
    }
    let scope: Vec<&str> = get("scope")
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty() && client.may_have(s))
        .collect();
    Ok(Request {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        scope: scope.join(" "),
        state: get("state").map(str::to_owned),
        nonce: get("nonce").map(str::to_owned),
        challenge: challenge.to_owned(),
    })
}

fn refused(r: Refusal) -> Response {
    match r {
        Refusal::Page(why) => (
            StatusCode::BAD_REQUEST,
            Html(format!(
                "<!doctype html><meta charset=utf-8><title>Ohjaamo</title><p>{}</p>",
                escape(&why)
            )),
        )
            .into_response(),
        Refusal::Back { to, error, why } => {
            tracing::info!(%error, %why, "demo issuer: authorization request refused");
            Redirect::to(&to).into_response()
        }
    }
}

/// `GET /authorize`: the people to choose from.
pub async fn page(State(issuer): State<Arc<DevIssuer>>, Query(p): Query<Params>) -> Response {
    if let Err(r) = check(&issuer, &p) {
        return refused(r);
    }
    let lang = Lang::of(p.get("ui_locales").map(String::as_str));
    let hidden: String = p
        .iter()
        .filter(|(k, _)| k.as_str() != "person")
        .map(|(k, v)| {
            format!(
                "<input type=hidden name=\"{}\" value=\"{}\">",
                escape(k),
                escape(v)
            )
        })
        .collect();
    let people: String = PEOPLE
        .iter()
        .map(|who| {
            format!(
                "<button name=person value=\"{}\"><b>{}</b><small>{}</small></button>",
                escape(who.sub),
                escape(who.name),
                escape(who.role[lang as usize])
            )
        })
        .collect();
    let [title, warning, choose] = TEXT[lang as usize];
    let body = format!(
        "<!doctype html><html lang={code}><meta charset=utf-8>\
         <meta name=viewport content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style>\
         <main><h1>{title}</h1><p class=warn>{warning}</p><p>{choose}</p>\
         <form method=post action=/authorize>{hidden}{people}</form></main></html>",
        code = ["fi", "en", "sv"][lang as usize],
    );
    // The page's own policy: no script at all; the form may go here and back to the
    // core (Chromium applies form-action to the redirect after the post).
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' {}; frame-ancestors 'none'",
        issuer.core_origin
    );
    (
        [
            (header::CONTENT_SECURITY_POLICY, csp),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Html(body),
    )
        .into_response()
}

/// `POST /authorize`: the person chosen; back to the client with a code.
pub async fn sign_in(State(issuer): State<Arc<DevIssuer>>, Form(p): Form<Params>) -> Response {
    let request = match check(&issuer, &p) {
        Ok(r) => r,
        Err(r) => return refused(r),
    };
    let Some(who) = p.get("person").and_then(|s| person(s)) else {
        return refused(Refusal::Page("choose a person from the list".into()));
    };
    let code = issuer.grants.new_code(
        Grant {
            client_id: request.client_id,
            sub: who.sub.to_owned(),
            scope: request.scope,
            nonce: request.nonce,
        },
        &request.redirect_uri,
        &request.challenge,
        Instant::now(),
    );
    let mut to = url::Url::parse(&request.redirect_uri).expect("a registered redirect_uri parses");
    to.query_pairs_mut().append_pair("code", &code);
    if let Some(state) = &request.state {
        to.query_pairs_mut().append_pair("state", state);
    }
    tracing::info!(person = who.sub, "demo issuer: signed in");
    Redirect::to(to.as_str()).into_response()
}

/// `GET /logout` (RP-initiated logout): the person's refresh tokens at the client stop
/// working; back to `post_logout_redirect_uri` when it is one of the client's.
pub async fn sign_out(State(issuer): State<Arc<DevIssuer>>, Query(p): Query<Params>) -> Response {
    let client = p.get("client_id").and_then(|id| issuer.client(id));
    // The hint is our own ID token; its subject is all that is needed of it (a forged
    // one can only sign someone out of the demo).
    let sub = p
        .get("id_token_hint")
        .and_then(|t| jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(t).ok())
        .and_then(|t| t.claims["sub"].as_str().map(str::to_owned));
    if let (Some(client), Some(sub)) = (client, &sub) {
        issuer.grants.sign_out(&client.id, sub);
        tracing::info!(person = %sub, "demo issuer: signed out");
    }
    let back = client.and_then(|c| match &c.kind {
        Kind::Public { redirect_uris } => p
            .get("post_logout_redirect_uri")
            .filter(|r| redirect_uris.contains(r)),
        Kind::Confidential { .. } => None,
    });
    match back {
        Some(to) => Redirect::to(to).into_response(),
        None => Html("<!doctype html><meta charset=utf-8><title>Ohjaamo</title><p>Uloskirjautunut · Signed out · Utloggad</p>").into_response(),
    }
}

#[derive(Clone, Copy)]
enum Lang {
    Fi = 0,
    En = 1,
    Sv = 2,
}

impl Lang {
    /// The first of `ui_locales` (space-separated) that the page speaks; Finnish
    /// otherwise.
    fn of(locales: Option<&str>) -> Lang {
        for tag in locales.unwrap_or_default().split(' ') {
            match tag.split('-').next().unwrap_or_default() {
                "fi" => return Lang::Fi,
                "en" => return Lang::En,
                "sv" => return Lang::Sv,
                _ => {}
            }
        }
        Lang::Fi
    }
}

/// Title, warning, prompt.
const TEXT: [[&str; 3]; 3] = [
    [
        "Ohjaamon demo – kirjautuminen",
        "Tämä on demon kehityskäyttöön tarkoitettu tunnistuspalvelu: kirjautumiseen riittää nimen valinta. Sitä ei saa koskaan käyttää tuotannossa.",
        "Valitse, kenenä kirjaudut:",
    ],
    [
        "Ohjaamo demo – sign in",
        "This is the demo's development identity provider: choosing a name is enough to sign in. It must never be used in production.",
        "Choose who you sign in as:",
    ],
    [
        "Ohjaamos demo – inloggning",
        "Detta är demons identitetstjänst för utveckling: det räcker att välja ett namn för att logga in. Den får aldrig användas i produktion.",
        "Välj vem du loggar in som:",
    ],
];

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#10161d;color:#e8eef4;margin:0}\
main{max-width:34rem;margin:3rem auto;padding:0 1rem}h1{font-size:1.5rem}\
.warn{background:#5a3b00;border-left:4px solid #f0a500;padding:.75rem}\
button{display:block;width:100%;text-align:left;margin:.5rem 0;padding:.75rem 1rem;font:inherit;\
background:#1d2935;color:inherit;border:1px solid #3a4c5e;border-radius:6px;cursor:pointer}\
button:hover,button:focus{border-color:#7fb3e6}small{display:block;color:#a9b8c6}";

/// Text for HTML content and double-quoted attributes.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::issuer::clients::{DISPLAYS_CLIENT, ScreenUnits};

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn issuer() -> DevIssuer {
        DevIssuer::new(
            "http://127.0.0.1:1",
            "http://127.0.0.1:2",
            &ScreenUnits::default(),
        )
        .unwrap()
    }

    fn params(pairs: &[(&str, &str)]) -> Params {
        let mut p: Params = [
            ("response_type", "code"),
            ("client_id", DISPLAYS_CLIENT),
            ("redirect_uri", "http://127.0.0.1:2/displays/beds"),
            ("scope", "openid user/Slot.cruds system/*.cruds"),
            ("state", "s-1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        for (k, v) in pairs {
            if v.is_empty() {
                p.remove(*k);
            } else {
                p.insert((*k).to_owned(), (*v).to_owned());
            }
        }
        p
    }

    fn error_of(r: Result<Request, Refusal>) -> &'static str {
        match r {
            Err(Refusal::Back { to, error, .. }) => {
                assert!(
                    to.starts_with("http://127.0.0.1:2/displays/beds?error="),
                    "{to}"
                );
                assert!(to.ends_with("state=s-1"), "{to}");
                error
            }
            other => panic!("expected a refusal back to the client, got {other:?}"),
        }
    }

    #[test]
    fn a_pkce_s256_request_goes_on_with_the_clients_scopes_only() {
        let request = check(&issuer(), &params(&[])).unwrap();
        assert_eq!(
            request.scope, "openid user/Slot.cruds",
            "system/*.cruds is not the page's"
        );
        assert_eq!(request.challenge, CHALLENGE);
    }

    #[test]
    fn missing_or_plain_pkce_is_refused() {
        let issuer = issuer();
        assert_eq!(
            error_of(check(&issuer, &params(&[("code_challenge", "")]))),
            "invalid_request"
        );
        assert_eq!(
            error_of(check(
                &issuer,
                &params(&[("code_challenge_method", "plain")])
            )),
            "invalid_request"
        );
        // No method means plain (RFC 7636 §4.3).
        assert_eq!(
            error_of(check(&issuer, &params(&[("code_challenge_method", "")]))),
            "invalid_request"
        );
        assert_eq!(
            error_of(check(
                &issuer,
                &params(&[("code_challenge", "too-short-to-be-s256")])
            )),
            "invalid_request"
        );
        assert_eq!(
            error_of(check(&issuer, &params(&[("response_type", "token")]))),
            "unsupported_response_type"
        );
    }

    #[test]
    fn an_unknown_client_or_address_gets_a_page_not_a_redirect() {
        let issuer = issuer();
        for p in [
            params(&[("client_id", "nobody")]),
            params(&[("client_id", "adt")]),
            params(&[("redirect_uri", "http://evil.example/displays/beds")]),
            params(&[("redirect_uri", "")]),
        ] {
            assert!(matches!(check(&issuer, &p), Err(Refusal::Page(_))), "{p:?}");
        }
    }

    #[test]
    fn the_page_speaks_the_language_asked_for() {
        assert!(matches!(Lang::of(Some("sv-FI fi")), Lang::Sv));
        assert!(matches!(Lang::of(Some("de en")), Lang::En));
        assert!(matches!(Lang::of(None), Lang::Fi));
        assert_eq!(
            escape("<a href=\"x\">'&"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;"
        );
    }
}
