//! The FHIR R4 model boundary.
//!
//! Every resource that enters Ohjaamo passes through [`validate_resource`], which
//! checks it against the R4 structure definitions compiled into `fhirbolt` (unknown
//! elements, wrong JSON types, cardinality of arrays) and hands back the normalised
//! JSON that fhirbolt serialises. The rest of the workspace works on that JSON, so
//! fhirbolt — slow to compile — is a dependency of this crate alone.
//!
//! fhirbolt checks structure, not codes or business rules; those live in the core.

pub mod json_shape;
mod resource_type;

use fhirbolt::model::r4::Resource;
use fhirbolt::serde::{DeserializationConfig, DeserializationMode, SerializationConfig};
use serde_json::Value;

pub use resource_type::{ResourceType, UnsupportedType};

/// Why a body could not be accepted as a FHIR resource. Every variant is the
/// client's fault (HTTP 400); the message is written for an integration engineer.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FhirError {
    #[error("the body is not valid JSON: {0}")]
    NotJson(String),
    #[error("a FHIR resource must be a JSON object")]
    NotAnObject,
    #[error("the resource has no resourceType")]
    MissingResourceType,
    #[error(transparent)]
    Unsupported(#[from] UnsupportedType),
    #[error("resourceType is {found}, but this endpoint takes {expected}")]
    WrongType {
        expected: ResourceType,
        found: String,
    },
    #[error("the {resource_type} does not conform to FHIR R4: {detail}")]
    Structure {
        resource_type: ResourceType,
        detail: String,
    },
}

/// Longest fhirbolt diagnostic we pass on; its "expected one of …" lists can run to
/// kilobytes, which helps nobody reading a log line at night.
const MAX_DETAIL: usize = 400;

/// Parses a request body as JSON. serde_json refuses nesting deeper than 128 levels,
/// so hostile, deeply nested bodies fail here with an error instead of a stack overflow.
pub fn parse_json(body: &[u8]) -> Result<Value, FhirError> {
    serde_json::from_slice(body).map_err(|e| FhirError::NotJson(e.to_string()))
}

/// The `resourceType` of a JSON object, if it names a type this service stores.
pub fn resource_type_of(value: &Value) -> Result<ResourceType, FhirError> {
    let object = value.as_object().ok_or(FhirError::NotAnObject)?;
    let name = object
        .get("resourceType")
        .and_then(Value::as_str)
        .ok_or(FhirError::MissingResourceType)?;
    Ok(name.parse::<ResourceType>()?)
}

/// Checks a resource against the R4 structure and returns its normalised JSON.
///
/// Refuses, with a message naming the problem, anything that is not one of the
/// supported resource types, has unknown elements, or has values of the wrong JSON
/// type. The returned JSON has elements in the order of the specification.
pub fn validate_resource(value: Value) -> Result<(ResourceType, Value), FhirError> {
    let resource_type = resource_type_of(&value)?;
    let strict = DeserializationConfig {
        mode: DeserializationMode::Strict,
    };
    let typed: Resource =
        fhirbolt::json::from_json_value(value, Some(strict)).map_err(|e| FhirError::Structure {
            resource_type,
            detail: shorten(e.to_string()),
        })?;
    let normalised = fhirbolt::json::to_json_value(typed, Some(SerializationConfig::default()))
        .map_err(|e| FhirError::Structure {
            resource_type,
            detail: shorten(e.to_string()),
        })?;
    Ok((resource_type, normalised))
}

/// Checks any R4 resource — also of a type this server does not store, such as the
/// AuditEvents it renders from its access log — against the R4 structure, strictly:
/// unknown elements and values of the wrong type are errors.
pub fn check_r4_structure(value: Value) -> Result<(), String> {
    let strict = DeserializationConfig {
        mode: DeserializationMode::Strict,
    };
    fhirbolt::json::from_json_value::<Resource>(value, Some(strict))
        .map(|_| ())
        .map_err(|e| shorten(e.to_string()))
}

/// Like [`validate_resource`], but insists on one resource type (an instance or type
/// endpoint such as `PUT /fhir/Slot/1` only takes Slots).
pub fn validate_resource_of(expected: ResourceType, value: Value) -> Result<Value, FhirError> {
    let found = value
        .get("resourceType")
        .and_then(Value::as_str)
        .ok_or(FhirError::MissingResourceType)?;
    if found != expected.as_str() {
        return Err(FhirError::WrongType {
            expected,
            found: found.to_owned(),
        });
    }
    validate_resource(value).map(|(_, json)| json)
}

fn shorten(mut detail: String) -> String {
    if detail.len() > MAX_DETAIL {
        let mut cut = MAX_DETAIL;
        while !detail.is_char_boundary(cut) {
            cut -= 1;
        }
        detail.truncate(cut);
        detail.push('…');
    }
    detail
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn slot() -> Value {
        json!({
            "resourceType": "Slot",
            "schedule": {"reference": "Schedule/s1"},
            "status": "busy",
            "start": "2026-03-29T03:00:00+03:00",
            "end": "2026-03-29T04:00:00+03:00"
        })
    }

    #[test]
    fn accepts_a_valid_slot_and_keeps_its_content() {
        let (rt, json) = validate_resource(slot()).unwrap();
        assert_eq!(rt, ResourceType::Slot);
        assert_eq!(json["start"], "2026-03-29T03:00:00+03:00");
        assert_eq!(json["schedule"]["reference"], "Schedule/s1");
    }

    #[test]
    fn refuses_unknown_elements() {
        let mut s = slot();
        s["colour"] = json!("red");
        let err = validate_resource(s).unwrap_err();
        assert!(matches!(err, FhirError::Structure { .. }), "{err:?}");
    }

    #[test]
    fn refuses_wrong_json_types() {
        let mut s = slot();
        s["status"] = json!(12);
        assert!(matches!(
            validate_resource(s),
            Err(FhirError::Structure { .. })
        ));
    }

    #[test]
    fn refuses_unsupported_types_by_name() {
        let err = validate_resource(json!({"resourceType": "Patient"})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "resource type Patient is not supported by this server"
        );
        let err = validate_resource(json!({"resourceType": "Nonsense"})).unwrap_err();
        assert!(err.to_string().contains("Nonsense"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "[".repeat(100_000);
        assert!(matches!(
            parse_json(deep.as_bytes()),
            Err(FhirError::NotJson(_))
        ));
    }

    #[test]
    fn endpoint_type_must_match() {
        let err = validate_resource_of(ResourceType::Location, slot()).unwrap_err();
        assert!(matches!(err, FhirError::WrongType { .. }));
    }

    #[test]
    fn long_details_are_cut_on_a_char_boundary() {
        let s = shorten("ä".repeat(1000));
        assert!(s.len() <= MAX_DETAIL + 3);
        assert!(s.ends_with('…'));
    }
}
