//! What the unit tests share: the time zone of the hand-computed cases and instants
//! written as text.

use jiff::Timestamp;
use jiff::tz::TimeZone;

pub fn helsinki() -> TimeZone {
    TimeZone::get("Europe/Helsinki").unwrap()
}

/// An instant in RFC 3339 (`2026-11-30T10:00:00Z`).
pub fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// A Helsinki wall-clock time (`2026-11-30T14:00`) as an instant.
pub fn local(s: &str) -> Timestamp {
    s.parse::<jiff::civil::DateTime>()
        .unwrap()
        .to_zoned_datetime(helsinki())
        .unwrap()
        .timestamp()
}
