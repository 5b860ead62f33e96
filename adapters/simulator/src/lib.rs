//! A Lifecare-style hospital that lives on a simulated clock: our model of such a
//! system (docs/source-model.md), not any vendor's.
//!
//! [`world::World`] is the hospital: its structure ([`build`]), the lists of each day
//! ([`days`]), its records ([`records`]) and a change log per export stream. [`life`]
//! lets it live minute by minute — admissions, transfers, discharges and their cancels,
//! operations through their phases, late cancellations, bed closures —
//! deterministically for a seed.
//! [`feed`] sends the ADT messages ([`hl7_out`]) over MLLP and [`api`] serves the
//! exports and `GET /truth`, both with the faults of [`faults::Faults`] when asked.
//! [`run::Simulator`] ties them to a [`clock::SimClock`]. [`seasons`] lives months of the
//! wards' stays hour by hour, with weekly cycles, elective Monday peaks, a winter season
//! and slipping discharges, for forecasts and their backtest.

pub mod api;
pub mod build;
pub mod clock;
pub mod days;
pub mod faults;
pub mod feed;
pub mod hl7_out;
pub mod life;
pub mod records;
pub mod run;
pub mod seasons;
#[cfg(feature = "verify")]
pub mod verify;
pub mod world;

pub use build::Size;
pub use faults::Faults;
pub use run::{SimConfig, Simulator};
pub use world::World;
