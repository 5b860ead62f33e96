//! What the benchmarks that drive a real `ohjaamo serve` share: a database of their
//! own, the server process, a client that names the organisation, and the FHIR
//! entries they seed (a ward, its beds and Schedules, hourly Slots).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use sqlx::Connection;

/// Kills the server when the run ends, however it ends.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A fresh database `name` next to the admin URL's; returns its URL.
pub async fn create_database(admin_url: &str, name: &str) -> anyhow::Result<String> {
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .context("cannot reach PostgreSQL for the benchmark")?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name}"
    )))
    .execute(&mut admin)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await?;
    match admin_url.rsplit_once('/') {
        Some((base, _)) => Ok(format!("{base}/{name}")),
        None => bail!("admin URL has no database part"),
    }
}

pub async fn drop_database(admin_url: &str, name: &str) -> anyhow::Result<()> {
    let mut admin = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    Ok(())
}

/// Starts `binary serve` on `listen` over `db_url`, with `extra` arguments.
pub fn start_server(
    binary: &str,
    listen: &str,
    db_url: &str,
    extra: &[&str],
) -> anyhow::Result<Server> {
    // The benchmarks measure the core without authentication unless they say
    // otherwise (a variable, not a flag, so that a binary from before `--auth` starts
    // too).
    spawn_server(binary, listen, db_url, extra, &[("OHJAAMO_AUTH", "none")])
}

/// Like [`start_server`], with authentication as `extra` configures it (an issuer).
#[allow(dead_code)] // not every benchmark authenticates
pub fn start_server_authenticated(
    binary: &str,
    listen: &str,
    db_url: &str,
    extra: &[&str],
) -> anyhow::Result<Server> {
    spawn_server(binary, listen, db_url, extra, &[])
}

fn spawn_server(
    binary: &str,
    listen: &str,
    db_url: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> anyhow::Result<Server> {
    let child = Command::new(binary)
        .args(["serve", "--listen", listen, "--database-url", db_url])
        .args(extra)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .spawn()
        .with_context(|| {
            format!("cannot start {binary} (build it with cargo build --release -p ohjaamo)")
        })?;
    Ok(Server(child))
}

/// An HTTP client that names the tenant on every request, as the API requires.
#[allow(dead_code)] // `bench` sends a token too (client_with_token)
pub fn client(organization: &str) -> anyhow::Result<reqwest::Client> {
    client_with_token(organization, None)
}

/// Like [`client`], sending `token` as its bearer token when given.
pub fn client_with_token(
    organization: &str,
    token: Option<&str>,
) -> anyhow::Result<reqwest::Client> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "x-ohjaamo-organization",
        organization
            .parse()
            .context("the organization is not a valid header value")?,
    );
    if let Some(token) = token {
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {token}")
                .parse()
                .context("the token is not a valid header value")?,
        );
    }
    Ok(reqwest::Client::builder()
        .default_headers(headers)
        .build()?)
}

pub async fn wait_ready(http: &reqwest::Client, listen: &str) -> anyhow::Result<()> {
    for _ in 0..100 {
        if let Ok(r) = http.get(format!("http://{listen}/readyz")).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the server did not become ready on {listen}")
}

pub async fn post_bundle(
    http: &reqwest::Client,
    base: &str,
    kind: &str,
    entries: &[String],
) -> anyhow::Result<()> {
    let body = format!(
        r#"{{"resourceType":"Bundle","type":"{kind}","entry":[{}]}}"#,
        entries.join(",")
    );
    let response = http
        .post(base)
        .header("content-type", "application/fhir+json")
        .body(body)
        .send()
        .await?;
    let status = response.status();
    let text = response.text().await?;
    if !status.is_success() || text.contains("\"outcome\"") {
        bail!(
            "{kind} Bundle answered {status}: {}",
            &text[..text.len().min(500)]
        );
    }
    Ok(())
}

const SYSTEM: &str = "urn:oid:1.2.246.10.99999999.10.1";

pub fn location_entry(id: &str, physical: &str, part_of: Option<&str>) -> String {
    let part_of = part_of.map_or(String::new(), |p| {
        format!(r#","partOf":{{"reference":"Location/{p}"}}"#)
    });
    format!(
        r#"{{"resource":{{"resourceType":"Location","id":"{id}","status":"active","name":"{id}","physicalType":{{"coding":[{{"system":"http://terminology.hl7.org/CodeSystem/location-physical-type","code":"{physical}"}}]}}{part_of}}},"request":{{"method":"PUT","url":"Location/{id}"}}}}"#
    )
}

pub fn schedule_entry(b: usize) -> String {
    format!(
        r#"{{"resource":{{"resourceType":"Schedule","id":"sched-{b}","active":true,"actor":[{{"reference":"Location/bed-{b}"}}]}},"request":{{"method":"PUT","url":"Schedule/sched-{b}"}}}}"#
    )
}

/// Slot `n` of bed `bed`, the `hour`-th hour from 2026-01-01T00:00+02:00.
pub fn slot_entry(n: usize, bed: usize, hour: usize) -> String {
    let start = 1_767_218_400 + hour as i64 * 3600; // 2026-01-01T00:00:00+02:00
    let fmt = |s: i64| {
        jiff::Timestamp::from_second(s)
            .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default()
    };
    let status = if n.is_multiple_of(3) { "free" } else { "busy" };
    format!(
        r#"{{"resource":{{"resourceType":"Slot","identifier":[{{"system":"{SYSTEM}","value":"slot-{n}"}}],"schedule":{{"reference":"Schedule/sched-{bed}"}},"status":"{status}","start":"{}","end":"{}"}},"request":{{"method":"PUT","url":"Slot?identifier={SYSTEM}|slot-{n}"}}}}"#,
        fmt(start),
        fmt(start + 3600)
    )
}

/// Times `searches` searches of a random bed's one day, as a display or a coordinator
/// makes them: `beds` Schedules `sched-N` with hourly Slots over `days` days from
/// 2026-01-01. The latencies in ms, sorted.
#[allow(dead_code)] // not every benchmark searches
pub async fn time_bed_day_searches(
    http: &reqwest::Client,
    base: &str,
    searches: usize,
    beds: usize,
    days: usize,
) -> anyhow::Result<Vec<f64>> {
    let mut latencies = Vec::with_capacity(searches);
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let days = days.max(1);
    for _ in 0..searches {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let bed = (seed % beds as u64) as usize;
        let day = (seed / 7 % days as u64) as i64;
        let date = jiff::civil::date(2026, 1, 1)
            .checked_add(jiff::Span::new().days(day))
            .context("date out of range")?;
        let next = date.tomorrow().context("date out of range")?;
        let url =
            format!("{base}/Slot?schedule=Schedule/sched-{bed}&start=ge{date}&start=lt{next}");
        let t = std::time::Instant::now();
        let response = http.get(&url).send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        latencies.push(t.elapsed().as_secs_f64() * 1e3);
        if !status.is_success() || body.len() < 100 {
            bail!("search {url} answered {status}");
        }
    }
    latencies.sort_by(f64::total_cmp);
    Ok(latencies)
}
