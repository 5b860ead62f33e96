//! Reads the picture modules share.

use std::collections::HashMap;

use ohjaamo_store::StoreError;
use serde_json::Value;

use super::json::first_reference;
use super::source::Resources;

/// The current Locations among `ids` that `keep` accepts.
pub async fn locations(
    src: &Resources<'_>,
    ids: &[String],
    keep: impl Fn(&Value) -> bool,
) -> Result<Vec<(String, Value)>, StoreError> {
    Ok(src
        .read_many("Location", ids)
        .await?
        .into_iter()
        .filter(|(_, l)| keep(l))
        .collect())
}

/// The Slots on the Schedules of `actors` (resources of `actor_type`), each with the
/// actor whose Schedule it is on.
pub async fn slots_of(
    src: &Resources<'_>,
    actor_type: &str,
    actors: &[String],
) -> Result<Vec<(String, Value)>, StoreError> {
    let schedules = src
        .referring_many("Schedule", "actor", actor_type, actors)
        .await?;
    let actor_of: HashMap<&str, &str> = schedules
        .iter()
        .map(|(schedule, actor)| (schedule.as_str(), actor.as_str()))
        .collect();
    let schedule_ids: Vec<String> = schedules.iter().map(|(s, _)| s.clone()).collect();
    let slot_ids: Vec<String> = src
        .referring_many("Slot", "schedule", "Schedule", &schedule_ids)
        .await?
        .into_iter()
        .map(|(slot, _)| slot)
        .collect();
    Ok(src
        .read_many("Slot", &slot_ids)
        .await?
        .into_iter()
        .filter_map(|(_, slot)| {
            let schedule = first_reference(&slot, "schedule", "Schedule")?;
            let actor = (*actor_of.get(schedule.as_str())?).to_owned();
            Some((actor, slot))
        })
        .collect())
}
