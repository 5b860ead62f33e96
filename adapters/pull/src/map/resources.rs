//! Equipment as Devices (with a Schedule, and a `busy-unavailable` Slot for each
//! maintenance window) and staff shifts as PractitionerRoles.

use ohjaamo_adapter_kit::{Kind, SourceIds, Upsert};
use serde_json::{Value, json};

use super::fields::{coding, deleted, instant, text};
use super::places::schedule;

pub fn equipment(ids: &SourceIds, record: &Value) -> Result<Vec<Upsert>, String> {
    let key = text(record, "koodi")?;
    let schedule_key = SourceIds::schedule_key(Kind::Equipment, key);
    if deleted(record) {
        return Ok(vec![
            Upsert::retire(
                ids.conditional(Kind::Equipment, key),
                "status",
                json!("inactive"),
            ),
            Upsert::retire(
                ids.conditional(Kind::Schedule, &schedule_key),
                "active",
                json!(false),
            ),
        ]);
    }
    let name = text(record, "nimi")?;
    let device = json!({
        "resourceType": "Device",
        "identifier": [ids.identifier(Kind::Equipment, key)],
        "status": "active",
        "deviceName": [{"name": name, "type": "user-friendly-name"}],
        "type": {"coding": [coding("equipment-kind", text(record, "tyyppi")?)]},
        "location": ids.reference(Kind::Unit, text(record, "yksikko")?),
    });
    let mut out = vec![
        Upsert::put(ids.conditional(Kind::Equipment, key), device),
        schedule(ids, Kind::Equipment, key, name, true),
    ];
    if let Some(window) = record.get("huolto").filter(|h| !h.is_null()) {
        let start = instant(window, "alkaa").map_err(|e| format!("huolto.{e}"))?;
        let end = instant(window, "paattyy").map_err(|e| format!("huolto.{e}"))?;
        let slot_key = format!("{key}@{start}");
        out.push(Upsert::put(
            ids.conditional(Kind::Slot, &slot_key),
            json!({
                "resourceType": "Slot",
                "identifier": [ids.identifier(Kind::Slot, &slot_key)],
                "schedule": ids.reference(Kind::Schedule, &schedule_key),
                "status": "busy-unavailable",
                "start": start,
                "end": end,
                "comment": "huolto",
            }),
        ));
    }
    Ok(out)
}

pub fn shift(ids: &SourceIds, record: &Value) -> Result<Vec<Upsert>, String> {
    let key = text(record, "koodi")?;
    if deleted(record) {
        return Ok(vec![Upsert::retire(
            ids.conditional(Kind::StaffRole, key),
            "active",
            json!(false),
        )]);
    }
    let competences: Vec<Value> = match record.get("osaamiset") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .map(|c| {
                c.as_str()
                    .map(|c| json!({"coding": [coding("competence", c)]}))
                    .ok_or_else(|| format!("osaamiset must list texts, not {c}"))
            })
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(format!("osaamiset must be a list, not {other}")),
    };
    let mut role = json!({
        "resourceType": "PractitionerRole",
        "identifier": [ids.identifier(Kind::StaffRole, key)],
        "active": true,
        "period": {"start": instant(record, "alkaa")?, "end": instant(record, "paattyy")?},
        "code": [{"coding": [coding("staff-role", text(record, "rooli")?)]}],
        "location": [ids.reference(Kind::Unit, text(record, "yksikko")?)],
    });
    if !competences.is_empty() {
        role["specialty"] = Value::Array(competences);
    }
    Ok(vec![Upsert::put(
        ids.conditional(Kind::StaffRole, key),
        role,
    )])
}
