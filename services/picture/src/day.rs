//! "Today" and "tomorrow" in a unit's time zone, as half-open instant ranges.
//!
//! A local day is not 24 hours on the days the clocks change (23 hours on the last
//! Sunday of March in Helsinki, 25 on the last Sunday of October), so the ranges are
//! computed from local midnights, never by adding hours.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// One local calendar day: `[start, end)` in instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalDay {
    pub date: Date,
    pub start: Timestamp,
    pub end: Timestamp,
}

impl LocalDay {
    /// The local day `now` falls on in `zone`, `offset` days later (0 today, 1 tomorrow).
    pub fn of(now: Timestamp, zone: &TimeZone, offset: i32) -> Option<LocalDay> {
        let today = now.to_zoned_datetime(zone.clone()).date();
        let date = today.checked_add(jiff::Span::new().days(offset)).ok()?;
        let next = date.tomorrow().ok()?;
        Some(LocalDay {
            date,
            start: midnight(date, zone)?,
            end: midnight(next, zone)?,
        })
    }

    pub fn contains(&self, t: Timestamp) -> bool {
        self.start <= t && t < self.end
    }

    /// The day's length in hours (23, 24 or 25 in Europe/Helsinki).
    pub fn hours(&self) -> i64 {
        self.end.duration_since(self.start).as_secs() / 3600
    }
}

/// The first instant of `date` in `zone` (local midnight, or the first instant after
/// a gap should a zone skip midnight).
fn midnight(date: Date, zone: &TimeZone) -> Option<Timestamp> {
    date.to_zoned_datetime(zone.clone())
        .ok()
        .map(|z| z.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn helsinki() -> TimeZone {
        TimeZone::get("Europe/Helsinki").unwrap()
    }

    #[test]
    fn ordinary_and_daylight_saving_days() {
        let zone = helsinki();
        let ordinary = LocalDay::of("2026-11-30T12:00:00Z".parse().unwrap(), &zone, 0).unwrap();
        assert_eq!(
            ordinary.start,
            "2026-11-29T22:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(ordinary.hours(), 24);
        // 2026-03-29: 03:00 becomes 04:00; the day has 23 hours.
        let spring = LocalDay::of("2026-03-29T06:00:00Z".parse().unwrap(), &zone, 0).unwrap();
        assert_eq!(
            spring.start,
            "2026-03-28T22:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(
            spring.end,
            "2026-03-29T21:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(spring.hours(), 23);
        // 2026-10-25: 04:00 becomes 03:00; the day has 25 hours.
        let autumn = LocalDay::of("2026-10-24T21:30:00Z".parse().unwrap(), &zone, 0).unwrap();
        assert_eq!(autumn.date.to_string(), "2026-10-25");
        assert_eq!(autumn.hours(), 25);
        // Tomorrow, seen from the evening before the spring change.
        let tomorrow = LocalDay::of("2026-03-28T20:00:00Z".parse().unwrap(), &zone, 1).unwrap();
        assert_eq!(tomorrow, spring);
    }
}
