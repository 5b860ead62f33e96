//! `GET /picture`: the stored unit pictures of the caller's organisation and the
//! sequence number they are as of — the snapshot a consumer starts from before it
//! applies events (docs/bus-contract.md).

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiError;
use crate::http::context::Ctx;

/// The unit kinds there are pictures of.
const KINDS: [&str; 1] = [super::ward::KIND];

#[derive(Debug, Deserialize)]
pub struct PictureQuery {
    /// One unit's Location id.
    unit: Option<String>,
    /// Unit kind (`ward`).
    kind: Option<String>,
    /// The site (hospital, building) Location id the units are part of.
    site: Option<String>,
    /// The picture as of a past instant (not served yet).
    at: Option<String>,
}

pub async fn handler(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<PictureQuery>,
) -> Result<Response, ApiError> {
    if query.at.is_some() {
        return Err(ApiError::BadRequest(
            "at: the picture as of a past instant is not served yet; without at, it is as of now"
                .into(),
        ));
    }
    if let Some(kind) = query.kind.as_deref().filter(|k| !KINDS.contains(k)) {
        return Err(ApiError::BadRequest(format!(
            "kind {kind:?}: the kinds served are {}",
            KINDS.join(", ")
        )));
    }
    let (pictures, sequence) = state
        .store
        .pictures(&ctx.tenant, query.kind.as_deref())
        .await?;
    let units: Vec<Value> = pictures
        .into_iter()
        .filter(|p| query.unit.as_ref().is_none_or(|u| *u == p.unit))
        .filter_map(|p| {
            let mut body: Value = serde_json::from_str(&p.body).ok()?;
            body["sequence"] = json!(p.sequence);
            Some(body)
        })
        .filter(|b| {
            query
                .site
                .as_ref()
                .is_none_or(|s| b["site"].as_str() == Some(s.as_str()))
        })
        .collect();
    if let Some(unit) = &query.unit
        && units.is_empty()
    {
        return Err(ApiError::NotFound(format!(
            "Location/{unit} is not a unit with a picture in this organisation"
        )));
    }
    Ok(Json(json!({
        "organization": ctx.tenant,
        "sequence": sequence,
        "timeZone": state.config.time_zone.iana_name(),
        "units": units,
    }))
    .into_response())
}
