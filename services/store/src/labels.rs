//! Security labels (`meta.security`) outlive an update that does not name them.
//!
//! A label such as a protection order (turvakielto: `R`, restricted, in
//! `v3-Confidentiality`) is a statement about the patient, not about the message that
//! happened to carry it: a transfer or a discharge sent without it must not lift it.
//! So, as FHIR allows servers to ("tags and security labels ... are carried over"),
//! an update whose resource has no `meta.security` keeps the labels of the version it
//! replaces; one that has `meta.security` states the labels and replaces them. A
//! writer lifts a restriction by sending the labels without it (a protection order
//! lifted: `N`, normal, in its place).
//!
//! The carrying over is done here, in the write's transaction, against the version
//! the write replaces, so a concurrent update cannot slip between reading the labels
//! and writing without them.

use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use crate::model::NewContent;

/// `v3-Confidentiality`, the code system of confidentiality labels.
pub const CONFIDENTIALITY: &str = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";

/// The labels of `resource`: its `meta.security`, when it has any.
pub fn labels_of(resource: &Value) -> Option<&Vec<Value>> {
    resource["meta"]["security"]
        .as_array()
        .filter(|labels| !labels.is_empty())
}

/// Whether `resource` is labelled restricted or very restricted (`R`, `V` in
/// `v3-Confidentiality`): a protection order, or what a source system marks so.
pub fn is_restricted(resource: &Value) -> bool {
    labels_of(resource).is_some_and(|labels| {
        labels.iter().any(|l| {
            l["system"].as_str() == Some(CONFIDENTIALITY)
                && matches!(l["code"].as_str(), Some("R" | "V"))
        })
    })
}

/// Stored JSON text as its resource when it is restricted ([`is_restricted`]); the
/// text is parsed only when it has labels at all, as most resources do not.
pub fn restricted_resource(json: &str) -> Option<Value> {
    if !json.contains("\"security\"") {
        return None;
    }
    serde_json::from_str::<Value>(json)
        .ok()
        .filter(is_restricted)
}

/// Whether stored JSON text is a restricted resource.
pub fn is_restricted_text(json: &str) -> bool {
    restricted_resource(json).is_some()
}

/// SHA-256 of a resource's JSON as serialised (the core serialises it with its
/// elements in specification order, so the same content always hashes the same).
pub fn content_hash(json: &Value) -> String {
    hex::encode(Sha256::digest(json.to_string().as_bytes()))
}

/// `content` with `stored`'s labels when it names none of its own (see the module
/// documentation); `None` when nothing is to carry over.
pub(crate) fn carried_over(content: &NewContent, stored: Option<&Value>) -> Option<NewContent> {
    let labels = stored?.as_array().filter(|l| !l.is_empty())?;
    if labels_of(&content.resource).is_some() {
        return None;
    }
    let mut resource = content.resource.clone();
    let Value::Object(map) = &mut resource else {
        return None;
    };
    match map.get_mut("meta") {
        Some(Value::Object(meta)) => insert_security(meta, labels.clone()),
        _ => {
            // Meta comes after `resourceType` and `id`, as the core orders elements.
            let at = ["resourceType", "id"]
                .iter()
                .filter(|name| map.contains_key(**name))
                .count();
            let mut meta = Map::new();
            meta.insert("security".into(), Value::Array(labels.clone()));
            map.shift_insert(at, "meta".into(), Value::Object(meta));
        }
    }
    Some(NewContent {
        hash: content_hash(&resource),
        resource,
        index: content.index.clone(),
    })
}

/// Puts `labels` into `meta` in R4's element order: after `profile`, before `tag`.
fn insert_security(meta: &mut Map<String, Value>, labels: Vec<Value>) {
    let at = meta.keys().position(|k| k == "tag").unwrap_or(meta.len());
    meta.shift_insert(at, "security".into(), Value::Array(labels));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn content(resource: Value) -> NewContent {
        NewContent {
            hash: content_hash(&resource),
            resource,
            index: Vec::new(),
        }
    }

    fn restricted() -> Value {
        json!([{"system": CONFIDENTIALITY, "code": "R"}])
    }

    #[test]
    fn an_update_without_labels_keeps_the_stored_ones_in_place() {
        let update =
            content(json!({"resourceType": "Encounter", "id": "e1", "status": "finished"}));
        let kept = carried_over(&update, Some(&restricted())).expect("carried over");
        assert_eq!(
            kept.resource.to_string(),
            json!({"resourceType": "Encounter", "id": "e1",
                   "meta": {"security": restricted()}, "status": "finished"})
            .to_string()
        );
        assert_eq!(kept.hash, content_hash(&kept.resource));
        assert!(is_restricted(&kept.resource));

        let with_meta = content(json!({"resourceType": "Encounter", "id": "e1",
            "meta": {"profile": ["p"], "tag": [{"code": "t"}]}}));
        let kept = carried_over(&with_meta, Some(&restricted())).unwrap();
        let keys: Vec<&String> = kept.resource["meta"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["profile", "security", "tag"]);
    }

    #[test]
    fn labels_the_update_names_replace_the_stored_ones() {
        let normal = json!([{"system": CONFIDENTIALITY, "code": "N"}]);
        let lifted = content(json!({"resourceType": "Encounter", "id": "e1",
            "meta": {"security": normal}}));
        assert!(carried_over(&lifted, Some(&restricted())).is_none());
        assert!(!is_restricted(&lifted.resource));
        let plain = content(json!({"resourceType": "Encounter", "id": "e1"}));
        assert!(carried_over(&plain, None).is_none());
        assert!(carried_over(&plain, Some(&json!([]))).is_none());
    }
}
