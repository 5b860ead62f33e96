//! An upstream resource in this server's terms.
//!
//! **Identity.** Every resource keeps the upstream's logical id as an identifier,
//! `urn:oid:<id root>.<arc of its type>` | `<id>` ([`IdSystems`]); the conditional
//! update is by that identifier, so the same upstream resource always lands on the
//! same resource here, whatever id the core gave it. The upstream's own identifiers
//! are kept, their systems rewritten by the configured map (an Epic department OID
//! to this region's, say).
//!
//! **References.** A reference to a type this adapter reads (`Schedule/abc`,
//! `https://ehr/api/FHIR/R4/Location/xyz`) becomes a conditional reference by that
//! identifier, which the core resolves to its own id. A reference to anything else
//! (Patient, Practitioner, Organization...) keeps only a logical reference — its
//! type and the upstream id as an identifier — because the core has no such resource
//! to point to; a Patient reference also loses its `display` (displays here never
//! show a name).
//!
//! **Retirement.** A resource the upstream deleted, or marked `entered-in-error`, is
//! retired here: its status set (Location `inactive`, Schedule `active` false, the
//! others `entered-in-error`), the rest kept; nothing is written if the core never
//! had it.

use ohjaamo_adapter_kit::{Mapped, Upsert};
use serde_json::{Map, Value, json};

/// The types this adapter reads, parents first (a Slot's Schedule must exist before
/// the Slot, a Schedule's Location before the Schedule).
pub const TYPES: [&str; 5] = ["Location", "Schedule", "Slot", "Appointment", "Encounter"];

/// The identifier systems of upstream logical ids: one arc per type under a root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdSystems {
    root: String,
}

/// The arcs of [`IdSystems`] (docs/adapters.md has the table); 0 for any other type,
/// whose identifier value is then `Type/id`.
const ARCS: [(&str, u32); 11] = [
    ("Location", 1),
    ("Schedule", 2),
    ("Slot", 3),
    ("Appointment", 4),
    ("Encounter", 5),
    ("Patient", 6),
    ("Practitioner", 7),
    ("PractitionerRole", 8),
    ("Organization", 9),
    ("HealthcareService", 10),
    ("Device", 11),
];

impl IdSystems {
    pub fn new(root: &str) -> IdSystems {
        IdSystems {
            root: root.trim_start_matches("urn:oid:").to_owned(),
        }
    }

    /// The identifier of upstream `rtype/id`.
    pub fn identifier(&self, rtype: &str, id: &str) -> Value {
        match ARCS.iter().find(|(t, _)| *t == rtype) {
            Some((_, arc)) => {
                json!({"system": format!("urn:oid:{}.{arc}", self.root), "value": id})
            }
            None => {
                json!({"system": format!("urn:oid:{}.0", self.root), "value": format!("{rtype}/{id}")})
            }
        }
    }

    /// `Type?identifier=system|id`, the id percent-encoded.
    pub fn conditional(&self, rtype: &str, id: &str) -> String {
        let identifier = self.identifier(rtype, id);
        let value: String = url::form_urlencoded::byte_serialize(
            identifier["value"].as_str().unwrap_or("").as_bytes(),
        )
        .collect::<String>()
        .replace('+', "%20");
        format!(
            "{rtype}?identifier={}|{value}",
            identifier["system"].as_str().unwrap_or("")
        )
    }
}

/// How upstream resources become this server's.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub ids: IdSystems,
    /// Upstream identifier system → this server's, applied to every identifier.
    pub systems: Vec<(String, String)>,
    /// A resource carrying an identifier in one of these systems is not taken (it is
    /// derived at the upstream, and the core derives its own: an upstream Ohjaamo's
    /// bed-occupancy Slots).
    pub skip_systems: Vec<String>,
}

impl Mapping {
    /// The writes of upstream resource `resource` of type `rtype`.
    pub fn resource(&self, rtype: &str, resource: &Value) -> Mapped {
        if resource["resourceType"] != rtype {
            return Mapped::Unmappable(format!(
                "a {rtype} stream gave a {}",
                resource["resourceType"]
                    .as_str()
                    .unwrap_or("resource without resourceType")
            ));
        }
        let Some(id) = resource["id"].as_str().filter(|i| !i.is_empty()) else {
            return Mapped::Unmappable(format!("a {rtype} without an id"));
        };
        let identifiers = resource["identifier"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if identifiers.iter().any(|i| {
            i["system"]
                .as_str()
                .is_some_and(|s| self.skip_systems.iter().any(|k| k == s))
        }) {
            return Mapped::Upserts(Vec::new());
        }
        let key = self.ids.conditional(rtype, id);
        if resource["status"] == "entered-in-error" {
            return self.deleted(rtype, id);
        }
        let mut out = Map::new();
        out.insert("resourceType".into(), json!(rtype));
        let own = self.ids.identifier(rtype, id);
        let mut kept = vec![own.clone()];
        for identifier in identifiers {
            let identifier = self.rewrite_system(identifier);
            if identifier != own {
                kept.push(identifier);
            }
        }
        out.insert("identifier".into(), Value::Array(kept));
        let Value::Object(fields) = resource else {
            return Mapped::Unmappable(format!("{rtype}/{id} is not a JSON object"));
        };
        for (name, value) in fields {
            match name.as_str() {
                "resourceType" | "id" | "identifier" | "text" | "contained" => {}
                "meta" => {
                    if let Some(security) = value.get("security") {
                        out.insert("meta".into(), json!({"security": security}));
                    }
                }
                _ => {
                    out.insert(name.clone(), self.references(value.clone()));
                }
            }
        }
        Mapped::Upserts(vec![Upsert::put(key, Value::Object(out))])
    }

    /// The retirement of upstream `rtype/id`, deleted there.
    pub fn deleted(&self, rtype: &str, id: &str) -> Mapped {
        let (element, value) = match rtype {
            "Location" => ("status", json!("inactive")),
            "Schedule" => ("active", json!(false)),
            "Slot" | "Appointment" | "Encounter" => ("status", json!("entered-in-error")),
            other => return Mapped::Unmappable(format!("cannot retire a {other}")),
        };
        Mapped::Upserts(vec![Upsert::retire(
            self.ids.conditional(rtype, id),
            element,
            value,
        )])
    }

    fn rewrite_system(&self, mut identifier: Value) -> Value {
        if let Some(system) = identifier["system"].as_str()
            && let Some((_, to)) = self.systems.iter().find(|(from, _)| from == system)
        {
            identifier["system"] = json!(to);
        }
        identifier
    }

    /// `value` with every Reference in it rewritten (see the module's doc).
    fn references(&self, value: Value) -> Value {
        match value {
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|v| self.references(v)).collect())
            }
            Value::Object(mut fields) => {
                if let Some(target) = fields
                    .get("reference")
                    .and_then(Value::as_str)
                    .and_then(parse_reference)
                {
                    return self.reference(fields, target);
                }
                for field in fields.values_mut() {
                    *field = self.references(field.take());
                }
                Value::Object(fields)
            }
            other => other,
        }
    }

    fn reference(&self, mut fields: Map<String, Value>, (rtype, id): (String, String)) -> Value {
        let identifier = self.ids.identifier(&rtype, &id);
        if TYPES.contains(&rtype.as_str()) {
            fields.insert("reference".into(), json!(self.ids.conditional(&rtype, &id)));
        } else {
            fields.remove("reference");
            fields.insert("type".into(), json!(rtype));
        }
        if rtype == "Patient" {
            fields.remove("display");
        }
        fields.insert("identifier".into(), identifier);
        Value::Object(fields)
    }
}

/// `Type/id`, `Type/id/_history/n` or an absolute URL ending so → (type, id);
/// contained (`#x`) and `urn:` references are not references to rewrite.
pub fn parse_reference(text: &str) -> Option<(String, String)> {
    if text.starts_with('#') || text.starts_with("urn:") || text.contains('?') {
        return None;
    }
    let parts: Vec<&str> = text.trim_end_matches('/').split('/').collect();
    let (rtype, id) = match parts.as_slice() {
        [.., t, id, "_history", _] => (*t, *id),
        [.., t, id] => (*t, *id),
        _ => return None,
    };
    let is_type = rtype.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && rtype.chars().all(|c| c.is_ascii_alphanumeric());
    (is_type && !id.is_empty()).then(|| (rtype.to_owned(), id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping() -> Mapping {
        Mapping {
            ids: IdSystems::new("1.2.246.10.99.20"),
            systems: vec![(
                "urn:oid:1.2.840.114350.1.13.0.1.7.2.686980".into(),
                "urn:oid:1.2.246.10.99.2".into(),
            )],
            skip_systems: vec!["https://derived".into()],
        }
    }

    fn put(mapped: Mapped) -> (String, Value) {
        match mapped {
            Mapped::Upserts(mut u) if u.len() == 1 => {
                let u = u.remove(0);
                match u.op {
                    ohjaamo_adapter_kit::push::Op::Put(r) => (u.conditional_url, r),
                    other => panic!("not a put: {other:?}"),
                }
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn references_become_conditional_or_logical() {
        let slot = json!({
            "resourceType": "Slot", "id": "s/1", "meta": {"versionId": "3", "lastUpdated": "2026-12-01T10:00:00Z"},
            "text": {"status": "generated", "div": "<div>Name</div>"},
            "identifier": [{"system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.686980", "value": "D1"}],
            "schedule": {"reference": "https://ehr/api/FHIR/R4/Schedule/eAbc", "display": "OR 1"},
            "status": "busy", "start": "2026-12-01T10:00:00Z", "end": "2026-12-01T11:00:00Z",
            "extension": [{"url": "x", "valueReference": {"reference": "Patient/p1", "display": "Virtanen, Matti"}}]
        });
        let (key, out) = put(mapping().resource("Slot", &slot));
        assert_eq!(key, "Slot?identifier=urn:oid:1.2.246.10.99.20.3|s%2F1");
        assert_eq!(
            out["identifier"][0],
            json!({"system": "urn:oid:1.2.246.10.99.20.3", "value": "s/1"})
        );
        assert_eq!(out["identifier"][1]["system"], "urn:oid:1.2.246.10.99.2");
        assert_eq!(
            out["schedule"]["reference"],
            "Schedule?identifier=urn:oid:1.2.246.10.99.20.2|eAbc"
        );
        assert_eq!(out["schedule"]["display"], "OR 1");
        let patient = &out["extension"][0]["valueReference"];
        assert_eq!(
            patient,
            &json!({"type": "Patient", "identifier": {"system": "urn:oid:1.2.246.10.99.20.6", "value": "p1"}})
        );
        assert!(out.get("text").is_none() && out.get("meta").is_none() && out.get("id").is_none());
    }

    #[test]
    fn deletes_and_entered_in_error_retire_derived_ones_are_skipped() {
        let m = mapping();
        let Mapped::Upserts(u) = m.resource(
            "Appointment",
            &json!({"resourceType": "Appointment", "id": "a1", "status": "entered-in-error"}),
        ) else {
            panic!()
        };
        assert_eq!(
            u[0].op,
            ohjaamo_adapter_kit::push::Op::Retire {
                element: "status",
                value: json!("entered-in-error")
            }
        );
        let Mapped::Upserts(u) = m.deleted("Schedule", "x") else {
            panic!()
        };
        assert_eq!(
            u[0].op,
            ohjaamo_adapter_kit::push::Op::Retire {
                element: "active",
                value: json!(false)
            }
        );
        let derived = json!({"resourceType": "Slot", "id": "occ-1", "identifier": [{"system": "https://derived", "value": "e/0"}]});
        assert_eq!(m.resource("Slot", &derived), Mapped::Upserts(Vec::new()));
        assert!(
            matches!(m.resource("Slot", &json!({"resourceType": "Slot"})), Mapped::Unmappable(r) if r.contains("without an id"))
        );
        assert!(matches!(
            m.resource("Slot", &json!({"resourceType": "Encounter", "id": "e"})),
            Mapped::Unmappable(_)
        ));
    }

    #[test]
    fn reference_forms() {
        let r = |t| parse_reference(t);
        assert_eq!(r("Location/1"), Some(("Location".into(), "1".into())));
        assert_eq!(
            r("https://h/fhir/Location/1/_history/4"),
            Some(("Location".into(), "1".into()))
        );
        assert_eq!(r("#c1"), None);
        assert_eq!(r("urn:uuid:0000"), None);
        assert_eq!(r("Location?identifier=a|b"), None);
        assert_eq!(r("just-text"), None);
    }
}
