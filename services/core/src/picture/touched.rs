//! Which units a batch of resource changes touches, so that only their pictures are
//! recomputed.
//!
//! Ward figures depend on a ward's Location, its places (Locations `partOf` it), the
//! Schedules of those places and the Slots of those Schedules. A change is followed
//! up that chain to the units it may affect, from both the new version and, for a
//! deletion or a move, the version before it (a bed moved to another ward touches
//! both). The candidates may include Locations that are not units; the ward
//! computation keeps only wards.

use std::collections::BTreeSet;

use ohjaamo_store::{EventBody, Operation, Store, StoreError, StoredEvent};
use serde_json::Value;

use super::json::{parse, references};

/// The candidate unit ids the resource changes among `events` may touch.
pub async fn touched_units(
    store: &Store,
    tenant: &str,
    events: &[StoredEvent],
) -> Result<BTreeSet<String>, StoreError> {
    let mut slots_schedules = BTreeSet::new();
    let mut schedules_actors = BTreeSet::new();
    let mut locations = BTreeSet::new();
    for event in events {
        let EventBody::Resource {
            rtype,
            id,
            version,
            operation,
            json,
        } = &event.body
        else {
            continue;
        };
        if !matches!(rtype.as_str(), "Slot" | "Schedule" | "Location") {
            continue;
        }
        let mut versions: Vec<Value> = json.as_deref().and_then(parse).into_iter().collect();
        if *operation != Operation::Create && *version > 1 {
            let before = store.read_version(tenant, rtype, id, version - 1).await?;
            versions.extend(before.and_then(|v| parse(&v.content)));
        }
        for resource in &versions {
            match rtype.as_str() {
                "Slot" => slots_schedules.extend(references(resource, "schedule", "Schedule")),
                "Schedule" => schedules_actors.extend(references(resource, "actor", "Location")),
                _ => {
                    locations.insert(id.clone());
                    locations.extend(references(resource, "partOf", "Location"));
                }
            }
        }
    }
    if !slots_schedules.is_empty() {
        let ids: Vec<String> = slots_schedules.into_iter().collect();
        for schedule in store.read_many(tenant, "Schedule", &ids).await? {
            if let Some(resource) = parse(&schedule.content) {
                schedules_actors.extend(references(&resource, "actor", "Location"));
            }
        }
    }
    if !schedules_actors.is_empty() {
        let ids: Vec<String> = schedules_actors.into_iter().collect();
        for place in store.read_many(tenant, "Location", &ids).await? {
            if let Some(resource) = parse(&place.content) {
                locations.extend(references(&resource, "partOf", "Location"));
            }
            locations.insert(place.id);
        }
    }
    Ok(locations)
}
