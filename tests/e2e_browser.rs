//! The web displays in a real browser, across processes: the core (`ohjaamo serve` on
//! a SQLite file), the simulator on a stopped clock and both adapters, then the
//! browser tests (`node --test tests/browser/`: Debian's headless Chromium driven by
//! playwright-core) against them — the recovery screen and the bed board equal
//! `/picture`, a simulator change is on screen within a second, reconnecting and
//! resync, holds with their 409, 412 and expiry, and the bed board read without
//! scrolling sideways on a laptop (1280×800) and a tablet (800×1100).
//!
//! Needs `node`, Chromium (`$CHROMIUM` or `/usr/bin/chromium`) and
//! `tests/browser/node_modules` (`npm ci --prefix tests/browser`); without them the
//! test is skipped loudly, or fails when `CI=true`.
//!
//! A second stack is `ohjaamo demo` itself — the core with authentication on and the
//! demo's development issuer — for the sign-in (`tests/browser/signin.mjs`): a
//! coordinator through the real redirect with PKCE, their name on the board and on
//! the bed they hold, signing out; the wall screen with its own credential.
//!
//! `OHJAAMO_SCREENSHOTS=1` also writes `docs/screenshots/recovery.png`,
//! `docs/screenshots/beds.png` (1920×1080) and `beds-laptop.png` (1280×800) after the
//! simulator has lived a busy morning:
//! `OHJAAMO_SCREENSHOTS=1 cargo test -p ohjaamo --test e2e_browser -- screenshots`.
//! The pictures are computed against the wall clock, and theatres are busy in the
//! daytime; outside 10–16 Helsinki time the stack runs under libfaketime (`apt-get
//! install faketime`) shifted to 13.10 that day when it is installed.

mod support;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp, ToSpan as _};
use serde_json::Value;
use support::*;

const FAKETIME_LIB: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Whether node, Chromium and the test's node_modules are there; `None` (after a loud
/// message) when not, or a panic under `CI=true`.
fn browser_tools() -> Option<()> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let node = Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success());
    let mut missing = Vec::new();
    if node.is_none() {
        missing.push("node".to_owned());
    }
    if !Path::new(&chromium).exists() {
        missing.push(format!("Chromium at {chromium} (apt-get install chromium)"));
    }
    if !root()
        .join("tests/browser/node_modules/playwright-core")
        .exists()
    {
        missing.push("tests/browser/node_modules (npm ci --prefix tests/browser)".to_owned());
    }
    if missing.is_empty() {
        return Some(());
    }
    let missing = missing.join(", ");
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI=true and the browser tests cannot run: missing {missing}");
    }
    eprintln!("\n*** SKIPPED the browser tests: missing {missing} ***\n");
    None
}

/// A process of the `ohjaamo` binary with environment of its own (the shared
/// `support::Proc` takes none; a faked clock needs `LD_PRELOAD` and `FAKETIME`),
/// logging to a file, killed when dropped.
struct Process {
    name: &'static str,
    log: PathBuf,
    child: Child,
}

impl Process {
    fn start(name: &'static str, dir: &Path, args: &[String], env: &[(String, String)]) -> Process {
        let log = dir.join(format!("{name}.log"));
        let file = File::create(&log).unwrap();
        let child = Command::new(BIN)
            .args(args)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("RUST_LOG", "info")
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Process { name, log, child }
    }

    fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The core, the simulator and both adapters on free ports.
struct Stack {
    dir: PathBuf,
    core: String,
    sim: String,
    processes: Vec<Process>,
    /// More environment for the browser tests (the demo's issuer and screen address).
    env: Vec<(String, String)>,
}

impl Stack {
    /// Starts everything with the simulator's clock stopped at `start` (now when
    /// `None`) and every process's clock shifted by `shift` (libfaketime) when given.
    async fn start(name: &str, start: Option<Timestamp>, shift: Option<SignedDuration>) -> Stack {
        let dir = std::env::temp_dir().join(format!(
            "ohjaamo-e2e-browser-{name}-{}-{}",
            std::process::id(),
            Timestamp::now().as_millisecond()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let (core_port, sim_port, mllp_port) = (free_port(), free_port(), free_port());
        let (adt_admin, pull_admin) = (free_port(), free_port());
        let core = format!("http://127.0.0.1:{core_port}");
        let sim = format!("http://127.0.0.1:{sim_port}");
        let env: Vec<(String, String)> = match shift {
            Some(shift) => vec![
                ("LD_PRELOAD".into(), FAKETIME_LIB.into()),
                ("FAKETIME".into(), format!("{:+}", shift.as_secs())),
                ("FAKETIME_DONT_FAKE_MONOTONIC".into(), "1".into()),
                ("FAKETIME_NO_CACHE".into(), "1".into()),
            ],
            None => vec![],
        };
        let db = dir.join("core.db");
        let mut processes = vec![Process::start(
            "core",
            &dir,
            &strings(&[
                "serve",
                "--listen",
                &format!("127.0.0.1:{core_port}"),
                "--database-url",
                &format!("sqlite:{}", db.display()),
                "--picture-refresh-seconds",
                "1",
                "--auth",
                "none",
            ]),
            &env,
        )];
        wait_for(&format!("{core}/readyz"), "the core").await;
        let mut sim_args = strings(&[
            "simulate",
            "--listen",
            &format!("127.0.0.1:{sim_port}"),
            "--speed",
            "0",
            "--seed",
            "3",
            "--adt-target",
            &format!("127.0.0.1:{mllp_port}"),
        ]);
        if let Some(start) = start {
            sim_args.extend(strings(&["--start", &start.to_string()]));
        }
        processes.push(Process::start("simulator", &dir, &sim_args, &env));
        wait_for(&format!("{sim}/health"), "the simulator").await;
        let fhir = format!("{core}/fhir");
        processes.push(Process::start(
            "adt",
            &dir,
            &strings(&[
                "adapter-adt",
                "--listen",
                &format!("127.0.0.1:{mllp_port}"),
                "--core",
                &fhir,
                "--admin-listen",
                &format!("127.0.0.1:{adt_admin}"),
                "--quarantine-file",
                dir.join("adt-quarantine.jsonl").to_str().unwrap(),
            ]),
            &env,
        ));
        processes.push(Process::start(
            "pull",
            &dir,
            &strings(&[
                "adapter-pull",
                "--export",
                &sim,
                "--core",
                &fhir,
                "--poll-interval",
                "0.25",
                "--cursor-file",
                dir.join("cursor.json").to_str().unwrap(),
                "--quarantine-file",
                dir.join("pull-quarantine.jsonl").to_str().unwrap(),
                "--admin-listen",
                &format!("127.0.0.1:{pull_admin}"),
            ]),
            &env,
        ));
        let stack = Stack {
            dir,
            core,
            sim,
            processes,
            env: Vec::new(),
        };
        stack.settle("the core to have the hospital").await;
        stack
    }

    async fn get(&self, url: &str) -> Value {
        match reqwest::get(url).await {
            Ok(r) if r.status().is_success() => r.json().await.unwrap_or(Value::Null),
            _ => Value::Null,
        }
    }

    /// Waits until the simulator's feed is sent and the core's picture has the
    /// hospital (a recovery unit with bays and theatres, wards with patients) and has
    /// stopped changing for a moment.
    async fn settle(&self, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(180);
        let mut last = (Value::Null, Instant::now());
        while Instant::now() < deadline {
            let status = self.get(&format!("{}/ohjaus/tila", self.sim)).await;
            let picture = self.get(&format!("{}/picture", self.core)).await;
            let units = picture["units"].as_array().cloned().unwrap_or_default();
            let of = |kind: &'static str| units.iter().filter(move |u| u["kind"] == kind);
            let has_hospital = of("recovery-unit").any(|u| {
                u["figures"]["baysTotal"].as_u64().unwrap_or(0) > 0
                    && u["figures"]["theatres"]
                        .as_array()
                        .is_some_and(|t| !t.is_empty())
            }) && of("ward")
                .filter(|u| u["figures"]["patients"].as_u64().unwrap_or(0) > 0)
                .count()
                >= 2
                && of("operating-room").count() >= 1;
            let sent = status["lahettamatta_adt"] == 0;
            if has_hospital && sent {
                let figures: std::collections::BTreeMap<String, Value> = units
                    .iter()
                    .map(|u| {
                        (
                            format!("{}|{}", u["kind"], u["id"]),
                            in_order(&u["figures"]),
                        )
                    })
                    .collect();
                let now = serde_json::to_value(&figures).unwrap();
                if now != last.0 {
                    last = (now, Instant::now());
                } else if last.1.elapsed() > Duration::from_secs(2) {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        self.dump();
        panic!(
            "timed out waiting for {what}; the picture last changed {:?} ago",
            last.1.elapsed()
        );
    }

    /// Moves the simulator on `minutes`, half an hour at a time.
    async fn live(&self, minutes: i64) {
        let http = reqwest::Client::new();
        let mut left = minutes;
        while left > 0 {
            let step = left.min(30);
            let r = http
                .post(format!("{}/ohjaus/eteenpain?minuutit={step}", self.sim))
                .send()
                .await
                .expect("the simulator answers");
            assert!(r.status().is_success(), "the simulator moves on");
            left -= step;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        self.settle("the core to catch up with the simulator").await;
    }

    fn dump(&self) {
        eprintln!("files are kept in {}", self.dir.display());
        for p in &self.processes {
            eprintln!("--- {} ---\n{}", p.name, p.tail());
        }
    }

    /// Runs `node` with `args` in the workspace against this stack, printing its
    /// output; whether it exited 0.
    async fn node(&self, args: &[&str], timeout: Duration) -> bool {
        let out = self
            .dir
            .join(format!("node-{}.log", args.join("_").replace('/', "_")));
        let file = File::create(&out).unwrap();
        let mut child = Command::new("node")
            .args(args)
            .current_dir(root())
            .env("OHJAAMO_URL", &self.core)
            .env("OHJAAMO_SIM_URL", &self.sim)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file))
            .spawn()
            .expect("node starts");
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let output = std::fs::read_to_string(&out).unwrap_or_default();
        eprintln!("--- node {} ---\n{output}", args.join(" "));
        match status {
            Some(s) if s.success() => true,
            Some(s) => {
                eprintln!("node {} exited with {s}", args.join(" "));
                self.dump();
                false
            }
            None => {
                eprintln!("node {} did not finish within {timeout:?}", args.join(" "));
                self.dump();
                false
            }
        }
    }
}

/// `figures` with its lists of ids or of objects with ids (a recovery unit's
/// `theatres` and `bays`) sorted, so that their order does not count as a change.
fn in_order(figures: &Value) -> Value {
    let mut figures = figures.clone();
    if let Some(map) = figures.as_object_mut() {
        for list in map.values_mut().filter_map(Value::as_array_mut) {
            list.sort_by_key(|v| v.get("id").unwrap_or(v).to_string());
        }
    }
    figures
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.processes.clear();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_displays_in_a_real_browser() {
    if browser_tools().is_none() {
        return;
    }
    // The simulator's clock starts at now and stands still: the tests move it.
    let stack = Stack::start("tests", None, None).await;
    let passed = stack
        .node(&["--test", "tests/browser/"], Duration::from_secs(600))
        .await;
    assert!(passed, "the browser tests failed (their output is above)");
}

impl Stack {
    /// `ohjaamo demo` on free ports as people run it (a simulated minute a second: the
    /// demo's core follows the simulator's clock minute by minute, so a hold made
    /// "now" by the page shows within a second; with the clock stopped it would start
    /// in the core's future for good), once its adapters have delivered and its wall
    /// screen's credential names the recovery unit.
    async fn demo() -> Stack {
        let dir = std::env::temp_dir().join(format!(
            "ohjaamo-e2e-browser-demo-{}-{}",
            std::process::id(),
            Timestamp::now().as_millisecond()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let ports = [free_port(), free_port(), free_port(), free_port()];
        let [core, sim, mllp, issuer] = ports.map(|p| format!("127.0.0.1:{p}"));
        let demo = Process::start(
            "demo",
            &dir,
            &strings(&[
                "demo",
                "--no-open",
                "--dir",
                dir.to_str().unwrap(),
                "--listen",
                &core,
                "--simulator-listen",
                &sim,
                "--mllp-listen",
                &mllp,
                "--issuer-listen",
                &issuer,
            ]),
            &[],
        );
        let mut stack = Stack {
            dir,
            core: format!("http://{core}"),
            sim: format!("http://{sim}"),
            processes: vec![demo],
            env: vec![("OHJAAMO_ISSUER_URL".into(), format!("http://{issuer}"))],
        };
        let deadline = Instant::now() + Duration::from_secs(180);
        let log = stack.processes[0].log.clone();
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let screen = text
                .split_whitespace()
                .find(|w| w.contains("/displays/recovery#screen_client="));
            let ready = text.contains("the wall screen's credential names the recovery unit")
                && text.contains("source fed")
                && text.matches("source fed").count() >= 2;
            if let (Some(screen), true) = (screen, ready) {
                stack
                    .env
                    .push(("OHJAAMO_SCREEN_URL".into(), screen.to_owned()));
                return stack;
            }
            if Instant::now() > deadline {
                stack.dump();
                panic!("the demo did not come up with its adapters fed and its screen provisioned");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_at_the_demo() {
    if browser_tools().is_none() {
        return;
    }
    let stack = Stack::demo().await;
    let passed = stack
        .node(
            &["--test", "tests/browser/signin.mjs"],
            Duration::from_secs(300),
        )
        .await;
    assert!(
        passed,
        "the sign-in browser tests failed (their output is above)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screenshots() {
    if !std::env::var("OHJAAMO_SCREENSHOTS").is_ok_and(|v| v == "1") {
        eprintln!("screenshots: set OHJAAMO_SCREENSHOTS=1 to write docs/screenshots/*.png");
        return;
    }
    if browser_tools().is_none() {
        return;
    }
    // The pictures follow the wall clock: a busy morning needs the clock in the
    // daytime. Shift every process's clock to 13.10 Helsinki time when it is not
    // (and libfaketime is there).
    let zone = jiff::tz::TimeZone::get("Europe/Helsinki").unwrap();
    let wall = Timestamp::now();
    let local = wall.to_zoned_datetime(zone.clone());
    let shift = if (10..16).contains(&local.hour()) {
        None
    } else if Path::new(FAKETIME_LIB).exists() {
        let target = local
            .with()
            .hour(13)
            .minute(10)
            .second(0)
            .subsec_nanosecond(0)
            .build()
            .unwrap()
            .timestamp();
        Some(target.duration_since(wall))
    } else {
        eprintln!(
            "\n*** screenshots: it is {} in Helsinki and libfaketime ({FAKETIME_LIB}) is not installed; the theatres are quiet at this hour ***\n",
            local.strftime("%H:%M")
        );
        None
    };
    let now = shift.map_or(wall, |s| wall.checked_add(s).unwrap());
    // The day from about 06.10 local: the first cases, recovery filling up, patients
    // leaving to the wards and waiting for beds.
    let lived: i64 = 420;
    let start = now.checked_sub(lived.minutes()).unwrap();
    let stack = Stack::start("screenshots", Some(start), shift).await;
    stack.live(lived).await;
    let passed = stack
        .node(&["tests/browser/screenshots.mjs"], Duration::from_secs(180))
        .await;
    assert!(passed, "the screenshot script failed (its output is above)");
    for name in ["recovery.png", "beds.png", "beds-laptop.png"] {
        let path = root().join("docs/screenshots").join(name);
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        assert!(
            size > 10_000,
            "{} was written ({size} bytes)",
            path.display()
        );
    }
}
