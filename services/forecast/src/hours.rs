//! Forecast hours and the hour of the week in local time.
//!
//! A forecast steps in real hours (instants 3,600 s apart), so 48 hours ahead are 48
//! instants whatever the clocks do; each hour is *labelled* with its local hour of the
//! week, which is what the learned patterns are kept by. On the last Sunday of March
//! the local 03:00 never happens (the hour after 02:00 is 04:00), on the last Sunday
//! of October the local 03:00 happens twice: a forecast over those days has one label
//! fewer or one twice, never an hour fewer or more.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use ohjaamo_picture::LocalDay;

/// Hours in a week: hour-of-week labels run 0 (Monday 00:00–00:59 local) to 167.
pub const HOURS_OF_WEEK: usize = 168;
const HOUR: i64 = 3600;

/// The local hour of the week `t` falls in: Monday 00:xx is 0, Sunday 23:xx is 167.
pub fn hour_of_week(t: Timestamp, zone: &TimeZone) -> usize {
    let local = t.to_zoned_datetime(zone.clone());
    let day = local.weekday().to_monday_zero_offset() as usize;
    day * 24 + local.hour() as usize
}

/// The start of the local hour `t` falls in (for zones whose offset is not a whole
/// number of hours too).
pub fn hour_start(t: Timestamp, zone: &TimeZone) -> Timestamp {
    let offset = i64::from(zone.to_offset(t).seconds());
    let local = t.as_second() + offset;
    Timestamp::from_second(local.div_euclid(HOUR) * HOUR - offset).unwrap_or(t)
}

/// `t` plus `hours` real hours (saturating at the ends of time).
pub fn plus_hours(t: Timestamp, hours: i64) -> Timestamp {
    Timestamp::from_second(t.as_second().saturating_add(hours.saturating_mul(HOUR))).unwrap_or(t)
}

/// Hours from `a` to `b` (negative when `b` is earlier), as a real number.
pub fn hours_between(a: Timestamp, b: Timestamp) -> f64 {
    b.duration_since(a).as_secs_f64() / HOUR as f64
}

/// The starts of `count` hours from the hour `now` falls in, one real hour apart.
pub fn hours_ahead(now: Timestamp, zone: &TimeZone, count: usize) -> Vec<Timestamp> {
    let first = hour_start(now, zone);
    (0..count as i64).map(|h| plus_hours(first, h)).collect()
}

/// The starts of the hours left of the local day `now` falls in, its own hour first:
/// from 00:xx that is 23 hours on the spring day, 25 on the autumn day.
pub fn rest_of_day(now: Timestamp, zone: &TimeZone) -> Vec<Timestamp> {
    let Some(day) = LocalDay::of(now, zone, 0) else {
        return Vec::new();
    };
    let first = hour_start(now, zone);
    let count = (day.end.as_second() - first.as_second() + HOUR - 1) / HOUR;
    (0..count.max(0)).map(|h| plus_hours(first, h)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{helsinki, t};

    #[test]
    fn hour_of_week_in_winter_and_summer_time() {
        let zone = helsinki();
        // Monday 2026-11-30 00:00 local is 22:00Z the day before (UTC+2).
        assert_eq!(hour_of_week(t("2026-11-29T22:00:00Z"), &zone), 0);
        assert_eq!(hour_of_week(t("2026-11-29T21:59:59Z"), &zone), 167);
        // Wednesday 2026-07-15 10:30 local is 07:30Z (UTC+3): 2 × 24 + 10.
        assert_eq!(hour_of_week(t("2026-07-15T07:30:00Z"), &zone), 58);
    }

    #[test]
    fn the_spring_sunday_skips_its_three_o_clock() {
        let zone = helsinki();
        // Sunday 2026-03-29: 02:00 local (00:00Z) is hour 6 × 24 + 2 = 146; one real
        // hour later it is 04:00 local (01:00Z), hour 148: 147 never happens.
        let hours = hours_ahead(t("2026-03-29T00:10:00Z"), &zone, 2);
        let labels: Vec<usize> = hours.iter().map(|h| hour_of_week(*h, &zone)).collect();
        assert_eq!(labels, vec![146, 148]);
        let day = rest_of_day(t("2026-03-28T22:00:00Z"), &zone);
        assert_eq!(day.len(), 23);
        assert_eq!(day[0], t("2026-03-28T22:00:00Z"));
        assert_eq!(*day.last().unwrap(), t("2026-03-29T20:00:00Z"));
    }

    #[test]
    fn the_autumn_sunday_has_its_three_o_clock_twice() {
        let zone = helsinki();
        // Sunday 2026-10-25: 03:00 local is first 00:00Z (UTC+3), then 01:00Z (UTC+2).
        let hours = hours_ahead(t("2026-10-24T23:00:00Z"), &zone, 4);
        let labels: Vec<usize> = hours.iter().map(|h| hour_of_week(*h, &zone)).collect();
        assert_eq!(labels, vec![146, 147, 147, 148]);
        assert_eq!(rest_of_day(t("2026-10-24T21:00:00Z"), &zone).len(), 25);
        // From 22:15 local on that day (20:15Z), two hours are left: 22 and 23.
        assert_eq!(rest_of_day(t("2026-10-25T20:15:00Z"), &zone).len(), 2);
    }

    #[test]
    fn hour_start_in_a_half_hour_zone() {
        let kolkata = TimeZone::get("Asia/Kolkata").unwrap();
        // 10:45 local (UTC+5:30) is 05:15Z; its hour began at 10:00 local, 04:30Z.
        assert_eq!(
            hour_start(t("2026-01-05T05:15:00Z"), &kolkata),
            t("2026-01-05T04:30:00Z")
        );
        assert_eq!(
            hour_start(t("2026-01-05T05:15:00Z"), &helsinki()),
            t("2026-01-05T05:00:00Z")
        );
    }
}
