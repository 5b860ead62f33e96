//! Ward pictures: the figures of each ward, from the stored Locations and the Slots of
//! their places' Schedules (the beds' occupancy the core derives from stays, and
//! holds). The arithmetic is `ohjaamo-picture`'s; this module gathers its inputs for
//! just the wards asked about, so recomputing after a write costs what the write
//! touched, not what the hospital holds.

use std::collections::HashMap;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use ohjaamo_picture::{Occupancy, Place, ward_figures};
use ohjaamo_store::{PictureUpdate, StoreError};
use serde_json::{Value, json};

use super::place_cache::{CachedBed, PlaceCache};
use super::read::locations;
use super::source::Resources;
use super::unit_picture_in;
use crate::search::json::{code_of, unit_zone};

/// The kind name of ward pictures (in the store, the API and routing keys).
pub const KIND: &str = "ward";

/// The pictures of those of `candidates` that are wards, at `now` in `zone`. Their
/// places are taken from `cache` where it has them, read (and kept) where not.
pub async fn ward_pictures(
    src: &Resources<'_>,
    candidates: &[String],
    now: Timestamp,
    zone: &TimeZone,
    cache: &mut PlaceCache,
) -> Result<Vec<PictureUpdate>, StoreError> {
    let wards = locations(src, candidates, is_ward).await?;
    ward_pictures_among(src, &wards, now, zone, cache).await
}

/// [`ward_pictures`] of candidate Locations already read (the wards among them).
pub async fn ward_pictures_among(
    src: &Resources<'_>,
    candidates: &[(String, Value)],
    now: Timestamp,
    zone: &TimeZone,
    cache: &mut PlaceCache,
) -> Result<Vec<PictureUpdate>, StoreError> {
    let wards: Vec<&(String, Value)> = candidates.iter().filter(|(_, l)| is_ward(l)).collect();
    let ids: Vec<String> = wards.iter().map(|(id, _)| id.clone()).collect();
    let place_links = src
        .referring_many("Location", "partof", "Location", &ids)
        .await?;
    let place_ids: Vec<String> = place_links.iter().map(|(p, _)| p.clone()).collect();
    cache.load(src, &place_ids, now).await?;
    let mut places_of: HashMap<&str, Vec<&str>> = HashMap::new();
    for (place, ward) in &place_links {
        places_of.entry(ward).or_default().push(place);
    }
    Ok(wards
        .iter()
        .map(|(ward_id, ward)| {
            let beds: Vec<&CachedBed> = places_of
                .get(ward_id.as_str())
                .into_iter()
                .flatten()
                .filter_map(|place| cache.bed(place))
                .collect();
            let in_ward: Vec<Place> = beds.iter().map(|b| b.place.clone()).collect();
            let occupancy: Vec<Occupancy> = beds
                .iter()
                .flat_map(|b| b.occupancy.iter().cloned())
                .collect();
            let zone = unit_zone(Some(ward), zone);
            let figures = ward_figures(&in_ward, &occupancy, now, &zone);
            unit_picture_in(KIND, ward_id, ward, &zone, json!(figures))
        })
        .collect())
}

/// Whether `location` is a unit with beds: a `wa` Location that is not a recovery
/// unit (bays, its own picture), a theatre suite or an outpatient clinic.
pub fn is_ward(location: &Value) -> bool {
    code_of(location, "physicalType").iter().any(|c| c == "wa")
        && !code_of(location, "type").iter().any(|c| {
            matches!(
                c.as_str(),
                "recovery-unit" | "theatre-suite" | "outpatient-clinic"
            )
        })
}
