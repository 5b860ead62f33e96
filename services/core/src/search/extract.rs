//! Extracting a resource's search index and outgoing references, as the registry
//! declares them.

use jiff::tz::TimeZone;
use ohjaamo_fhir::ResourceType;
use ohjaamo_store::{IndexEntry, IndexValue};
use serde_json::Value;

use crate::base::error::ApiError;
use crate::search::fhir_time::{parse_range, period_range};
use crate::search::normalize::fold;
use crate::search::references::{LocalReference, parse_reference};
use crate::search::registry::{self, ParamKind, SearchParam};

/// A reference found in a searchable element, with where it was found (for
/// messages) and the types it may point to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundReference {
    pub element: String,
    pub target: LocalReference,
}

/// What a resource is found by, and what it points to.
#[derive(Debug, Default)]
pub struct Extracted {
    pub index: Vec<IndexEntry>,
    pub references: Vec<FoundReference>,
}

/// Reference parameters whose Reference.identifier is indexed too (as
/// `<param>:identifier`): a stay names its place by identifier when the place is not
/// known yet, and the core finds such stays again when it arrives (occupancy.rs).
/// Only where needed: each such row costs every write of the type an index row.
const IDENTIFIER_INDEXED: &[(ResourceType, &str)] = &[(ResourceType::Encounter, "location")];

/// Extracts the index of every registered parameter. Fails (400) on a date that is
/// not a FHIR date, or a reference to a type the element may not point to.
pub fn extract(
    rtype: ResourceType,
    resource: &Value,
    tz: &TimeZone,
) -> Result<Extracted, ApiError> {
    let mut out = Extracted::default();
    for param in registry::params(rtype) {
        let with_identifier = IDENTIFIER_INDEXED.contains(&(rtype, param.name));
        for path in param.paths {
            let element = format!("{rtype}.{}", path.join("."));
            let mut values = Vec::new();
            values_at(resource, path, &mut values);
            for value in values {
                extract_value(&param, &element, value, tz, with_identifier, &mut out)?;
            }
        }
    }
    crate::search::composite::add_entries(rtype, resource, tz, &mut out.index);
    Ok(out)
}

/// Collects the values at `path`, walking through arrays on the way.
pub fn values_at<'a>(value: &'a Value, path: &[&str], out: &mut Vec<&'a Value>) {
    match (value, path.split_first()) {
        (Value::Array(items), _) => items.iter().for_each(|v| values_at(v, path, out)),
        (_, None) => out.push(value),
        (Value::Object(map), Some((first, rest))) => {
            if let Some(child) = map.get(*first) {
                values_at(child, rest, out);
            }
        }
        _ => {}
    }
}

fn extract_value(
    param: &SearchParam,
    element: &str,
    value: &Value,
    tz: &TimeZone,
    with_identifier: bool,
    out: &mut Extracted,
) -> Result<(), ApiError> {
    if with_identifier
        && matches!(param.kind, ParamKind::Reference)
        && let Some(identifier) = value.get("identifier")
    {
        for (system, code) in tokens(identifier) {
            out.index.push(IndexEntry {
                param: format!("{}:identifier", param.name).into(),
                value: IndexValue::Token { system, code },
            });
        }
    }
    let mut push = |value: IndexValue| {
        out.index.push(IndexEntry {
            param: param.name.into(),
            value,
        })
    };
    match param.kind {
        ParamKind::Token => {
            for (system, code) in tokens(value) {
                push(IndexValue::Token { system, code });
            }
        }
        ParamKind::String => {
            if let Some(s) = value.as_str() {
                push(IndexValue::String {
                    normalized: fold(s),
                    exact: s.to_owned(),
                });
            }
        }
        ParamKind::Date => {
            let range = match value {
                Value::String(s) => parse_range(s, tz),
                Value::Object(period) => period_range(
                    period.get("start").and_then(Value::as_str),
                    period.get("end").and_then(Value::as_str),
                    tz,
                ),
                _ => return Ok(()),
            }
            .map_err(|e| ApiError::BadRequest(format!("{element}: {e}")))?;
            push(IndexValue::Date {
                lo: range.lo,
                hi: range.hi,
                scope: None,
            });
        }
        ParamKind::Reference => {
            let Some(text) = value.get("reference").and_then(Value::as_str) else {
                return Ok(()); // a logical reference (identifier only) or display only
            };
            let Some(target) = parse_reference(text)
                .map_err(|e| ApiError::BadRequest(format!("{element}: {e}")))?
            else {
                return Ok(()); // contained (#id): nothing to index
            };
            if !param.targets.iter().any(|t| t.as_str() == target.rtype) {
                let foreign = target.rtype.parse::<ResourceType>().is_err();
                if foreign && registry::accepts_foreign_targets(param) {
                    return Ok(()); // e.g. an Appointment's Patient: not ours to index
                }
                let allowed: Vec<&str> = param.targets.iter().map(|t| t.as_str()).collect();
                return Err(ApiError::BadRequest(format!(
                    "{element} refers to {}, but may only refer to {}",
                    target,
                    allowed.join(", ")
                )));
            }
            push(IndexValue::Reference {
                target_type: target.rtype.clone(),
                target_id: target.id.clone(),
            });
            out.references.push(FoundReference {
                element: element.to_owned(),
                target,
            });
        }
    }
    Ok(())
}

/// The `(system, code)` pairs of a code, boolean, Coding, CodeableConcept or
/// Identifier.
fn tokens(value: &Value) -> Vec<(String, String)> {
    let system = |m: &serde_json::Map<String, Value>| {
        m.get("system")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    match value {
        Value::String(code) => vec![(String::new(), code.clone())],
        Value::Bool(b) => vec![(String::new(), b.to_string())],
        Value::Object(m) => {
            if let Some(Value::Array(codings)) = m.get("coding") {
                codings.iter().flat_map(tokens).collect()
            } else if let Some(code) = m.get("code").and_then(Value::as_str) {
                vec![(system(m), code.to_owned())]
            } else if let Some(value) = m.get("value").and_then(Value::as_str) {
                vec![(system(m), value.to_owned())]
            } else {
                Vec::new()
            }
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn helsinki() -> TimeZone {
        TimeZone::get("Europe/Helsinki").unwrap()
    }

    #[test]
    fn slot_index_has_schedule_start_status_identifier() {
        let slot = json!({
            "resourceType": "Slot",
            "identifier": [{"system": "urn:oid:1.2.3", "value": "S-1"}],
            "schedule": {"reference": "Schedule/bed-1"},
            "status": "busy",
            "start": "2026-03-29T04:00:00+03:00",
            "end": "2026-03-29T05:00:00+03:00"
        });
        let x = extract(ResourceType::Slot, &slot, &helsinki()).unwrap();
        let params: Vec<_> = x.index.iter().map(|e| e.param.as_ref()).collect();
        assert_eq!(params, ["identifier", "schedule", "start", "status"]);
        assert!(matches!(
            &x.index[2].value,
            IndexValue::Date { scope: Some(scope), .. }
                if scope.target == "Schedule/bed-1"
                    && scope.until == "2026-03-29T02:00:00Z".parse::<jiff::Timestamp>().unwrap().as_microsecond()
        ));
        assert_eq!(
            x.index[0].value,
            IndexValue::Token {
                system: "urn:oid:1.2.3".into(),
                code: "S-1".into()
            }
        );
        assert_eq!(x.references.len(), 1);
        assert_eq!(x.references[0].element, "Slot.schedule");
    }

    #[test]
    fn codeable_concepts_and_codings_give_tokens() {
        let loc = json!({
            "resourceType": "Location",
            "type": [{"coding": [{"system": "s", "code": "a"}, {"system": "s", "code": "b"}]}],
            "physicalType": {"coding": [{"system": "p", "code": "bd"}]},
            "operationalStatus": {"system": "v2", "code": "O"},
            "name": "Osasto 5 Ä",
        });
        let x = extract(ResourceType::Location, &loc, &helsinki()).unwrap();
        let tokens: Vec<_> = x
            .index
            .iter()
            .filter_map(|e| match &e.value {
                IndexValue::Token { code, .. } => Some((e.param.as_ref(), code.as_str())),
                _ => None,
            })
            .collect();
        assert_eq!(
            tokens,
            [
                ("type", "a"),
                ("type", "b"),
                ("physical-type", "bd"),
                ("operational-status", "O")
            ]
        );
        assert!(x.index.iter().any(|e| e.value
            == IndexValue::String {
                normalized: "osasto 5 a".into(),
                exact: "Osasto 5 Ä".into()
            }));
    }

    #[test]
    fn wrong_reference_type_is_refused() {
        let slot = json!({"resourceType": "Slot", "schedule": {"reference": "Location/1"}});
        let err = extract(ResourceType::Slot, &slot, &helsinki()).unwrap_err();
        assert!(
            err.to_string()
                .contains("Slot.schedule refers to Location/1"),
            "{err}"
        );
    }

    #[test]
    fn invalid_dates_name_the_element() {
        let slot = json!({"resourceType": "Slot", "start": "2026-02-30T10:00:00Z"});
        let err = extract(ResourceType::Slot, &slot, &helsinki()).unwrap_err();
        assert!(err.to_string().starts_with("Slot.start: "), "{err}");
    }

    #[test]
    fn encounter_period_and_nested_locations() {
        let enc = json!({
            "resourceType": "Encounter",
            "status": "in-progress",
            "period": {"start": "2026-10-25T10:00:00+02:00"},
            "location": [{"location": {"reference": "Location/a"}}, {"location": {"reference": "Location/b"}}]
        });
        let x = extract(ResourceType::Encounter, &enc, &helsinki()).unwrap();
        assert_eq!(x.references.len(), 2);
        let date = x.index.iter().find(|e| e.param == "date").unwrap();
        assert!(matches!(date.value, IndexValue::Date { hi: i64::MAX, .. }));
    }
}
