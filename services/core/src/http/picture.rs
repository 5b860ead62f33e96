//! `GET /picture`: the stored unit pictures of the caller's organisation and the
//! sequence number they are as of — the snapshot a consumer starts from before it
//! applies events (docs/bus-contract.md). The live stream sends the same snapshot.

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::scopes::Permission;
use crate::base::error::ApiError;
use crate::base::state::AppState;
use crate::http::context::Ctx;

/// The unit kinds there are pictures of.
pub const KINDS: [&str; 5] = [
    crate::picture::ward::KIND,
    crate::picture::surgery::OPERATING_ROOM,
    crate::picture::surgery::RECOVERY_UNIT,
    crate::picture::resources::EQUIPMENT,
    crate::picture::resources::STAFF,
];

/// Which units a snapshot (or a stream) is about.
#[derive(Debug, Default, Deserialize)]
pub struct PictureFilter {
    /// One unit's Location id.
    pub unit: Option<String>,
    /// Picture kind (`ward`, `operating-room`, `recovery-unit`, `equipment`, `staff`).
    pub kind: Option<String>,
    /// The site (hospital, building) Location id the units are part of.
    pub site: Option<String>,
}

impl PictureFilter {
    /// Refuses a kind there are no pictures of.
    pub fn check(&self) -> Result<(), ApiError> {
        match self.kind.as_deref().filter(|k| !KINDS.contains(k)) {
            Some(kind) => Err(ApiError::BadRequest(format!(
                "kind {kind:?}: the kinds served are {}",
                KINDS.join(", ")
            ))),
            None => Ok(()),
        }
    }

    /// Whether the unit picture `body` (with its `id`, `kind`, `site`) is wanted.
    pub fn wants(&self, body: &Value) -> bool {
        let is = |wanted: &Option<String>, field: &str| {
            wanted
                .as_ref()
                .is_none_or(|w| body[field].as_str() == Some(w.as_str()))
        };
        is(&self.unit, "id") && is(&self.kind, "kind") && is(&self.site, "site")
    }
}

#[derive(Debug, Deserialize)]
pub struct PictureQuery {
    #[serde(flatten)]
    filter: PictureFilter,
    /// The picture as of a past instant, recomputed from history.
    at: Option<String>,
}

pub async fn handler(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<PictureQuery>,
) -> Result<Response, ApiError> {
    ctx.access.require_permission(Permission::PictureRead)?;
    ctx.access.require_unit(query.filter.unit.as_deref())?;
    crate::audit::note::unit(query.filter.unit.as_deref());
    let body = match &query.at {
        Some(at) => as_of(&state, &ctx.tenant, &query.filter, at).await?,
        None => snapshot(&state, &ctx.tenant, &query.filter).await?,
    };
    if let Some(unit) = &query.filter.unit
        && body["units"].as_array().is_none_or(Vec::is_empty)
    {
        return Err(ApiError::NotFound(format!(
            "Location/{unit} is not a unit with a picture in this organisation"
        )));
    }
    Ok(Json(body).into_response())
}

/// The pictures `filter` wants as of the instant `at` (an instant with its offset,
/// e.g. `2026-11-30T03:00:00+02:00`), from history.
async fn as_of(
    state: &AppState,
    tenant: &str,
    filter: &PictureFilter,
    at: &str,
) -> Result<Value, ApiError> {
    filter.check()?;
    let instant: jiff::Timestamp = at.parse().map_err(|e| {
        ApiError::BadRequest(format!(
            "at {at:?}: expected an instant with its offset, e.g. 2026-11-30T03:00:00+02:00 ({e})"
        ))
    })?;
    if instant > state.config.clock.now() {
        return Err(ApiError::BadRequest(format!(
            "at {at:?} is in the future; the picture is known up to now"
        )));
    }
    let (pictures, sequence) = crate::picture::history::pictures_at(state, tenant, instant).await?;
    let units: Vec<Value> = pictures
        .into_iter()
        .filter_map(|p| serde_json::from_str::<Value>(&p.body).ok())
        .filter(|b| filter.wants(b))
        .collect();
    Ok(json!({
        "organization": tenant,
        "at": instant.to_string(),
        "sequence": sequence,
        "timeZone": state.config.time_zone.iana_name(),
        "units": units,
    }))
}

/// The stored pictures `filter` wants, the sequence they are as of and the epoch of
/// the event log that sequence belongs to (a consumer resumes from the two together).
pub async fn snapshot(
    state: &AppState,
    tenant: &str,
    filter: &PictureFilter,
) -> Result<Value, ApiError> {
    filter.check()?;
    let (epoch, (pictures, sequence)) = state
        .store
        .within_epoch(|| state.store.pictures(tenant, filter.kind.as_deref()))
        .await?;
    let units: Vec<Value> = pictures
        .into_iter()
        .filter_map(|p| {
            let mut body: Value = serde_json::from_str(&p.body).ok()?;
            body["sequence"] = json!(p.sequence);
            Some(body)
        })
        .filter(|b| filter.wants(b))
        .collect();
    Ok(json!({
        "organization": tenant,
        "sequence": sequence,
        "epoch": epoch,
        "timeZone": state.config.time_zone.iana_name(),
        "units": units,
    }))
}
