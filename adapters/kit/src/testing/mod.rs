//! A real core served in-process over a temporary SQLite file, for the adapters'
//! tests (feature `testing`). It is the production core, not a stand-in: the same
//! router, validation and store. [`issuer`] starts the real OIDC issuer the
//! authentication tests get their tokens from.

pub mod issuer;

/// A PKCS#8 private key's DER in PEM, as a key file holds it.
pub fn private_key_pem(pkcs8: &[u8]) -> String {
    use base64::Engine as _;
    let text = base64::engine::general_purpose::STANDARD.encode(pkcs8);
    let lines: Vec<&str> = text
        .as_bytes()
        .chunks(64)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .collect();
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    )
}

use std::sync::Arc;

use ohjaamo_core::{AppState, Config};
use ohjaamo_store::Store;
use reqwest::StatusCode;
use serde_json::Value;

/// The organisation every test writes as.
pub const TENANT: &str = "1.2.246.10.1234567";

pub struct Core {
    pub addr: std::net::SocketAddr,
    /// The FHIR base, `http://addr/fhir`.
    pub base: String,
    http: reqwest::Client,
    /// The bearer token the helpers send, if any.
    token: Option<String>,
    file: std::path::PathBuf,
    server: tokio::task::JoinHandle<()>,
    state: AppState,
    /// The picture deriver, once [`Core::deriving`] started it.
    deriver: Option<tokio::task::JoinHandle<()>>,
}

impl Core {
    pub async fn start() -> Core {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Core::start_on(listener).await
    }

    /// Serves on `listener` (a port chosen beforehand) over a new database.
    pub async fn start_on(listener: tokio::net::TcpListener) -> Core {
        Core::start_with(listener, Config::default()).await
    }

    /// Serves on `listener` over a new database with `config` (e.g. an OIDC
    /// issuer to trust). With authentication on, give the helpers below a token
    /// with [`Core::with_token`].
    pub async fn start_with(listener: tokio::net::TcpListener, config: Config) -> Core {
        let file = std::env::temp_dir().join(format!("ohjaamo-kit-{}.db", uuid::Uuid::now_v7()));
        Core::serve_with(listener, file, config).await
    }

    /// Serves on `listener` over the database file `file` (to restart a core on the
    /// data of one that was stopped).
    pub async fn serve(listener: tokio::net::TcpListener, file: std::path::PathBuf) -> Core {
        Core::serve_with(listener, file, Config::default()).await
    }

    async fn serve_with(
        listener: tokio::net::TcpListener,
        file: std::path::PathBuf,
        config: Config,
    ) -> Core {
        let store = Store::connect(&format!("sqlite:{}", file.display()), 4)
            .await
            .expect("a SQLite store");
        let state = AppState::new(Arc::new(store), config);
        let addr = listener.local_addr().unwrap();
        let serving = state.clone();
        let server = tokio::spawn(async move {
            axum::serve(listener, ohjaamo_core::http::server::app(serving))
                .await
                .unwrap()
        });
        Core {
            addr,
            base: format!("http://{addr}/fhir"),
            http: reqwest::Client::new(),
            token: None,
            file,
            server,
            state,
            deriver: None,
        }
    }

    /// Also derives the situational picture, as `ohjaamo serve` does (looking at the
    /// event log every 50 ms), so that `GET /picture` answers what was written.
    pub fn deriving(mut self) -> Core {
        use ohjaamo_core::picture::deriver::{DeriverOptions, run};
        let options = DeriverOptions {
            refresh: std::time::Duration::from_secs(3600),
            poll: std::time::Duration::from_millis(50),
            report_interval: std::time::Duration::ZERO,
        };
        self.deriver = Some(tokio::spawn(run(self.state.clone(), options)));
        self
    }

    /// `GET /picture<query>` as the test tenant (`query` with its `?`).
    pub async fn picture(&self, query: &str) -> Value {
        self.get_root(&format!("picture{query}")).await
    }

    /// `GET /<path_and_query>` beside the FHIR base (`picture/beds?unit=k2`,
    /// `sources`) as the test tenant, the JSON answer.
    pub async fn get_root(&self, path_and_query: &str) -> Value {
        self.get_json(format!("http://{}/{path_and_query}", self.addr))
            .await
    }

    /// The helpers ([`Core::put`], [`Core::get`], [`Core::search`]) send `token`.
    pub fn with_token(mut self, token: String) -> Core {
        self.token = Some(token);
        self
    }

    /// A request as the test tenant, with the token if one was given.
    fn request(&self, method: reqwest::Method, url: String) -> reqwest::RequestBuilder {
        let request = self
            .http
            .request(method, url)
            .header("x-ohjaamo-organization", TENANT);
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// Stops serving and answers the database file, kept for a restart.
    pub fn stop(mut self) -> std::path::PathBuf {
        self.server.abort();
        if let Some(deriver) = &self.deriver {
            deriver.abort();
        }
        std::mem::take(&mut self.file)
    }

    pub async fn put(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let r = self
            .request(reqwest::Method::PUT, format!("{}/{path}", self.base))
            .header("content-type", "application/fhir+json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// `GET base/path_and_query` as the test tenant, the JSON answer.
    pub async fn get(&self, path_and_query: &str) -> Value {
        self.get_json(format!("{}/{path_and_query}", self.base))
            .await
    }

    /// `GET url` as the test tenant, the JSON answer.
    async fn get_json(&self, url: String) -> Value {
        self.request(reqwest::Method::GET, url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The resources a search finds (first page of up to 1,000).
    pub async fn search(&self, rtype: &str, query: &str) -> Vec<Value> {
        let sep = if query.is_empty() { "" } else { "&" };
        let bundle = self.get(&format!("{rtype}?_count=1000{sep}{query}")).await;
        bundle["entry"]
            .as_array()
            .map(|e| e.iter().map(|e| e["resource"].clone()).collect())
            .unwrap_or_default()
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        self.server.abort();
        if let Some(deriver) = &self.deriver {
            deriver.abort();
        }
        if self.file.as_os_str().is_empty() {
            return;
        }
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.file.display()));
        }
    }
}
