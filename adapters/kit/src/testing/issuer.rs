//! The OIDC issuer of the adapters' authentication tests: `tests/oidc/issuer.mjs`
//! (npm's oauth2-mock-server, installed by `npm ci --prefix tests/oidc`) in a child
//! process, with its client-credentials clients registered by the test. Without node
//! or the package a test is skipped with a loud message, except under `CI=true`,
//! where it fails.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use ohjaamo_core::Config;
use ohjaamo_core::auth::settings::{AuthMode, OidcSettings};
use serde_json::{Value, json};

/// The audience the test cores expect in tokens.
pub const AUDIENCE: &str = "ohjaamo-adapters-test";

/// The issuer, running; stopped when dropped.
pub struct TestIssuer {
    /// Its URL, exactly as its tokens' `iss`.
    pub url: String,
    process: Child,
    pipe: Mutex<(ChildStdin, BufReader<ChildStdout>)>,
}

impl TestIssuer {
    /// `None` (after saying so loudly) when node or the package is missing outside CI.
    pub fn launch() -> Option<TestIssuer> {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/oidc");
        let missing = if Command::new("node").arg("--version").output().is_err() {
            Some("node")
        } else if !folder.join("node_modules/oauth2-mock-server").is_dir() {
            Some("`npm ci --prefix tests/oidc`")
        } else {
            None
        };
        if let Some(what) = missing {
            let message = format!("SKIPPED: the adapters' auth tests need {what}");
            if std::env::var("CI").is_ok_and(|ci| ci == "true") {
                panic!("{message} (CI=true)");
            }
            eprintln!("\n*** {message} ***\n");
            return None;
        }
        let mut process = Command::new("node")
            .arg(folder.join("issuer.mjs"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("node runs the issuer");
        let (Some(input), Some(output)) = (process.stdin.take(), process.stdout.take()) else {
            panic!("the issuer's pipes");
        };
        let mut output = BufReader::new(output);
        let mut hello = String::new();
        output.read_line(&mut hello).expect("the issuer starts");
        let hello: Value = serde_json::from_str(&hello).expect("the issuer's first line");
        Some(TestIssuer {
            url: hello["url"].as_str().expect("its url").to_owned(),
            process,
            pipe: Mutex::new((input, output)),
        })
    }

    /// One command to the issuer and its answer.
    fn command(&self, command: Value) -> Value {
        let mut pipe = self.pipe.lock().unwrap_or_else(|p| p.into_inner());
        let (input, output) = &mut *pipe;
        writeln!(input, "{command}").expect("the issuer reads");
        let mut line = String::new();
        output.read_line(&mut line).expect("the issuer answers");
        let answer: Value = serde_json::from_str(&line).expect("a JSON answer");
        assert!(answer.get("error").is_none(), "the issuer: {answer}");
        answer
    }

    /// Registers client `id` with `secret`: its tokens carry `claims` and live
    /// `lifetime` (unset: an hour). Registering it again changes it.
    pub fn client(&self, id: &str, secret: &str, claims: Value, lifetime: Option<Duration>) {
        let mut command = json!({ "op": "client", "id": id, "secret": secret, "claims": claims });
        if let Some(lifetime) = lifetime {
            command["expiresIn"] = json!(lifetime.as_secs());
        }
        self.command(command);
    }

    /// Every client-credentials request so far: `client`, `method`, `granted`.
    pub fn grants(&self) -> Vec<Value> {
        let answer = self.command(json!({ "op": "grants" }));
        answer["grants"].as_array().cloned().unwrap_or_default()
    }

    /// A token signed by the issuer with `claims` over its standard ones (for a
    /// token endpoint the test stands up itself).
    pub fn sign(&self, claims: Value, lifetime: Duration) -> String {
        let answer = self.command(json!({
            "op": "token", "claims": claims, "expiresIn": lifetime.as_secs(),
        }));
        answer["token"].as_str().expect("a token").to_owned()
    }

    /// A core configuration that trusts this issuer for [`AUDIENCE`], with no
    /// leeway on `exp` (an expired token is refused at once).
    pub fn core_config(&self) -> Config {
        let mut oidc = OidcSettings::new(&self.url, AUDIENCE);
        oidc.leeway = Duration::ZERO;
        oidc.jwks_min_refresh = Duration::from_secs(1);
        Config {
            auth: AuthMode::Oidc(oidc),
            ..Config::default()
        }
    }
}

impl Drop for TestIssuer {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}
