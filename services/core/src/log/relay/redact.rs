//! What the bus may carry of a restricted resource: the state of the bed, nothing that
//! identifies the patient or the stay.
//!
//! A stay under a protection order (labelled restricted, see `ohjaamo_store::labels`)
//! still occupies a bed, and every consumer of bed state must see that. But the bus
//! reaches systems and people the core's own access rules do not (archives, analytics,
//! other organisations' integrations), so a restricted resource goes out with an
//! allow-list of its elements only: its type, id and labels, its status and class, the
//! period, the places with their statuses and periods, and the planned discharge
//! (which tells when the bed frees). Identifiers (the visit number), the subject, the
//! participants, diagnoses, reasons, the narrative and every other extension stay in
//! the core.

use serde_json::{Map, Value};

/// Elements of a restricted resource that go on the bus.
const KEPT: &[&str] = &[
    "resourceType",
    "id",
    "meta",
    "status",
    "class",
    "period",
    "location",
    "start",
    "end",
];

/// The only extension kept: R5's `Encounter.plannedEndDate`.
const PLANNED_END: &str =
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-Encounter.plannedEndDate";

/// `json` as the bus may carry it: unchanged unless the resource is restricted.
pub fn for_the_bus(json: String) -> String {
    match ohjaamo_store::labels::restricted_resource(&json) {
        Some(resource) => redacted(&resource).to_string(),
        None => json,
    }
}

fn redacted(resource: &Value) -> Value {
    let Value::Object(map) = resource else {
        return Value::Null;
    };
    let mut kept: Map<String, Value> = Map::new();
    for (name, value) in map {
        if KEPT.contains(&name.as_str()) {
            kept.insert(name.clone(), value.clone());
        } else if name == "extension" {
            let planned: Vec<Value> = value
                .as_array()
                .into_iter()
                .flatten()
                .filter(|e| e["url"].as_str() == Some(PLANNED_END))
                .cloned()
                .collect();
            if !planned.is_empty() {
                kept.insert(name.clone(), Value::Array(planned));
            }
        }
    }
    // A place's own identifier or display could name more than the bed; the reference
    // to the Location is the bed.
    if let Some(Value::Array(places)) = kept.get_mut("location") {
        for place in places {
            if let Some(location) = place.get_mut("location").and_then(Value::as_object_mut) {
                location.retain(|k, _| k == "reference");
            }
        }
    }
    Value::Object(kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stay(labels: Value) -> Value {
        json!({
            "resourceType": "Encounter",
            "id": "e1",
            "meta": {"versionId": "2", "security": labels},
            "identifier": [{"system": "urn:oid:1.2.246.10.1", "value": "VISIT-123"}],
            "status": "in-progress",
            "class": {"code": "IMP"},
            "subject": {"reference": "Patient/p1", "display": "Virtanen Matti"},
            "period": {"start": "2026-12-01T08:00:00Z"},
            "extension": [
                {"url": PLANNED_END, "valueDateTime": "2026-12-08"},
                {"url": "urn:example:diagnosis", "valueString": "x"},
            ],
            "location": [{
                "location": {"reference": "Location/bed-1", "display": "Vuode 1"},
                "status": "active",
                "period": {"start": "2026-12-01T08:00:00Z"},
            }],
        })
    }

    #[test]
    fn a_restricted_stay_keeps_its_bed_state_only() {
        let restricted = json!([{"system": ohjaamo_store::labels::CONFIDENTIALITY, "code": "R"}]);
        let out: Value = serde_json::from_str(&for_the_bus(stay(restricted).to_string())).unwrap();
        let text = out.to_string();
        for secret in [
            "VISIT-123",
            "Patient/p1",
            "Virtanen",
            "diagnosis",
            "Vuode 1",
        ] {
            assert!(!text.contains(secret), "{secret} went on the bus: {text}");
        }
        assert_eq!(out["status"], "in-progress");
        assert_eq!(
            out["location"][0]["location"]["reference"],
            "Location/bed-1"
        );
        assert_eq!(out["extension"][0]["url"], PLANNED_END);
        assert_eq!(out["meta"]["security"][0]["code"], "R");
    }

    #[test]
    fn an_unrestricted_resource_goes_unchanged() {
        let normal = json!([{"system": ohjaamo_store::labels::CONFIDENTIALITY, "code": "N"}]);
        let text = stay(normal).to_string();
        assert_eq!(for_the_bus(text.clone()), text);
        let plain = json!({"resourceType": "Slot", "id": "s1"}).to_string();
        assert_eq!(for_the_bus(plain.clone()), plain);
    }
}
