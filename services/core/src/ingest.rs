//! Turning one incoming resource into what the store keeps: validated by fhirbolt,
//! systems normalised, `id` set, server-owned meta removed, index extracted, and a
//! content hash that makes an identical write a no-op.

use jiff::tz::TimeZone;
use ohjaamo_fhir::{ResourceType, validate_resource_of};
use ohjaamo_store::NewContent;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::extract::{FoundReference, extract};
use crate::{json_shape, normalize};

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
/// already be literal (see [`crate::references`]).
pub fn prepare(
    rtype: ResourceType,
    raw: Value,
    id: &str,
    tz: &TimeZone,
) -> Result<Prepared, ApiError> {
    // id and meta are settled before fhirbolt normalises the element order, so the
    // same content always serialises — and hashes — the same.
    let mut raw = raw;
    if let Value::Object(map) = &mut raw {
        map.insert("id".into(), Value::String(id.to_owned()));
        strip_server_meta(map);
    }
    json_shape::check_before_validation(&raw, rtype.as_str())?;
    let mut json = validate_resource_of(rtype, raw.clone())?;
    json_shape::check_unchanged(&raw, &json, rtype.as_str())?;
    crate::codes::check(rtype, &json)?;
    crate::element_dates::check(&json, tz)?;
    normalize::systems_in(&mut json);
    let extracted = extract(rtype, &json, tz)?;
    let hash = content_hash(&json);
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

/// SHA-256 of the resource's JSON as fhirbolt normalised it (elements in
/// specification order), so the same content always hashes the same.
fn content_hash(json: &Value) -> String {
    hex::encode(Sha256::digest(json.to_string().as_bytes()))
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
