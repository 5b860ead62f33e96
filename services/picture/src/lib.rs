//! The situational picture's arithmetic, free of storage and transport: given a
//! unit's places and what occupies them, the figures a bed coordinator reads.
//!
//! Kept pure so that every figure can be tested on its own, across the
//! daylight-saving days of the unit's time zone ([`day`]), and so that the core can
//! recompute one unit from what a write touched.
//!
//! The figures' serde shape is the one JSON shape of them: what `GET /picture` and
//! the live stream serve, what the store keeps, and what the bus contract's messages
//! are converted from (`ohjaamo-proto`'s `From` impls), camelCase like FHIR ([`wire`]).

pub mod day;
pub mod equipment;
pub mod operation;
pub mod recovery;
pub mod staff;
pub mod theatre;
pub mod ward;
pub mod wire;

pub use day::LocalDay;
pub use equipment::{
    Device, DeviceBooking, DeviceBookingKind, EquipmentFigures, equipment_figures,
};
pub use operation::{Destination, Operation, Phase};
pub use recovery::{Bay, RecoveryFigures, RecoveryUnit, recovery_figures};
pub use staff::{Shift, StaffFigures, staff_figures};
pub use theatre::{OperatingRoomFigures, Room, RoomState, operating_room_figures};
pub use ward::{Occupancy, OccupancyKind, Place, WardFigures, ward_figures};
