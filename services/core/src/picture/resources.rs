//! Equipment and staff pictures of a unit: its Devices (by type: in use, free, in
//! maintenance, from the Slots of their Schedules) and its PractitionerRoles (by role:
//! on shift now and on the next shift, from their periods). The arithmetic is
//! `ohjaamo-picture`'s; this gathers its inputs for just the units asked about.

use std::collections::HashMap;

use jiff::Timestamp;
use ohjaamo_picture::{
    Device, DeviceBooking, DeviceBookingKind, Shift, equipment_figures, staff_figures,
};
use ohjaamo_store::{PictureUpdate, StoreError};
use serde_json::{Value, json};

use super::read::{locations, slots_of};
use super::source::Resources;
use super::unit_picture;
use crate::search::json::{code_of, instant};

pub const EQUIPMENT: &str = "equipment";
pub const STAFF: &str = "staff";

/// Resources of one type located at some units (`location` → the unit).
struct Located {
    links: Vec<(String, String)>,
    resources: HashMap<String, Value>,
}

impl Located {
    /// The resources located at `unit`, with their ids.
    fn at<'a>(&'a self, unit: &'a str) -> impl Iterator<Item = (&'a str, &'a Value)> {
        self.links
            .iter()
            .filter(move |(_, u)| u == unit)
            .filter_map(|(id, _)| Some((id.as_str(), self.resources.get(id)?)))
    }
}

async fn located_at(
    src: &Resources<'_>,
    rtype: &str,
    units: &[String],
) -> Result<Located, StoreError> {
    let links = src
        .referring_many(rtype, "location", "Location", units)
        .await?;
    let ids: Vec<String> = links.iter().map(|(id, _)| id.clone()).collect();
    let resources = src.read_many(rtype, &ids).await?.into_iter().collect();
    Ok(Located { links, resources })
}

fn first_code(resource: &Value, element: &str) -> String {
    code_of(resource, element)
        .into_iter()
        .next()
        .unwrap_or_default()
}

/// The name of each of `units` (for the pictures' `name`), and their site.
async fn unit_names(
    src: &Resources<'_>,
    units: &[String],
) -> Result<HashMap<String, Value>, StoreError> {
    Ok(locations(src, units, |_| true).await?.into_iter().collect())
}

/// The equipment pictures of `units` (those with Devices located there) at `now`.
pub async fn equipment_pictures(
    src: &Resources<'_>,
    units: &[String],
    now: Timestamp,
) -> Result<Vec<PictureUpdate>, StoreError> {
    let devices = located_at(src, "Device", units).await?;
    let device_ids: Vec<String> = devices.resources.keys().cloned().collect();
    let mut bookings: HashMap<String, Vec<DeviceBooking>> = HashMap::new();
    // The figures count what covers now.
    for (device, slot) in slots_of(src, "Device", &device_ids, (now, now)).await? {
        let kind = match slot["status"].as_str() {
            Some("busy") => DeviceBookingKind::InUse,
            Some("busy-unavailable") => DeviceBookingKind::Maintenance,
            _ => continue,
        };
        if let (Some(start), Some(end)) = (instant(&slot["start"]), instant(&slot["end"])) {
            bookings
                .entry(device)
                .or_default()
                .push(DeviceBooking { kind, start, end });
        }
    }
    let names = unit_names(src, units).await?;
    Ok(units
        .iter()
        .map(|unit| {
            let here: Vec<Device> = devices
                .at(unit)
                .map(|(id, device)| Device {
                    device_type: first_code(device, "type"),
                    active: device["status"].as_str().is_none_or(|s| s == "active"),
                    bookings: bookings.get(id).cloned().unwrap_or_default(),
                })
                .collect();
            unit_picture(
                EQUIPMENT,
                unit,
                names.get(unit),
                json!(equipment_figures(&here, now)),
            )
        })
        .collect())
}

/// The staff pictures of `units` (those with PractitionerRoles located there) at `now`.
pub async fn staff_pictures(
    src: &Resources<'_>,
    units: &[String],
    now: Timestamp,
) -> Result<Vec<PictureUpdate>, StoreError> {
    let roles = located_at(src, "PractitionerRole", units).await?;
    let names = unit_names(src, units).await?;
    Ok(units
        .iter()
        .map(|unit| {
            let shifts: Vec<Shift> = roles
                .at(unit)
                .filter(|(_, role)| role["active"].as_bool() != Some(false))
                .filter_map(|(_, role)| {
                    Some(Shift {
                        role: first_code(role, "code"),
                        start: instant(&role["period"]["start"])?,
                        end: instant(&role["period"]["end"])?,
                    })
                })
                .collect();
            unit_picture(
                STAFF,
                unit,
                names.get(unit),
                json!(staff_figures(&shifts, now)),
            )
        })
        .collect())
}
