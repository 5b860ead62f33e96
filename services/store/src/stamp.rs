//! Stamping a version's `meta.versionId` and `meta.lastUpdated` into its JSON.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

/// Formats microseconds since the epoch as an R4 `instant` in UTC with microsecond
/// precision, e.g. `2026-03-29T01:00:00.123456Z`: lastUpdated must order versions
/// that are written within the same second.
pub fn format_instant(micros: i64) -> String {
    use jiff::civil::DateTime;
    // Civil arithmetic in UTC covers all of 0001..=9999, which Timestamp does not
    // quite; values beyond (the open ends of a Period are i64::MIN / i64::MAX) are
    // clamped, because an R4 instant has a four-digit year.
    let first = DateTime::constant(1, 1, 1, 0, 0, 0, 0);
    let last = DateTime::constant(9999, 12, 31, 23, 59, 59, 999_999_000);
    let epoch = DateTime::constant(1970, 1, 1, 0, 0, 0, 0);
    let dt = epoch
        .checked_add(jiff::SignedDuration::from_micros(micros))
        .unwrap_or(if micros < 0 { first } else { last })
        .clamp(first, last);
    dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Returns the resource's JSON text with `id` and `meta` placed right after
/// `resourceType` (where readers of raw JSON look for them) and the version stamped.
///
/// Written straight from the borrowed resource: every stored version passes here,
/// and building a stamped copy of the JSON tree first cost as much as the write.
pub(crate) fn stamp(
    resource: &Value,
    id: &str,
    version: i64,
    last_updated: i64,
) -> Result<String, serde_json::Error> {
    let empty = Map::new();
    let stamped = Stamped {
        fields: resource.as_object().unwrap_or(&empty),
        id,
        version: version.to_string(),
        last_updated: format_instant(last_updated),
    };
    serde_json::to_string(&stamped)
}

/// A resource as stored: its own fields with `id` and a stamped `meta`.
struct Stamped<'a> {
    fields: &'a Map<String, Value>,
    id: &'a str,
    version: String,
    last_updated: String,
}

impl Serialize for Stamped<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_map(None)?;
        if let Some(rt) = self.fields.get("resourceType") {
            out.serialize_entry("resourceType", rt)?;
        }
        out.serialize_entry("id", self.id)?;
        out.serialize_entry(
            "meta",
            &StampedMeta {
                sent: self.fields.get("meta").and_then(Value::as_object),
                version: &self.version,
                last_updated: &self.last_updated,
            },
        )?;
        for (k, v) in self.fields {
            if !matches!(k.as_str(), "resourceType" | "id" | "meta") {
                out.serialize_entry(k, v)?;
            }
        }
        out.end()
    }
}

/// `meta` as sent (without any version of the client's) plus the server's two.
struct StampedMeta<'a> {
    sent: Option<&'a Map<String, Value>>,
    version: &'a str,
    last_updated: &'a str,
}

impl Serialize for StampedMeta<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_map(None)?;
        for (k, v) in self.sent.into_iter().flatten() {
            if !matches!(k.as_str(), "versionId" | "lastUpdated") {
                out.serialize_entry(k, v)?;
            }
        }
        out.serialize_entry("versionId", self.version)?;
        out.serialize_entry("lastUpdated", self.last_updated)?;
        out.end()
    }
}

/// Current time in microseconds since the epoch.
pub(crate) fn now_micros() -> i64 {
    jiff::Timestamp::now().as_microsecond()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn formats_with_microseconds_in_utc() {
        assert_eq!(format_instant(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            format_instant(1_774_746_000_123_456),
            "2026-03-29T01:00:00.123456Z"
        );
    }

    #[test]
    fn stamps_meta_after_id_and_keeps_other_meta() {
        let r = json!({"resourceType": "Slot", "status": "busy", "meta": {"source": "x"}});
        let text = stamp(&r, "s1", 3, 0).unwrap();
        assert_eq!(
            text,
            r#"{"resourceType":"Slot","id":"s1","meta":{"source":"x","versionId":"3","lastUpdated":"1970-01-01T00:00:00.000000Z"},"status":"busy"}"#
        );
    }

    #[test]
    fn a_sent_version_gives_way_to_the_stamped_one() {
        let r = json!({"resourceType": "Slot", "id": "old", "meta": {"versionId": "9"}});
        let text = stamp(&r, "s1", 2, 0).unwrap();
        assert_eq!(
            text,
            r#"{"resourceType":"Slot","id":"s1","meta":{"versionId":"2","lastUpdated":"1970-01-01T00:00:00.000000Z"}}"#
        );
    }
}
