//! `GET /picture`: the figures of each ward, from the stored Locations and the Slots
//! of their places' Schedules (the beds' occupancy the core derives from stays, and
//! holds), as of now in the core's time zone.
//!
//! This first form computes on request and serves ward figures only; the sequence
//! number, other unit kinds, incremental recomputation and `?at=` come with the
//! outbox (issue 4). The arithmetic is `ohjaamo-picture`'s.

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use ohjaamo_picture::{Occupancy, OccupancyKind, Place, ward_figures};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiError;
use crate::http::context::Ctx;

#[derive(Debug, Deserialize)]
pub struct PictureQuery {
    /// One ward's Location id.
    unit: Option<String>,
    /// Unit kind; `ward` is the one served so far.
    kind: Option<String>,
    /// The picture as of a past instant (not served yet).
    at: Option<String>,
}

fn code_of(resource: &Value, element: &str) -> Vec<String> {
    let value = &resource[element];
    let codings = value["coding"]
        .as_array()
        .cloned()
        .or_else(|| {
            value.as_array().map(|concepts| {
                concepts
                    .iter()
                    .flat_map(|c| c["coding"].as_array().cloned().unwrap_or_default())
                    .collect()
            })
        })
        .unwrap_or_default();
    let mut codes: Vec<String> = codings
        .iter()
        .filter_map(|c| c["code"].as_str().map(str::to_owned))
        .collect();
    if let Some(code) = value["code"].as_str() {
        codes.push(code.to_owned()); // a bare Coding (operationalStatus)
    }
    codes
}

fn parse(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok()
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
    if let Some(kind) = query.kind.as_deref().filter(|k| *k != "ward") {
        return Err(ApiError::BadRequest(format!(
            "kind {kind:?}: only ward figures are served so far"
        )));
    }
    let store = &state.store;
    let tenant = ctx.tenant.as_str();
    let ward_ids = match &query.unit {
        Some(unit) => vec![unit.clone()],
        None => {
            store
                .ids_by_token(tenant, "Location", "physical-type", None, "wa")
                .await?
        }
    };
    let wards: Vec<(String, Value)> = store
        .read_many(tenant, "Location", &ward_ids)
        .await?
        .into_iter()
        .filter_map(|v| Some((v.id, parse(&v.content)?)))
        .filter(|(_, l)| code_of(l, "physicalType").iter().any(|c| c == "wa"))
        .collect();
    if let Some(unit) = &query.unit
        && wards.is_empty()
    {
        return Err(ApiError::NotFound(format!(
            "Location/{unit} is not a ward of this organisation"
        )));
    }
    let ids: Vec<String> = wards.iter().map(|(id, _)| id.clone()).collect();
    let place_links = store
        .referring_many(tenant, "Location", "partof", "Location", &ids)
        .await?;
    let place_ids: Vec<String> = place_links.iter().map(|(p, _)| p.clone()).collect();
    let places: Vec<(String, Value)> = store
        .read_many(tenant, "Location", &place_ids)
        .await?
        .into_iter()
        .filter_map(|v| Some((v.id, parse(&v.content)?)))
        .filter(|(_, l)| code_of(l, "physicalType").iter().any(|c| c == "bd"))
        .collect();
    let bed_ids: Vec<String> = places.iter().map(|(id, _)| id.clone()).collect();
    let schedules = store
        .referring_many(tenant, "Schedule", "actor", "Location", &bed_ids)
        .await?;
    let schedule_ids: Vec<String> = schedules.iter().map(|(s, _)| s.clone()).collect();
    let slot_links = store
        .referring_many(tenant, "Slot", "schedule", "Schedule", &schedule_ids)
        .await?;
    let slot_ids: Vec<String> = slot_links.iter().map(|(s, _)| s.clone()).collect();
    let slots = store.read_many(tenant, "Slot", &slot_ids).await?;

    let place_of_schedule = |schedule: &str| {
        schedules
            .iter()
            .find(|(s, _)| s == schedule)
            .map(|(_, place)| place.clone())
    };
    let mut occupancy = Vec::new();
    for slot in slots {
        let Some(slot) = parse(&slot.content) else {
            continue;
        };
        let kind = match slot["status"].as_str() {
            Some("busy") => OccupancyKind::Occupied,
            Some("busy-tentative") => OccupancyKind::Reserved,
            _ => continue,
        };
        let schedule = slot["schedule"]["reference"]
            .as_str()
            .and_then(|r| r.strip_prefix("Schedule/"));
        let (Some(place), Some(start), Some(end)) = (
            schedule.and_then(place_of_schedule),
            slot["start"]
                .as_str()
                .and_then(|s| s.parse::<Timestamp>().ok()),
            slot["end"]
                .as_str()
                .and_then(|s| s.parse::<Timestamp>().ok()),
        ) else {
            continue;
        };
        occupancy.push(Occupancy {
            place,
            kind,
            start,
            end,
        });
    }

    let now = Timestamp::now();
    let zone = &state.config.time_zone;
    let units: Vec<Value> = wards
        .iter()
        .map(|(ward_id, ward)| {
            let in_ward: Vec<Place> = places
                .iter()
                .filter(|(id, _)| place_links.iter().any(|(p, w)| p == id && w == ward_id))
                .map(|(id, l)| Place {
                    id: id.clone(),
                    over_capacity: code_of(l, "type").iter().any(|c| c == "over-capacity"),
                    closed: code_of(l, "operationalStatus").iter().any(|c| c == "C"),
                })
                .collect();
            json!({
                "id": ward_id,
                "name": ward["name"],
                "kind": "ward",
                "figures": ward_figures(&in_ward, &occupancy, now, zone),
            })
        })
        .collect();
    Ok(Json(json!({
        "asOf": now.to_string(),
        "timeZone": zone.iana_name(),
        "units": units,
    }))
    .into_response())
}
