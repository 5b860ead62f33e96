//! Bed occupancy Slots, derived from Encounter locations.
//!
//! The ADT feed tells where each patient is (Encounter.location[] with statuses and
//! periods); the picture of a bed is its Schedule's Slots. After every Encounter write
//! the core derives, for each place of the stay that has a Schedule (a bed place,
//! a recovery bay), one Slot: `busy` from arrival to leaving — to the planned
//! discharge while the stay is open, or [`OPEN_HORIZON_DAYS`] ahead when none is
//! planned — and `busy-tentative` for a planned or reserved place. A cancelled
//! stay, or a place the stay no longer has (a cancelled transfer), loses its Slot.
//!
//! Derived Slots have fixed ids (`occ-<encounter id>-<n>`, the n-th place of the
//! stay) and an identifier in [`DERIVED_SYSTEM`], so deriving again is idempotent:
//! identical Slots are no-ops in the store. They are written after the Encounter's
//! own transaction, twice over: at once by the request that wrote it (so a client
//! reads its bed busy as soon as it is answered), and by the occupancy follower of the
//! event log (`log::occupancy`), which moves past an event only once its derivation
//! succeeded — a failure here, or a core that dies between the commit and the
//! derivation, is made good from the log, retried until it succeeds. A failure is
//! logged and counted (`ohjaamo_occupancy_derivation_failures_total`). A stay told of
//! before its bed had a Schedule (or before the bed itself was known, named by
//! identifier only) is derived again when the Schedule or the Location is written.

use jiff::{Timestamp, ToSpan as _};
use ohjaamo_fhir::ResourceType;
use ohjaamo_store::{WriteStatus, Written};
use serde_json::{Value, json};

use crate::base::error::ApiError;
use crate::base::state::AppState;
use crate::write::apply::run_writes;
use crate::write::entry::{WriteEntry, WriteKind};

/// The identifier system of derived occupancy Slots (`<encounter id>/<n>`).
pub const DERIVED_SYSTEM: &str = "https://ohjaamo.fi/fhir/NamingSystem/encounter-occupancy";
/// R5's `Encounter.plannedEndDate` as an R4 cross-version extension.
pub const PLANNED_END_URL: &str =
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-Encounter.plannedEndDate";
/// How far ahead an open stay without a planned discharge shows its bed busy.
pub const OPEN_HORIZON_DAYS: i64 = 30;
/// Most places of one stay that get a Slot; a stay with more moves keeps the first.
const MAX_PLACES: usize = 64;

/// Derives the occupancy of every Encounter among `results` that was written, and
/// of the stays in places that just became bookable (a Schedule or a Location
/// written: the ADT feed may have told of a stay in a bed before the bed's master
/// data arrived).
///
/// The derivation runs in a task of its own, awaited: a client that goes away after
/// the write committed does not cancel it. Unchanged writes (a replay by an adapter
/// that never got its answer, perhaps because the core died between the write and
/// the derivation) derive again, so a replay repairs what a crash left undone.
pub async fn derive_after(state: &AppState, tenant: &str, results: &[Result<Written, ApiError>]) {
    let written: Vec<Written> = results
        .iter()
        .flatten()
        .filter(|w| matches!(w.rtype, "Encounter" | "Schedule" | "Location"))
        .cloned()
        .collect();
    if written.is_empty() {
        return;
    }
    let (state, tenant) = (state.clone(), tenant.to_owned());
    let task = tokio::spawn(async move { derive_written(&state, &tenant, &written).await });
    if let Err(e) = task.await {
        tracing::error!(error = %e, "the occupancy derivation task failed");
    }
}

async fn derive_written(state: &AppState, tenant: &str, written: &[Written]) {
    let changes: Vec<(&str, String, Option<Value>)> = written
        .iter()
        .map(|w| (w.rtype, w.id.clone(), written_content(w)))
        .collect();
    let failures = derive_changes(state, tenant, &changes).await;
    let derived = failures.is_empty();
    for (what, e) in failures {
        tracing::warn!(what, error = %e, "cannot derive bed occupancy now; the log's follower will");
    }
    if derived {
        // Derived from these versions or later ones: the follower need not again.
        for w in written.iter().filter(|w| w.rtype != "Encounter") {
            state.derived.note(tenant, w.rtype, &w.id, w.version);
        }
    }
}

/// What a write left, when the write itself says: the content it wrote, `Null` for a
/// delete; `None` when it changed nothing (the stored version is read then).
fn written_content(w: &Written) -> Option<Value> {
    match (&w.status, &w.content) {
        (WriteStatus::Created | WriteStatus::Updated, Some(text)) => {
            serde_json::from_str(text).ok()
        }
        (WriteStatus::Deleted, _) => Some(Value::Null),
        _ => None,
    }
}

/// Derives the occupancy that `changes` (type, id, and the content when the caller
/// has it) call for: an Encounter's own, from its current version in its turn, and the
/// stays in the places a Schedule or Location made bookable. Goes on past a failure;
/// answers each (what failed, why), each already counted. Each stay derived is noted
/// with the version it was derived from.
pub async fn derive_changes(
    state: &AppState,
    tenant: &str,
    changes: &[(&str, String, Option<Value>)],
) -> Vec<(String, ApiError)> {
    let mut failures = Vec::new();
    let mut stays: Vec<String> = Vec::new();
    let mut places: Vec<String> = Vec::new();
    for (rtype, id, known) in changes {
        if *rtype == "Encounter" {
            stays.push(id.clone());
            continue;
        }
        if !matches!(*rtype, "Schedule" | "Location") {
            continue;
        }
        let content = match known {
            Some(content) => Ok(content.clone()),
            None => current(state, tenant, rtype, id).await.map(|(_, c)| c),
        };
        match content {
            Ok(content) if *rtype == "Schedule" => places.extend(
                content["actor"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|a| a["reference"].as_str()?.strip_prefix("Location/"))
                    .map(str::to_owned),
            ),
            Ok(content) if *rtype == "Location" && !content.is_null() => places.push(id.clone()),
            Ok(_) => {}
            Err(e) => failures.push((format!("{rtype}/{id}"), e)),
        }
    }
    places.sort();
    places.dedup();
    if !places.is_empty() {
        match stays_in(state, tenant, &places).await {
            Ok(ids) => stays.extend(ids),
            Err(e) => failures.push(("the stays in places that became bookable".into(), e)),
        }
    }
    stays.sort();
    stays.dedup();
    for id in stays {
        match derive_stay(state, tenant, &id).await {
            Ok(version) => state.derived.note(tenant, "Encounter", &id, version),
            Err(e) => failures.push((format!("Encounter/{id}"), e)),
        }
    }
    metrics::counter!("ohjaamo_occupancy_derivation_failures_total")
        .increment(failures.len() as u64);
    failures
}

/// The current version of `rtype`/`id` and its content, `Null` when deleted or never
/// written (version 0).
async fn current(
    state: &AppState,
    tenant: &str,
    rtype: &str,
    id: &str,
) -> Result<(i64, Value), ApiError> {
    Ok(match state.store.read(tenant, rtype, id).await? {
        Some(stored) if !stored.deleted => (
            stored.version,
            serde_json::from_str(&stored.content).unwrap_or(Value::Null),
        ),
        Some(stored) => (stored.version, Value::Null),
        None => (0, Value::Null),
    })
}

/// Derives stay `id`'s occupancy from its current version, in the stay's turn (two
/// derivations of one stay never overlap, so the later reads the newer version);
/// answers the version derived from.
pub async fn derive_stay(state: &AppState, tenant: &str, id: &str) -> Result<i64, ApiError> {
    let _turn = state.derived.turn(tenant, id).await;
    let (version, encounter) = current(state, tenant, "Encounter", id).await?;
    derive(state, tenant, id, &encounter).await?;
    Ok(version)
}

/// The ids of the current Encounters that name one of the Locations `places`, by
/// reference or by the Location's identifier.
async fn stays_in(
    state: &AppState,
    tenant: &str,
    places: &[String],
) -> Result<Vec<String>, ApiError> {
    let mut ids: Vec<String> = Vec::new();
    for place in places {
        ids.extend(
            state
                .store
                .ids_referring(tenant, "Encounter", "location", "Location", place)
                .await?,
        );
        let Some(location) = state.store.read(tenant, "Location", place).await? else {
            continue;
        };
        let location: Value = serde_json::from_str(&location.content).unwrap_or(Value::Null);
        for identifier in location["identifier"].as_array().into_iter().flatten() {
            if let (Some(system), Some(value)) =
                (identifier["system"].as_str(), identifier["value"].as_str())
            {
                ids.extend(
                    state
                        .store
                        .ids_by_token(
                            tenant,
                            "Encounter",
                            "location:identifier",
                            Some(system),
                            value,
                        )
                        .await?,
                );
            }
        }
    }
    Ok(ids)
}

fn slot_id(encounter_id: &str, n: usize) -> String {
    format!("occ-{encounter_id}-{n}")
}

/// Writes the Slots `encounter` stands for and removes the ones it no longer does.
/// `Null` (a deleted Encounter) removes them all.
async fn derive(
    state: &AppState,
    tenant: &str,
    encounter_id: &str,
    encounter: &Value,
) -> Result<(), ApiError> {
    let mut desired: Vec<(usize, Value)> = Vec::new();
    let cancelled = matches!(
        encounter["status"].as_str(),
        Some("entered-in-error" | "cancelled") | None
    );
    if !cancelled {
        for (n, place) in encounter["location"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
            .take(MAX_PLACES)
        {
            if let Some(slot) = place_slot(state, tenant, encounter_id, n, encounter, place).await?
            {
                desired.push((n, slot));
            }
        }
    }
    let candidates: Vec<String> = (0..MAX_PLACES).map(|n| slot_id(encounter_id, n)).collect();
    let existing = state
        .store
        .existing_ids(tenant, "Slot", &candidates)
        .await?;
    let mut entries: Vec<WriteEntry> = Vec::new();
    for (n, slot) in &desired {
        entries.push(WriteEntry {
            rtype: ResourceType::Slot,
            kind: WriteKind::Update {
                id: slot_id(encounter_id, *n),
            },
            resource: Some(slot.clone()),
            if_match: None,
            full_url: None,
        });
    }
    for id in existing {
        if !desired.iter().any(|(n, _)| slot_id(encounter_id, *n) == id) {
            entries.push(WriteEntry {
                rtype: ResourceType::Slot,
                kind: WriteKind::Delete { id },
                resource: None,
                if_match: None,
                full_url: None,
            });
        }
    }
    if entries.is_empty() {
        return Ok(());
    }
    let results = run_writes(state, tenant, entries, true).await?;
    results
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map(|_| ())
}

/// The Slot of the `n`-th place of the stay, when the place has a Schedule.
async fn place_slot(
    state: &AppState,
    tenant: &str,
    encounter_id: &str,
    n: usize,
    encounter: &Value,
    place: &Value,
) -> Result<Option<Value>, ApiError> {
    let status = match place["status"].as_str() {
        Some("active" | "completed") => "busy",
        Some("planned" | "reserved") => "busy-tentative",
        _ => return Ok(None),
    };
    let Some(location_id) = location_id(state, tenant, &place["location"]).await? else {
        return Ok(None);
    };
    let schedules = state
        .store
        .ids_referring(tenant, "Schedule", "actor", "Location", &location_id)
        .await?;
    let Some(schedule) = schedules.first() else {
        return Ok(None); // a place nobody books: no occupancy to show
    };
    let Some(start) = place["period"]["start"]
        .as_str()
        .or_else(|| encounter["period"]["start"].as_str())
        .and_then(|s| s.parse::<Timestamp>().ok())
    else {
        return Ok(None);
    };
    let end = match place["period"]["end"]
        .as_str()
        .and_then(|s| s.parse::<Timestamp>().ok())
    {
        Some(end) => end,
        None if status == "busy" && place["status"] == "completed" => start,
        None => planned_end(state, encounter)
            .filter(|end| *end > start)
            .unwrap_or_else(|| {
                start
                    .checked_add((OPEN_HORIZON_DAYS * 24).hours())
                    .unwrap_or(start)
            }),
    };
    if end <= start {
        return Ok(None);
    }
    Ok(Some(json!({
        "resourceType": "Slot",
        "id": slot_id(encounter_id, n),
        "identifier": [{"system": DERIVED_SYSTEM, "value": format!("{encounter_id}/{n}")}],
        "schedule": {"reference": format!("Schedule/{schedule}")},
        "status": status,
        "start": start.to_string(),
        "end": end.to_string(),
        "comment": format!("Encounter/{encounter_id}"),
    })))
}

/// The Location id a place reference names: `Location/<id>`, or its identifier.
async fn location_id(
    state: &AppState,
    tenant: &str,
    reference: &Value,
) -> Result<Option<String>, ApiError> {
    if let Some(id) = reference["reference"]
        .as_str()
        .and_then(|r| r.strip_prefix("Location/"))
    {
        return Ok(Some(id.to_owned()));
    }
    let (Some(system), Some(value)) = (
        reference["identifier"]["system"].as_str(),
        reference["identifier"]["value"].as_str(),
    ) else {
        return Ok(None);
    };
    let ids = state
        .store
        .ids_by_identifier(
            tenant,
            "Location",
            Some(&crate::search::normalize::system(system)),
            value,
        )
        .await?;
    Ok(ids.into_iter().next())
}

/// The planned discharge: an instant, or a date meaning the end of that day in the
/// core's time zone.
fn planned_end(state: &AppState, encounter: &Value) -> Option<Timestamp> {
    let value = encounter["extension"]
        .as_array()?
        .iter()
        .find(|e| e["url"] == PLANNED_END_URL)?["valueDateTime"]
        .as_str()?;
    if let Ok(t) = value.parse::<Timestamp>() {
        return Some(t);
    }
    let date = value.parse::<jiff::civil::Date>().ok()?.tomorrow().ok()?;
    date.to_zoned_datetime(state.config.time_zone.clone())
        .ok()
        .map(|z| z.timestamp())
}
