//! Reads the picture modules share.

use std::collections::HashMap;

use ohjaamo_store::{Store, StoreError};
use serde_json::Value;

use super::json::{first_reference, parse};

/// The current Locations among `ids` that `keep` accepts.
pub async fn locations(
    store: &Store,
    tenant: &str,
    ids: &[String],
    keep: impl Fn(&Value) -> bool,
) -> Result<Vec<(String, Value)>, StoreError> {
    Ok(store
        .read_many(tenant, "Location", ids)
        .await?
        .into_iter()
        .filter_map(|v| Some((v.id, parse(&v.content)?)))
        .filter(|(_, l)| keep(l))
        .collect())
}

/// The Slots on the Schedules of `actors` (resources of `actor_type`), each with the
/// actor whose Schedule it is on.
pub async fn slots_of(
    store: &Store,
    tenant: &str,
    actor_type: &str,
    actors: &[String],
) -> Result<Vec<(String, Value)>, StoreError> {
    let schedules = store
        .referring_many(tenant, "Schedule", "actor", actor_type, actors)
        .await?;
    let actor_of: HashMap<&str, &str> = schedules
        .iter()
        .map(|(schedule, actor)| (schedule.as_str(), actor.as_str()))
        .collect();
    let schedule_ids: Vec<String> = schedules.iter().map(|(s, _)| s.clone()).collect();
    let slot_ids: Vec<String> = store
        .referring_many(tenant, "Slot", "schedule", "Schedule", &schedule_ids)
        .await?
        .into_iter()
        .map(|(slot, _)| slot)
        .collect();
    Ok(store
        .read_many(tenant, "Slot", &slot_ids)
        .await?
        .into_iter()
        .filter_map(|v| parse(&v.content))
        .filter_map(|slot| {
            let schedule = first_reference(&slot, "schedule", "Schedule")?;
            let actor = (*actor_of.get(schedule.as_str())?).to_owned();
            Some((actor, slot))
        })
        .collect())
}
