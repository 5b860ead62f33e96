//! Ward pictures: the figures of each ward, from the stored Locations and the Slots of
//! their places' Schedules (the beds' occupancy the core derives from stays, and
//! holds). The arithmetic is `ohjaamo-picture`'s; this module gathers its inputs for
//! just the wards asked about, so recomputing after a write costs what the write
//! touched, not what the hospital holds.

use std::collections::HashMap;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use ohjaamo_picture::{Occupancy, OccupancyKind, Place, ward_figures};
use ohjaamo_store::{PictureUpdate, StoreError};
use serde_json::{Value, json};

use super::json::{code_of, first_reference, instant};
use super::read::locations;
use super::source::Resources;
use super::unit_picture;

/// The kind name of ward pictures (in the store, the API and routing keys).
pub const KIND: &str = "ward";

/// The pictures of those of `candidates` that are wards, at `now` in `zone`.
pub async fn ward_pictures(
    src: &Resources<'_>,
    candidates: &[String],
    now: Timestamp,
    zone: &TimeZone,
) -> Result<Vec<PictureUpdate>, StoreError> {
    let wards = locations(src, candidates, is_ward).await?;
    let ids: Vec<String> = wards.iter().map(|(id, _)| id.clone()).collect();
    let place_links = src
        .referring_many("Location", "partof", "Location", &ids)
        .await?;
    let place_ids: Vec<String> = place_links.iter().map(|(p, _)| p.clone()).collect();
    let places = locations(src, &place_ids, |l| {
        code_of(l, "physicalType").iter().any(|c| c == "bd")
    })
    .await?;
    let bed_ids: Vec<String> = places.iter().map(|(id, _)| id.clone()).collect();
    let schedules = src
        .referring_many("Schedule", "actor", "Location", &bed_ids)
        .await?;
    let schedule_ids: Vec<String> = schedules.iter().map(|(s, _)| s.clone()).collect();
    let slot_links = src
        .referring_many("Slot", "schedule", "Schedule", &schedule_ids)
        .await?;
    let slot_ids: Vec<String> = slot_links.iter().map(|(s, _)| s.clone()).collect();
    let slots = src
        .read_many("Slot", &slot_ids)
        .await?
        .into_iter()
        .map(|(_, slot)| slot)
        .collect();
    Ok(ward_pictures_of(
        &WardInputs {
            wards,
            places,
            place_links,
            schedules,
            slots,
        },
        now,
        zone,
    ))
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

/// What ward figures are computed from, however they were read (current, or as of a
/// past instant).
struct WardInputs {
    /// The ward Locations.
    pub wards: Vec<(String, Value)>,
    /// The bed Locations of those wards.
    pub places: Vec<(String, Value)>,
    /// `(place, ward)`: which ward each place is part of.
    pub place_links: Vec<(String, String)>,
    /// `(schedule, place)`: the Schedules of the places.
    pub schedules: Vec<(String, String)>,
    /// The Slots of those Schedules.
    pub slots: Vec<Value>,
}

/// The pictures of the wards in `inputs` at `now` in `zone`.
fn ward_pictures_of(inputs: &WardInputs, now: Timestamp, zone: &TimeZone) -> Vec<PictureUpdate> {
    let WardInputs {
        wards,
        places,
        place_links,
        schedules,
        slots,
    } = inputs;
    let place_by_schedule: HashMap<&str, &str> = schedules
        .iter()
        .map(|(s, place)| (s.as_str(), place.as_str()))
        .collect();
    let place_of_schedule =
        |schedule: &str| place_by_schedule.get(schedule).map(|p| (*p).to_owned());
    // Each ward's share of what occupies places, so that a ward's figures look only at
    // its own places.
    let ward_of_place: HashMap<&str, &str> = place_links
        .iter()
        .map(|(place, ward)| (place.as_str(), ward.as_str()))
        .collect();
    let mut occupancy: HashMap<&str, Vec<Occupancy>> = HashMap::new();
    for slot in slots {
        let kind = match slot["status"].as_str() {
            Some("busy") => OccupancyKind::Occupied,
            Some("busy-tentative") => OccupancyKind::Reserved,
            _ => continue,
        };
        let (Some(place), Some(start), Some(end)) = (
            first_reference(slot, "schedule", "Schedule").and_then(|s| place_of_schedule(&s)),
            instant(&slot["start"]),
            instant(&slot["end"]),
        ) else {
            continue;
        };
        let Some(ward) = ward_of_place.get(place.as_str()) else {
            continue;
        };
        occupancy.entry(ward).or_default().push(Occupancy {
            place,
            kind,
            start,
            end,
        });
    }

    wards
        .iter()
        .map(|(ward_id, ward)| {
            let in_ward: Vec<Place> = places
                .iter()
                .filter(|(id, _)| ward_of_place.get(id.as_str()) == Some(&ward_id.as_str()))
                .map(|(id, l)| Place {
                    id: id.clone(),
                    over_capacity: code_of(l, "type").iter().any(|c| c == "over-capacity"),
                    closed: code_of(l, "operationalStatus").iter().any(|c| c == "C"),
                })
                .collect();
            let figures = ward_figures(
                &in_ward,
                occupancy
                    .get(ward_id.as_str())
                    .map_or(&[][..], Vec::as_slice),
                now,
                zone,
            );
            unit_picture(KIND, ward_id, Some(ward), json!(figures))
        })
        .collect()
}
