//! FHIR JSON shape rules that fhirbolt does not enforce on its own.
//!
//! fhirbolt panics on an empty array, and quietly repairs other non-conformant
//! JSON instead of refusing it: a one-item array where the element is single, a
//! single value where it is an array, a number or string where a boolean or string
//! belongs, a `null` (dropped, together with a value it is aligned with). A
//! conformant resource comes back from fhirbolt exactly as it went in, so any
//! difference between the two names an element the client sent wrongly; storing the
//! repaired version would store something the client never said.

use serde_json::Value;

use crate::base::error::ApiError;

/// How deeply objects and arrays may nest in a resource. fhirbolt recurses once per
/// level with large frames and overflows a 2 MiB thread stack somewhere past 80
/// levels in a debug build, aborting the whole process; the resources kept here
/// never come near 64 (extensions of extensions included).
pub const MAX_DEPTH: usize = 64;

/// Refuses what fhirbolt cannot be given: empty arrays (FHIR JSON never has them;
/// fhirbolt panics on one) and nesting deeper than [`MAX_DEPTH`]. `root` names the
/// resource type for the message.
pub fn check_before_validation(value: &Value, root: &str) -> Result<(), ApiError> {
    match first_unfit(value, 0) {
        None => Ok(()),
        Some((path, Unfit::EmptyArray)) => Err(ApiError::BadRequest(format!(
            "{root}{path}: an empty array is not valid FHIR JSON; leave the element out"
        ))),
        Some((path, Unfit::TooDeep)) => Err(ApiError::BadRequest(format!(
            "{root}{path}: the resource nests deeper than {MAX_DEPTH} levels"
        ))),
    }
}

enum Unfit {
    EmptyArray,
    TooDeep,
}

/// The path (`.a[0].b`) of the first empty array or too deep value. Paths are built
/// only on the way back from a finding, so a fit resource costs no allocation.
fn first_unfit(value: &Value, depth: usize) -> Option<(String, Unfit)> {
    let nested = matches!(value, Value::Array(_) | Value::Object(_));
    if nested && depth >= MAX_DEPTH {
        return Some((String::new(), Unfit::TooDeep));
    }
    match value {
        Value::Array(items) if items.is_empty() => Some((String::new(), Unfit::EmptyArray)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| first_unfit(v, depth + 1).map(|(p, u)| (format!("[{i}]{p}"), u))),
        Value::Object(map) => map
            .iter()
            .find_map(|(k, v)| first_unfit(v, depth + 1).map(|(p, u)| (format!(".{k}{p}"), u))),
        _ => None,
    }
}

/// Refuses a resource that fhirbolt had to change to accept: `sent` is what the
/// client sent (after the server's own changes to `id` and `meta`), `validated`
/// what fhirbolt made of it. Element order does not matter.
pub fn check_unchanged(sent: &Value, validated: &Value, root: &str) -> Result<(), ApiError> {
    match first_difference(sent, validated) {
        None => Ok(()),
        Some((path, sent_value, expected)) => Err(ApiError::BadRequest(format!(
            "{root}{path}: {} is not valid FHIR R4 JSON here{}",
            describe(sent_value),
            match expected {
                Some(v) if kind(v) != kind(sent_value) => format!(" (expected {})", describe(v)),
                _ => String::new(),
            }
        ))),
    }
}

/// Where `a` and `b` first differ (a path as above), `a`'s value there, and `b`'s
/// (absent when `b` dropped it). fhirbolt only drops or converts what it was given,
/// never invents elements, so keys only in `b` need no look.
fn first_difference<'a>(
    a: &'a Value,
    b: &'a Value,
) -> Option<(String, &'a Value, Option<&'a Value>)> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => x.iter().find_map(|(k, v)| match y.get(k) {
            None => Some((format!(".{k}"), v, None)),
            Some(w) => first_difference(v, w).map(|(p, v, w)| (format!(".{k}{p}"), v, w)),
        }),
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().find_map(|(i, (v, w))| {
                first_difference(v, w).map(|(p, v, w)| (format!("[{i}]{p}"), v, w))
            })
        }
        _ if a == b => None,
        _ => Some((String::new(), a, Some(b))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Array(_) | Value::Object(_) | Value::Null => kind(v).to_owned(),
        other => {
            let text = other.to_string();
            if text.chars().count() > 40 {
                format!(
                    "{} {}…",
                    kind(other),
                    text.chars().take(40).collect::<String>()
                )
            } else {
                format!("{} {text}", kind(other))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_arrays_are_named() {
        let r = json!({"resourceType": "Slot", "identifier": [{"type": {"coding": []}}]});
        let err = check_before_validation(&r, "Slot").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Slot.identifier[0].type.coding: "),
            "{err}"
        );
        assert!(check_before_validation(&json!({"a": [1], "b": {}}), "X").is_ok());
    }

    #[test]
    fn depth_is_limited() {
        let nest = |levels: usize| {
            let mut v = json!("leaf");
            for _ in 0..levels {
                v = json!({ "a": v });
            }
            v
        };
        assert!(check_before_validation(&nest(MAX_DEPTH), "X").is_ok());
        let err = check_before_validation(&nest(MAX_DEPTH + 1), "X").unwrap_err();
        assert!(err.to_string().contains("deeper than 64"), "{err}");
    }

    #[test]
    fn repairs_are_refused_with_the_path() {
        let sent = json!({"resourceType": "Slot", "schedule": [{"reference": "Schedule/a"}]});
        let fixed = json!({"resourceType": "Slot", "schedule": {"reference": "Schedule/a"}});
        let err = check_unchanged(&sent, &fixed, "Slot").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Slot.schedule: an array is not valid FHIR R4 JSON here (expected an object)"
        );

        let sent = json!({"resourceType": "Slot", "overbooked": "true"});
        let fixed = json!({"resourceType": "Slot", "overbooked": true});
        let err = check_unchanged(&sent, &fixed, "Slot").unwrap_err();
        assert!(err.to_string().contains("a string \"true\""), "{err}");

        let sent = json!({"resourceType": "Slot", "status": "busy", "_status": [null]});
        let fixed = json!({"resourceType": "Slot"});
        let err = check_unchanged(&sent, &fixed, "Slot").unwrap_err();
        assert!(err.to_string().starts_with("Slot.status: "), "{err}");
    }

    #[test]
    fn order_does_not_matter() {
        let sent = json!({"status": "busy", "resourceType": "Slot", "n": 1.50});
        let fixed = json!({"resourceType": "Slot", "status": "busy", "n": 1.5});
        assert!(check_unchanged(&sent, &fixed, "Slot").is_ok());
    }
}
