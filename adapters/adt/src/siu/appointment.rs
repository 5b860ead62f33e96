//! A booking applied to its Appointment and Slots: a pure function of (the stored
//! Appointment, the message), as the stays' mapping is, so a replay gives the same
//! resources again and the core stores them as a no-op.
//!
//! The shapes are the pull adapter's operation list's (`adapters/pull/src/map/
//! operations.rs`), so the operating-room and recovery pictures read a SIU booking as
//! they read an operation: an Appointment with the identifier system `<root>.7`, its
//! places as participants (the operating room first), `description` the booking's
//! id (a case number, never a person), and a Slot with the booking's key (`<root>.10`)
//! on the room's Schedule (`<root>.9|3/<room>`). Each further room, bay or device
//! the booking holds gets a Slot `<booking>/<arc>/<key>` on its own Schedule; staff
//! (AIP) are participants only (a shift's PractitionerRole has no Schedule).
//!
//! Every SIU notification restates the whole booking, so a message replaces what
//! the Appointment says, except what it leaves out: no timing keeps the stored
//! time, no resource segment keeps the stored participants. Order: the Appointment
//! keeps the last message applied (`siu-message`: control id, trigger, MSH-7); a
//! message with the same control id and trigger is a repeat, one older than it is
//! late and not applied (the later one already restated the booking).

use jiff::Timestamp;
use ohjaamo_adapter_kit::{Kind, SourceIds};
use serde_json::{Value, json};

use super::read::{Booking, Coded, Resource};
use crate::event::MappingError;

/// The extension that keeps the last message applied.
pub const SIU_MESSAGE_URL: &str = "https://ohjaamo.fi/fhir/StructureDefinition/siu-message";

/// What a message makes of a booking.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// The Appointment to write.
    pub appointment: Value,
    /// The Slots to write, by key: the booking's resources' windows, and those of
    /// resources the booking no longer holds, freed.
    pub slots: Vec<(String, Value)>,
    /// The Appointment had this message already: nothing to write.
    pub repeat: bool,
    /// Older than the message the Appointment has: not applied, nothing to write.
    pub late: bool,
}

impl Planned {
    /// Whether anything is to be written.
    pub fn writes(&self) -> bool {
        !(self.repeat || self.late)
    }
}

/// The Appointment status (FHIR R4) of a filler status code (HL7 table 0278).
fn filler_status(code: &str) -> &'static str {
    match code.to_ascii_lowercase().as_str() {
        "pending" => "pending",
        "waitlist" => "waitlist",
        "started" => "arrived",
        "complete" => "fulfilled",
        "cancelled" | "dc" => "cancelled",
        "deleted" => "entered-in-error",
        "noshow" => "noshow",
        // Booked, Overbook, Blocked, and codes of the sender's own.
        _ => "booked",
    }
}

/// The Slot status that goes with an Appointment status.
fn slot_status(status: &str) -> &'static str {
    match status {
        "booked" | "arrived" | "fulfilled" | "checked-in" => "busy",
        "pending" | "proposed" | "waitlist" => "busy-tentative",
        "entered-in-error" => "entered-in-error",
        _ => "free",
    }
}

/// A coded value as a CodeableConcept; an HL7 table named in CWE-3 (`HL70276`)
/// becomes its terminology.hl7.org system.
fn concept(coded: &Coded) -> Value {
    let mut coding = json!({});
    if let Some(table) = coded
        .system
        .strip_prefix("HL7")
        .or_else(|| coded.system.strip_prefix("hl7"))
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
    {
        coding["system"] = json!(format!("http://terminology.hl7.org/CodeSystem/v2-{table}"));
    }
    if !coded.code.is_empty() {
        coding["code"] = json!(coded.code);
    }
    if !coded.text.is_empty() {
        coding["display"] = json!(coded.text);
    }
    let mut out = json!({});
    if coding.get("code").is_some() {
        out["coding"] = json!([coding]);
    }
    if !coded.text.is_empty() {
        out["text"] = json!(coded.text);
    }
    out
}

/// The booking's resources as Appointment participants.
fn participants(ids: &SourceIds, resources: &[Resource]) -> Vec<Value> {
    resources
        .iter()
        .map(|r| {
            let mut p = json!({"actor": ids.reference(r.kind, &r.key), "status": "accepted"});
            if let Some(role) = &r.role {
                p["type"] = json!([concept(role)]);
            }
            p
        })
        .collect()
}

/// The kinds of participant that have a Schedule, by their identifier system.
fn scheduled(ids: &SourceIds, actor: &Value) -> Option<(Kind, String)> {
    let identifier = &actor["identifier"];
    let system = identifier["system"].as_str()?;
    let key = identifier["value"].as_str()?;
    [Kind::Room, Kind::BedPlace, Kind::Equipment]
        .into_iter()
        .find(|k| ids.system(*k) == system)
        .map(|k| (k, key.to_owned()))
}

/// The Slots a booking's participants hold, as `(slot key, kind, resource key)`: the
/// first room or bay under the booking's own key (as the pull adapter's operation),
/// every other room, bay and device under `<booking>/<arc>/<key>`.
fn slot_keys(
    ids: &SourceIds,
    booking: &str,
    participants: &[Value],
) -> Vec<(String, Kind, String)> {
    let mut out: Vec<(String, Kind, String)> = Vec::new();
    for p in participants {
        let Some((kind, key)) = scheduled(ids, &p["actor"]) else {
            continue;
        };
        let primary = kind != Kind::Equipment && !out.iter().any(|(_, k, _)| *k != Kind::Equipment);
        let slot = if primary {
            booking.to_owned()
        } else {
            format!("{booking}/{}/{key}", kind.arc())
        };
        if !out.iter().any(|(s, _, _)| *s == slot) {
            out.push((slot, kind, key));
        }
    }
    out
}

fn slot(
    ids: &SourceIds,
    key: &str,
    kind: Kind,
    resource: &str,
    status: &str,
    start: &str,
    end: &str,
) -> Value {
    json!({
        "resourceType": "Slot",
        "identifier": [ids.identifier(Kind::Slot, key)],
        "schedule": ids.reference(Kind::Schedule, &SourceIds::schedule_key(kind, resource)),
        "status": status,
        "start": start,
        "end": end,
    })
}

/// The last message the Appointment had: (control id, trigger, time).
fn last_message(appointment: &Value) -> Option<(String, String, String)> {
    let ext = appointment["extension"]
        .as_array()?
        .iter()
        .find(|e| e["url"] == SIU_MESSAGE_URL)?;
    let part = |name: &str| {
        ext["extension"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["url"] == name)
            .and_then(|e| e["valueString"].as_str().or(e["valueDateTime"].as_str()))
            .unwrap_or_default()
            .to_owned()
    };
    Some((part("controlId"), part("trigger"), part("occurred")))
}

fn earlier(a: &str, b: &str) -> bool {
    match (a.parse::<Timestamp>(), b.parse::<Timestamp>()) {
        (Ok(a), Ok(b)) => a < b,
        _ => false,
    }
}

/// `booking` applied to `stored` (the Appointment the core has, if any), written by
/// `key` (one of the booking's keys, the one the stored Appointment was found by).
pub fn plan(
    ids: &SourceIds,
    booking: &Booking,
    key: &str,
    stored: Option<&Value>,
) -> Result<Planned, MappingError> {
    if let Some((control, trigger, occurred)) = stored.and_then(last_message) {
        let repeat = control == booking.control_id && trigger == booking.trigger.code();
        let late = !repeat && earlier(&booking.occurred, &occurred);
        if repeat || late {
            return Ok(Planned {
                appointment: stored.cloned().unwrap_or(Value::Null),
                slots: Vec::new(),
                repeat,
                late,
            });
        }
    }
    let status = booking.trigger.status().unwrap_or_else(|| {
        booking
            .filler_status
            .as_deref()
            .map_or("booked", filler_status)
    });
    let stored_text = |field: &str| stored.and_then(|a| a[field].as_str()).map(str::to_owned);
    let (start, end) = match &booking.timing {
        Some(t) => {
            let end = t.end.clone().or_else(|| {
                // A new start without an end keeps the stored length.
                let (s, e) = (stored_text("start")?, stored_text("end")?);
                let length = e.parse::<Timestamp>().ok()?.duration_since(s.parse().ok()?);
                let end = t
                    .start
                    .parse::<Timestamp>()
                    .ok()?
                    .checked_add(length)
                    .ok()?;
                Some(end.to_string())
            });
            (Some(t.start.clone()), end)
        }
        None => (stored_text("start"), stored_text("end")),
    };
    let timeless = matches!(status, "cancelled" | "waitlist" | "proposed");
    if start.is_none() && !timeless {
        return Err(MappingError::Missing(
            "the booking's start (TQ1-7, SCH-11-4 or AIS-4)",
        ));
    }
    if start.is_some() && end.is_none() {
        return Err(MappingError::Missing(
            "the booking's end or duration (TQ1-8, SCH-11-5, TQ1-6, SCH-11-3, AIS-7 or SCH-9)",
        ));
    }
    let stored_list = |field: &str| {
        stored
            .and_then(|a| a[field].as_array())
            .cloned()
            .unwrap_or_default()
    };
    let participants = if booking.resources.is_empty() {
        stored_list("participant")
    } else {
        participants(ids, &booking.resources)
    };
    let services: Vec<Value> = if booking.services.is_empty() {
        stored_list("serviceType")
    } else {
        booking.services.iter().map(concept).collect()
    };
    let held = slot_keys(ids, key, &participants);
    let mut slots = Vec::new();
    if let (Some(start), Some(end)) = (&start, &end) {
        for (slot_key, kind, resource) in &held {
            slots.push((
                slot_key.clone(),
                slot(
                    ids,
                    slot_key,
                    *kind,
                    resource,
                    slot_status(status),
                    start,
                    end,
                ),
            ));
        }
    }
    // Resources the booking no longer holds: their windows are freed.
    if let (Some(old), Some(start), Some(end)) = (stored, stored_text("start"), stored_text("end"))
    {
        let before = slot_keys(
            ids,
            key,
            old["participant"].as_array().map_or(&[], Vec::as_slice),
        );
        for (slot_key, kind, resource) in before {
            if !held.iter().any(|(k, _, _)| *k == slot_key) {
                slots.push((
                    slot_key.clone(),
                    slot(ids, &slot_key, kind, &resource, "free", &start, &end),
                ));
            }
        }
    }
    let mut identifiers: Vec<Value> = stored
        .and_then(|a| a["identifier"].as_array())
        .into_iter()
        .flatten()
        .filter(|i| i["system"] == ids.system(Kind::Booking).as_str())
        .cloned()
        .collect();
    for k in booking.keys.iter().map(String::as_str).chain([key]) {
        let identifier = ids.identifier(Kind::Booking, k);
        if !identifiers.contains(&identifier) {
            identifiers.push(identifier);
        }
    }
    let case = booking.keys[0]
        .strip_prefix("placer:")
        .unwrap_or(&booking.keys[0]);
    let mut appointment = json!({
        "resourceType": "Appointment",
        "identifier": identifiers,
        "extension": [{
            "url": SIU_MESSAGE_URL,
            "extension": [
                {"url": "controlId", "valueString": booking.control_id},
                {"url": "trigger", "valueString": booking.trigger.code()},
                {"url": "occurred", "valueDateTime": booking.occurred},
            ],
        }],
        "status": status,
        "priority": if booking.appointment_reason.as_ref().is_some_and(|r| r.code.eq_ignore_ascii_case("EMERGENCY")) { 1 } else { 5 },
        "description": case,
        "participant": participants,
    });
    if let Some(reason) = &booking.appointment_reason {
        appointment["appointmentType"] = concept(reason);
    }
    if !services.is_empty() {
        appointment["serviceType"] = json!(services);
    }
    if let (Some(reason), "cancelled" | "noshow") = (&booking.event_reason, status) {
        appointment["cancelationReason"] = concept(reason);
    }
    if let (Some(start), Some(end)) = (start, end) {
        appointment["start"] = json!(start);
        appointment["end"] = json!(end);
    }
    let references: Vec<Value> = slots
        .iter()
        .filter(|(k, _)| held.iter().any(|(h, _, _)| h == k))
        .map(|(k, _)| ids.reference(Kind::Slot, k))
        .collect();
    if !references.is_empty() {
        appointment["slot"] = json!(references);
    }
    Ok(Planned {
        appointment,
        slots,
        repeat: false,
        late: false,
    })
}
