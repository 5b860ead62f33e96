//! The planned discharge of a stay: PV2-9 as R5's `plannedEndDate` (the core ends the
//! bed's Slot at it, so the picture counts the bed as freeing that day), and A16's
//! pending discharge over it, kept so that A26 restores exactly what was there.

use serde_json::{Map, Value, json};

/// R5's `Encounter.plannedEndDate` as an R4 cross-version extension.
pub const PLANNED_END_URL: &str =
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-Encounter.plannedEndDate";

/// A16's mark on the stay: a discharge is pending, and the planned discharge it
/// replaced (a `previous` sub-extension; `valueBoolean` true when there was none),
/// so that A26 restores exactly that.
pub const PENDING_DISCHARGE_URL: &str =
    "https://ohjaamo.fi/fhir/StructureDefinition/pending-discharge";

/// A16: the discharge is planned for `planned` (the picture's "freeing" counts the
/// bed on that day: the core ends the bed's Slot at the planned discharge).
pub(crate) fn pending_discharge(encounter: &mut Map<String, Value>, planned: &str) {
    let previous = match take_extension(encounter, PENDING_DISCHARGE_URL) {
        Some(mark) => mark, // pending already: what it replaced stays what it replaced
        // An extension has a value or extensions, never neither: `true` when there
        // was no planned discharge to restore.
        None => match planned_end_of(encounter) {
            Some(before) => json!({
                "url": PENDING_DISCHARGE_URL,
                "extension": [{ "url": "previous", "valueDateTime": before }],
            }),
            None => json!({ "url": PENDING_DISCHARGE_URL, "valueBoolean": true }),
        },
    };
    set_planned_end(encounter, Some(planned));
    push_extension(encounter, previous);
}

/// A26: the pending discharge is off; the planned discharge is what it was before.
pub(crate) fn cancel_pending_discharge(encounter: &mut Map<String, Value>) {
    let Some(mark) = take_extension(encounter, PENDING_DISCHARGE_URL) else {
        return;
    };
    let before = mark["extension"]
        .as_array()
        .and_then(|parts| parts.iter().find(|p| p["url"] == "previous"))
        .and_then(|p| p["valueDateTime"].as_str())
        .map(str::to_owned);
    set_planned_end(encounter, before.as_deref());
}

fn planned_end_of(encounter: &Map<String, Value>) -> Option<String> {
    encounter
        .get("extension")?
        .as_array()?
        .iter()
        .find(|e| e["url"] == PLANNED_END_URL)?["valueDateTime"]
        .as_str()
        .map(str::to_owned)
}

fn take_extension(encounter: &mut Map<String, Value>, url: &str) -> Option<Value> {
    let items = encounter.get_mut("extension")?.as_array_mut()?;
    let index = items.iter().position(|e| e["url"] == url)?;
    let taken = items.remove(index);
    if items.is_empty() {
        encounter.remove("extension");
    }
    Some(taken)
}

fn push_extension(encounter: &mut Map<String, Value>, extension: Value) {
    match encounter.get_mut("extension").and_then(Value::as_array_mut) {
        Some(items) => items.push(extension),
        None => {
            encounter.insert("extension".into(), json!([extension]));
        }
    }
}

pub(crate) fn set_planned_end(encounter: &mut Map<String, Value>, planned: Option<&str>) {
    let mut extensions: Vec<Value> = match encounter.remove("extension") {
        Some(Value::Array(items)) => items
            .into_iter()
            .filter(|e| e.get("url").and_then(Value::as_str) != Some(PLANNED_END_URL))
            .collect(),
        _ => Vec::new(),
    };
    if let Some(planned) = planned {
        extensions.insert(
            0,
            json!({ "url": PLANNED_END_URL, "valueDateTime": planned }),
        );
    }
    if !extensions.is_empty() {
        encounter.insert("extension".into(), Value::Array(extensions));
    }
}
