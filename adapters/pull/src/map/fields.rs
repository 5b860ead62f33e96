//! Reading export fields, each failure naming the field.

use serde_json::{Value, json};

/// The base of Ohjaamo's own code systems and extensions.
pub const OHJAAMO_CODES: &str = "https://ohjaamo.fi/fhir";

/// A required text field.
pub fn text<'a>(record: &'a Value, field: &str) -> Result<&'a str, String> {
    match record.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(Value::String(_)) | None | Some(Value::Null) => Err(format!("{field} is missing")),
        Some(other) => Err(format!("{field} must be text, not {other}")),
    }
}

/// An optional text field.
pub fn optional_text<'a>(record: &'a Value, field: &str) -> Result<Option<&'a str>, String> {
    match record.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => text(record, field).map(Some),
    }
}

/// A required instant (RFC 3339 with offset), as the same instant in UTC.
pub fn instant(record: &Value, field: &str) -> Result<String, String> {
    let value = text(record, field)?;
    value
        .parse::<jiff::Timestamp>()
        .map(|t| t.to_string())
        .map_err(|e| format!("{field} {value:?} is not an instant: {e}"))
}

pub fn optional_instant(record: &Value, field: &str) -> Result<Option<String>, String> {
    match record.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => instant(record, field).map(Some),
    }
}

pub fn flag(record: &Value, field: &str) -> bool {
    record[field].as_bool().unwrap_or(false)
}

/// Whether the record is a tombstone.
pub fn deleted(record: &Value) -> bool {
    flag(record, "poistettu")
}

/// `{"system": <Ohjaamo base>/CodeSystem/<name>, "code": code}`.
pub fn coding(name: &str, code: &str) -> Value {
    json!({"system": format!("{OHJAAMO_CODES}/CodeSystem/{name}"), "code": code})
}

/// An extension of Ohjaamo's with one value element, e.g. `("valueCode", "x")`.
pub fn extension(name: &str, value_element: &str, value: Value) -> Value {
    json!({"url": format!("{OHJAAMO_CODES}/StructureDefinition/{name}"), value_element: value})
}
