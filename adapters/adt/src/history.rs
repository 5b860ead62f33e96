//! The stay's location history (`Encounter.location[]`), kept in time order, and
//! the changes ADT events make to it.
//!
//! Each entry is one place with a period and an R4 `Encounter.location.status`:
//! `active` where the patient is, `completed` where they were, `planned` where they
//! are to go (a pending admit or transfer: the core derives a `busy-tentative` Slot,
//! the picture a reserved bed), and `reserved` for a bed held empty for the patient
//! — R4's own definition of the code, "the location is held empty for this patient"
//! — during a leave of absence (A21 to A22). A `reserved` entry keeps its status
//! after the leave, with the period's end: R4 has no "was reserved", and
//! `completed` would say the patient was there.
//!
//! Moves are placed by their time, not by their arrival: a transfer older than the
//! newest place is recorded in the history with its period, and the newer place
//! stays the current one.

use serde_json::{Map, Value, json};

use crate::ledger::later;

pub type Entry = Map<String, Value>;

/// A place of the history: its Reference and its `system|key`.
pub struct Place {
    pub reference: Value,
    pub identity: String,
}

/// The patient is at `place` from `at`. The newest move completes the current
/// place then; an older one is inserted before the newer places with the period up
/// to the next one, and cuts the period of the place before it. `ended`: the stay
/// is over (its end), so the place is completed then. A replay (the place already
/// there from `at`) changes nothing.
pub fn place_at(locations: &mut Vec<Entry>, place: Place, at: &str, ended: Option<&str>) {
    let replay = locations.iter().any(|l| {
        status_of(l) != "planned" && identity_of(l) == place.identity && start_of(l) == at
    });
    if replay {
        return;
    }
    let next = locations
        .iter()
        .position(|l| status_of(l) != "planned" && later(start_of(l), at));
    let before = next.unwrap_or(locations.len());
    if let Some(previous) = locations[..before]
        .iter_mut()
        .rev()
        .find(|l| status_of(l) != "planned")
        && end_of(previous).is_none_or(|end| later(end, at))
    {
        end_at(previous, at);
    }
    let mut entry = Entry::new();
    entry.insert("location".into(), place.reference);
    match (next.map(|i| start_of(&locations[i]).to_owned()), ended) {
        (Some(until), _) => {
            entry.insert("status".into(), json!("completed"));
            entry.insert("period".into(), json!({ "start": at, "end": until }));
        }
        (None, Some(end)) => {
            entry.insert("status".into(), json!("completed"));
            entry.insert("period".into(), json!({ "start": at, "end": end }));
        }
        (None, None) => {
            entry.insert("status".into(), json!("active"));
            entry.insert("period".into(), json!({ "start": at }));
        }
    }
    locations.insert(before, entry);
}

/// Ends an entry at `at`: an `active` one becomes `completed`, a `reserved` one
/// keeps its status (see the module docs).
pub fn end_at(entry: &mut Entry, at: &str) {
    if status_of(entry) == "active" {
        entry.insert("status".into(), json!("completed"));
    }
    period_of(entry).insert("end".into(), json!(at));
}

/// Opens an entry again: the patient is there (`active`) or the bed held
/// (`reserved`) with no end.
pub fn reopen(entry: &mut Entry) {
    if status_of(entry) == "completed" {
        entry.insert("status".into(), json!("active"));
    }
    period_of(entry).remove("end");
}

/// Ends every open place (the stay ends at `at`) and drops the planned ones.
pub fn close_all(locations: &mut Vec<Entry>, at: &str) {
    locations.retain(|l| status_of(l) != "planned");
    for entry in locations.iter_mut().filter(|l| end_of(l).is_none()) {
        end_at(entry, at);
    }
}

/// A12: the move to `cancelled` did not happen. Its entry goes and the place
/// before it gets its period back; `ended`: the stay is over then. Answers whether
/// there was such a move (a cancel that overtook its transfer finds none).
pub fn cancel_move(locations: &mut Vec<Entry>, cancelled: &str, ended: Option<&str>) -> bool {
    let Some(index) = locations
        .iter()
        .rposition(|l| status_of(l) != "planned" && identity_of(l) == cancelled)
    else {
        return false;
    };
    let removed = locations.remove(index);
    let following = locations[index..].iter().any(|l| status_of(l) != "planned");
    if let Some(previous) = locations[..index]
        .iter_mut()
        .rev()
        .find(|l| status_of(l) != "planned")
    {
        match (end_of(&removed), following, ended) {
            (Some(end), true, _) => end_at(previous, end),
            (_, false, Some(end)) => end_at(previous, end),
            _ => reopen(previous),
        }
    }
    true
}

/// A21: the patient leaves the bed at `at`; answers the entry that holds the bed
/// for them (to push), `None` when the patient is in no place.
pub fn leave(locations: &mut [Entry], at: &str) -> Option<Entry> {
    let current = locations
        .iter_mut()
        .rev()
        .find(|l| status_of(l) == "active")?;
    end_at(current, at);
    let mut held = Entry::new();
    held.insert("location".into(), current["location"].clone());
    held.insert("status".into(), json!("reserved"));
    held.insert("period".into(), json!({ "start": at }));
    Some(held)
}

/// A22: the patient is back in the held bed at `at`; `false` when no bed is held.
pub fn come_back(locations: &mut Vec<Entry>, at: &str) -> bool {
    let Some(held) = locations
        .iter_mut()
        .rev()
        .find(|l| status_of(l) == "reserved" && end_of(l).is_none())
    else {
        return false;
    };
    period_of(held).insert("end".into(), json!(at));
    let mut back = Entry::new();
    back.insert("location".into(), held["location"].clone());
    back.insert("status".into(), json!("active"));
    back.insert("period".into(), json!({ "start": at }));
    locations.push(back);
    true
}

/// A52: the leave did not happen: the held entry goes and the place before it is
/// the patient's again. `false` when the last place is no open leave.
pub fn cancel_leave(locations: &mut Vec<Entry>) -> bool {
    let Some(last) = locations.iter().rposition(|l| status_of(l) != "planned") else {
        return false;
    };
    if status_of(&locations[last]) != "reserved" || end_of(&locations[last]).is_some() {
        return false;
    }
    locations.remove(last);
    if let Some(previous) = locations[..last]
        .iter_mut()
        .rev()
        .find(|l| status_of(l) != "planned")
    {
        reopen(previous);
    }
    true
}

/// A53: the return did not happen: the patient is on leave again. `false` when the
/// last place is not a return from a leave.
pub fn cancel_return(locations: &mut Vec<Entry>) -> bool {
    let kept: Vec<usize> = (0..locations.len())
        .filter(|i| status_of(&locations[*i]) != "planned")
        .collect();
    let [.., held, back] = kept[..] else {
        return false;
    };
    let is_return = status_of(&locations[back]) == "active"
        && status_of(&locations[held]) == "reserved"
        && identity_of(&locations[back]) == identity_of(&locations[held]);
    if !is_return {
        return false;
    }
    locations.remove(back);
    period_of(&mut locations[held]).remove("end");
    true
}

/// The place the patient is in now (`system|key`), if any.
pub fn current(locations: &[Entry]) -> Option<String> {
    locations
        .iter()
        .rev()
        .find(|l| status_of(l) == "active")
        .map(identity_of)
}

/// The latest start of a place the patient was or is in.
pub fn latest_start(locations: &[Entry]) -> Option<&str> {
    locations
        .iter()
        .filter(|l| status_of(l) != "planned")
        .map(start_of)
        .filter(|s| !s.is_empty())
        .reduce(|a, b| if later(b, a) { b } else { a })
}

/// The `period` object of a map, created when missing.
pub fn period_of(map: &mut Map<String, Value>) -> &mut Map<String, Value> {
    let period = map.entry("period").or_insert_with(|| json!({}));
    if !period.is_object() {
        *period = json!({});
    }
    period.as_object_mut().expect("made an object above")
}

pub fn status_of(entry: &Entry) -> &str {
    entry.get("status").and_then(Value::as_str).unwrap_or("")
}

/// The place of a location entry as `system|key`, from the identifier the adapter put
/// in the Reference.
pub fn identity_of(entry: &Entry) -> String {
    let identifier = entry.get("location").and_then(|l| l.get("identifier"));
    let part = |name: &str| {
        identifier
            .and_then(|i| i.get(name))
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    format!("{}|{}", part("system"), part("value"))
}

pub fn start_of(entry: &Entry) -> &str {
    entry
        .get("period")
        .and_then(|p| p.get("start"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub fn end_of(entry: &Entry) -> Option<&str> {
    entry
        .get("period")
        .and_then(|p| p.get("end"))
        .and_then(Value::as_str)
}
