//! What the demo watches while it runs, so that it can say what changes instead of
//! logging every request: whether the core answers, which sources the core sees fed
//! (its `GET /sources`), and when to open the displays. It asks the core with the
//! demo watcher's token (its own client of the demo's issuer).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::demo::issuer::clients::ScreenUnits;
use crate::demo::service_token::ServiceToken;

/// How long the demo waits for the core, or for a source, before going on anyway.
const PATIENCE: Duration = Duration::from_secs(60);
/// Between two looks at the core's `/sources`.
const LOOK_EVERY: Duration = Duration::from_secs(2);

/// Waits until the core at `root` answers `/livez` (at most [`PATIENCE`]).
pub async fn core_answers(root: &str) {
    let client = reqwest::Client::new();
    let started = std::time::Instant::now();
    while started.elapsed() < PATIENCE {
        if client
            .get(format!("{root}/livez"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tracing::warn!(%root, "the core does not answer yet; starting the rest anyway");
}

/// Waits until the core calls source `name` fed (at most [`PATIENCE`]).
pub async fn source_delivers(root: &str, name: &str, token: &ServiceToken) {
    let client = reqwest::Client::new();
    let started = std::time::Instant::now();
    while started.elapsed() < PATIENCE {
        if sources(&client, root, token)
            .await
            .is_some_and(|s| s.get(name).is_some_and(|state| state.is_none()))
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    tracing::warn!(
        source = name,
        "the source has not delivered yet; going on anyway"
    );
}

/// Each source the core knows, and why it is stale (`None`: fed).
async fn sources(
    client: &reqwest::Client,
    root: &str,
    token: &ServiceToken,
) -> Option<BTreeMap<String, Option<String>>> {
    let body = get(client, &format!("{root}/sources"), token).await?;
    let list = body["sources"].as_array()?;
    Some(
        list.iter()
            .filter_map(|s| {
                let name = s["name"].as_str()?.to_owned();
                let stale = s["stale"].as_bool().unwrap_or(true);
                let reason = s["staleReason"].as_str().unwrap_or("stale").to_owned();
                Some((name, stale.then_some(reason)))
            })
            .collect(),
    )
}

/// Logs each source's changes between fed and stale, as the core sees them, until the
/// demo ends. A source first seen stale is not news (it has not delivered yet); one
/// first seen fed, and every change after, is.
pub async fn watch_sources(root: String, token: &ServiceToken) {
    let client = reqwest::Client::new();
    let mut known: BTreeMap<String, Option<String>> = BTreeMap::new();
    loop {
        if let Some(now) = sources(&client, &root, token).await {
            for (name, state) in now {
                let before = known.insert(name.clone(), state.clone());
                match (before, state) {
                    (Some(None), Some(reason)) => {
                        tracing::warn!(source = %name, %reason, "source stale")
                    }
                    (Some(Some(_)) | None, None) => tracing::info!(source = %name, "source fed"),
                    _ => {}
                }
            }
        }
        tokio::time::sleep(LOOK_EVERY).await;
    }
}

/// GET `url` as JSON with the watcher's token; `None` when anything fails (the
/// watcher looks again later). A refused token is forgotten, to be renewed.
async fn get(client: &reqwest::Client, url: &str, token: &ServiceToken) -> Option<Value> {
    let bearer = match token.get().await {
        Ok(t) => t,
        Err(e) => {
            tracing::debug!(error = %format!("{e:#}"), "no token for the demo's watcher yet");
            return None;
        }
    };
    let answer = client.get(url).bearer_auth(bearer).send().await.ok()?;
    if answer.status() == reqwest::StatusCode::UNAUTHORIZED {
        token.forget().await;
    }
    answer.error_for_status().ok()?.json().await.ok()
}

/// Waits until the core has the recovery unit(s), then names them in the wall
/// screen's credential (an operator provisioning the screen for its unit, done by
/// the demo because the unit's Location id is the core's, known only once the
/// adapters brought it).
pub async fn provision_screen(root: &str, token: &ServiceToken, units: &ScreenUnits) {
    let client = reqwest::Client::new();
    loop {
        let picture = get(
            &client,
            &format!("{root}/picture?kind=recovery-unit"),
            token,
        )
        .await;
        let ids: Vec<String> = picture
            .as_ref()
            .and_then(|p| p["units"].as_array())
            .map(|list| {
                list.iter()
                    .filter_map(|u| u["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if !ids.is_empty() {
            tracing::info!(units = ?ids, "the wall screen's credential names the recovery unit");
            units.set(ids);
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Opens the two displays in the desktop's browser when there is a desktop (the demo
/// is for people to look at).
pub fn open_displays(screens: &[String]) {
    let desktop = cfg!(target_os = "macos")
        || std::env::var_os("DISPLAY").is_some()
        || std::env::var_os("WAYLAND_DISPLAY").is_some();
    if !desktop {
        return;
    }
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    for url in screens {
        if let Err(e) = std::process::Command::new(opener)
            .arg(url)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
        {
            tracing::warn!(error = %e, %url, "cannot open a browser; open the address yourself");
            return;
        }
    }
}
