//! Every kind of picture for a set of candidate units, from any source of resources:
//! what the deriver runs on the current resources and `GET /picture?at=` on the
//! resources as they were.

use std::collections::HashMap;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use ohjaamo_store::{PictureUpdate, StoreError};
use serde_json::Value;

use super::place_cache::PlaceCache;
use super::source::Resources;
use super::touched::Touched;
use super::{read, resources, surgery, ward};

/// Every unit with a picture of some kind: every ward, operating room and recovery
/// unit Location, and every Location that Devices or PractitionerRoles are located
/// at.
pub async fn all_units(src: &Resources<'_>) -> Result<Touched, StoreError> {
    let mut locations = src.ids_by_token("Location", "physical-type", "wa").await?;
    locations.extend(
        src.ids_by_token("Location", "type", surgery::OPERATING_ROOM)
            .await?,
    );
    Ok(Touched {
        locations: locations.into_iter().collect(),
        equipment: src
            .reference_targets("Device", "location", "Location")
            .await?
            .into_iter()
            .collect(),
        staff: src
            .reference_targets("PractitionerRole", "location", "Location")
            .await?
            .into_iter()
            .collect(),
    })
}

/// The pictures of every kind of the units among `touched`, at `now` in `zone`,
/// by kind; ward places are taken from `cache` where it has them.
pub async fn pictures(
    src: &Resources<'_>,
    touched: &Touched,
    now: Timestamp,
    zone: &TimeZone,
    cache: &mut PlaceCache,
) -> Result<Vec<(&'static str, Vec<PictureUpdate>)>, StoreError> {
    let locations: Vec<String> = touched.locations.iter().cloned().collect();
    let equipment: Vec<String> = touched.equipment.iter().cloned().collect();
    let staff: Vec<String> = touched.staff.iter().cloned().collect();
    let mut out = Vec::new();
    if !locations.is_empty() {
        // Read once for the ward and operating-room pictures.
        let candidates = read::locations(src, &locations, |_| true).await?;
        out.push((
            ward::KIND,
            ward::ward_pictures_among(src, &candidates, now, zone, cache).await?,
        ));
        out.push((
            surgery::OPERATING_ROOM,
            surgery::operating_room_pictures(src, &candidates, now, zone).await?,
        ));
        out.push((
            surgery::RECOVERY_UNIT,
            surgery::recovery_pictures(src, &locations, &candidates, now, zone).await?,
        ));
    }
    if !equipment.is_empty() {
        out.push((
            resources::EQUIPMENT,
            resources::equipment_pictures(src, &equipment, now).await?,
        ));
    }
    if !staff.is_empty() {
        out.push((
            resources::STAFF,
            resources::staff_pictures(src, &staff, now).await?,
        ));
    }
    name_sites(src, &mut out).await?;
    Ok(out)
}

/// Adds each picture's `siteName` (the name of its site Location), so a display can
/// group and filter units by hospital without reading Locations itself. One read for
/// every site of the round.
async fn name_sites(
    src: &Resources<'_>,
    out: &mut [(&'static str, Vec<PictureUpdate>)],
) -> Result<(), StoreError> {
    let mut bodies: Vec<(&mut PictureUpdate, Value)> = out
        .iter_mut()
        .flat_map(|(_, pictures)| pictures.iter_mut())
        .filter_map(|p| {
            let body = serde_json::from_str(&p.body).ok()?;
            Some((p, body))
        })
        .collect();
    let mut sites: Vec<String> = bodies
        .iter()
        .filter_map(|(_, b)| b["site"].as_str().map(str::to_owned))
        .collect();
    sites.sort();
    sites.dedup();
    if sites.is_empty() {
        return Ok(());
    }
    let names: HashMap<String, Value> = src
        .read_many("Location", &sites)
        .await?
        .into_iter()
        .map(|(id, l)| (id, l["name"].clone()))
        .collect();
    for (picture, body) in &mut bodies {
        let name = body["site"]
            .as_str()
            .and_then(|s| names.get(s))
            .cloned()
            .unwrap_or(Value::Null);
        body["siteName"] = name;
        picture.body = body.to_string();
    }
    Ok(())
}
