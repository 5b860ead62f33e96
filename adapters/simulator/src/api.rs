//! The export API a pull adapter reads, `GET /truth` for tests, and test controls.
//!
//! `GET /api/v1/{stream}?jalkeen=<change>&koko=<n>` answers the records of a stream
//! changed after change number `jalkeen`, oldest first: `{"rivit": [...],
//! "seuraava": "<change>", "lisaa": true|false}`. `seuraava` is the cursor for the
//! next request; `lisaa` says whether more follow now. Deleted records come as
//! tombstones (`"poistettu": true`). Faults apply to these requests only.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::{Mutex, watch};

use crate::faults::{Dice, Faults};
use crate::feed::FeedCounts;
use crate::world::World;

const DEFAULT_PAGE: usize = 500;
const MAX_PAGE: usize = 5_000;

#[derive(Clone)]
pub struct ApiState {
    pub world: Arc<Mutex<World>>,
    pub faults: Faults,
    pub dice: Arc<Dice>,
    pub feed: Arc<FeedCounts>,
    /// Whether `POST /ohjaus/eteenpain` may move the clock (a stopped clock only).
    pub manual_clock: bool,
    /// Where the world's time is published after it moves ([`crate::Simulator::time`]).
    pub time: Arc<watch::Sender<Timestamp>>,
}

pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/api/v1/{stream}", get(export))
        .route("/truth", get(truth))
        .route("/ohjaus/tila", get(summary))
        .route("/ohjaus/nollaa-viive", post(reset_lag))
        .route("/health", get(|| async { "ok" }))
        .route("/ohjaus/eteenpain", post(advance))
        .with_state(state)
}

#[derive(Deserialize)]
struct PageQuery {
    jalkeen: Option<String>,
    koko: Option<usize>,
}

async fn export(
    State(state): State<ApiState>,
    Path(stream): Path<String>,
    Query(query): Query<PageQuery>,
) -> Response {
    let faults = state.faults;
    if faults.slow_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.slow_ms)).await;
    }
    if state.dice.roll(faults.timeout_rate) {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    if state.dice.roll(faults.http_error_rate) {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"virhe": "sisäinen virhe"})),
        )
            .into_response();
    }
    if state.dice.roll(faults.html_rate) {
        return (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<html><body><h1>Palvelu ei ole käytettävissä</h1></body></html>",
        )
            .into_response();
    }
    let after = match query.jalkeen.as_deref().map(str::parse::<u64>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"virhe": "jalkeen ei ole muutosnumero"})),
            )
                .into_response();
        }
    };
    let size = query.koko.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let page = state.world.lock().await.page(&stream, after, size);
    let Some((mut rows, last, more)) = page else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"virhe": format!("tuntematon tietovirta {stream}")})),
        )
            .into_response();
    };
    if !rows.is_empty() && state.dice.roll(faults.malformed_rate) {
        let broken = malformed(&rows[0]);
        rows.insert(0, broken);
    }
    let body = json!({
        "rivit": rows,
        "seuraava": last.unwrap_or(after).to_string(),
        "lisaa": more,
    })
    .to_string();
    if state.dice.roll(faults.half_page_rate) {
        let cut = body.len() / 2;
        let mut end = cut;
        while !body.is_char_boundary(end) {
            end -= 1;
        }
        return (
            [(header::CONTENT_TYPE, "application/json")],
            body[..end].to_owned(),
        )
            .into_response();
    }
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// A copy of `record` under a key of its own with its references and times broken:
/// what a half-migrated row of a real export looks like.
fn malformed(record: &Value) -> Value {
    let mut broken = record.clone();
    let key = format!("VIRHE-{}", record["koodi"].as_str().unwrap_or("?"));
    broken["koodi"] = json!(key);
    for field in ["yksikko", "toimipiste", "sali"] {
        if broken.get(field).is_some() {
            broken[field] = json!(42);
        }
    }
    for field in ["alkaa", "paattyy"] {
        if broken.get(field).is_some() {
            broken[field] = json!("huomenna aamulla");
        }
    }
    broken["nimi"] = Value::Null;
    broken
}

async fn truth(State(state): State<ApiState>) -> Response {
    let mut truth = state.world.lock().await.truth();
    truth["adt_syote"] = json!({
        "lahetetty": state.feed.sent.load(Ordering::Relaxed),
        "hyvaksytty": state.feed.accepted.load(Ordering::Relaxed),
        "virhe": state.feed.errors.load(Ordering::Relaxed),
        "hylatty": state.feed.rejected.load(Ordering::Relaxed),
        "uudelleen": state.feed.resent.load(Ordering::Relaxed),
    });
    Json(truth).into_response()
}

/// Where the world stands, without its records (for benchmarks).
async fn summary(State(state): State<ApiState>) -> Response {
    let mut summary = state.world.lock().await.summary();
    summary["adt_viive_ms"] = state.feed.lag_summary();
    Json(summary).into_response()
}

/// Forgets the ADT lag samples so far (a benchmark's steady phase starts clean).
async fn reset_lag(State(state): State<ApiState>) -> Response {
    state.feed.reset_lag();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct Advance {
    minuutit: i64,
}

/// Moves a stopped clock forward by `minuutit` minutes (tests script a day so).
async fn advance(State(state): State<ApiState>, Query(by): Query<Advance>) -> Response {
    if !state.manual_clock {
        return (
            StatusCode::CONFLICT,
            Json(json!({"virhe": "kello käy itsestään (--speed > 0)"})),
        )
            .into_response();
    }
    let mut world = state.world.lock().await;
    crate::life::advance_by(&mut world, by.minuutit.clamp(0, 60 * 24 * 31));
    state.time.send_replace(world.now);
    Json(json!({"aika": world.now.to_string(), "muutos": world.last_change()})).into_response()
}
