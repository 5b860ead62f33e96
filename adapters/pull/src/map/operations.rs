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
    if let Some(ready) = optional_instant(record, "siirtovalmis")? {
        extensions.push(extension("recovery-ready", "valueDateTime", json!(ready)));
    }
    extensions.push(match text(record, "jatkohoito")? {
        "koti" => extension("discharge-destination", "valueCode", json!("home")),
        unit => extension(
            "discharge-destination",
            "valueReference",
            ids.reference(Kind::Unit, unit),
        ),
    });
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

#[cfg(test)]
mod tests {
    use super::*;

    fn record(destination: &str, ready: Option<&str>) -> Value {
        json!({
            "koodi": "LK000001", "sali": "S1-SALI1", "tapaus": "T-000001",
            "kiireellisyys": "elektiivinen", "alkaa": "2026-11-30T06:00:00Z",
            "paattyy": "2026-11-30T07:00:00Z", "tila": "kaynnissa", "vaihe": "heraamossa",
            "toteutunut_alku": "2026-11-30T06:05:00Z", "toteutunut_loppu": "2026-11-30T07:10:00Z",
            "siirtovalmis": ready, "heraamosta": null, "heraamopaikka": "S1-HER-2",
            "jatkohoito": destination, "muutos": 1, "poistettu": false,
        })
    }

    fn put(upsert: &Upsert) -> &Value {
        match &upsert.op {
            ohjaamo_adapter_kit::push::Op::Put(resource) => resource,
            other => panic!("{other:?}"),
        }
    }

    fn extension_of<'a>(appointment: &'a Value, name: &str) -> Option<&'a Value> {
        appointment["extension"]
            .as_array()?
            .iter()
            .find(|e| e["url"].as_str().is_some_and(|u| u.ends_with(name)))
    }

    #[test]
    fn destination_is_the_unit_or_home_and_readiness_is_kept() {
        let ids = SourceIds::new("urn:oid:1.2.246.10.1234567.10");
        let upserts = operation(&ids, &record("K1-OS2", Some("2026-11-30T08:30:00Z"))).unwrap();
        let appointment = put(&upserts[1]);
        let destination = extension_of(appointment, "/discharge-destination").unwrap();
        assert_eq!(
            destination["valueReference"],
            ids.reference(Kind::Unit, "K1-OS2")
        );
        assert_eq!(
            extension_of(appointment, "/recovery-ready").unwrap()["valueDateTime"],
            "2026-11-30T08:30:00Z"
        );
        let participants = appointment["participant"].as_array().unwrap();
        assert_eq!(
            participants[1]["actor"],
            ids.reference(Kind::BedPlace, "S1-HER-2")
        );

        let upserts = operation(&ids, &record("koti", None)).unwrap();
        let appointment = put(&upserts[1]);
        assert_eq!(
            extension_of(appointment, "/discharge-destination").unwrap()["valueCode"],
            "home"
        );
        assert!(extension_of(appointment, "/recovery-ready").is_none());
    }
}
