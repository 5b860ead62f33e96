//! A bed hold records who made it: the signed-in coordinator (the token's `sub`, or
//! its client id for a service), written by the server into the hold's
//! [`HELD_BY_URL`] extension. A client cannot put another name there: whatever it sent
//! in that extension is replaced. Beside it, [`HELD_BY_NAME_URL`] carries the token's
//! `name` for the bed board to show (or is removed when the token has none). Without
//! authentication (`--auth none`) the server knows nobody, and both are left as the
//! client sent them.

use serde_json::{Value, json};

use crate::http::access::Access;
use crate::write::entry::WriteEntry;
use crate::write::holds::is_hold;

/// The extension on a hold Slot naming who made (or last changed) it.
pub const HELD_BY_URL: &str = "https://ohjaamo.fi/fhir/StructureDefinition/bed-hold-held-by";
/// The display name of whoever [`HELD_BY_URL`] names, from their token's `name`.
pub const HELD_BY_NAME_URL: &str =
    "https://ohjaamo.fi/fhir/StructureDefinition/bed-hold-held-by-name";

/// Puts the caller's name into every hold among `entries`.
pub fn stamp(entries: &mut [WriteEntry], access: &Access) {
    let Some(principal) = access.principal() else {
        return;
    };
    let Some(who) = principal
        .subject
        .as_deref()
        .or(principal.client_id.as_deref())
    else {
        return;
    };
    let name = principal.name.as_deref().filter(|n| !n.trim().is_empty());
    for entry in entries.iter_mut() {
        if let Some(slot) = entry.resource.as_mut().filter(|r| is_hold(r)) {
            set_held_by(slot, who, name);
        }
    }
}

fn set_held_by(slot: &mut Value, who: &str, name: Option<&str>) {
    let Value::Object(map) = slot else {
        return;
    };
    let ours = |e: &Value| matches!(e["url"].as_str(), Some(HELD_BY_URL | HELD_BY_NAME_URL));
    let mut extensions: Vec<Value> = map
        .get("extension")
        .and_then(Value::as_array)
        .map(|all| all.iter().filter(|e| !ours(e)).cloned().collect())
        .unwrap_or_default();
    extensions.push(json!({ "url": HELD_BY_URL, "valueString": who }));
    if let Some(name) = name {
        extensions.push(json!({ "url": HELD_BY_NAME_URL, "valueString": name }));
    }
    map.insert("extension".into(), Value::Array(extensions));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_replaces_what_the_client_sent_and_keeps_other_extensions() {
        let mut slot = json!({"resourceType": "Slot", "extension": [
            {"url": HELD_BY_URL, "valueString": "someone else"},
            {"url": HELD_BY_NAME_URL, "valueString": "Someone Else"},
            {"url": "urn:other", "valueString": "kept"},
        ]});
        set_held_by(&mut slot, "coordinator-a", Some("Aino Virtanen"));
        let extensions = slot["extension"].as_array().unwrap();
        assert_eq!(extensions.len(), 3);
        assert_eq!(extensions[0]["url"], "urn:other");
        assert_eq!(extensions[1]["valueString"], "coordinator-a");
        assert_eq!(extensions[2]["url"], HELD_BY_NAME_URL);
        assert_eq!(extensions[2]["valueString"], "Aino Virtanen");
        // A token without a name leaves no name of anyone else's behind.
        set_held_by(&mut slot, "service-b", None);
        let extensions = slot["extension"].as_array().unwrap();
        assert_eq!(extensions.len(), 2);
        assert_eq!(extensions[1]["valueString"], "service-b");
    }
}
