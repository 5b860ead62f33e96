//! An operation of the operation list: a Slot on its theatre's Schedule and an
//! Appointment with the phase, the real times and the recovery bay.

use ohjaamo_adapter_kit::{Kind, SourceIds, Upsert};
use serde_json::{Value, json};

use super::fields::{coding, deleted, extension, instant, optional_instant, optional_text, text};

/// The export's states as FHIR Appointment statuses.
fn appointment_status(state: &str) -> Result<&'static str, String> {
    Ok(match state {
        "varattu" => "booked",
        "kaynnissa" => "arrived",
        "valmis" => "fulfilled",
        "peruttu" => "cancelled",
        other => {
            return Err(format!(
                "tila {other:?} is not an operation state this adapter knows"
            ));
        }
    })
}

fn phase(value: &str) -> Result<&'static str, String> {
    Ok(match value {
        "odottaa" => "waiting",
        "siirto_saliin" => "to-theatre",
        "leikkaus" => "in-operation",
        "heraamossa" => "in-recovery",
        "poistunut" => "left-recovery",
        other => {
            return Err(format!(
                "vaihe {other:?} is not an operation phase this adapter knows"
            ));
        }
    })
}

pub fn operation(ids: &SourceIds, record: &Value) -> Result<Vec<Upsert>, String> {
    let key = text(record, "koodi")?;
    if deleted(record) {
        return Ok(vec![
            Upsert::retire(
                ids.conditional(Kind::Slot, key),
                "status",
                json!("entered-in-error"),
            ),
            Upsert::retire(
                ids.conditional(Kind::Booking, key),
                "status",
                json!("entered-in-error"),
            ),
        ]);
    }
    let theatre = text(record, "sali")?;
    let start = instant(record, "alkaa")?;
    let end = instant(record, "paattyy")?;
    let status = appointment_status(text(record, "tila")?)?;
    let schedule_key = SourceIds::schedule_key(Kind::Room, theatre);
    let slot = json!({
        "resourceType": "Slot",
        "identifier": [ids.identifier(Kind::Slot, key)],
        "schedule": ids.reference(Kind::Schedule, &schedule_key),
        "status": if status == "cancelled" { "free" } else { "busy" },
        "start": start,
        "end": end,
    });
    let mut participants =
        vec![json!({"actor": ids.reference(Kind::Room, theatre), "status": "accepted"})];
    if let Some(bay) = optional_text(record, "heraamopaikka")? {
        participants
            .push(json!({"actor": ids.reference(Kind::BedPlace, bay), "status": "accepted"}));
    }
    let mut extensions = vec![extension(
        "operation-phase",
        "valueCode",
        json!(phase(text(record, "vaihe")?)?),
    )];
    let actual_start = optional_instant(record, "toteutunut_alku")?;
    let actual_end = optional_instant(record, "toteutunut_loppu")?;
    if actual_start.is_some() || actual_end.is_some() {
        extensions.push(extension(
            "operation-actual",
            "valuePeriod",
            period(actual_start, actual_end.clone()),
        ));
    }
    if let Some(left) = optional_instant(record, "heraamosta")? {
        extensions.push(extension(
            "recovery-period",
            "valuePeriod",
            period(actual_end, Some(left)),
        ));
    }
    extensions.push(extension(
        "discharge-destination",
        "valueString",
        json!(text(record, "jatkohoito")?),
    ));
    let appointment = json!({
        "resourceType": "Appointment",
        "identifier": [ids.identifier(Kind::Booking, key)],
        "extension": extensions,
        "status": status,
        "priority": if text(record, "kiireellisyys").is_ok_and(|u| u == "paivystys") { 1 } else { 5 },
        "appointmentType": {"coding": [coding("booking-kind", "operation")]},
        "description": text(record, "tapaus")?,
        "start": start,
        "end": end,
        "slot": [ids.reference(Kind::Slot, key)],
        "participant": participants,
    });
    Ok(vec![
        Upsert::put(ids.conditional(Kind::Slot, key), slot),
        Upsert::put(ids.conditional(Kind::Booking, key), appointment),
    ])
}

fn period(start: Option<String>, end: Option<String>) -> Value {
    let mut p = json!({});
    if let Some(s) = start {
        p["start"] = json!(s);
    }
    if let Some(e) = end {
        p["end"] = json!(e);
    }
    p
}

/// A clinic room's booking window: a Slot on the room's Schedule, `busy` when booked.
pub fn clinic_window(ids: &SourceIds, record: &Value) -> Result<Vec<Upsert>, String> {
    let key = text(record, "koodi")?;
    if deleted(record) {
        return Ok(vec![Upsert::retire(
            ids.conditional(Kind::Slot, key),
            "status",
            json!("entered-in-error"),
        )]);
    }
    let status = match text(record, "tila")? {
        "varattu" => "busy",
        "vapaa" => "free",
        other => {
            return Err(format!(
                "tila {other:?} is not a booking window state this adapter knows"
            ));
        }
    };
    let room = text(record, "huone")?;
    Ok(vec![Upsert::put(
        ids.conditional(Kind::Slot, key),
        json!({
            "resourceType": "Slot",
            "identifier": [ids.identifier(Kind::Slot, key)],
            "schedule": ids.reference(Kind::Schedule, &SourceIds::schedule_key(Kind::Room, room)),
            "status": status,
            "start": instant(record, "alkaa")?,
            "end": instant(record, "paattyy")?,
        }),
    )])
}
