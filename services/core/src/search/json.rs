//! Reading the few elements the picture needs from stored FHIR JSON.

use serde_json::Value;

/// Every code of a CodeableConcept, a list of them, or a bare Coding at `element`.
pub fn code_of(resource: &Value, element: &str) -> Vec<String> {
    let value = &resource[element];
    let codings = value["coding"]
        .as_array()
        .cloned()
        .or_else(|| {
            value.as_array().map(|concepts| {
                concepts
                    .iter()
                    .flat_map(|c| c["coding"].as_array().cloned().unwrap_or_default())
                    .collect()
            })
        })
        .unwrap_or_default();
    let mut codes: Vec<String> = codings
        .iter()
        .filter_map(|c| c["code"].as_str().map(str::to_owned))
        .collect();
    if let Some(code) = value["code"].as_str() {
        codes.push(code.to_owned()); // a bare Coding (operationalStatus)
    }
    codes
}

/// The code of the first `type` coding whose system is Ohjaamo's code system `name`
/// (`unit-kind`, `room-kind`, `specialty`, …), e.g. what kind of unit a Location is.
pub fn ohjaamo_type(location: &Value, name: &str) -> Option<String> {
    let suffix = format!("/CodeSystem/{name}");
    location["type"]
        .as_array()?
        .iter()
        .flat_map(|concept| concept["coding"].as_array().into_iter().flatten())
        .find(|c| c["system"].as_str().is_some_and(|s| s.ends_with(&suffix)))
        .and_then(|c| c["code"].as_str().map(str::to_owned))
}

/// Stored content as JSON; `None` for content that does not parse (never expected:
/// the core stores what it validated).
pub fn parse(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok()
}

/// The ids a reference element (or list of them) at `element` points to in `rtype`.
pub fn references(resource: &Value, element: &str, rtype: &str) -> Vec<String> {
    let value = &resource[element];
    let one = |v: &Value| {
        v["reference"]
            .as_str()
            .and_then(|r| r.strip_prefix(rtype))
            .and_then(|r| r.strip_prefix('/'))
            .map(str::to_owned)
    };
    match value.as_array() {
        Some(list) => list.iter().filter_map(one).collect(),
        None => one(value).into_iter().collect(),
    }
}

/// The first id a reference element at `element` points to in `rtype`.
pub fn first_reference(resource: &Value, element: &str, rtype: &str) -> Option<String> {
    references(resource, element, rtype).into_iter().next()
}

/// An instant (with its offset) at `value`.
pub fn instant(value: &Value) -> Option<jiff::Timestamp> {
    value.as_str()?.parse().ok()
}

/// The time zone a unit's "today" is in: its Location's IANA time zone extension
/// (`timezone`, or R4's `tz-code`), else `default` (the server's `--time-zone`).
pub fn unit_zone(location: Option<&Value>, default: &jiff::tz::TimeZone) -> jiff::tz::TimeZone {
    const URLS: [&str; 2] = [
        "http://hl7.org/fhir/StructureDefinition/timezone",
        "http://hl7.org/fhir/StructureDefinition/tz-code",
    ];
    location
        .and_then(|l| l["extension"].as_array())
        .into_iter()
        .flatten()
        .filter(|e| e["url"].as_str().is_some_and(|u| URLS.contains(&u)))
        .find_map(|e| jiff::tz::TimeZone::get(e["valueCode"].as_str()?).ok())
        .unwrap_or_else(|| default.clone())
}

/// A name's sort key that puts "Paikka 2" before "Paikka 10".
pub fn natural_key(name: &Value) -> (String, u64) {
    let name = name.as_str().unwrap_or_default();
    let digits: String = name
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let number = digits.parse().unwrap_or(0);
    (name[..name.len() - digits.len()].to_owned(), number)
}
