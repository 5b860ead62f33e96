//! Turning one incoming resource into what the store keeps: validated by fhirbolt,
//! systems normalised, `id` set, server-owned meta removed, index extracted, and a
//! content hash that makes an identical write a no-op.

use jiff::tz::TimeZone;
use ohjaamo_fhir::{ResourceType, validate_resource_of};
use ohjaamo_store::NewContent;
use serde_json::{Map, Value};

use crate::base::error::ApiError;
use crate::search::extract::{FoundReference, extract};
use crate::search::normalize;
use crate::write::json_shape;

/// A resource ready to be written.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub rtype: ResourceType,
    pub id: String,
    pub content: NewContent,
    pub references: Vec<FoundReference>,
}

impl Prepared {
    pub fn json(&self) -> &Value {
        &self.content.resource
    }
}

/// Validates and indexes `raw` as resource `id` of type `rtype`. References must
/// already be literal (see [`crate::search::references`]).
#[cfg(test)]
pub fn prepare(
    rtype: ResourceType,
    mut raw: Value,
    id: &str,
    tz: &TimeZone,
) -> Result<Prepared, ApiError> {
    let json = validated(rtype, &mut raw, id)?;
    finish(rtype, json, id, tz)
}

/// The first half of preparing a resource: `raw` with its `id` and without the
/// server's `meta` is checked against the R4 structure; the answer is fhirbolt's
/// normalised copy. `raw` is left as the client sent it: the pipeline keeps it for
/// a retry (where the id it was given on this try must not count as the client's)
/// and rewrites references in the copy.
pub fn validated(rtype: ResourceType, raw: &mut Value, id: &str) -> Result<Value, ApiError> {
    // id and meta are settled before fhirbolt normalises the element order, so the
    // same content always serialises — and hashes — the same.
    let sent = match raw {
        Value::Object(map) => {
            let sent = SentServerElements {
                id: map.get("id").cloned(),
                meta: map.get("meta").cloned(),
            };
            map.insert("id".into(), Value::String(id.to_owned()));
            strip_server_meta(map);
            Some(sent)
        }
        _ => None,
    };
    let checked = check_structure(rtype, raw);
    if let (Value::Object(map), Some(sent)) = (raw, sent) {
        sent.restore(map);
    }
    checked
}

/// What the client sent in the elements the server sets, to put back afterwards.
struct SentServerElements {
    id: Option<Value>,
    meta: Option<Value>,
}

impl SentServerElements {
    fn restore(self, resource: &mut Map<String, Value>) {
        for (name, sent) in [("id", self.id), ("meta", self.meta)] {
            match sent {
                Some(value) => {
                    resource.insert(name.into(), value);
                }
                None => {
                    resource.shift_remove(name);
                }
            }
        }
    }
}

fn check_structure(rtype: ResourceType, raw: &Value) -> Result<Value, ApiError> {
    json_shape::check_before_validation(raw, rtype.as_str())?;
    let json = validate_resource_of(rtype, raw.clone())?;
    json_shape::check_unchanged(raw, &json, rtype.as_str())?;
    Ok(json)
}

/// The second half: codes and dates checked, systems normalised, the index
/// extracted and the content hashed. `json` is [`validated`]'s answer with its
/// references made literal.
pub fn finish(
    rtype: ResourceType,
    mut json: Value,
    id: &str,
    tz: &TimeZone,
) -> Result<Prepared, ApiError> {
    crate::write::codes::check(rtype, &json)?;
    crate::write::element_dates::check(&json, tz)?;
    normalize::systems_in(&mut json);
    let extracted = extract(rtype, &json, tz)?;
    let hash = ohjaamo_store::labels::content_hash(&json);
    Ok(Prepared {
        rtype,
        id: id.to_owned(),
        content: NewContent {
            resource: json,
            hash,
            index: extracted.index,
        },
        references: extracted.references,
    })
}

/// `meta.versionId` and `meta.lastUpdated` belong to the server; whatever a client
/// sends there is dropped (an empty `meta` with it).
fn strip_server_meta(resource: &mut Map<String, Value>) {
    let now_empty = match resource.get_mut("meta") {
        Some(Value::Object(meta)) => {
            meta.shift_remove("versionId");
            meta.shift_remove("lastUpdated");
            meta.is_empty()
        }
        _ => false,
    };
    if now_empty {
        resource.shift_remove("meta");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tz() -> TimeZone {
        TimeZone::get("Europe/Helsinki").unwrap()
    }

    #[test]
    fn client_meta_does_not_change_the_hash() {
        let a = json!({"resourceType": "Device", "status": "active"});
        let b = json!({"resourceType": "Device", "status": "active",
            "meta": {"versionId": "7", "lastUpdated": "2020-01-01T00:00:00Z"}});
        let pa = prepare(ResourceType::Device, a, "d1", &tz()).unwrap();
        let pb = prepare(ResourceType::Device, b, "d1", &tz()).unwrap();
        assert_eq!(pa.content.hash, pb.content.hash);
        assert!(pb.json().get("meta").is_none());
        assert_eq!(pb.json()["id"], "d1");
    }

    #[test]
    fn different_content_different_hash() {
        let a = json!({"resourceType": "Device", "status": "active"});
        let b = json!({"resourceType": "Device", "status": "inactive"});
        let pa = prepare(ResourceType::Device, a, "d1", &tz()).unwrap();
        let pb = prepare(ResourceType::Device, b, "d1", &tz()).unwrap();
        assert_ne!(pa.content.hash, pb.content.hash);
    }

    #[test]
    fn validation_leaves_the_sent_resource_as_it_was() {
        let sent = json!({"resourceType": "Device", "status": "active",
            "meta": {"versionId": "7", "source": "x"}});
        let mut raw = sent.clone();
        let json = validated(ResourceType::Device, &mut raw, "d1").unwrap();
        assert_eq!(raw, sent);
        assert_eq!(json["id"], "d1");
        assert_eq!(json["meta"], json!({"source": "x"}));
        let mut bare = json!({"resourceType": "Device"});
        validated(ResourceType::Device, &mut bare, "d2").unwrap();
        assert_eq!(bare, json!({"resourceType": "Device"}));
    }

    #[test]
    fn systems_are_normalised_before_indexing() {
        let d = json!({"resourceType": "Device",
            "identifier": [{"system": "1.2.246.537.6.50|201801", "value": "x"}]});
        let p = prepare(ResourceType::Device, d, "d1", &tz()).unwrap();
        assert_eq!(
            p.json()["identifier"][0]["system"],
            "urn:oid:1.2.246.537.6.50"
        );
    }
}
