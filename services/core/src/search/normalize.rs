//! Normalising what sources spell in many ways: identifier and code systems (OIDs)
//! and strings for case- and accent-insensitive search.

use serde_json::Value;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Writes an OID-based system as `urn:oid:<oid>` without a version.
///
/// Finnish sources write the same system as `urn:oid:1.2.246.537.6.50`,
/// `1.2.246.537.6.50`, `1.2.246.537.6.50|201801` or `urn:oid:1.2.246.537.6.50.201801`
/// (the code-server version glued on as a last arc). A last arc that reads as a
/// year-month (`YYYYMM`) or date (`YYYYMMDD`) between 1990 and 2099 is such a
/// version: no registered OID arc under these trees looks like one. Other systems
/// (URLs) are left as they are.
pub fn system(raw: &str) -> String {
    let trimmed = raw.trim();
    let without_version = trimmed.split('|').next().unwrap_or(trimmed);
    let oid = without_version
        .strip_prefix("urn:oid:")
        .unwrap_or(without_version);
    if !is_oid(oid) {
        return trimmed.to_owned();
    }
    let oid = match oid.rsplit_once('.') {
        Some((head, last)) if looks_like_version(last) && head.contains('.') => head,
        _ => oid,
    };
    format!("urn:oid:{oid}")
}

fn is_oid(s: &str) -> bool {
    !s.is_empty()
        && s.contains('.')
        && s.split('.')
            .all(|arc| !arc.is_empty() && arc.bytes().all(|b| b.is_ascii_digit()))
}

fn looks_like_version(arc: &str) -> bool {
    let year_ok = |y: &str| matches!(y.parse::<u32>(), Ok(1990..=2099));
    let month_ok = |m: &str| matches!(m.parse::<u32>(), Ok(1..=12));
    match arc.len() {
        6 => year_ok(&arc[..4]) && month_ok(&arc[4..6]),
        8 => {
            year_ok(&arc[..4])
                && month_ok(&arc[4..6])
                && matches!(arc[6..8].parse::<u32>(), Ok(1..=31))
        }
        _ => false,
    }
}

/// Rewrites every `system` of every Identifier and Coding in a resource.
pub fn systems_in(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let is_coded = map.contains_key("code") || map.contains_key("value");
            if is_coded && let Some(Value::String(s)) = map.get_mut("system") {
                let normalised = system(s);
                *s = normalised;
            }
            for (_, v) in map.iter_mut() {
                systems_in(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(systems_in),
        _ => {}
    }
}

/// Lower case without accents, for the default string search ("Härmä" finds
/// "harma" and "HÄRMÄ").
pub fn fold(s: &str) -> String {
    s.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn oid_variants_become_one_system() {
        for raw in [
            "urn:oid:1.2.246.537.6.50",
            "1.2.246.537.6.50",
            "1.2.246.537.6.50|201801",
            "urn:oid:1.2.246.537.6.50.201801",
            "urn:oid:1.2.246.537.6.50.20180115",
            " urn:oid:1.2.246.537.6.50 ",
        ] {
            assert_eq!(system(raw), "urn:oid:1.2.246.537.6.50", "{raw}");
        }
    }

    #[test]
    fn ordinary_arcs_and_urls_stay() {
        assert_eq!(system("1.2.246.537.6.202"), "urn:oid:1.2.246.537.6.202");
        assert_eq!(
            system("urn:oid:1.2.246.10.1234567"),
            "urn:oid:1.2.246.10.1234567"
        );
        assert_eq!(
            system("http://terminology.hl7.org/CodeSystem/v2-0116"),
            "http://terminology.hl7.org/CodeSystem/v2-0116"
        );
        assert_eq!(system("urn:oid:"), "urn:oid:");
    }

    #[test]
    fn systems_in_a_resource_are_rewritten() {
        let mut r = json!({
            "identifier": [{"system": "1.2.246.537.6.202", "value": "x"}],
            "type": [{"coding": [{"system": "1.2.246.537.6.50|201801", "code": "a"}]}]
        });
        systems_in(&mut r);
        assert_eq!(r["identifier"][0]["system"], "urn:oid:1.2.246.537.6.202");
        assert_eq!(
            r["type"][0]["coding"][0]["system"],
            "urn:oid:1.2.246.537.6.50"
        );
    }

    #[test]
    fn folding_ignores_case_and_accents() {
        assert_eq!(fold("HÄRMÄ Åbo"), "harma abo");
        assert_eq!(fold("Öljy"), fold("öljy"));
    }
}
