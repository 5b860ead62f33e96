//! What the end-to-end tests share: processes of the `ohjaamo` binary, a PostgreSQL
//! database of their own, free ports, waiting for a service to answer.

#![allow(dead_code)] // each test uses its own part of this

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::{Connection as _, Executor as _, PgConnection};

pub const BIN: &str = env!("CARGO_BIN_EXE_ohjaamo");

/// A process of the `ohjaamo` binary, logging to a file, killed when dropped.
pub struct Proc {
    pub name: &'static str,
    args: Vec<String>,
    log: PathBuf,
    child: Option<Child>,
}

impl Proc {
    pub fn start(name: &'static str, dir: &Path, args: Vec<String>) -> Proc {
        let mut p = Proc {
            name,
            args,
            log: dir.join(format!("{name}.log")),
            child: None,
        };
        p.spawn();
        p
    }

    pub fn spawn(&mut self) {
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(BIN)
            .args(&self.args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.name));
        self.child = Some(child);
    }

    /// SIGKILL: no graceful anything, as when a node dies.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// SIGTERM and wait until it has exited: a graceful stop, as Kubernetes does in
    /// a rolling restart.
    pub fn terminate(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(25)..].join("\n")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A database of its own on the test server, dropped afterwards.
pub struct Database {
    admin_url: String,
    pub name: String,
}

impl Database {
    pub async fn create() -> Option<Database> {
        let admin_url = std::env::var("OHJAAMO_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let mut admin = match PgConnection::connect(&admin_url).await {
            Ok(c) => c,
            Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!("CI=true and PostgreSQL is not reachable at {admin_url}: {e}")
            }
            Err(e) => {
                eprintln!(
                    "\n*** SKIPPED the end-to-end test: PostgreSQL is not reachable at {admin_url}: {e} ***\n"
                );
                return None;
            }
        };
        let name = format!(
            "ohjaamo_e2e_{}_{}",
            std::process::id(),
            jiff::Timestamp::now().as_millisecond()
        );
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .unwrap();
        Some(Database { admin_url, name })
    }

    pub fn url(&self) -> String {
        let mut url = url::Url::parse(&self.admin_url).unwrap();
        url.set_path(&self.name);
        url.to_string()
    }

    pub async fn drop_it(self) {
        if let Ok(mut admin) = PgConnection::connect(&self.admin_url).await {
            let _ = admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                )))
                .await;
        }
    }
}

pub async fn wait_for(url: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if reqwest::get(url)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not come up at {url}");
}

pub fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| (*a).to_owned()).collect()
}

/// The RabbitMQ the tests use (`OHJAAMO_TEST_AMQP_URL`, default the local broker), or
/// `None` (skipped loudly) when it does not answer outside CI.
pub fn broker_url() -> Option<String> {
    let url = std::env::var("OHJAAMO_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    let address = url
        .rsplit_once('@')
        .map_or(url.as_str(), |(_, host)| host)
        .split('/')
        .next()
        .unwrap_or("127.0.0.1:5672")
        .to_owned();
    match std::net::TcpStream::connect(&address) {
        Ok(_) => Some(url),
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true and RabbitMQ is not reachable at {address}: {e}")
        }
        Err(e) => {
            eprintln!(
                "\n*** SKIPPED the bus end-to-end test: RabbitMQ is not reachable at {address}: {e} ***\n"
            );
            None
        }
    }
}

/// A database of the test's own and the broker's URL, or `None` (skipped loudly,
/// nothing left behind) when either service is missing outside CI.
pub async fn database_and_broker() -> Option<(Database, String)> {
    let db = Database::create().await?;
    let Some(broker) = broker_url() else {
        db.drop_it().await;
        return None;
    };
    Some((db, broker))
}

/// A string no other run of a test shares: the process and the clock.
pub fn unique() -> String {
    format!(
        "{}{}",
        std::process::id(),
        jiff::Timestamp::now().as_millisecond() % 1_000_000
    )
}

/// A RabbitMQ virtual host of the test's own on the broker at `url` (made and given
/// to its user with `rabbitmqctl`), deleted with everything in it by
/// [`VirtualHost::delete`].
pub struct VirtualHost {
    pub name: String,
    /// `url` with the virtual host as its path.
    pub url: String,
}

impl VirtualHost {
    pub fn create(url: &str, name: &str) -> VirtualHost {
        let user = url::Url::parse(url)
            .map(|u| u.username().to_owned())
            .unwrap_or_default();
        let user = if user.is_empty() {
            "guest".into()
        } else {
            user
        };
        rabbitmqctl(&["add_vhost", name]);
        rabbitmqctl(&["set_permissions", "-p", name, &user, ".*", ".*", ".*"]);
        let mut with_vhost = url::Url::parse(url).expect("an AMQP URL");
        with_vhost.set_path(&format!("/{name}"));
        VirtualHost {
            name: name.to_owned(),
            url: with_vhost.to_string(),
        }
    }

    pub fn delete(self) {
        rabbitmqctl(&["delete_vhost", &self.name]);
    }
}

/// Runs `rabbitmqctl` on the local node; panics with its error when it fails.
pub fn rabbitmqctl(args: &[&str]) {
    let out = Command::new("rabbitmqctl")
        .args(args)
        .output()
        .expect("rabbitmqctl runs");
    assert!(
        out.status.success(),
        "rabbitmqctl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Starts `ohjaamo serve` as `name` on `port` over `db` with `extra` arguments, and
/// waits until it is ready.
pub async fn start_core(
    name: &'static str,
    dir: &Path,
    port: u16,
    db: &Database,
    extra: &[&str],
) -> Proc {
    let mut args = strings(&[
        "serve",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--database-url",
        &db.url(),
        "--database-max-connections",
        "8",
    ]);
    // Without an issuer unless a test gives one: serve refuses to start otherwise.
    if !extra.contains(&"--auth-issuer") {
        args.extend(strings(&["--auth", "none"]));
    }
    args.extend(strings(extra));
    let core = Proc::start(name, dir, args);
    wait_for(&format!("http://127.0.0.1:{port}/readyz"), "the core").await;
    core
}

/// Deletes a test's queue from the broker (best effort: cleanup).
pub async fn delete_queue(url: &str, queue: &str) {
    use ohjaamo_bus::lapin::options::QueueDeleteOptions;
    if let Ok(connection) = ohjaamo_bus::connect(url, "e2e cleanup", Duration::from_secs(10)).await
        && let Ok(channel) = connection.create_channel().await
    {
        let _ = channel
            .queue_delete(queue.into(), QueueDeleteOptions::default())
            .await;
        let _ = connection.close(200, "done".into()).await;
    }
}

/// Starts the reference consumer (`ohjaamo bed-reservations`) of `organization` on
/// `port`, reading `queue` and snapshots from `core`, and waits until it answers.
pub async fn start_consumer(
    dir: &Path,
    core: &str,
    organization: &str,
    bus_url: &str,
    queue: &str,
    port: u16,
) -> Proc {
    let consumer = Proc::start(
        "consumer",
        dir,
        strings(&[
            "bed-reservations",
            "--core",
            core,
            "--organization",
            organization,
            "--bus-url",
            bus_url,
            "--queue",
            queue,
            "--listen",
            &format!("127.0.0.1:{port}"),
        ]),
    );
    wait_for(&format!("http://127.0.0.1:{port}/livez"), "the consumer").await;
    consumer
}

/// A Location: ward (`wa`) or bed (`bd`), part of a ward, closed or not.
pub fn location(
    id: &str,
    physical: &str,
    part_of: Option<&str>,
    closed: bool,
) -> serde_json::Value {
    let mut l = serde_json::json!({
        "resourceType": "Location",
        "id": id,
        "name": id,
        "status": "active",
        "physicalType": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/location-physical-type",
            "code": physical,
        }]},
    });
    if let Some(ward) = part_of {
        l["partOf"] = serde_json::json!({"reference": format!("Location/{ward}")});
    }
    if closed {
        l["operationalStatus"] = serde_json::json!({"system": "http://terminology.hl7.org/CodeSystem/v2-0116", "code": "C"});
    }
    l
}

/// `GET url` for `organization` as JSON; `None` when it does not answer 2xx with JSON.
pub async fn get_json(
    http: &reqwest::Client,
    url: &str,
    organization: &str,
) -> Option<serde_json::Value> {
    let r = http
        .get(url)
        .header("X-Ohjaamo-Organization", organization)
        .send()
        .await
        .ok()?;
    r.status().is_success().then_some(())?;
    r.json().await.ok()
}

/// Signs a demo coordinator (`person`, e.g. `coordinator-hospital`) in at the demo's
/// development issuer as the bed board would — authorization code with PKCE S256
/// through the sign-in form — and returns the access token for the core at
/// `core_root`.
pub async fn demo_sign_in(issuer: &str, core_root: &str, person: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let verifier = b64.encode(rand::random::<[u8; 32]>());
    let challenge = b64.encode(sha2::Sha256::digest(verifier.as_bytes()));
    let redirect_uri = format!("{core_root}/displays/beds");
    let request = [
        ("response_type", "code"),
        ("client_id", "ohjaamo-displays"),
        ("redirect_uri", redirect_uri.as_str()),
        ("scope", "openid user/ohjaamo.picture.read user/Location.rs"),
        ("state", "test-state"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let form = |pairs: &[(&str, &str)]| {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    };
    let page = http
        .get(format!("{issuer}/authorize?{}", form(&request)))
        .send()
        .await
        .expect("the demo issuer answers");
    assert!(
        page.status().is_success(),
        "the sign-in page: {}",
        page.status()
    );
    let mut chosen: Vec<(&str, &str)> = request.to_vec();
    chosen.push(("person", person));
    let urlencoded = "application/x-www-form-urlencoded";
    let back = http
        .post(format!("{issuer}/authorize"))
        .header("content-type", urlencoded)
        .body(form(&chosen))
        .send()
        .await
        .unwrap();
    let location = back.headers()["location"].to_str().unwrap().to_owned();
    let location = url::Url::parse(&location).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no code in {location}"));
    let answer = http
        .post(format!("{issuer}/token"))
        .header("content-type", urlencoded)
        .body(form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("client_id", "ohjaamo-displays"),
            ("code_verifier", verifier.as_str()),
        ]))
        .send()
        .await
        .expect("the demo issuer's token endpoint answers");
    let tokens: serde_json::Value = answer.json().await.expect("a JSON token answer");
    tokens["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access token: {tokens}"))
        .to_owned()
}

/// The FHIR API of the core replicas under test, for one organisation: writes take
/// turns between the replicas and go to the next while one is down, starting or
/// stopping (the tests kill them on purpose). Sending again is safe: a PUT with the
/// same content is a no-op, a DELETE again answers 2xx or 404.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    bases: std::sync::Arc<Vec<String>>,
    turn: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    organization: String,
}

impl Api {
    /// `bases` are the replicas' FHIR base URLs.
    pub fn new(bases: Vec<String>, organization: &str) -> Api {
        Api {
            http: reqwest::Client::new(),
            bases: std::sync::Arc::new(bases),
            turn: Default::default(),
            organization: organization.to_owned(),
        }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let turn = self.turn.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let base = &self.bases[turn % self.bases.len()];
            let mut request = self
                .http
                .request(method.clone(), format!("{base}/{path}"))
                .header("X-Ohjaamo-Organization", &self.organization)
                .timeout(Duration::from_secs(10));
            if let Some(body) = body {
                request = request.json(body);
            }
            match request.send().await {
                Ok(r)
                    if r.status().is_success() || r.status() == reqwest::StatusCode::NOT_FOUND =>
                {
                    return;
                }
                Ok(r) if r.status().is_client_error() => panic!(
                    "{method} {path}: {} {}",
                    r.status(),
                    r.text().await.unwrap_or_default()
                ),
                _ if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await
                }
                other => panic!("{method} {path}: no replica answered: {other:?}"),
            }
        }
    }

    pub async fn put(&self, resource: &serde_json::Value) {
        let path = format!(
            "{}/{}",
            resource["resourceType"].as_str().unwrap(),
            resource["id"].as_str().unwrap()
        );
        self.send(reqwest::Method::PUT, &path, Some(resource)).await;
    }
}
