//! The situational picture: derived from the stored resources by the [`deriver`],
//! stored per unit with the sequence of the event that announced it, and served at
//! `GET /picture`.

pub mod deriver;
mod history;
mod json;
pub mod measure_report;
pub mod resources;
mod serve;
mod touched;
pub mod ward;

pub use serve::{PictureFilter, handler, snapshot};

/// A unit's picture: its id, name, kind, the site it is part of, and `figures`. Every
/// kind has this shape, so displays and consumers read them alike.
fn unit_picture(
    kind: &str,
    unit: &str,
    location: Option<&serde_json::Value>,
    figures: serde_json::Value,
) -> ohjaamo_store::PictureUpdate {
    let site = location.and_then(|l| json::first_reference(l, "partOf", "Location"));
    ohjaamo_store::PictureUpdate {
        unit: unit.to_owned(),
        kind: kind.to_owned(),
        body: serde_json::json!({
            "id": unit,
            "name": location.map_or(serde_json::Value::Null, |l| l["name"].clone()),
            "kind": kind,
            "site": site,
            "figures": figures,
        })
        .to_string(),
    }
}
