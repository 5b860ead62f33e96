//! Equipment by type (DESIGN.md): total, in use, free, in maintenance.
//!
//! Definitions: a device counts when it is active; it is *in maintenance* when a
//! maintenance window covers now (this wins over a booking: a device being serviced is
//! not available whatever was booked), *in use* when a booking covers now, otherwise
//! *free*.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceBookingKind {
    /// A `busy` Slot of the device's Schedule.
    InUse,
    /// A `busy-unavailable` Slot: maintenance, repair.
    Maintenance,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceBooking {
    pub kind: DeviceBookingKind,
    pub start: Timestamp,
    pub end: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub device_type: String,
    pub active: bool,
    pub bookings: Vec<DeviceBooking>,
}

/// One device type's figures (camelCase on the wire; the snake_case aliases read
/// pictures stored before).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EquipmentFigures {
    #[serde(alias = "device_type")]
    pub device_type: String,
    pub total: u32,
    #[serde(alias = "in_use")]
    pub in_use: u32,
    pub free: u32,
    #[serde(alias = "in_maintenance")]
    pub in_maintenance: u32,
}

/// The figures of `devices` at `now`, one entry per device type, ordered by type.
pub fn equipment_figures(devices: &[Device], now: Timestamp) -> Vec<EquipmentFigures> {
    let mut by_type: BTreeMap<&str, EquipmentFigures> = BTreeMap::new();
    for device in devices.iter().filter(|d| d.active) {
        let f = by_type
            .entry(device.device_type.as_str())
            .or_insert_with(|| EquipmentFigures {
                device_type: device.device_type.clone(),
                ..EquipmentFigures::default()
            });
        let covering = |kind| {
            device
                .bookings
                .iter()
                .any(|b| b.kind == kind && b.start <= now && now < b.end)
        };
        f.total += 1;
        if covering(DeviceBookingKind::Maintenance) {
            f.in_maintenance += 1;
        } else if covering(DeviceBookingKind::InUse) {
            f.in_use += 1;
        } else {
            f.free += 1;
        }
    }
    by_type.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn booking(kind: DeviceBookingKind, start: &str, end: &str) -> DeviceBooking {
        DeviceBooking {
            kind,
            start: at(start),
            end: at(end),
        }
    }

    #[test]
    fn each_device_counts_once_by_what_covers_now() {
        use DeviceBookingKind::*;
        let now = at("2026-11-30T10:00:00Z");
        let device = |t: &str, active, bookings| Device {
            device_type: t.into(),
            active,
            bookings,
        };
        let devices = [
            device("infuusiopumppu", true, vec![]),
            device(
                "infuusiopumppu",
                true,
                vec![booking(
                    InUse,
                    "2026-11-30T09:00:00Z",
                    "2026-11-30T11:00:00Z",
                )],
            ),
            // Serviced while booked: in maintenance.
            device(
                "infuusiopumppu",
                true,
                vec![
                    booking(InUse, "2026-11-30T09:00:00Z", "2026-11-30T11:00:00Z"),
                    booking(Maintenance, "2026-11-30T08:00:00Z", "2026-11-30T12:00:00Z"),
                ],
            ),
            // A maintenance window that ended exactly now is over.
            device(
                "ventilaattori",
                true,
                vec![booking(
                    Maintenance,
                    "2026-11-30T08:00:00Z",
                    "2026-11-30T10:00:00Z",
                )],
            ),
            // Retired devices are not counted.
            device("ventilaattori", false, vec![]),
        ];
        let figures = equipment_figures(&devices, now);
        assert_eq!(
            figures,
            vec![
                EquipmentFigures {
                    device_type: "infuusiopumppu".into(),
                    total: 3,
                    in_use: 1,
                    free: 1,
                    in_maintenance: 1
                },
                EquipmentFigures {
                    device_type: "ventilaattori".into(),
                    total: 1,
                    in_use: 0,
                    free: 1,
                    in_maintenance: 0
                },
            ]
        );
    }
}
