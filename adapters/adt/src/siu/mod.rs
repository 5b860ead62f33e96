//! SIU bookings (HL7 v2 chapter 10: S12–S17, S26) over the same MLLP listener as
//! the ADT feed: one HL7 v2 adapter per sender, whatever it sends.
//!
//! A booking becomes an Appointment and the Slots of the rooms, bays and devices
//! it holds, in the shapes the pull adapter gives an operation list's operations,
//! so the operating-room and recovery pictures read both alike. [`read`] reads the
//! message ([`timing`] its time, wherever the sender put it), [`appointment`]
//! applies it to the stored Appointment (a pure function), and `write` settles
//! it with the core.

pub mod appointment;
pub mod read;
pub mod timing;
mod write;

pub use appointment::{Planned, SIU_MESSAGE_URL, plan};
pub use read::{Booking, Coded, Resource, SiuTrigger};
pub use timing::Timing;
