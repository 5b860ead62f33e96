//! Reading and rewriting `Reference.reference` values.
//!
//! Stored resources only hold literal local references (`Slot/123`). On the way in,
//! Bundle-internal references (`urn:uuid:…`) and conditional references
//! (`Schedule?identifier=sys|val`, the way a stateless adapter points at a resource
//! whose server id it does not know) are rewritten to that form.

use std::fmt;

use serde_json::Value;

/// A reference to a resource on this server.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LocalReference {
    pub rtype: String,
    pub id: String,
}

impl fmt::Display for LocalReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.rtype, self.id)
    }
}

/// Parses a literal reference: `Type/id`, `Type/id/_history/n`, or an absolute URL
/// ending in those. `#contained` gives `None`. Unresolved `urn:uuid:` and
/// conditional references are errors here: they must have been rewritten first.
pub fn parse_reference(text: &str) -> Result<Option<LocalReference>, String> {
    if text.starts_with('#') {
        return Ok(None);
    }
    if text.starts_with("urn:uuid:") || text.starts_with("urn:oid:") {
        return Err(format!(
            "reference {text} does not resolve to any entry of the Bundle"
        ));
    }
    if text.contains('?') {
        return Err(format!(
            "conditional reference {text} was not resolved (use identifier=system|value)"
        ));
    }
    let segments: Vec<&str> = text.split('/').collect();
    let tail = match segments.as_slice() {
        [.., t, id, "_history", _] => [*t, *id],
        [.., t, id] => [*t, *id],
        _ => {
            return Err(format!("reference {text:?} is not of the form Type/id"));
        }
    };
    let [rtype, id] = tail;
    if !is_type_name(rtype) || !is_fhir_id(id) {
        return Err(format!("reference {text:?} is not of the form Type/id"));
    }
    Ok(Some(LocalReference {
        rtype: rtype.to_owned(),
        id: id.to_owned(),
    }))
}

/// An R4 `id`: 1–64 of `[A-Za-z0-9\-\.]`.
pub fn is_fhir_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

fn is_type_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Calls `f` on every `Reference.reference` string in a resource; `f` may replace it.
pub fn rewrite_references(value: &mut Value, f: &mut impl FnMut(&str, &str) -> Option<String>) {
    let root = value
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or("Resource")
        .to_owned();
    rewrite_at(value, &mut root.clone(), f);
}

/// Walks `value` keeping `path` (`Encounter.location[1].location`) up to date, so
/// that an error about a reference can name the element it is in.
fn rewrite_at(
    value: &mut Value,
    path: &mut String,
    f: &mut impl FnMut(&str, &str) -> Option<String>,
) {
    let len = path.len();
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get_mut("reference")
                && let Some(new) = f(path, reference)
            {
                *reference = new;
            }
            for (key, child) in map.iter_mut() {
                if key != "reference" {
                    path.push('.');
                    path.push_str(key);
                    rewrite_at(child, path, f);
                    path.truncate(len);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                path.push_str(&format!("[{i}]"));
                rewrite_at(item, path, f);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// Every `Reference.reference` string in a resource.
pub fn all_references(value: &Value) -> Vec<&str> {
    let mut found = Vec::new();
    collect_references(value, &mut found);
    found
}

fn collect_references<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("reference") {
                found.push(reference);
            }
            for (key, child) in map {
                if key != "reference" {
                    collect_references(child, found);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_references(v, found)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn literal_forms() {
        let r = |t| parse_reference(t).unwrap().unwrap().to_string();
        assert_eq!(r("Schedule/s-1"), "Schedule/s-1");
        assert_eq!(r("Schedule/s-1/_history/3"), "Schedule/s-1");
        assert_eq!(r("https://fhir.example/fhir/Location/a.b"), "Location/a.b");
        assert_eq!(parse_reference("#c1").unwrap(), None);
    }

    #[test]
    fn malformed_and_unresolved_are_errors() {
        for bad in [
            "Schedule",
            "schedule/1",
            "Schedule/",
            "Schedule/a b",
            "urn:uuid:0c8e",
            "Schedule?identifier=x|y",
            "",
        ] {
            assert!(parse_reference(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rewriting_reaches_nested_references() {
        let mut r = json!({
            "resourceType": "Appointment",
            "schedule": {"reference": "urn:uuid:1"},
            "participant": [{"actor": {"reference": "urn:uuid:2"}}]
        });
        let mut elements = Vec::new();
        rewrite_references(&mut r, &mut |element, t| {
            elements.push(element.to_owned());
            t.strip_prefix("urn:uuid:").map(|n| format!("Location/{n}"))
        });
        assert_eq!(
            elements,
            ["Appointment.schedule", "Appointment.participant[0].actor"]
        );
        assert_eq!(r["schedule"]["reference"], "Location/1");
        assert_eq!(r["participant"][0]["actor"]["reference"], "Location/2");
        assert_eq!(all_references(&r), ["Location/1", "Location/2"]);
    }
}
