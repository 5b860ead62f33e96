//! An ADT event applied to the stay's Encounter.
//!
//! The adapter keeps no state: it reads the stay's current Encounter from the core,
//! applies the event here, and writes the result back with If-Match. So this is a pure
//! function of (current Encounter, event), and replaying a message gives the same
//! Encounter again — which the core then stores as a no-op.
//!
//! The Encounter's `location[]` is the stay's location history (`history`); what the
//! stay remembers of its messages, for order and repeats, is its `ledger`. An event
//! that contradicts the stay is applied as far as it is consistent and the rest is
//! left with a data-quality mark (see `ledger`), never refused: an interface engine
//! stops its whole queue on an error.

use serde_json::{Map, Value, json};

use ohjaamo_adapter_kit::Kind;

use crate::event::{AdtEvent, MappingError, PointOfCare, Trigger};
use crate::history::{self, Entry, Place, identity_of, period_of, status_of};
use crate::ledger::{Ledger, later};
use crate::planned::{cancel_pending_discharge, pending_discharge, set_planned_end};
use crate::protection;

pub use crate::planned::{PENDING_DISCHARGE_URL, PLANNED_END_URL};

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
fn place_reference(ids: &SourceIds, place: &PointOfCare) -> Result<Place, MappingError> {
    let (kind, key) = place_key(place).ok_or(MappingError::Missing("PV1-3 (assigned location)"))?;
    Ok(Place {
        reference: ids.reference(kind, key),
        identity: format!("{}|{key}", ids.system(kind)),
    })
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

/// An event applied to a stay.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The Encounter to write.
    pub encounter: Value,
    /// The stay had this message already (same control id and trigger): nothing
    /// changed, nothing needs writing.
    pub repeat: bool,
    /// Older than a message the stay had: merged into its history by time.
    pub late: bool,
    /// The data-quality marks this message left on the stay (see `ledger`).
    pub marks: Vec<String>,
}

/// Applies `event` to the stay's current Encounter (`None` when the core has none yet)
/// and returns the Encounter to write.
pub fn apply(
    current: Option<&Value>,
    event: &AdtEvent,
    ids: &SourceIds,
) -> Result<Value, MappingError> {
    apply_event(current, event, ids).map(|a| a.encounter)
}

/// [`apply`], telling also whether the message was a repeat, late, or contradicted
/// the stay.
pub fn apply_event(
    current: Option<&Value>,
    event: &AdtEvent,
    ids: &SourceIds,
) -> Result<Applied, MappingError> {
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
    let mut ledger = Ledger::take(&mut encounter);
    let repeat = ledger.has(event);
    let late = ledger.is_late(event);
    let marks_before = ledger.marks.len();
    let mut labels = Some(labels);
    if !repeat {
        add_keys(&mut encounter, event, ids);
        let mut locations = take_locations(&mut encounter);
        let place = change(
            &mut encounter,
            &mut locations,
            &mut ledger,
            event,
            ids,
            late,
        )?;
        if !late {
            update(&mut encounter, event);
        }
        labels = labels.map(|l| protection::apply_order(l, event.protection));
        if !locations.is_empty() {
            encounter.insert(
                "location".into(),
                Value::Array(locations.into_iter().map(Value::Object).collect()),
            );
        }
        // The place matters to the ledger only to tell which transfer a cancel undid.
        ledger.record(
            event,
            place.filter(|_| matches!(event.trigger, Trigger::A02 | Trigger::A12)),
        );
    }
    let marks = ledger.marks[marks_before.min(ledger.marks.len())..].to_vec();
    ledger.put(&mut encounter);
    if let Some(labels) = labels.filter(|l| !l.is_empty()) {
        encounter.insert("meta".into(), json!({ "security": labels }));
    }
    Ok(Applied {
        encounter: Value::Object(encounter),
        repeat,
        late,
        marks,
    })
}

/// What a message says of the visit beside its moves: the class (PV1-2; A06 and
/// A07 say it by their trigger when PV1-2 is empty) and the planned discharge
/// (PV2-9, when the message has one). Only the newest message says these: a late
/// one does not override them.
fn update(encounter: &mut Map<String, Value>, event: &AdtEvent) {
    let class = match (event.trigger, event.patient_class.as_str()) {
        (_, c) if !c.is_empty() => Some(c),
        (Trigger::A06, _) => Some("I"),
        (Trigger::A07, _) => Some("O"),
        _ => None,
    };
    if let Some(class) = class {
        encounter.insert("class".into(), class_coding(class));
    }
    if event.trigger != Trigger::A16
        && let Some(planned) = &event.planned_discharge
    {
        set_planned_end(encounter, Some(planned));
    }
}

/// The stay's change for `event`; answers the place the ledger records with it (the
/// place moved to, or the cancelled move's).
fn change(
    encounter: &mut Map<String, Value>,
    locations: &mut Vec<Entry>,
    ledger: &mut Ledger,
    event: &AdtEvent,
    ids: &SourceIds,
    late: bool,
) -> Result<Option<String>, MappingError> {
    let status = encounter
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("planned")
        .to_owned();
    let stay_end = (status == "finished")
        .then(|| end_of_stay(encounter))
        .flatten();
    let place = match (&event.location, event.trigger) {
        (Some(p), _) => Some(place_reference(ids, p)?),
        (None, _) => None,
    };
    let place_identity = place.as_ref().map(|p| p.identity.clone());
    let cancelled_identity = match (&event.prior_location, event.trigger) {
        (Some(p), Trigger::A12) => Some(place_reference(ids, p)?.identity),
        _ => None,
    };
    let ledger_place = cancelled_identity.clone().or(place_identity.clone());
    if ledger.cancelled(event, place_identity.as_deref()) {
        // Its cancel came first: the event did not happen.
        return Ok(ledger_place);
    }
    let at = event.occurred.as_str();
    match event.trigger {
        Trigger::A01 | Trigger::A04 => {
            let start = event.admitted.clone().unwrap_or_else(|| at.to_owned());
            if matches!(status.as_str(), "entered-in-error" | "cancelled") {
                // Admitted again after a cancelled admission: nothing of that holds.
                locations.clear();
                encounter.remove("period");
            }
            let fresh = !matches!(status.as_str(), "in-progress" | "finished" | "onleave");
            if fresh {
                locations.retain(|l| status_of(l) != "planned");
                set_status(encounter, "in-progress");
                period_of(encounter).insert("start".into(), json!(start));
            } else if stay_start(encounter).is_none_or(|s| later(&s, &start)) {
                period_of(encounter).insert("start".into(), json!(start));
            }
            if let Some(end) = &stay_end
                && later(&start, end)
            {
                ledger.mark(
                    event,
                    &format!(
                        "an admission at {start} after the stay's discharge at {end}: not applied"
                    ),
                );
                return Ok(ledger_place);
            }
            if let Some(place) = place {
                history::place_at(locations, place, &start, stay_end.as_deref());
            }
        }
        Trigger::A02 | Trigger::A06 | Trigger::A07 | Trigger::A17 => {
            if matches!(status.as_str(), "planned") {
                set_status(encounter, "in-progress");
                period_of(encounter).insert("start".into(), json!(at));
                locations.retain(|l| status_of(l) != "planned");
            }
            let Some(place) = place else {
                return Ok(ledger_place);
            };
            if event.trigger != Trigger::A02
                && history::current(locations).as_deref() == Some(&place.identity)
            {
                return Ok(ledger_place); // a change of class in the same place
            }
            if let Some(end) = &stay_end
                && !later(end, at)
            {
                ledger.mark(
                    event,
                    &format!(
                        "a move to {} at {at}, after the stay's discharge at {end}: not applied",
                        place.identity
                    ),
                );
                return Ok(ledger_place);
            }
            if !late {
                // The pending transfer happened (or another did instead).
                locations.retain(|l| status_of(l) != "planned");
            }
            history::place_at(locations, place, at, stay_end.as_deref());
        }
        Trigger::A03 => discharge(encounter, locations, ledger, event)?,
        Trigger::A05 | Trigger::A14 => {
            if matches!(status.as_str(), "in-progress" | "finished" | "onleave") {
                if !late {
                    ledger.mark(
                        event,
                        "a pending admission of a stay already admitted: not applied",
                    );
                }
                return Ok(ledger_place);
            }
            let start = event
                .expected_admit
                .clone()
                .or(event.planned.clone())
                .or(event.admitted.clone())
                .unwrap_or_else(|| at.to_owned());
            set_status(encounter, "planned");
            period_of(encounter).insert("start".into(), json!(start));
            locations.retain(|l| status_of(l) != "planned");
            if let Some(place) = place {
                locations.push(planned_entry(place, &start));
            }
        }
        Trigger::A08 => {
            // An update: class, planned discharge and protection (`update`). A
            // different PV1-3 corrects where the patient is now, without a move.
            if let (Some(place), false) = (place, late)
                && let Some(active) = locations
                    .iter_mut()
                    .rev()
                    .find(|l| status_of(l) == "active")
                && identity_of(active) != place.identity
            {
                active.insert("location".into(), place.reference);
            }
        }
        Trigger::A11 => {
            // The admission should never have been: nothing of it holds.
            set_status(encounter, "entered-in-error");
        }
        Trigger::A12 => {
            let cancelled = cancelled_identity.clone().unwrap_or_default();
            let undone = history::cancel_move(locations, &cancelled, stay_end.as_deref());
            let now_at = history::current(locations);
            if !undone
                && let (Some(back), Some(now_at)) = (&place_identity, now_at)
                && *back != now_at
            {
                ledger.mark(event, &format!("cancels a transfer to {cancelled} that the stay does not have; PV1-3 says {back}, the stay is at {now_at}: not applied"));
            }
        }
        Trigger::A13 => {
            // It cancels a discharge before it; a newer discharge (a late cancel
            // arriving after it) is not its to undo.
            let cancels_this = stay_end.as_deref().is_some_and(|end| !later(end, at));
            if status == "finished" && cancels_this {
                set_status(encounter, "in-progress");
                period_of(encounter).remove("end");
                if let Some(last) = locations
                    .iter_mut()
                    .rev()
                    .find(|l| status_of(l) != "planned")
                {
                    history::reopen(last);
                }
            }
        }
        Trigger::A15 => {
            let target = match &event.pending_location {
                Some(p) => Some(place_reference(ids, p)?),
                None => {
                    place.filter(|p| history::current(locations).as_deref() != Some(&p.identity))
                }
            };
            let Some(target) = target else {
                return Err(MappingError::Missing("PV1-42 (pending location)"));
            };
            if late && history::latest_start(locations).is_some_and(|s| later(s, at)) {
                return Ok(ledger_place); // a newer move superseded the plan
            }
            if let Some(end) = &stay_end {
                if !late {
                    ledger.mark(
                        event,
                        &format!("a pending transfer of a stay discharged at {end}: not applied"),
                    );
                }
                return Ok(ledger_place);
            }
            let identity = target.identity.clone();
            locations.retain(|l| status_of(l) != "planned");
            locations.push(planned_entry(
                target,
                event.planned.as_deref().unwrap_or(at),
            ));
            return Ok(Some(identity));
        }
        Trigger::A25 => {
            if status != "planned" {
                locations.retain(|l| status_of(l) != "planned");
            }
        }
        Trigger::A16 => {
            let planned = event
                .planned_discharge
                .clone()
                .or(event.planned.clone())
                .or(event.discharged.clone())
                .unwrap_or_else(|| at.to_owned());
            pending_discharge(encounter, &planned);
        }
        Trigger::A26 => cancel_pending_discharge(encounter),
        Trigger::A27 | Trigger::A38 => {
            if status == "planned" {
                set_status(encounter, "cancelled");
            } else if !late {
                ledger.mark(
                    event,
                    &format!(
                        "cancels the pending admission of a stay that is {status}: not applied"
                    ),
                );
            }
        }
        Trigger::A21 => match history::leave(locations, at) {
            Some(held) => locations.push(held),
            None => ledger.mark(
                event,
                "a leave of absence of a patient in no bed: not applied",
            ),
        },
        Trigger::A22 => {
            if !history::come_back(locations, at) && !late {
                ledger.mark(
                    event,
                    "a return from a leave of absence the stay does not have: not applied",
                );
            }
        }
        Trigger::A52 => {
            history::cancel_leave(locations);
        }
        Trigger::A53 => {
            history::cancel_return(locations);
        }
        Trigger::A09 | Trigger::A10 | Trigger::A28 | Trigger::A31 | Trigger::A34 | Trigger::A40 => {
        }
    }
    Ok(ledger_place)
}

/// A03: the stay ends at PV1-45 (else the event's time). A discharge before a
/// place the stay was in is not the stay's end: the event's own time is used when
/// it is consistent, else nothing changes; either way the stay is marked. Of two
/// discharges, the later one holds.
fn discharge(
    encounter: &mut Map<String, Value>,
    locations: &mut Vec<Entry>,
    ledger: &mut Ledger,
    event: &AdtEvent,
) -> Result<(), MappingError> {
    let said = event
        .discharged
        .clone()
        .unwrap_or_else(|| event.occurred.clone());
    let floor = [
        stay_start(encounter),
        history::latest_start(locations).map(str::to_owned),
    ]
    .into_iter()
    .flatten()
    .reduce(|a, b| if later(&b, &a) { b } else { a });
    let end = match &floor {
        Some(floor) if later(floor, &said) => {
            if !later(floor, &event.occurred) {
                ledger.mark(event, &format!("discharge time {said} is before the stay's {floor}: the stay ends at the message's time {}", event.occurred));
                event.occurred.clone()
            } else {
                ledger.mark(
                    event,
                    &format!(
                        "a discharge at {said}, before the stay's last move at {floor}: not applied"
                    ),
                );
                return Ok(());
            }
        }
        _ => said,
    };
    let status = encounter
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("");
    // Discharged already: the newer discharge decides (a correction, or one after
    // a cancel that is still on its way), the older one changes nothing.
    if status == "finished"
        && let Some(known) = end_of_stay(encounter)
        && later(&known, &end)
    {
        return Ok(());
    }
    set_status(encounter, "finished");
    period_of(encounter).insert("end".into(), json!(end));
    for entry in locations
        .iter_mut()
        .filter(|l| history::end_of(l).is_some_and(|e| later(e, &end)))
    {
        period_of(entry).insert("end".into(), json!(end));
    }
    history::close_all(locations, &end);
    Ok(())
}

/// Adds the message's keys (and patient pseudonym) to the stay's identifiers.
fn add_keys(encounter: &mut Map<String, Value>, event: &AdtEvent, ids: &SourceIds) {
    let system = ids.system(Kind::Visit);
    let mut identifiers = match encounter.remove("identifier") {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    for key in event.keys.iter().chain(&event.patient) {
        let known = identifiers
            .iter()
            .any(|i| i["system"] == system.as_str() && i["value"] == key.as_str());
        if !known {
            identifiers.push(json!({ "system": system, "value": key }));
        }
    }
    encounter.insert("identifier".into(), Value::Array(identifiers));
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

/// A place the patient is to go to from `at` (a pending admit or transfer).
fn planned_entry(place: Place, at: &str) -> Entry {
    let mut entry = Entry::new();
    entry.insert("location".into(), place.reference);
    entry.insert("status".into(), json!("planned"));
    entry.insert("period".into(), json!({ "start": at }));
    entry
}

fn set_status(encounter: &mut Map<String, Value>, status: &str) {
    encounter.insert("status".into(), json!(status));
}

fn stay_start(encounter: &Map<String, Value>) -> Option<String> {
    encounter
        .get("period")?
        .get("start")?
        .as_str()
        .map(str::to_owned)
}

fn end_of_stay(encounter: &Map<String, Value>) -> Option<String> {
    encounter
        .get("period")?
        .get("end")?
        .as_str()
        .map(str::to_owned)
}

fn take_locations(encounter: &mut Map<String, Value>) -> Vec<Entry> {
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
