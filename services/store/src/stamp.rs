//! Stamping a version's `meta.versionId` and `meta.lastUpdated` into its JSON.

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
pub(crate) fn stamp(resource: &Value, id: &str, version: i64, last_updated: i64) -> String {
    let mut out = Map::new();
    let empty = Map::new();
    let fields = resource.as_object().unwrap_or(&empty);
    if let Some(rt) = fields.get("resourceType") {
        out.insert("resourceType".into(), rt.clone());
    }
    out.insert("id".into(), Value::String(id.to_owned()));
    let mut meta = match fields.get("meta") {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    meta.insert("versionId".into(), Value::String(version.to_string()));
    meta.insert(
        "lastUpdated".into(),
        Value::String(format_instant(last_updated)),
    );
    out.insert("meta".into(), Value::Object(meta));
    for (k, v) in fields {
        if !matches!(k.as_str(), "resourceType" | "id" | "meta") {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out).to_string()
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
        let text = stamp(&r, "s1", 3, 0);
        assert_eq!(
            text,
            r#"{"resourceType":"Slot","id":"s1","meta":{"source":"x","versionId":"3","lastUpdated":"1970-01-01T00:00:00.000000Z"},"status":"busy"}"#
        );
    }
}
