//! A real OIDC issuer for the authentication tests: `tests/oidc/issuer.mjs` (npm's
//! oauth2-mock-server, `npm ci --prefix tests/oidc`) as a child process, and a core
//! that trusts it. Without node or the package the tests are skipped loudly, except
//! under `CI=true`, where they fail.

#![allow(dead_code)] // each auth test binary uses a different part

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use ohjaamo_core::Config;
use ohjaamo_core::auth::settings::{AuthMode, OidcSettings};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{Backend, FHIR_JSON, Harness, Resp, TENANT};

/// The audience the test core expects.
pub const AUDIENCE: &str = "ohjaamo-test";
/// Two organisations (SOTE register OIDs in form).
pub const ORG_A: &str = "1.2.246.10.1111111.10.0";
pub const ORG_B: &str = "1.2.246.10.2222222.10.0";

pub struct Issuer {
    pub url: String,
    child: Child,
    io: Mutex<(ChildStdin, BufReader<ChildStdout>)>,
}

impl Issuer {
    /// Starts the issuer; `None` (with a loud message) when its tools are missing
    /// outside CI.
    pub fn start() -> Option<Issuer> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/oidc");
        let installed = dir
            .join("node_modules/oauth2-mock-server/package.json")
            .exists();
        let node = Command::new("node").arg("--version").output().is_ok();
        if !(installed && node) {
            let why = "SKIPPED: the OIDC issuer for the auth tests needs node and \
                       `npm ci --prefix tests/oidc`";
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{why} (CI=true)"
            );
            eprintln!("\n*** {why} ***\n");
            return None;
        }
        let mut child = Command::new("node")
            .arg(dir.join("issuer.mjs"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("node starts");
        let stdin = child.stdin.take().expect("stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut first = String::new();
        stdout
            .read_line(&mut first)
            .expect("the issuer says its URL");
        let url = serde_json::from_str::<Value>(&first).expect("JSON")["url"]
            .as_str()
            .expect("url")
            .to_owned();
        Some(Issuer {
            url,
            child,
            io: Mutex::new((stdin, stdout)),
        })
    }

    fn ask(&self, command: Value) -> Value {
        let mut io = self.io.lock().unwrap();
        writeln!(io.0, "{command}").expect("write to the issuer");
        let mut line = String::new();
        io.1.read_line(&mut line).expect("read from the issuer");
        let reply: Value = serde_json::from_str(&line).expect("JSON reply");
        assert!(reply.get("error").is_none(), "issuer: {reply}");
        reply
    }

    /// A token signed by key `k1` with the standard claims of a valid token for the
    /// test core and `claims` over them (`null` deletes one).
    pub fn token(&self, claims: Value) -> String {
        self.token_with("k1", json!({}), claims)
    }

    /// A valid token for `organization` granting `scope`.
    pub fn token_for(&self, organization: &str, scope: &str) -> String {
        self.token(json!({ "organization": organization, "scope": scope }))
    }

    pub fn token_with(&self, kid: &str, header: Value, claims: Value) -> String {
        let mut all = json!({ "aud": AUDIENCE, "sub": "tester", "client_id": "test-client" });
        for (k, v) in claims.as_object().expect("claims object") {
            all[k] = v.clone();
        }
        self.ask(json!({ "op": "token", "kid": kid, "header": header, "claims": all }))["token"]
            .as_str()
            .expect("token")
            .to_owned()
    }

    /// Publishes a new signing key.
    pub fn add_key(&self, kid: &str) {
        self.ask(json!({ "op": "addKey", "kid": kid, "alg": "RS256" }));
    }

    /// The core's settings for this issuer, refreshing keys at most once a second.
    pub fn config(&self) -> Config {
        let mut settings = OidcSettings::new(&self.url, AUDIENCE);
        settings.jwks_min_refresh = Duration::from_secs(1);
        Config {
            auth: AuthMode::Oidc(settings),
            ..Config::default()
        }
    }
}

impl Drop for Issuer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An issuer and a core (on SQLite) that trusts it; `None` when skipped.
pub async fn start() -> Option<(Issuer, Harness)> {
    let issuer = Issuer::start()?;
    let h = Harness::start(Backend::Sqlite, issuer.config()).await?;
    Some((issuer, h))
}

/// The request to `path` under the core's root (`/fhir/...` or `/picture`), with
/// `token` if any, the organisation header if any, and `body` as `content_type`.
fn request(
    h: &Harness,
    (method, path): (Method, &str),
    token: Option<&str>,
    organization: Option<&str>,
    body: Option<(&Value, &str)>,
) -> reqwest::RequestBuilder {
    let root = h.base.trim_end_matches("/fhir");
    let mut request = h.client.request(method, format!("{root}{path}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(org) = organization {
        request = request.header(TENANT, org);
    }
    if let Some((body, content_type)) = body {
        request = request
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body.to_string());
    }
    request
}

/// A request to `path` under the core's root (`/fhir/...` or `/picture`), with
/// `token` if any and the organisation header if any.
pub async fn call(
    h: &Harness,
    method: Method,
    path: &str,
    token: Option<&str>,
    organization: Option<&str>,
    body: Option<&Value>,
) -> Resp {
    let body = body.map(|b| (b, FHIR_JSON));
    h.send(request(h, (method, path), token, organization, body))
        .await
}

/// Only the status of a request like [`call`]'s, without reading the body (a live
/// stream's never ends).
pub async fn status_of(
    h: &Harness,
    method: Method,
    path: &str,
    token: Option<&str>,
    organization: Option<&str>,
    body: Option<&Value>,
) -> StatusCode {
    let body = body.map(|b| (b, "application/json"));
    request(h, (method, path), token, organization, body)
        .send()
        .await
        .expect("the request completes")
        .status()
}

/// An adapter's health report for `PUT /sources/{name}`.
pub fn source_report() -> Value {
    json!({
        "kind": "pull",
        "lastSuccess": "2026-03-01T08:00:00Z",
        "quarantined": 0,
        "staleAfterSeconds": 600.0,
        "reportIntervalSeconds": 10.0
    })
}

/// A JWT's three parts re-encoded: `header` and `payload` as given, `signature` as is.
pub fn forge(header: &Value, payload: &Value, signature: &str) -> String {
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.{signature}", b64(header), b64(payload))
}

/// The decoded header and payload of `token`, and its signature.
pub fn parts(token: &str) -> (Value, Value, String) {
    let mut it = token.split('.');
    let mut next = || {
        let part = it.next().expect("three parts");
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null)
    };
    let (header, payload) = (next(), next());
    (
        header,
        payload,
        token.rsplit('.').next().unwrap_or("").to_owned(),
    )
}

/// Asserts a 401 with `WWW-Authenticate: Bearer …` and an OperationOutcome; returns
/// the outcome's text.
pub fn assert_unauthorized(r: &Resp, invalid_token: bool) -> String {
    let diagnostics = r.assert_outcome(StatusCode::UNAUTHORIZED);
    let challenge = r.header("www-authenticate").unwrap_or("");
    assert!(challenge.starts_with("Bearer"), "{challenge:?}");
    assert_eq!(
        challenge.contains("error=\"invalid_token\""),
        invalid_token,
        "{challenge}"
    );
    diagnostics
}
