//! A small upstream that answers with recorded Bundles (tests/fixtures/epic, in the
//! shape Epic's public FHIR documentation shows) and fails as told: a fault queue per
//! path, tokens from its own token endpoint that it may refuse, a paging loop, and a
//! Bulk Data `$export`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/epic");

/// One scripted failure.
#[derive(Debug, Clone)]
pub enum Fault {
    Status(u16),
    /// 429 with `Retry-After: <seconds>`.
    TooMany(u64),
}

#[derive(Default)]
pub struct Script {
    /// Per path (`/fhir/Slot`), failures answered before the real answer.
    pub faults: HashMap<String, VecDeque<Fault>>,
    /// Refuse these bearer tokens with 401.
    pub refused_tokens: Vec<String>,
    /// Refuse every token.
    pub refuse_all: bool,
    /// Slot's second page links back to the first.
    pub paging_loop: bool,
    /// The CapabilityStatement offers `$export`.
    pub export: bool,
    /// Status polls answered 202 before the manifest.
    pub export_polls: usize,
}

/// What the fake saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub at: Instant,
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: u16,
    pub authorization: Option<String>,
}

#[derive(Default)]
pub struct FakeState {
    pub script: Mutex<Script>,
    pub seen: Mutex<Vec<Seen>>,
    tokens: Mutex<u32>,
    base: Mutex<String>,
}

pub struct Fake {
    pub base: String,
    pub token_url: String,
    pub state: Arc<FakeState>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Fake {
    pub async fn start(script: Script) -> Fake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(FakeState::default());
        *state.script.lock().unwrap() = script;
        let base = format!("http://{addr}/api/FHIR/R4");
        *state.base.lock().unwrap() = base.clone();
        let app = Router::new().fallback(answer).with_state(state.clone());
        let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Fake {
            token_url: format!("http://{addr}/oauth2/token"),
            base,
            state,
            server,
        }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    /// The latest request to a path ending in `suffix`.
    pub fn last(&self, suffix: &str) -> Seen {
        self.seen()
            .into_iter()
            .rev()
            .find(|r| r.path.ends_with(suffix))
            .expect("a request to it")
    }

    pub fn tokens_issued(&self) -> u32 {
        *self.state.tokens.lock().unwrap()
    }
}

async fn answer(
    State(state): State<Arc<FakeState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path().to_owned();
    let query = uri.query().unwrap_or("").to_owned();
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let response = respond(&state, &method, &path, &query, authorization.as_deref());
    state.seen.lock().unwrap().push(Seen {
        at: Instant::now(),
        method: method.to_string(),
        path,
        query,
        status: response.status().as_u16(),
        authorization,
    });
    response
}

fn json(status: u16, body: String) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/fhir+json")
        .body(Body::from(body))
        .unwrap()
}

fn fixture(state: &FakeState, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(format!("{FIXTURES}/{name}")).ok()?;
    Some(text.replace("{base}", &state.base.lock().unwrap()))
}

fn outcome(status: u16, text: &str) -> Response {
    json(
        status,
        serde_json::json!({"resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "processing", "diagnostics": text}]})
        .to_string(),
    )
}

fn respond(
    state: &FakeState,
    method: &Method,
    path: &str,
    query: &str,
    authorization: Option<&str>,
) -> Response {
    if path == "/oauth2/token" {
        let mut n = state.tokens.lock().unwrap();
        *n += 1;
        return json(
            200,
            serde_json::json!({"access_token": format!("t{n}"), "token_type": "bearer",
                "expires_in": 3600, "scope": "system/Slot.rs"})
            .to_string(),
        );
    }
    let mut script = state.script.lock().unwrap();
    if let Some(fault) = script.faults.get_mut(path).and_then(VecDeque::pop_front) {
        return match fault {
            Fault::Status(s) => outcome(s, "scripted failure"),
            Fault::TooMany(seconds) => Response::builder()
                .status(StatusCode::TOO_MANY_REQUESTS)
                .header("retry-after", seconds.to_string())
                .body(Body::empty())
                .unwrap(),
        };
    }
    if !path.starts_with("/export-files/") {
        let token = authorization.and_then(|a| a.strip_prefix("Bearer "));
        let refused = script.refuse_all
            || token.is_some_and(|t| script.refused_tokens.iter().any(|r| r == t));
        if refused {
            return outcome(401, "Invalid access token");
        }
    }
    let Some(rest) = path.strip_prefix("/api/FHIR/R4/") else {
        return export_file(state, path).unwrap_or_else(|| outcome(404, "no such path"));
    };
    match (method.as_str(), rest) {
        ("GET", "metadata") => {
            let name = if script.export {
                "metadata-export.json"
            } else {
                "metadata.json"
            };
            json(200, fixture(state, name).unwrap())
        }
        ("GET", "Group/eHospitalAll/$export") => Response::builder()
            .status(202)
            .header(
                "content-location",
                format!("{}/bulk-status/1", state.base.lock().unwrap()),
            )
            .body(Body::empty())
            .unwrap(),
        ("GET", "bulk-status/1") if script.export_polls > 0 => {
            script.export_polls -= 1;
            Response::builder()
                .status(202)
                .header("retry-after", "1")
                .header(
                    "x-progress",
                    format!("{} vaihetta jäljellä", script.export_polls + 1),
                )
                .body(Body::empty())
                .unwrap()
        }
        ("GET", "bulk-status/1") => json(200, manifest(state)),
        ("DELETE", "bulk-status/1") => Response::builder().status(202).body(Body::empty()).unwrap(),
        ("GET", rtype) => search(state, &script, rtype, query),
        _ => outcome(405, "not here"),
    }
}

fn search(state: &FakeState, script: &Script, rtype: &str, query: &str) -> Response {
    if query.contains("_lastUpdated=gt") {
        let empty = serde_json::json!({"resourceType": "Bundle", "type": "searchset", "total": 0,
            "link": [{"relation": "self", "url": format!("{}/{rtype}?{query}", state.base.lock().unwrap())}]});
        return json(200, empty.to_string());
    }
    let page = if query.contains("page=2") { 2 } else { 1 };
    let Some(mut text) = fixture(state, &format!("{rtype}-page{page}.json")) else {
        return outcome(404, "no fixture");
    };
    if rtype == "Slot" && page == 2 && script.paging_loop {
        let back = format!(
            "{}/Slot?_count=2&sessionID=16-9F21&page=1",
            state.base.lock().unwrap()
        );
        let mut bundle: serde_json::Value = serde_json::from_str(&text).unwrap();
        bundle["link"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"relation": "next", "url": back}));
        text = bundle.to_string();
    }
    json(200, text)
}

fn manifest(state: &FakeState) -> String {
    let host = state.base.lock().unwrap().replace("/api/FHIR/R4", "");
    let files = [
        ("Location", "Location.ndjson"),
        ("Schedule", "Schedule.ndjson"),
        ("Slot", "Slot-1.ndjson"),
        ("Slot", "Slot-2.ndjson"),
        ("Appointment", "Appointment.ndjson"),
        ("Encounter", "Encounter.ndjson"),
    ];
    serde_json::json!({
        "transactionTime": "2026-11-20T08:00:00.000Z",
        "request": format!("{}/Group/eHospitalAll/$export", state.base.lock().unwrap()),
        "requiresAccessToken": false,
        "output": files.iter().map(|(t, f)| serde_json::json!({"type": t, "url": format!("{host}/export-files/{f}")})).collect::<Vec<_>>(),
        "error": []
    })
    .to_string()
}

fn export_file(state: &FakeState, path: &str) -> Option<Response> {
    let name = path.strip_prefix("/export-files/")?;
    let text = fixture(state, &format!("export/{name}"))?;
    Some(
        Response::builder()
            .status(200)
            .header("content-type", "application/fhir+ndjson")
            .body(Body::from(text))
            .unwrap(),
    )
}
