//! Sites, units, rooms and bed places as Locations; bookable places get a Schedule.

use ohjaamo_adapter_kit::{Kind, SourceIds, Upsert};
use serde_json::{Value, json};

use super::fields::{coding, deleted, flag, optional_text, text};

const PHYSICAL_TYPE: &str = "http://terminology.hl7.org/CodeSystem/location-physical-type";
const BED_STATUS: &str = "http://terminology.hl7.org/CodeSystem/v2-0116";

fn location(ids: &SourceIds, kind: Kind, key: &str, name: &str, physical: &str) -> Value {
    json!({
        "resourceType": "Location",
        "identifier": [ids.identifier(kind, key)],
        "status": "active",
        "name": name,
        "mode": "instance",
        "physicalType": {"coding": [{"system": PHYSICAL_TYPE, "code": physical}]},
    })
}

fn retire_location(ids: &SourceIds, kind: Kind, key: &str) -> Upsert {
    Upsert::retire(ids.conditional(kind, key), "status", json!("inactive"))
}

/// The Schedule that makes `kind`/`key` bookable (its Slots hang on it).
pub(super) fn schedule(ids: &SourceIds, kind: Kind, key: &str, name: &str, active: bool) -> Upsert {
    let schedule_key = SourceIds::schedule_key(kind, key);
    Upsert::put(
        ids.conditional(Kind::Schedule, &schedule_key),
        json!({
            "resourceType": "Schedule",
            "identifier": [ids.identifier(Kind::Schedule, &schedule_key)],
            "active": active,
            "actor": [ids.reference(kind, key)],
            "comment": name,
        }),
    )
}

pub fn site(ids: &SourceIds, record: &Value) -> Result<Vec<Upsert>, String> {
    let key = text(record, "koodi")?;
    if deleted(record) {
        return Ok(vec![retire_location(ids, Kind::Site, key)]);
    }
    let mut l = location(ids, Kind::Site, key, text(record, "nimi")?, "si");
    l["type"] = json!([{"coding": [coding("site-kind", text(record, "tyyppi")?)]}]);
    Ok(vec![Upsert::put(ids.conditional(Kind::Site, key), l)])
}

pub fn unit(ids: &SourceIds, record: &Value) -> Result<Vec<Upsert>, String> {
    let key = text(record, "koodi")?;
    if deleted(record) {
        return Ok(vec![retire_location(ids, Kind::Unit, key)]);
    }
    let kind = match text(record, "tyyppi")? {
        "vuodeosasto" => "ward",
        "kuntoutusosasto" => "rehabilitation-ward",
        "leikkausosasto" => "theatre-suite",
        "poliklinikka" => "outpatient-clinic",
        "heraamo" => "recovery-unit",
        other => {
            return Err(format!(
                "tyyppi {other:?} is not a unit kind this adapter knows"
            ));
        }
    };
    let mut l = location(ids, Kind::Unit, key, text(record, "nimi")?, "wa");
    let mut types = vec![json!({"coding": [coding("unit-kind", kind)]})];
    if let Some(specialty) = record["erikoisala"]
        .as_str()
        .filter(|s| !s.trim().is_empty())
    {
        // A second `type`: what the ward treats (Location has no specialty element).
        types.push(json!({"coding": [coding("specialty", specialty.trim())]}));
    }
    l["type"] = Value::Array(types);
    l["partOf"] = ids.reference(Kind::Site, text(record, "toimipiste")?);
    Ok(vec![Upsert::put(ids.conditional(Kind::Unit, key), l)])
}

pub fn room(ids: &SourceIds, record: &Value) -> Result<Vec<Upsert>, String> {
    let key = text(record, "koodi")?;
    let kind = match text(record, "tyyppi") {
        Ok("leikkaussali") => "operating-room",
        Ok("vastaanottohuone") => "clinic-room",
        _ => "patient-room",
    };
    let bookable = kind != "patient-room";
    if deleted(record) {
        let mut out = vec![retire_location(ids, Kind::Room, key)];
        if bookable {
            let schedule_key = SourceIds::schedule_key(Kind::Room, key);
            out.push(Upsert::retire(
                ids.conditional(Kind::Schedule, &schedule_key),
                "active",
                json!(false),
            ));
        }
        return Ok(out);
    }
    let name = text(record, "nimi")?;
    let mut l = location(ids, Kind::Room, key, name, "ro");
    l["type"] = json!([{"coding": [coding("room-kind", kind)]}]);
    l["partOf"] = ids.reference(Kind::Unit, text(record, "yksikko")?);
    let mut out = vec![Upsert::put(ids.conditional(Kind::Room, key), l)];
    if bookable {
        out.push(schedule(ids, Kind::Room, key, name, true));
    }
    Ok(out)
}

/// A bed place or recovery bay: partOf its unit, `C` when closed, and its Schedule
/// (the core's bed occupancy Slots hang on it).
pub fn bed_place(ids: &SourceIds, record: &Value) -> Result<Vec<Upsert>, String> {
    let key = text(record, "koodi")?;
    let schedule_key = SourceIds::schedule_key(Kind::BedPlace, key);
    if deleted(record) {
        return Ok(vec![
            retire_location(ids, Kind::BedPlace, key),
            Upsert::retire(
                ids.conditional(Kind::Schedule, &schedule_key),
                "active",
                json!(false),
            ),
        ]);
    }
    let name = text(record, "nimi")?;
    let unit = text(record, "yksikko")?;
    optional_text(record, "huone")?;
    let mut l = location(ids, Kind::BedPlace, key, name, "bd");
    let kind = if flag(record, "ylipaikka") {
        "over-capacity"
    } else {
        "bed"
    };
    l["type"] = json!([{"coding": [coding("place-kind", kind)]}]);
    l["partOf"] = ids.reference(Kind::Unit, unit);
    if flag(record, "suljettu") {
        l["operationalStatus"] = json!({"system": BED_STATUS, "code": "C", "display": "Closed"});
    }
    Ok(vec![
        Upsert::put(ids.conditional(Kind::BedPlace, key), l),
        schedule(ids, Kind::BedPlace, key, name, true),
    ])
}
