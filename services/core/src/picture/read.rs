//! Reads the picture modules share.

use std::collections::HashMap;

use jiff::Timestamp;
use ohjaamo_store::StoreError;
use serde_json::Value;

use super::source::Resources;
use crate::search::json::{first_reference, instant};

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

/// The Slots on the Schedules of `actors` (resources of `actor_type`) that overlap
/// `during` — start at or before its end and end after its start — each with the
/// actor whose Schedule it is on. `(now, now)` is what covers now. Reads only those
/// Slots, however many past (or far-future) ones the Schedules have.
pub async fn slots_of(
    src: &Resources<'_>,
    actor_type: &str,
    actors: &[String],
    during: (Timestamp, Timestamp),
) -> Result<Vec<(String, Value)>, StoreError> {
    let schedules = src
        .referring_many("Schedule", "actor", actor_type, actors)
        .await?;
    let actor_of: HashMap<&str, &str> = schedules
        .iter()
        .map(|(schedule, actor)| (schedule.as_str(), actor.as_str()))
        .collect();
    let schedule_ids: Vec<String> = schedules.iter().map(|(s, _)| s.clone()).collect();
    let slot_ids = src.slots_during(&schedule_ids, during).await?;
    Ok(src
        .read_many("Slot", &slot_ids)
        .await?
        .into_iter()
        .filter(|(_, slot)| overlaps(slot, during))
        .filter_map(|(_, slot)| {
            let schedule = first_reference(&slot, "schedule", "Schedule")?;
            let actor = (*actor_of.get(schedule.as_str())?).to_owned();
            Some((actor, slot))
        })
        .collect())
}

/// Whether `slot` starts at or before `during`'s end and ends after its start.
fn overlaps(slot: &Value, (from, to): (Timestamp, Timestamp)) -> bool {
    match (instant(&slot["start"]), instant(&slot["end"])) {
        (Some(start), Some(end)) => start <= to && end > from,
        _ => false,
    }
}
