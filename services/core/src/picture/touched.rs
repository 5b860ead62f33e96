//! Which units a batch of resource changes touches, so that only their pictures are
//! recomputed.
//!
//! Ward figures depend on a ward's Location, its places (Locations `partOf` it), the
//! Schedules of those places and the Slots of those Schedules; equipment figures on
//! the Devices located at a unit and their Schedules' Slots; staff figures on the
//! PractitionerRoles located at a unit; operating-room and recovery-unit figures on
//! the operations (Appointments) whose participants are their rooms and bays. A
//! change is followed up those chains to the
//! units it may affect, from both the new version and, for a deletion or a move, the
//! version before it (a bed moved to another ward touches both). The candidates may
//! include Locations that are not units of that kind; the computations keep only
//! what applies.

use std::collections::{BTreeMap, BTreeSet};

use ohjaamo_store::{EventBody, Operation, Store, StoreError, StoredEvent};
use serde_json::Value;

use crate::search::json::{parse, references};

/// Candidate units per kind of picture.
#[derive(Debug, Default)]
pub struct Touched {
    /// Locations whose ward, operating-room or recovery-unit picture may change (the
    /// places themselves and the units and suites they are part of).
    pub locations: BTreeSet<String>,
    pub equipment: BTreeSet<String>,
    pub staff: BTreeSet<String>,
}

impl Touched {
    /// Adds `other`'s candidates to these.
    pub fn merge(&mut self, other: Touched) {
        self.locations.extend(other.locations);
        self.equipment.extend(other.equipment);
        self.staff.extend(other.staff);
    }
}

/// The candidate units the resource changes among `events` may touch.
pub async fn touched_units(
    store: &Store,
    tenant: &str,
    events: &[StoredEvent],
) -> Result<Touched, StoreError> {
    let mut touched = Touched::default();
    let mut slots_schedules = BTreeSet::new();
    let mut schedule_actors = Vec::new();
    let mut locations = BTreeSet::new();
    let mut devices = BTreeSet::new();
    // Places (beds, bays, rooms) whose units are touched too.
    let mut places = BTreeSet::new();
    // Each change's new version, and the version before it (read in bulk) for what it
    // may have moved away from. A Slot's new Schedule comes from the index (the bulk
    // of an initial load is Slots: no body read or parsed for them); the index holds
    // the current version, which covers the event's own — a later version's event
    // brings the one before it.
    let mut versions: Vec<(String, String, Value)> = Vec::new();
    let mut changed: BTreeMap<&str, Vec<(String, i64)>> = BTreeMap::new();
    let mut previous: BTreeMap<&str, Vec<(String, i64)>> = BTreeMap::new();
    let mut slots: Vec<String> = Vec::new();
    for event in events {
        let EventBody::Resource {
            rtype,
            id,
            version,
            operation,
            ..
        } = &event.body
        else {
            continue;
        };
        if !matches!(
            rtype.as_str(),
            "Slot" | "Schedule" | "Location" | "Device" | "PractitionerRole" | "Appointment"
        ) {
            continue;
        }
        match (rtype.as_str(), operation) {
            (_, Operation::Delete) => {}
            ("Slot", _) => slots.push(id.clone()),
            _ => changed
                .entry(rtype.as_str())
                .or_default()
                .push((id.clone(), *version)),
        }
        if *operation != Operation::Create && *version > 1 {
            previous
                .entry(rtype.as_str())
                .or_default()
                .push((id.clone(), version - 1));
        }
    }
    if !slots.is_empty() {
        slots.sort_unstable();
        slots.dedup();
        for (_, target_type, target_id) in store
            .references_from(tenant, "Slot", &slots, "schedule")
            .await?
        {
            if target_type == "Schedule" {
                slots_schedules.insert(target_id);
            }
        }
    }
    for (rtype, wanted) in changed.into_iter().chain(previous) {
        for stored in store.read_versions(tenant, rtype, &wanted).await? {
            if let Some(resource) = parse(&stored.content) {
                versions.push((stored.rtype, stored.id, resource));
            }
        }
    }
    for (rtype, id, resource) in &versions {
        match rtype.as_str() {
            "Slot" => slots_schedules.extend(references(resource, "schedule", "Schedule")),
            "Schedule" => schedule_actors.push(resource.clone()),
            "Device" => {
                devices.insert(id.clone());
                touched
                    .equipment
                    .extend(references(resource, "location", "Location"));
            }
            "PractitionerRole" => touched
                .staff
                .extend(references(resource, "location", "Location")),
            "Appointment" => {
                for participant in resource["participant"].as_array().into_iter().flatten() {
                    places.extend(references(participant, "actor", "Location"));
                }
            }
            _ => {
                locations.insert(id.clone());
                locations.extend(references(resource, "partOf", "Location"));
            }
        }
    }
    if !slots_schedules.is_empty() {
        let ids: Vec<String> = slots_schedules.into_iter().collect();
        for schedule in store.read_many(tenant, "Schedule", &ids).await? {
            schedule_actors.extend(parse(&schedule.content));
        }
    }
    for schedule in &schedule_actors {
        places.extend(references(schedule, "actor", "Location"));
        for device in references(schedule, "actor", "Device") {
            devices.insert(device);
        }
    }
    if !places.is_empty() {
        let ids: Vec<String> = places.into_iter().collect();
        for place in store.read_many(tenant, "Location", &ids).await? {
            if let Some(resource) = parse(&place.content) {
                locations.extend(references(&resource, "partOf", "Location"));
            }
            locations.insert(place.id);
        }
    }
    if !devices.is_empty() {
        let ids: Vec<String> = devices.into_iter().collect();
        for device in store.read_many(tenant, "Device", &ids).await? {
            if let Some(resource) = parse(&device.content) {
                touched
                    .equipment
                    .extend(references(&resource, "location", "Location"));
            }
        }
    }
    touched.locations = locations;
    Ok(touched)
}
