//! `bench_sources --fhir-source`: the FHIR source adapter's initial load of the
//! hospital the benchmark has just synced, from that core (the upstream, searched
//! with paged `_count` reads and its `next` links) into a second core on a fresh
//! database of its own. The figure is records per second: every resource the
//! adapter read and settled (stored, or skipped as the upstream's derived occupancy
//! Slots) over the time from starting the adapter until every stream (five types and
//! their histories) has been read to its end once.

use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::Value;
use sqlx::Connection as _;

use super::proc_stats::cpu_seconds;
use super::procs::{get_json, start, wait_up};

/// The organisation the benchmark writes and reads as.
const ORGANIZATION: &str = "1.2.246.10.1234567";
const DOWNSTREAM: &str = "127.0.0.1:18280";
const FHIR_ADMIN: &str = "127.0.0.1:19184";

/// What one load measured.
pub struct FhirLoad {
    pub seconds: f64,
    pub records: u64,
    pub quarantined: u64,
    /// CPU seconds: the upstream core, the second core, the adapter.
    pub cpu: [f64; 3],
}

impl FhirLoad {
    pub fn per_second(&self) -> f64 {
        self.records as f64 / self.seconds
    }
}

/// Where the load reads from and how.
pub struct Setup<'a> {
    pub binary: &'a str,
    pub admin_url: &'a str,
    /// The upstream core's database; the second core's is `<it>_down`.
    pub db_url: &'a str,
    pub dir: &'a std::path::Path,
    /// The upstream core's FHIR base (`http://addr/fhir`) and its process.
    pub upstream: &'a str,
    pub upstream_pid: u32,
    pub page_size: usize,
    pub push_concurrency: usize,
}

/// Loads the upstream core into a second core on a database of its own.
pub async fn measure(setup: &Setup<'_>) -> anyhow::Result<FhirLoad> {
    let down_url = format!("{}_down", setup.db_url);
    let down_db = down_url.rsplit_once('/').map_or("", |(_, n)| n).to_owned();
    let mut admin = sqlx::PgConnection::connect(setup.admin_url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {down_db}")))
        .execute(&mut admin)
        .await?;
    let result = load(setup, &down_url).await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {down_db} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    result
}

async fn load(setup: &Setup<'_>, down_url: &str) -> anyhow::Result<FhirLoad> {
    let Setup {
        binary,
        dir,
        upstream,
        upstream_pid,
        page_size,
        push_concurrency,
        ..
    } = *setup;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let log = |name: &str| dir.join(format!("{name}.log")).display().to_string();
    let path = |name: &str| dir.join(name).display().to_string();
    let down = start(
        binary,
        &["serve", "--listen", DOWNSTREAM, "--database-url", down_url],
        &log("core-down"),
    )?;
    wait_up(&http, &format!("http://{DOWNSTREAM}/readyz")).await?;
    let header = format!("X-Ohjaamo-Organization: {ORGANIZATION}");
    let core = format!("http://{DOWNSTREAM}/fhir");
    let (page, concurrency) = (page_size.to_string(), push_concurrency.to_string());
    let (cursor, quarantine, export) = (
        path("fhir-cursor.json"),
        path("fhir-quarantine.jsonl"),
        path("fhir-export"),
    );
    let upstream_before = cpu_seconds(upstream_pid);
    let down_before = cpu_seconds(down.0.id());
    let started = Instant::now();
    let adapter = start(
        binary,
        &[
            "adapter-fhir-source",
            "--upstream",
            upstream,
            "--upstream-header",
            &header,
            "--core",
            &core,
            "--organization",
            ORGANIZATION,
            "--initial-load",
            "search",
            "--page-size",
            &page,
            "--push-concurrency",
            &concurrency,
            "--poll-interval",
            "3600",
            "--retry-max",
            "2",
            "--cursor-file",
            &cursor,
            "--quarantine-file",
            &quarantine,
            "--export-dir",
            &export,
            "--admin-listen",
            FHIR_ADMIN,
        ],
        &log("fhir-source"),
    )?;
    let status_url = format!("http://{FHIR_ADMIN}/status");
    let deadline = Instant::now() + Duration::from_secs(1800);
    let status = loop {
        if Instant::now() > deadline {
            bail!(
                "the FHIR source's initial load did not finish in 30 minutes; see {}",
                dir.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let Ok(status) = get_json(&http, &status_url).await else {
            continue;
        };
        let streams = status["streams"].as_object().cloned().unwrap_or_default();
        if streams.len() == 10 && streams.values().all(|s| !s["lastSuccess"].is_null()) {
            break status;
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    let cpu = [
        cpu_seconds(upstream_pid) - upstream_before,
        cpu_seconds(down.0.id()) - down_before,
        cpu_seconds(adapter.0.id()),
    ];
    let sum = |field: &str| -> u64 {
        status["streams"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(_, s): (&String, &Value)| s[field].as_u64().unwrap_or(0))
            .sum()
    };
    let records = sum("recordsStored") + sum("recordsQuarantined");
    if records == 0 {
        bail!("the FHIR source read nothing; see {}", log("fhir-source"));
    }
    Ok(FhirLoad {
        seconds,
        records,
        quarantined: sum("recordsQuarantined"),
        cpu,
    })
}
