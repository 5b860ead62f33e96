//! What ward figures need of each place (a bed: open or closed, over-capacity, and
//! what occupies it over time), kept by the deriver between rounds.
//!
//! A ward's figures depend on every one of its beds, but a write changes a few: with
//! the places a round's changes touched forgotten and the rest kept, recomputing a
//! ward reads only what changed, so the cost follows the change, not the ward. The
//! deriver clears it whenever its view may be incomplete: on the periodic refresh,
//! and when another replica derived the organisation since its own last round.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use ohjaamo_picture::{Occupancy, OccupancyKind, Place};
use ohjaamo_store::StoreError;

use super::read::{locations, slots_of};
use super::source::Resources;
use crate::search::json::{code_of, instant};

/// How far past the time of loading a place its Slots are read. A kept place is
/// forgotten at the latest on the deriver's next refresh (at most a day apart,
/// serve.rs), so what starts before then is read now and what has ended is not read
/// at all: a load costs what is on the bed, not the bed's whole history.
pub const LOAD_AHEAD: SignedDuration = SignedDuration::from_hours(48);

/// Places by Location id; `None` for a Location that is not a bed (or is gone).
#[derive(Debug, Default)]
pub struct PlaceCache {
    places: HashMap<String, Option<CachedBed>>,
}

#[derive(Debug, Clone)]
pub struct CachedBed {
    pub place: Place,
    pub occupancy: Vec<Occupancy>,
}

impl PlaceCache {
    /// Forgets `ids` (places a change touched, and anything else): they are read
    /// again when next needed.
    pub fn forget<'a>(&mut self, ids: impl IntoIterator<Item = &'a String>) {
        for id in ids {
            self.places.remove(id);
        }
    }

    /// The earliest end after `now` of a hold on a kept bed: when a ward's figures
    /// change with no write to announce it (the hold expires by itself).
    pub fn next_hold_end(&self, now: jiff::Timestamp) -> Option<jiff::Timestamp> {
        self.places
            .values()
            .flatten()
            .flat_map(|bed| &bed.occupancy)
            .filter(|o| o.kind == OccupancyKind::Reserved && o.end > now)
            .map(|o| o.end)
            .min()
    }

    pub fn clear(&mut self) {
        self.places.clear();
    }

    /// The bed `id`, if it is one (after [`PlaceCache::load`]).
    pub fn bed(&self, id: &str) -> Option<&CachedBed> {
        self.places.get(id)?.as_ref()
    }

    /// Reads the places among `ids` that are not kept yet: the bed Locations and the
    /// Slots of their Schedules that have not ended at `now` and start within
    /// [`LOAD_AHEAD`] of it.
    pub async fn load(
        &mut self,
        src: &Resources<'_>,
        ids: &[String],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let missing: Vec<String> = ids
            .iter()
            .filter(|id| !self.places.contains_key(*id))
            .cloned()
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let beds = locations(src, &missing, |l| {
            code_of(l, "physicalType").iter().any(|c| c == "bd")
        })
        .await?;
        let bed_ids: Vec<String> = beds.iter().map(|(id, _)| id.clone()).collect();
        let mut occupancy: HashMap<String, Vec<Occupancy>> = HashMap::new();
        let during = (now, now.checked_add(LOAD_AHEAD).unwrap_or(now));
        for (bed, slot) in slots_of(src, "Location", &bed_ids, during).await? {
            if let Some(o) = slot_occupancy(&bed, &slot) {
                occupancy.entry(bed).or_default().push(o);
            }
        }
        for id in &missing {
            self.places.insert(id.clone(), None);
        }
        for (id, location) in beds {
            let bed = CachedBed {
                place: place_of(&id, &location),
                occupancy: occupancy.remove(&id).unwrap_or_default(),
            };
            self.places.insert(id, Some(bed));
        }
        Ok(())
    }
}

/// A bed Location as the figures read it: over-capacity or not, closed or not.
pub fn place_of(id: &str, location: &Value) -> Place {
    Place {
        id: id.to_owned(),
        over_capacity: code_of(location, "type")
            .iter()
            .any(|c| c == "over-capacity"),
        closed: code_of(location, "operationalStatus")
            .iter()
            .any(|c| c == "C"),
    }
}

/// What a Slot on `bed`'s Schedule does to it, over the Slot's period: a stay occupies
/// it; a hold (held or confirmed) or a planned stay reserves it; anything else (free,
/// unavailable, entered-in-error, no period) nothing.
pub fn slot_occupancy(bed: &str, slot: &Value) -> Option<Occupancy> {
    let kind = match slot["status"].as_str() {
        // A confirmed hold (`busy`) still waits for its patient: reserved.
        Some("busy") if crate::write::holds::is_hold(slot) => OccupancyKind::Reserved,
        Some("busy") => OccupancyKind::Occupied,
        Some("busy-tentative") => OccupancyKind::Reserved,
        _ => return None,
    };
    Some(Occupancy {
        place: bed.to_owned(),
        kind,
        start: instant(&slot["start"])?,
        end: instant(&slot["end"])?,
    })
}
