//! The picture as of a past instant (`GET /picture?at=`), recomputed from the history:
//! every Location, Schedule and Slot as it was then, and the figures at that instant in
//! the core's time zone — what a coordinator saw on the screen at 03:00 last night.
//!
//! It reads the types' whole history up to the instant, so it costs what the history
//! holds; it answers questions after the fact, not displays.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use ohjaamo_store::{PictureUpdate, StoreError};

use super::json::{code_of, parse, references};
use super::ward::{WardInputs, ward_pictures_of};
use crate::AppState;

/// The ward pictures of `tenant` as of `at`, and the last sequence committed by then
/// (`None` when the log no longer reaches back that far).
pub async fn ward_pictures_at(
    state: &AppState,
    tenant: &str,
    at: Timestamp,
) -> Result<(Vec<PictureUpdate>, Option<i64>), StoreError> {
    let store = &state.store;
    let micros = at.as_microsecond();
    let as_of = |rtype: &'static str| async move {
        Ok::<_, StoreError>(
            store
                .versions_as_of(tenant, rtype, micros)
                .await?
                .into_iter()
                .filter_map(|v| Some((v.id, parse(&v.content)?)))
                .collect::<Vec<_>>(),
        )
    };
    let locations = as_of("Location").await?;
    let is =
        |l: &serde_json::Value, code: &str| code_of(l, "physicalType").iter().any(|c| c == code);
    let wards: Vec<_> = locations
        .iter()
        .filter(|(_, l)| super::ward::is_ward(l))
        .cloned()
        .collect();
    let ward_ids: HashSet<&str> = wards.iter().map(|(id, _)| id.as_str()).collect();
    let mut place_links = Vec::new();
    let mut places = Vec::new();
    for (id, location) in &locations {
        let Some(ward) = references(location, "partOf", "Location")
            .into_iter()
            .find(|w| ward_ids.contains(w.as_str()))
        else {
            continue;
        };
        if is(location, "bd") {
            place_links.push((id.clone(), ward));
            places.push((id.clone(), location.clone()));
        }
    }
    let place_ids: HashSet<&str> = places.iter().map(|(id, _)| id.as_str()).collect();
    let mut schedules = Vec::new();
    for (id, schedule) in as_of("Schedule").await? {
        if let Some(place) = references(&schedule, "actor", "Location")
            .into_iter()
            .find(|p| place_ids.contains(p.as_str()))
        {
            schedules.push((id, place));
        }
    }
    let schedule_ids: HashMap<&str, ()> = schedules.iter().map(|(s, _)| (s.as_str(), ())).collect();
    let slots = as_of("Slot")
        .await?
        .into_iter()
        .map(|(_, slot)| slot)
        .filter(|slot| {
            references(slot, "schedule", "Schedule")
                .iter()
                .any(|s| schedule_ids.contains_key(s.as_str()))
        })
        .collect();
    let inputs = WardInputs {
        wards,
        places,
        place_links,
        schedules,
        slots,
    };
    let pictures = ward_pictures_of(&inputs, at, &state.config.time_zone);
    Ok((pictures, store.sequence_at(tenant, micros).await?))
}
