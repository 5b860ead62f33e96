//! *Ennakointi* (issue 22): what is coming, from what is already booked, and how sure
//! we are — without storage or transport, like the picture crate, so that every figure
//! can be tested on its own and across the daylight-saving days of Europe/Helsinki.
//!
//! - [`ward`]: ward occupancy 48 h ahead, hourly, per ward and per site, with an 80 %
//!   interval, from the known events (stays and their planned discharges, expected
//!   arrivals, the operating list) and a baseline [`learn`]ed from history (emergency
//!   arrivals by local hour of the week, length of stay by specialty, when planned
//!   discharges really happen);
//! - [`count`]: the distribution such a count has — independent Bernoulli terms plus
//!   an over-dispersed Poisson term — and its interval, exact or normal;
//! - [`recovery`]: the recovery unit's arrivals and bays per hour for the rest of the
//!   day, and the first hour it is full;
//! - [`capacity`]: need against capacity per hour, the hours over it marked;
//! - [`access`]: T3 and reppu, with their definitions and worked examples;
//! - [`alert`]: threshold rules with hysteresis;
//! - [`backtest`]: MAE, bias and interval coverage per horizon against two naive
//!   forecasts;
//! - [`hours`]: forecast hours and local hours of the week.
//!
//! docs/forecast.md explains the method and why it was chosen.

pub mod access;
pub mod alert;
pub mod backtest;
pub mod capacity;
pub mod count;
pub mod hours;
pub mod learn;
pub mod recovery;
pub mod ward;

#[cfg(test)]
mod testing;

pub use access::{
    Booking, Channel, FreeSlot, Reppu, TeamReppu, reppu, t3_by, third_next_available,
};
pub use alert::{AlertState, Change, Direction, Rule, RuleError, evaluate};
pub use backtest::{HorizonScore, Point, backtest};
pub use capacity::{Need, NeedHour, Resource, against_capacity};
pub use count::{Count, Interval};
pub use learn::{Baseline, Durations, PastStay};
pub use recovery::{RecoveryCase, RecoveryForecast, RecoveryHour, recovery_forecast};
pub use ward::{
    Forecast, HourForecast, Incoming, OperatingCase, Stay, Ward, forecast_hospital, forecast_ward,
    post_operative,
};
