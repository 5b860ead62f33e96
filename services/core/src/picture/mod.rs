//! The situational picture: derived from the stored resources by the [`deriver`],
//! stored per unit with the sequence of the event that announced it, and served at
//! `GET /picture` (`http::picture`). The capacity [`reports`] are written from it.

mod compute;
pub mod deriver;
pub mod history;
pub mod measure_report;
pub mod place_cache;
pub mod read;
pub mod reports;
pub mod resources;
pub mod source;
pub mod surgery;
mod touched;
pub mod ward;

/// A unit's picture: its id, name, kind, the site it is part of, and `figures`. Every
/// kind has this shape, so displays and consumers read them alike.
fn unit_picture(
    kind: &str,
    unit: &str,
    location: Option<&serde_json::Value>,
    figures: serde_json::Value,
) -> ohjaamo_store::PictureUpdate {
    let site = location.and_then(|l| crate::search::json::first_reference(l, "partOf", "Location"));
    unit_picture_at(kind, unit, location, site, None, figures)
}

/// [`unit_picture`] of a unit whose site is not what it is directly part of (an
/// operating room is part of its theatre suite, the suite of the site).
/// `zone`: the unit's time zone, for kinds whose figures have a "today".
fn unit_picture_at(
    kind: &str,
    unit: &str,
    location: Option<&serde_json::Value>,
    site: Option<String>,
    zone: Option<&jiff::tz::TimeZone>,
    figures: serde_json::Value,
) -> ohjaamo_store::PictureUpdate {
    let of_type = |name: &str| location.and_then(|l| crate::search::json::ohjaamo_type(l, name));
    let mut body = serde_json::json!({
        "id": unit,
        "name": location.map_or(serde_json::Value::Null, |l| l["name"].clone()),
        "kind": kind,
        "site": site,
        // What the unit is (ward, rehabilitation-ward, operating-room, …) and treats,
        // for displays that filter by them.
        "unitKind": of_type("unit-kind").or_else(|| of_type("room-kind")),
        "specialty": of_type("specialty"),
        "figures": figures,
    });
    if let Some(name) = zone.and_then(|z| z.iana_name()) {
        body["timeZone"] = serde_json::json!(name);
    }
    ohjaamo_store::PictureUpdate {
        unit: unit.to_owned(),
        kind: kind.to_owned(),
        body: body.to_string(),
    }
}

/// [`unit_picture`] of a unit whose figures are counted in `zone`.
fn unit_picture_in(
    kind: &str,
    unit: &str,
    location: &serde_json::Value,
    zone: &jiff::tz::TimeZone,
    figures: serde_json::Value,
) -> ohjaamo_store::PictureUpdate {
    let site = crate::search::json::first_reference(location, "partOf", "Location");
    unit_picture_at(kind, unit, Some(location), site, Some(zone), figures)
}
