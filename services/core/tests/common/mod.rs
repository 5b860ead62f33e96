//! The integration-test harness: the core's router served in-process on
//! `127.0.0.1:0`, over a fresh SQLite file or a fresh PostgreSQL database, and
//! small helpers for talking FHIR to it with reqwest.
//!
//! Every test body is written once as `async fn name(h: &Harness)`;
//! `both_backends!(name)` turns it into `name::sqlite` and `name::postgres`.
//!
//! PostgreSQL: `OHJAAMO_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) names a database to connect to for
//! administration; each test creates `ohjaamo_t_<uuid v7>` and drops it afterwards.
//! SQLite files are `ohjaamo-test-<uuid v7>.db` in the temporary directory. Databases
//! and files left behind by a run that crashed (a panic is cleaned up after, an abort
//! is not) are removed by the next run once they are an hour old: the UUIDv7
//! carries its creation time. When PostgreSQL cannot be
//! reached the PostgreSQL variants are skipped loudly, or fail when `CI=true`.

#![allow(dead_code)] // every test binary uses a different part of the harness

mod fixtures;

pub use fixtures::*;

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ohjaamo_core::log::relay::{Bus, LocalBus};
use ohjaamo_core::picture::deriver::DeriverOptions;
use ohjaamo_core::{AppState, Background, Config};
use ohjaamo_store::Store;
use reqwest::header::{self, HeaderMap};
use reqwest::{Client, Method, RequestBuilder, StatusCode};
use serde_json::Value;
use sqlx::{Connection as _, Executor as _, PgConnection};

/// The tenant header (`X-Ohjaamo-Organization`).
pub const TENANT: &str = "x-ohjaamo-organization";
pub const FHIR_JSON: &str = "application/fhir+json";

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const DB_PREFIX: &str = "ohjaamo_t_";
const SQLITE_PREFIX: &str = "ohjaamo-test-";
/// Connections of the store under test; enough for the concurrency tests to
/// overlap, few enough for parallel tests to share PostgreSQL's 100.
const POOL_SIZE: u32 = 8;
/// Leftover test databases older than this are dropped at the start of a run.
const LEFTOVER_AGE: Duration = Duration::from_secs(3600);

/// Generates `$name::sqlite` and `$name::postgres` from `async fn $name(&Harness)`,
/// optionally with a non-default [`Config`].
#[allow(unused_macros)] // migrations.rs prepares its databases itself
macro_rules! both_backends {
    ($name:ident) => {
        both_backends!($name, ohjaamo_core::Config::default());
    };
    ($name:ident, $config:expr) => {
        mod $name {
            use crate::common::{Backend, Harness};

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                if let Some(h) = Harness::start(Backend::Sqlite, $config).await {
                    super::$name(&h).await;
                    h.finish().await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                if let Some(h) = Harness::start(Backend::Postgres, $config).await {
                    super::$name(&h).await;
                    h.finish().await;
                }
            }
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running core over its own, empty database.
pub struct Harness {
    pub backend: Backend,
    /// `http://127.0.0.1:<port>/fhir`
    pub base: String,
    pub client: Client,
    server: tokio::task::JoinHandle<()>,
    store: Arc<Store>,
    db: Option<TestDb>,
    background: Option<Background>,
    state: AppState,
    /// The organisation requests without the tenant header act for.
    tenant: String,
}

impl Harness {
    /// Starts the core over a new database; `None` when the backend is PostgreSQL
    /// and it cannot be reached outside CI (the test is then skipped).
    pub async fn start(backend: Backend, config: Config) -> Option<Harness> {
        Some(Harness::start_on(TestDb::create(backend).await?, config).await)
    }

    /// Starts the core over `db`, which a test may have filled before (e.g. with rows
    /// as an older schema wrote them).
    pub async fn start_on(db: TestDb, config: Config) -> Harness {
        let backend = db.backend();
        let store = Store::connect(&db.url(), POOL_SIZE)
            .await
            .unwrap_or_else(|e| panic!("cannot open the {backend:?} test database: {e}"));
        let store = Arc::new(store);
        let tenant = config.default_tenant.clone();
        let state = AppState::new(store.clone(), config);
        let background = Background::start(
            &state,
            Bus::InProcess(LocalBus::default()),
            DeriverOptions {
                refresh: Duration::from_secs(3600),
                poll: Duration::from_millis(50),
                report_interval: Duration::ZERO,
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let server_state = state.clone();
        let server = tokio::spawn(async move {
            ohjaamo_core::http::server::serve(listener, server_state, std::future::pending())
                .await
                .expect("the server failed");
        });
        let client = Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("reqwest client");
        Harness {
            backend,
            base: format!("http://{addr}/fhir"),
            client,
            server,
            store,
            db: Some(db),
            background: Some(background),
            state,
            tenant,
        }
    }

    /// Waits until the picture deriver has dealt with every event written so far (and
    /// its own picture events) and the capacity reports with every picture event, so
    /// that `GET /picture` and the MeasureReports reflect every write.
    pub async fn wait_for_pictures(&self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let last = self
                .store
                .last_sequence(&self.tenant)
                .await
                .expect("last sequence");
            let mut caught_up = true;
            // The deriver, then the capacity reports that follow its picture events.
            for reader in ["picture", "capacity-reports"] {
                let lease = self
                    .store
                    .claim_cursor(&self.tenant, reader)
                    .await
                    .expect("cursor");
                caught_up &= lease.is_some_and(|lease| lease.position >= last);
            }
            if caught_up {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the picture deriver or the capacity reports did not catch up with sequence {last}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Prunes the event log as the hourly retention task does.
    pub async fn prune_now(&self) {
        ohjaamo_core::log::retention::prune_once(&self.state)
            .await
            .expect("pruning the log");
    }

    /// The core's state, for tests that drive a stage below the API.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The store under the API, for tests that look at the event log.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The URL of this test's database (for tests that look at it directly).
    pub fn database_url(&self) -> String {
        self.db.as_ref().map(TestDb::url).unwrap_or_default()
    }

    /// Stops the server and its background tasks and hands back the database, for a
    /// test that starts the core over it again (a restart, an upgrade).
    pub async fn stop(mut self) -> TestDb {
        self.server.abort();
        drop(self.background.take());
        self.store.close().await;
        self.db.take().expect("the harness's database")
    }

    /// Stops the server and removes the database.
    pub async fn finish(mut self) {
        self.server.abort();
        drop(self.background.take());
        self.store.close().await;
        if let Some(db) = self.db.take() {
            db.remove().await;
        }
    }

    /// `{base}/{path}` (`{base}` itself for ""); `path` may carry a query string.
    pub fn url(&self, path: &str) -> String {
        match path.trim_start_matches('/') {
            "" => self.base.clone(),
            path => format!("{}/{path}", self.base),
        }
    }

    /// A request to `{base}/{path}`.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// A request with a FHIR JSON body.
    pub fn with_body(&self, method: Method, path: &str, body: &Value) -> RequestBuilder {
        self.request(method, path)
            .header(header::CONTENT_TYPE, FHIR_JSON)
            .body(body.to_string())
    }

    pub async fn send(&self, request: RequestBuilder) -> Resp {
        let response = request
            .send()
            .await
            .expect("the request failed to complete");
        Resp::read(response).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.request(Method::GET, path)).await
    }

    /// GET of an absolute URL (a paging link).
    pub async fn get_absolute(&self, url: &str) -> Resp {
        self.send(self.client.get(url)).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.send(self.with_body(Method::POST, path, body)).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Resp {
        self.send(self.with_body(Method::PUT, path, body)).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(self.request(Method::DELETE, path)).await
    }

    /// PUTs a resource to `Type/id` (creating or updating it); returns its version.
    pub async fn put_resource(&self, resource: &Value) -> i64 {
        let path = format!(
            "{}/{}",
            resource["resourceType"].as_str().unwrap(),
            id_of(resource)
        );
        let r = self.put(&path, resource).await;
        assert!(
            r.status == StatusCode::OK || r.status == StatusCode::CREATED,
            "PUT {path}: {} {}",
            r.status,
            r.text
        );
        r.version()
    }

    /// Stores resources (with their ids) in one transaction, asserting success.
    pub async fn seed(&self, resources: &[Value]) {
        let r = self
            .post("", &transaction(resources.iter().map(put_entry).collect()))
            .await;
        assert_eq!(r.status, StatusCode::OK, "seeding failed: {}", r.text);
    }

    /// Reads `Type/id`, asserting 200.
    pub async fn read(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "GET {path}: {}", r.text);
        r.body
    }

    /// A search with properly encoded parameters; asserts 200 and a searchset.
    pub async fn search(&self, rtype: &str, params: &[(&str, &str)]) -> Value {
        let r = self
            .send(self.client.get(self.search_url(rtype, params)))
            .await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "search {rtype}?{params:?}: {}",
            r.text
        );
        assert_eq!(r.body["type"], "searchset", "{}", r.text);
        r.body
    }

    pub fn search_url(&self, rtype: &str, params: &[(&str, &str)]) -> String {
        let mut url = url::Url::parse(&self.url(rtype)).expect("url");
        if !params.is_empty() {
            url.query_pairs_mut().extend_pairs(params);
        }
        url.to_string()
    }

    /// Asserts that a search matches exactly `expected` (ids, any order).
    pub async fn assert_search(&self, rtype: &str, params: &[(&str, &str)], expected: &[&str]) {
        let bundle = self.search(rtype, params).await;
        let found: BTreeSet<String> = match_ids(&bundle).into_iter().collect();
        let wanted: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            found, wanted,
            "{:?}: search {rtype}?{params:?} matched {found:?}, expected {wanted:?}",
            self.backend
        );
        assert_eq!(
            bundle["total"].as_u64(),
            Some(expected.len() as u64),
            "{:?}: total of {rtype}?{params:?}",
            self.backend
        );
    }

    /// The ids of the Slots on `schedules` (Schedule ids) that may overlap
    /// `[from, to]` (microseconds), as the pictures read them (`Store::scoped_during`).
    pub async fn slots_during(&self, schedules: &[&str], (from, to): (i64, i64)) -> Vec<String> {
        let scopes: Vec<String> = schedules.iter().map(|s| format!("Schedule/{s}")).collect();
        self.store
            .scoped_during(&self.tenant, ("Slot", "start"), &scopes, (from, to))
            .await
            .expect("scoped_during")
    }

    /// How many `rtype` resources a search without filters finds.
    /// Access records written after record `after` (0 for all), oldest first.
    pub async fn access_records_after(&self, after: i64) -> Vec<ohjaamo_store::StoredAccess> {
        self.store
            .access_records(&ohjaamo_store::AccessFilter {
                after_id: Some(after),
                oldest_first: true,
                limit: 1_000,
                ..ohjaamo_store::AccessFilter::default()
            })
            .await
            .expect("the access log reads")
    }

    pub async fn count(&self, rtype: &str) -> u64 {
        let b = self.search(rtype, &[("_summary", "count")]).await;
        b["total"].as_u64().expect("a total")
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        // Reached with a database only when the test panicked before `finish`.
        self.server.abort();
        if let Some(db) = self.db.take() {
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("cleanup runtime");
                runtime.block_on(db.remove());
            })
            .join()
            .ok();
        }
    }
}

/// The database a harness runs on.
pub enum TestDb {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// A new, empty database; `None` when the backend is PostgreSQL and it cannot be
    /// reached outside CI (the test is then skipped).
    pub async fn create(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => Some(TestDb::sqlite()),
            Backend::Postgres => TestDb::postgres().await,
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            TestDb::Sqlite(_) => Backend::Sqlite,
            TestDb::Postgres { .. } => Backend::Postgres,
        }
    }

    fn sqlite() -> TestDb {
        static SWEPT: AtomicBool = AtomicBool::new(false);
        if !SWEPT.swap(true, Ordering::SeqCst) {
            remove_leftover_files();
        }
        let file = std::env::temp_dir().join(format!(
            "{SQLITE_PREFIX}{}.db",
            uuid::Uuid::now_v7().simple()
        ));
        TestDb::Sqlite(file)
    }

    async fn postgres() -> Option<TestDb> {
        let admin_url = std::env::var("OHJAAMO_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
        let mut admin = match connect(&admin_url).await {
            Ok(c) => c,
            Err(e) => {
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    panic!("PostgreSQL at {admin_url} is required in CI: {e}");
                }
                // Written to the process's stderr, not through eprintln!, which the
                // test runner captures and hides for passing tests.
                static WARNED: AtomicBool = AtomicBool::new(false);
                if !WARNED.swap(true, Ordering::SeqCst) {
                    let _ = writeln!(
                        std::io::stderr(),
                        "SKIPPING PostgreSQL tests: cannot connect to {admin_url} ({e}); \
                         set OHJAAMO_TEST_POSTGRES_URL or start PostgreSQL"
                    );
                }
                return None;
            }
        };
        static SWEPT: AtomicBool = AtomicBool::new(false);
        if !SWEPT.swap(true, Ordering::SeqCst) {
            drop_leftovers(&mut admin).await;
        }
        let name = format!("{DB_PREFIX}{}", uuid::Uuid::now_v7().simple());
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        admin.close().await.ok();
        Some(TestDb::Postgres { admin_url, name })
    }

    pub fn url(&self) -> String {
        match self {
            TestDb::Sqlite(file) => format!("sqlite:{}", file.display()),
            TestDb::Postgres { admin_url, name } => {
                let mut url = url::Url::parse(admin_url).expect("OHJAAMO_TEST_POSTGRES_URL");
                url.set_path(&format!("/{name}"));
                url.to_string()
            }
        }
    }

    async fn remove(self) {
        match self {
            TestDb::Sqlite(file) => {
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let mut path = file.clone().into_os_string();
                    path.push(suffix);
                    let _ = std::fs::remove_file(path);
                }
            }
            TestDb::Postgres { admin_url, name } => match connect(&admin_url).await {
                Ok(mut admin) => {
                    if let Err(e) = drop_database(&mut admin, &name).await {
                        eprintln!("warning: cannot drop test database {name}: {e}");
                    }
                    admin.close().await.ok();
                }
                Err(e) => eprintln!("warning: cannot drop test database {name}: {e}"),
            },
        }
    }
}

async fn connect(url: &str) -> Result<PgConnection, String> {
    match tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(url)).await {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("timed out after 5 s".into()),
    }
}

async fn drop_database(admin: &mut PgConnection, name: &str) -> Result<(), sqlx::Error> {
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .await
        .map(|_| ())
}

/// When the test database named `ohjaamo_t_<uuid v7>` (or the file
/// `ohjaamo-test-<uuid v7>.db…`) was created, from the UUIDv7's timestamp.
fn created_at(hex: &str) -> Option<Duration> {
    let uuid = uuid::Uuid::try_parse(hex.get(..32)?).ok()?;
    let (secs, nanos) = uuid.get_timestamp()?.to_unix();
    Some(Duration::new(secs, nanos))
}

/// Whether something created at `created` is older than [`LEFTOVER_AGE`]; younger
/// ones may belong to a run in progress.
fn is_leftover(created: Option<Duration>) -> bool {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    created.is_some_and(|c| now.saturating_sub(c) > LEFTOVER_AGE)
}

/// Removes SQLite files of earlier runs that died before cleaning up.
fn remove_leftover_files() {
    let Ok(dir) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(SQLITE_PREFIX)) else {
            continue;
        };
        if is_leftover(created_at(rest)) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Drops test databases of earlier runs that died before cleaning up.
async fn drop_leftovers(admin: &mut PgConnection) {
    let Ok(names) = sqlx::query_scalar::<_, String>(
        "SELECT datname FROM pg_database WHERE datname LIKE 'ohjaamo\\_t\\_%'",
    )
    .fetch_all(&mut *admin)
    .await
    else {
        return;
    };
    for name in names {
        if is_leftover(name.strip_prefix(DB_PREFIX).and_then(created_at)) {
            let _ = drop_database(admin, &name).await;
        }
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    /// The body as JSON; `Null` when empty or not JSON.
    pub body: Value,
}

impl Resp {
    async fn read(response: reqwest::Response) -> Resp {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("response body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            text,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The version in the ETag (`W/"3"`).
    pub fn version(&self) -> i64 {
        let etag = self
            .header("etag")
            .unwrap_or_else(|| panic!("no ETag: {self:?}"));
        etag.trim_start_matches("W/")
            .trim_matches('"')
            .parse()
            .unwrap_or_else(|_| panic!("ETag {etag} is not a version"))
    }

    /// Asserts `status` and an OperationOutcome body with the FHIR media type;
    /// returns the diagnostics of its issues, joined.
    pub fn assert_outcome(&self, status: StatusCode) -> String {
        assert_eq!(self.status, status, "body: {}", self.text);
        assert_outcome_body(&self.body, &self.text);
        let ct = self.header("content-type").unwrap_or("");
        assert!(ct.starts_with(FHIR_JSON), "content-type {ct}");
        diagnostics(&self.body)
    }

    /// Asserts a client error (4xx) with an OperationOutcome; returns diagnostics.
    pub fn assert_client_error(&self) -> String {
        assert!(
            self.status.is_client_error(),
            "expected a 4xx, got {}: {}",
            self.status,
            self.text
        );
        self.assert_outcome(self.status)
    }
}

pub fn assert_outcome_body(body: &Value, text: &str) {
    assert_eq!(body["resourceType"], "OperationOutcome", "body: {text}");
    let issues = body["issue"].as_array().expect("OperationOutcome.issue");
    assert!(!issues.is_empty(), "an OperationOutcome without issues");
}

/// The diagnostics of an OperationOutcome's issues, joined with "; ".
pub fn diagnostics(outcome: &Value) -> String {
    outcome["issue"]
        .as_array()
        .map(|issues| {
            issues
                .iter()
                .filter_map(|i| i["diagnostics"].as_str())
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default()
}

pub fn id_of(resource: &Value) -> &str {
    resource["id"].as_str().expect("the resource has an id")
}

/// The ids of a searchset's `match` entries, in order.
pub fn match_ids(bundle: &Value) -> Vec<String> {
    entries_with_mode(bundle, "match")
        .iter()
        .map(|r| id_of(r).to_owned())
        .collect()
}

/// The resources of a searchset's entries with `search.mode` = `mode`.
pub fn entries_with_mode(bundle: &Value, mode: &str) -> Vec<Value> {
    bundle["entry"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .filter(|e| e["search"]["mode"] == mode)
                .map(|e| e["resource"].clone())
                .collect()
        })
        .unwrap_or_default()
}

/// The URL of a Bundle link, if present.
pub fn link(bundle: &Value, relation: &str) -> Option<String> {
    bundle["link"].as_array()?.iter().find_map(|l| {
        (l["relation"] == relation).then(|| l["url"].as_str().unwrap_or_default().to_owned())
    })
}
