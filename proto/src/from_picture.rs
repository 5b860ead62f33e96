//! The picture's figures as the contract's messages: one typed path from what the core
//! computes (`ohjaamo-picture`) to what goes on the bus.
//!
//! The conversions live with the messages because how a figure is carried is part of
//! the contract (occupancy in per mille, an absent time as an unset Timestamp). They
//! take the figures apart field by field, with no `..`: a figure added to or renamed
//! in either the picture or the message stops the build here instead of reaching
//! consumers as a silent 0.

use ohjaamo_picture as picture;

use crate::v1;

impl From<picture::WardFigures> for v1::WardFigures {
    fn from(f: picture::WardFigures) -> Self {
        let picture::WardFigures {
            beds_total,
            beds_closed,
            // Not carried: consumers have it as beds_total − beds_closed.
            beds_open: _,
            occupied,
            reserved,
            free_now,
            freeing_today,
            freeing_tomorrow,
            over_capacity_patients,
            patients,
            occupancy_percent,
        } = f;
        v1::WardFigures {
            beds_total,
            beds_closed,
            beds_occupied: occupied,
            beds_reserved: reserved,
            beds_free_now: free_now,
            freeing_today,
            freeing_tomorrow,
            over_capacity_patients,
            patients,
            // Integers only on the bus; no open bed makes it 0.
            occupancy_per_mille: occupancy_percent.map_or(0, |p| (p * 10.0).round() as u32),
        }
    }
}

impl From<picture::RoomState> for v1::RoomState {
    fn from(state: picture::RoomState) -> Self {
        match state {
            picture::RoomState::Free => v1::RoomState::Free,
            picture::RoomState::InUse => v1::RoomState::InUse,
            picture::RoomState::Cleaning => v1::RoomState::Cleaning,
            picture::RoomState::Closed => v1::RoomState::Closed,
        }
    }
}

impl From<picture::OperatingRoomFigures> for v1::OperatingRoomState {
    fn from(f: picture::OperatingRoomFigures) -> Self {
        let picture::OperatingRoomFigures {
            state,
            current_case,
            current_planned_end,
            current_expected_end,
            next_case,
            next_planned_start,
            cases_left_today,
            cases_done_today,
            use_today_minutes,
            planned_today_minutes,
        } = f;
        v1::OperatingRoomState {
            state: v1::RoomState::from(state) as i32,
            current_case: current_case.unwrap_or_default(),
            current_planned_end: current_planned_end.map(timestamp),
            next_case: next_case.unwrap_or_default(),
            next_planned_start: next_planned_start.map(timestamp),
            cases_left_today,
            use_today_minutes,
            current_expected_end: current_expected_end.map(timestamp),
            cases_done_today,
            planned_today_minutes,
        }
    }
}

impl From<picture::RecoveryFigures> for v1::RecoveryUnitFigures {
    fn from(f: picture::RecoveryFigures) -> Self {
        let picture::RecoveryFigures {
            bays_total,
            bays_closed,
            bays_occupied,
            bays_free,
            patients,
            waiting_for_ward_bed,
            expected_arrivals,
            flows_today,
            // For the wall display only: the message carries counts, not bays.
            theatres: _,
            bays: _,
        } = f;
        v1::RecoveryUnitFigures {
            bays_total,
            bays_occupied,
            bays_free,
            waiting_for_ward_bed,
            expected_arrivals: expected_arrivals
                .into_iter()
                .map(|h| v1::HourCount {
                    hour_start: Some(timestamp(h.hour_start)),
                    count: h.count,
                })
                .collect(),
            flows_today: flows_today
                .into_iter()
                .map(|flow| v1::Flow {
                    from: flow.from,
                    to: flow.to,
                    count: flow.count,
                })
                .collect(),
            bays_closed,
            patients,
        }
    }
}

impl From<picture::EquipmentFigures> for v1::EquipmentFigures {
    fn from(f: picture::EquipmentFigures) -> Self {
        let picture::EquipmentFigures {
            device_type,
            total,
            in_use,
            free,
            in_maintenance,
        } = f;
        v1::EquipmentFigures {
            device_type,
            total,
            in_use,
            free,
            in_maintenance,
        }
    }
}

impl From<picture::StaffFigures> for v1::StaffFigures {
    fn from(f: picture::StaffFigures) -> Self {
        let picture::StaffFigures {
            role,
            on_shift_now,
            on_next_shift,
        } = f;
        v1::StaffFigures {
            role,
            on_shift_now,
            on_next_shift,
        }
    }
}

/// An instant as a protobuf Timestamp.
pub fn timestamp(instant: jiff::Timestamp) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: instant.as_second(),
        nanos: instant.subsec_nanosecond(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ward_figures_become_the_message() {
        let f = v1::WardFigures::from(picture::WardFigures {
            beds_total: 5,
            beds_closed: 1,
            beds_open: 4,
            occupied: 2,
            reserved: 1,
            free_now: 1,
            freeing_today: 1,
            freeing_tomorrow: 1,
            over_capacity_patients: 1,
            patients: 3,
            occupancy_percent: Some(75.0),
        });
        assert_eq!(
            f,
            v1::WardFigures {
                beds_total: 5,
                beds_closed: 1,
                beds_occupied: 2,
                beds_reserved: 1,
                beds_free_now: 1,
                freeing_today: 1,
                freeing_tomorrow: 1,
                over_capacity_patients: 1,
                patients: 3,
                occupancy_per_mille: 750,
            }
        );
        let none_open = v1::WardFigures::from(picture::WardFigures::default());
        assert_eq!(none_open.occupancy_per_mille, 0);
        let a_third = v1::WardFigures::from(picture::WardFigures {
            occupancy_percent: Some(100.0 / 3.0),
            ..Default::default()
        });
        assert_eq!(a_third.occupancy_per_mille, 333);
    }

    #[test]
    fn an_operating_room_keeps_its_state_and_times() {
        let start: jiff::Timestamp = "2026-11-30T09:30:00Z".parse().unwrap();
        let f = v1::OperatingRoomState::from(picture::OperatingRoomFigures {
            state: picture::RoomState::Cleaning,
            current_case: None,
            current_planned_end: None,
            current_expected_end: None,
            next_case: Some("T-2".into()),
            next_planned_start: Some(start),
            cases_left_today: 2,
            cases_done_today: 1,
            use_today_minutes: 120,
            planned_today_minutes: 270,
        });
        assert_eq!(f.state, v1::RoomState::Cleaning as i32);
        assert_eq!((f.current_case.as_str(), f.next_case.as_str()), ("", "T-2"));
        assert_eq!(f.next_planned_start.map(|t| t.seconds), Some(1_796_031_000));
        assert_eq!(f.current_planned_end, None);
        assert_eq!(
            (f.cases_left_today, f.cases_done_today, f.use_today_minutes),
            (2, 1, 120)
        );
    }
}
