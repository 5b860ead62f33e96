//! Starting the benchmarks' processes and waiting for them: shared by
//! `bench_sources` and its FHIR source load.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::Value;

/// A child process, killed when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn start(binary: &str, args: &[&str], log: &str) -> anyhow::Result<Proc> {
    let file = std::fs::File::create(log)?;
    let child = Command::new(binary)
        .args(args)
        .env("RUST_LOG", "warn")
        // The benchmarks measure the core without authentication (a variable, not a
        // flag, so that a binary from before `--auth` starts too).
        .env("OHJAAMO_AUTH", "none")
        .stdout(Stdio::from(file.try_clone()?))
        .stderr(Stdio::from(file))
        .spawn()
        .with_context(|| {
            format!("cannot start {binary} (build it with cargo build --release -p ohjaamo)")
        })?;
    Ok(Proc(child))
}

pub async fn get_json(http: &reqwest::Client, url: &str) -> anyhow::Result<Value> {
    Ok(http
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

pub async fn wait_up(http: &reqwest::Client, url: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if http
            .get(url)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("{url} did not come up")
}
