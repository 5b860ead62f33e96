//! `GET /picture/beds?unit=<ward>`: one ward's beds as they are now, for the bed
//! board's drill-down and for a coordinator choosing a bed to hold.
//!
//! Computed on request from the store (a ward has tens of beds), with the same reading
//! of Slots as the ward figures: a stay (`busy`) occupies its bed, a hold
//! (`busy-tentative`, or a confirmed hold `busy`) reserves it until its end, a closed
//! bed (`operationalStatus` C) is closed; a stay beats a hold. No patient data: a bed
//! says whether it is occupied and until when, never by whom.

use axum::Json;
use axum::extract::{Query, State};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use ohjaamo_picture::{Occupancy, OccupancyKind};

use crate::auth::scopes::Permission;
use crate::base::error::ApiError;
use crate::base::state::AppState;
use crate::http::context::Ctx;
use crate::http::fhir::{HELD_BY_NAME_URL, HELD_BY_URL};
use crate::picture::place_cache::{place_of, slot_occupancy};
use crate::picture::read::locations;
use crate::picture::source::Resources;
use crate::search::json::{code_of, natural_key, unit_zone};
use crate::write::holds::is_hold;

#[derive(Debug, Deserialize)]
pub struct BedsQuery {
    /// The ward's Location id.
    unit: Option<String>,
}

pub async fn handler(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<BedsQuery>,
) -> Result<Json<Value>, ApiError> {
    ctx.access.require_permission(Permission::PictureRead)?;
    ctx.access.require_unit(query.unit.as_deref())?;
    crate::audit::note::unit(query.unit.as_deref());
    let Some(unit) = query.unit.filter(|u| !u.trim().is_empty()) else {
        return Err(ApiError::BadRequest(
            "unit: the ward's Location id is required, e.g. /picture/beds?unit=ward-5".into(),
        ));
    };
    let src = Resources::Current {
        store: &state.store,
        tenant: &ctx.tenant,
    };
    let ward = locations(
        &src,
        std::slice::from_ref(&unit),
        crate::picture::ward::is_ward,
    )
    .await?
    .into_iter()
    .next()
    .map(|(_, l)| l)
    .ok_or_else(|| {
        ApiError::NotFound(format!(
            "Location/{unit} is not a ward in this organisation"
        ))
    })?;
    let now = state.config.clock.now();
    let zone = unit_zone(Some(&ward), &state.config.time_zone);
    let place_ids: Vec<String> = src
        .referring_many(
            "Location",
            "partof",
            "Location",
            std::slice::from_ref(&unit),
        )
        .await?
        .into_iter()
        .map(|(place, _)| place)
        .collect();
    let mut beds = locations(&src, &place_ids, |l| {
        code_of(l, "physicalType").iter().any(|c| c == "bd")
            && l["status"].as_str() != Some("inactive")
    })
    .await?;
    beds.sort_by(|(_, a), (_, b)| natural_key(&a["name"]).cmp(&natural_key(&b["name"])));
    let bed_ids: Vec<String> = beds.iter().map(|(id, _)| id.clone()).collect();
    let schedules = src
        .referring_many("Schedule", "actor", "Location", &bed_ids)
        .await?;
    let slots = crate::picture::read::slots_of(&src, "Location", &bed_ids, (now, now)).await?;
    let beds: Vec<Value> = beds
        .iter()
        .map(|(id, bed)| {
            let schedule = schedules
                .iter()
                .find(|(_, actor)| actor == id)
                .map(|(s, _)| format!("Schedule/{s}"));
            let of_bed: Vec<&Value> = slots
                .iter()
                .filter(|(actor, _)| actor == id)
                .map(|(_, slot)| slot)
                .collect();
            bed_now(id, bed, schedule, &of_bed, now)
        })
        .collect();
    Ok(Json(json!({
        "unit": unit,
        "name": ward["name"],
        "timeZone": zone.iana_name(),
        "time": now.to_string(),
        "beds": beds,
    })))
}

/// One bed now, from its Location and the Slots of its Schedule.
fn bed_now(
    id: &str,
    bed: &Value,
    schedule: Option<String>,
    slots: &[&Value],
    now: Timestamp,
) -> Value {
    // Read as the ward's figures read them, so that the list and the figures agree.
    let place = place_of(id, bed);
    let now_on_bed: Vec<(&Value, Occupancy)> = slots
        .iter()
        .filter_map(|slot| Some((*slot, slot_occupancy(id, slot)?)))
        .filter(|(_, o)| o.covers(now))
        .collect();
    let stay = now_on_bed
        .iter()
        .filter(|(_, o)| o.kind == OccupancyKind::Occupied)
        .map(|(_, o)| o.end)
        .max();
    let reserved = now_on_bed
        .iter()
        .any(|(_, o)| o.kind == OccupancyKind::Reserved);
    let hold = now_on_bed
        .iter()
        .map(|(slot, _)| *slot)
        .find(|slot| is_hold(slot));
    let closed = place.closed;
    let state = if stay.is_some() {
        "occupied"
    } else if closed {
        "closed"
    } else if reserved {
        "reserved"
    } else {
        "free"
    };
    json!({
        "id": id,
        "name": bed["name"],
        // The export's bed places name their room, but the mapping keeps beds part of
        // their ward only: no room to name yet.
        "room": Value::Null,
        "overCapacity": place.over_capacity,
        "closed": closed,
        "operationalStatus": bed["operationalStatus"]["code"],
        "state": state,
        "occupiedUntil": stay.map(|t| t.to_string()),
        "schedule": schedule,
        "hold": hold.map(|h| json!({
            "slot": h["id"],
            "status": h["status"],
            "start": h["start"],
            "expires": h["end"],
            "note": h["comment"],
            "versionId": h["meta"]["versionId"],
            // Who holds it (the token's sub or client id, stamped by the server) and
            // their display name when their token had one.
            "heldBy": extension_text(h, HELD_BY_URL),
            "heldByName": extension_text(h, HELD_BY_NAME_URL),
        })),
    })
}

/// The `valueString` of `resource`'s extension `url`.
fn extension_text<'a>(resource: &'a Value, url: &str) -> Option<&'a str> {
    resource["extension"]
        .as_array()?
        .iter()
        .find(|e| e["url"].as_str() == Some(url))?["valueString"]
        .as_str()
}
