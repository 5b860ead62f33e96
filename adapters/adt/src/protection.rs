//! The stay's protection order (turvakielto) as the Encounter's security label.
//!
//! The adapter rebuilds the Encounter from the stored one and the event, but a
//! protection order is not the event's to drop: most messages after the admission
//! (transfers, discharges) carry no PD1 at all. So the labels the stored Encounter
//! has are carried over, and PD1-12 only changes them when it says so: `Y` puts the
//! `R` (restricted) label on, `N` replaces it with `N` (normal), anything else keeps
//! what is there. The lift names a label rather than sending none: the core keeps
//! the stored labels of an update that names none (docs/fhir-api.md), so "no labels"
//! would not lift anything.

use serde_json::{Map, Value, json};

const CONFIDENTIALITY: &str = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";
const RESTRICTED: &str = "R";
const NORMAL: &str = "N";

/// The `meta.security` labels of a stored Encounter (none when it has none).
pub(crate) fn labels_of(encounter: &Map<String, Value>) -> Vec<Value> {
    encounter
        .get("meta")
        .and_then(|m| m.get("security"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// `labels` after an event whose PD1-12 said `protection` (see the module docs).
/// Labels other than the restriction are kept as they are.
pub(crate) fn apply_order(mut labels: Vec<Value>, protection: Option<bool>) -> Vec<Value> {
    match protection {
        Some(true) if !labels.iter().any(is_restricted) => labels.push(
            json!({ "system": CONFIDENTIALITY, "code": RESTRICTED, "display": "restricted" }),
        ),
        Some(false) => {
            labels.retain(|l| !is_restricted(l));
            if !labels.iter().any(is_confidentiality) {
                labels.push(
                    json!({ "system": CONFIDENTIALITY, "code": NORMAL, "display": "normal" }),
                );
            }
        }
        // Already restricted, or the message says nothing.
        Some(true) | None => {}
    }
    labels
}

fn is_confidentiality(label: &Value) -> bool {
    label.get("system").and_then(Value::as_str) == Some(CONFIDENTIALITY)
}

fn is_restricted(label: &Value) -> bool {
    is_confidentiality(label) && label.get("code").and_then(Value::as_str) == Some(RESTRICTED)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn restricted() -> Vec<Value> {
        apply_order(Vec::new(), Some(true))
    }

    #[test]
    fn only_an_explicit_no_lifts_the_order() {
        assert_eq!(restricted().len(), 1);
        assert_eq!(apply_order(restricted(), None), restricted());
        assert_eq!(
            apply_order(restricted(), Some(true)),
            restricted(),
            "not twice"
        );
        let lifted = apply_order(restricted(), Some(false));
        assert_eq!(lifted.len(), 1);
        assert_eq!(
            lifted[0]["code"], NORMAL,
            "named, so the core does not keep R"
        );
        assert!(apply_order(Vec::new(), None).is_empty());
    }

    #[test]
    fn other_labels_are_not_ours_to_drop() {
        let other = json!({ "system": "urn:example", "code": "X" });
        let lifted = apply_order(vec![other.clone(), restricted()[0].clone()], Some(false));
        assert_eq!(lifted[0], other);
        assert_eq!(lifted[1]["code"], NORMAL);
    }

    #[test]
    fn labels_are_read_from_meta_security() {
        let stored = json!({ "meta": { "versionId": "3", "security": restricted() } });
        assert_eq!(labels_of(stored.as_object().unwrap()), restricted());
        assert!(labels_of(&Map::new()).is_empty());
    }
}
