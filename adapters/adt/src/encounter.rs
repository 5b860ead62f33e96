//! An ADT event applied to the stay's Encounter.
//!
//! The adapter keeps no state: it reads the stay's current Encounter from the core,
//! applies the event here, and writes the result back with If-Match. So this is a pure
//! function of (current Encounter, event), and replaying a message gives the same
//! Encounter again — which the core then stores as a no-op.
//!
//! The Encounter's `location[]` is the stay's location history: one entry per place,
//! `active` for where the patient is, `completed` with a period end for where they were.

use serde_json::{Map, Value, json};

use ohjaamo_adapter_kit::Kind;

use crate::event::{AdtEvent, MappingError, PointOfCare, Trigger};
use crate::protection;

/// R5's `Encounter.plannedEndDate` as an R4 cross-version extension.
pub const PLANNED_END_URL: &str =
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-Encounter.plannedEndDate";
const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";

/// The identifier systems of the source: kit's [`SourceIds`], plus what PV1-3 names.
pub use ohjaamo_adapter_kit::SourceIds;

/// The most specific place PV1-3 names, as `(kind, key)`: the bed place, else the
/// room, else the unit.
pub fn place_key(place: &PointOfCare) -> Option<(Kind, &str)> {
    [
        (Kind::BedPlace, &place.bed),
        (Kind::Room, &place.room),
        (Kind::Unit, &place.unit),
    ]
    .into_iter()
    .find(|(_, key)| !key.is_empty())
    .map(|(kind, key)| (kind, key.as_str()))
}

/// A Reference to that place (see [`SourceIds::reference`]: the core resolves it and
/// keeps the identifier, so a later event recognises the place in the stored
/// Encounter without knowing Location ids), and the place's `system|key`.
fn place_reference(ids: &SourceIds, place: &PointOfCare) -> Result<(Value, String), MappingError> {
    let (kind, key) = place_key(place).ok_or(MappingError::Missing("PV1-3 (assigned location)"))?;
    Ok((
        ids.reference(kind, key),
        format!("{}|{key}", ids.system(kind)),
    ))
}

/// Turns the conditional references of the stay's places into identifier-only
/// references. The ADT feed must not wait for master data: when the core does not
/// know a place yet (the export has not brought it), the stay is stored with the
/// place's identifier, which still names the place exactly. Answers whether anything
/// changed.
pub fn places_by_identifier(encounter: &mut Value) -> bool {
    let mut changed = false;
    for entry in encounter["location"].as_array_mut().into_iter().flatten() {
        let place = &mut entry["location"];
        let conditional = place["reference"]
            .as_str()
            .is_some_and(|r| r.starts_with("Location?"));
        if conditional
            && place.get("identifier").is_some()
            && let Some(map) = place.as_object_mut()
        {
            map.remove("reference");
            changed = true;
        }
    }
    changed
}

/// Applies `event` to the stay's current Encounter (`None` when the core has none yet)
/// and returns the Encounter to write.
pub fn apply(
    current: Option<&Value>,
    event: &AdtEvent,
    ids: &SourceIds,
) -> Result<Value, MappingError> {
    let mut encounter = match current {
        Some(Value::Object(map)) => map.clone(),
        Some(_) => {
            return Err(MappingError::Inconsistent(
                "the stored Encounter is not a JSON object".into(),
            ));
        }
        None => new_encounter(event, ids),
    };
    // The server's bookkeeping is not ours to send back; the stay's security labels
    // are, changed only as PD1-12 says (see `protection`).
    let labels = protection::labels_of(&encounter);
    encounter.remove("meta");
    let mut locations = take_locations(&mut encounter);
    match event.trigger {
        Trigger::A01 | Trigger::A04 => {
            set_status(&mut encounter, "in-progress");
            let start = event
                .admitted
                .clone()
                .unwrap_or_else(|| event.occurred.clone());
            period_of(&mut encounter).insert("start".into(), json!(start));
            period_of(&mut encounter).remove("end");
            move_to(&mut locations, event, ids, &start)?;
        }
        Trigger::A02 => {
            set_status(&mut encounter, "in-progress");
            move_to(&mut locations, event, ids, &event.occurred)?;
        }
        Trigger::A03 => {
            set_status(&mut encounter, "finished");
            let end = event
                .discharged
                .clone()
                .unwrap_or_else(|| event.occurred.clone());
            period_of(&mut encounter).insert("end".into(), json!(end));
            for entry in locations.iter_mut().filter(|l| status_of(l) == "active") {
                entry.insert("status".into(), json!("completed"));
                period_of(entry).insert("end".into(), json!(end));
            }
        }
        Trigger::A08 => {
            // An update: class, planned discharge and protection below. A different
            // PV1-3 corrects where the patient is now, without a move.
            if let (Some(place), Some(active)) = (
                &event.location,
                locations
                    .iter_mut()
                    .rev()
                    .find(|l| status_of(l) == "active"),
            ) {
                let (reference, identity) = place_reference(ids, place)?;
                if identity_of(active) != identity {
                    active.insert("location".into(), reference);
                }
            }
        }
        Trigger::A11 => {
            // The admission should never have been: nothing of it holds.
            set_status(&mut encounter, "entered-in-error");
        }
        Trigger::A12 => cancel_transfer(&mut locations, event, ids)?,
        Trigger::A13 => {
            set_status(&mut encounter, "in-progress");
            period_of(&mut encounter).remove("end");
            if let Some(last) = locations.last_mut() {
                last.insert("status".into(), json!("active"));
                period_of(last).remove("end");
            }
        }
    }
    if !event.patient_class.is_empty() {
        encounter.insert("class".into(), class_coding(&event.patient_class));
    }
    set_planned_end(&mut encounter, event.planned_discharge.as_deref());
    let labels = protection::apply_order(labels, event.protection);
    if !labels.is_empty() {
        encounter.insert("meta".into(), json!({ "security": labels }));
    }
    if !locations.is_empty() {
        encounter.insert(
            "location".into(),
            Value::Array(locations.into_iter().map(Value::Object).collect()),
        );
    }
    Ok(Value::Object(encounter))
}

fn new_encounter(event: &AdtEvent, ids: &SourceIds) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("resourceType".into(), json!("Encounter"));
    map.insert(
        "identifier".into(),
        json!([{ "system": ids.system(Kind::Visit), "value": event.visit }]),
    );
    map.insert("status".into(), json!("planned"));
    map.insert("class".into(), class_coding(&event.patient_class));
    map
}

/// PV1-2 as an R4 `Encounter.class` (v3 ActCode).
fn class_coding(patient_class: &str) -> Value {
    let (code, display) = match patient_class {
        "O" => ("AMB", "ambulatory"),
        "E" => ("EMER", "emergency"),
        "P" => ("PRENC", "pre-admission"),
        _ => ("IMP", "inpatient encounter"),
    };
    json!({ "system": ACT_CODE, "code": code, "display": display })
}

/// The patient is now at PV1-3 from `at`: the current place is completed then, and the
/// new one active. A replay (already there since `at`) changes nothing.
fn move_to(
    locations: &mut Vec<Map<String, Value>>,
    event: &AdtEvent,
    ids: &SourceIds,
    at: &str,
) -> Result<(), MappingError> {
    let place = event
        .location
        .as_ref()
        .ok_or(MappingError::Missing("PV1-3 (assigned location)"))?;
    let (reference, identity) = place_reference(ids, place)?;
    if let Some(last) = locations.last()
        && status_of(last) == "active"
        && identity_of(last) == identity
        && start_of(last) == at
    {
        return Ok(());
    }
    for entry in locations.iter_mut().filter(|l| status_of(l) == "active") {
        entry.insert("status".into(), json!("completed"));
        period_of(entry).insert("end".into(), json!(at));
    }
    let mut entry = Map::new();
    entry.insert("location".into(), reference);
    entry.insert("status".into(), json!("active"));
    entry.insert("period".into(), json!({ "start": at }));
    locations.push(entry);
    Ok(())
}

/// A12: the move to PV1-6 did not happen. Its entry goes, and the place before it
/// (PV1-3) is where the patient still is. A replay, after the entry is gone, changes
/// nothing.
fn cancel_transfer(
    locations: &mut Vec<Map<String, Value>>,
    event: &AdtEvent,
    ids: &SourceIds,
) -> Result<(), MappingError> {
    let cancelled = match &event.prior_location {
        Some(place) => place_reference(ids, place)?.1,
        None => return Err(MappingError::Missing("PV1-6 (the cancelled location)")),
    };
    let back_to = match &event.location {
        Some(place) => place_reference(ids, place)?.1,
        None => return Err(MappingError::Missing("PV1-3 (assigned location)")),
    };
    let Some(last) = locations.last() else {
        return Err(MappingError::Inconsistent(
            "A12 cancels a transfer of a stay that has no locations".into(),
        ));
    };
    if identity_of(last) == back_to && status_of(last) == "active" {
        return Ok(()); // already undone
    }
    if identity_of(last) != cancelled {
        return Err(MappingError::Inconsistent(format!(
            "A12 cancels a transfer to {cancelled}, but the stay is now at {}",
            identity_of(last)
        )));
    }
    locations.pop();
    if let Some(previous) = locations.last_mut() {
        previous.insert("status".into(), json!("active"));
        period_of(previous).remove("end");
    }
    Ok(())
}

fn set_planned_end(encounter: &mut Map<String, Value>, planned: Option<&str>) {
    let mut extensions: Vec<Value> = match encounter.remove("extension") {
        Some(Value::Array(items)) => items
            .into_iter()
            .filter(|e| e.get("url").and_then(Value::as_str) != Some(PLANNED_END_URL))
            .collect(),
        _ => Vec::new(),
    };
    if let Some(planned) = planned {
        extensions.push(json!({ "url": PLANNED_END_URL, "valueDateTime": planned }));
    }
    if !extensions.is_empty() {
        encounter.insert("extension".into(), Value::Array(extensions));
    }
}

fn set_status(encounter: &mut Map<String, Value>, status: &str) {
    encounter.insert("status".into(), json!(status));
}

fn take_locations(encounter: &mut Map<String, Value>) -> Vec<Map<String, Value>> {
    match encounter.remove("location") {
        Some(Value::Array(items)) => items
            .into_iter()
            .filter_map(|v| match v {
                Value::Object(m) => Some(m),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The `period` object of a map, created when missing.
fn period_of(map: &mut Map<String, Value>) -> &mut Map<String, Value> {
    let period = map.entry("period").or_insert_with(|| json!({}));
    if !period.is_object() {
        *period = json!({});
    }
    period.as_object_mut().expect("made an object above")
}

fn status_of(entry: &Map<String, Value>) -> &str {
    entry.get("status").and_then(Value::as_str).unwrap_or("")
}

/// The place of a location entry as `system|key`, from the identifier the adapter put
/// in the Reference.
fn identity_of(entry: &Map<String, Value>) -> String {
    let identifier = entry.get("location").and_then(|l| l.get("identifier"));
    let part = |name: &str| {
        identifier
            .and_then(|i| i.get(name))
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    format!("{}|{}", part("system"), part("value"))
}

fn start_of(entry: &Map<String, Value>) -> &str {
    entry
        .get("period")
        .and_then(|p| p.get("start"))
        .and_then(Value::as_str)
        .unwrap_or("")
}
