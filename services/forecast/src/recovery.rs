//! The recovery unit (heräämö) for the rest of the day: arrivals per hour and bays
//! occupied per hour, from the operating list and the recovery times of the history,
//! and the first hour the unit will be full.
//!
//! A case arrives in recovery when its operation ends (the expected end from the list)
//! with the chance that it is done, and stays for a recovery time drawn from the
//! history's; a patient already in recovery stays given the time already spent. The
//! bays occupied at an hour's start are then a sum of independent Bernoulli terms. The
//! unit is *full* in an hour when, more likely than not, every bay is taken at its
//! start: P(occupied ≥ bays) ≥ 0.5.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;

use crate::count::Count;
use crate::hours::{hours_between, plus_hours, rest_of_day};
use crate::learn::Durations;
use crate::ward::LEVEL;

/// A patient for recovery.
#[derive(Debug, Clone, PartialEq)]
pub struct RecoveryCase {
    /// When the operation ends (expected), or when the patient came to recovery.
    pub arrives: Timestamp,
    /// The chance the case comes at all (1 for one already in recovery).
    pub probability: f64,
    /// Already in recovery.
    pub arrived: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryHour {
    pub at: Timestamp,
    /// Expected arrivals during the hour.
    pub arrivals: f64,
    /// Expected bays occupied at the hour's start, and its 80 % interval.
    pub occupied: f64,
    pub low: f64,
    pub high: f64,
    /// P(every bay taken at the hour's start).
    pub full: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryForecast {
    pub bays: u32,
    pub hours: Vec<RecoveryHour>,
    /// The first hour the unit is more likely full than not; `None` if none today.
    pub full_from: Option<Timestamp>,
}

/// The forecast for the local day `now` falls in, from the hour under way.
pub fn recovery_forecast(
    cases: &[RecoveryCase],
    durations: &Durations,
    bays: u32,
    now: Timestamp,
    zone: &TimeZone,
) -> RecoveryForecast {
    let hours: Vec<RecoveryHour> = rest_of_day(now, zone)
        .into_iter()
        .map(|start| {
            let end = plus_hours(start, 1);
            // The hour under way is counted from now on.
            let at = start.max(now);
            let arrivals = cases
                .iter()
                .filter(|c| !c.arrived && at <= c.arrives && c.arrives < end)
                .map(|c| c.probability.clamp(0.0, 1.0))
                .sum();
            let mut count = Count::new(1.0);
            for case in cases {
                count.add_bernoulli(in_recovery(case, durations, now, at));
            }
            let interval = count.interval(LEVEL);
            RecoveryHour {
                at,
                arrivals,
                occupied: count.mean(),
                low: interval.low,
                high: interval.high,
                full: if bays == 0 { 1.0 } else { count.at_least(bays) },
            }
        })
        .collect();
    let full_from = hours.iter().find(|h| h.full >= 0.5).map(|h| h.at);
    RecoveryForecast {
        bays,
        hours,
        full_from,
    }
}

/// The chance that `case` is in recovery at `at`, seen from `now`.
fn in_recovery(case: &RecoveryCase, durations: &Durations, now: Timestamp, at: Timestamp) -> f64 {
    if at < case.arrives {
        return 0.0;
    }
    let stayed = hours_between(case.arrives, at);
    if case.arrived {
        let so_far = hours_between(case.arrives, now).max(0.0);
        // Longer than any recovery of the history: still there.
        return durations.still(so_far, stayed - so_far).unwrap_or(1.0);
    }
    case.probability.clamp(0.0, 1.0) * durations.survival(stayed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{helsinki, t};

    fn case(arrives: &str, probability: f64, arrived: bool) -> RecoveryCase {
        RecoveryCase {
            arrives: t(arrives),
            probability,
            arrived,
        }
    }

    #[test]
    fn a_morning_by_hand() {
        let zone = helsinki();
        // Recovery lasts 1 h or 3 h, half and half. Two bays. Now Monday 08:30 local.
        let durations = Durations::new(vec![1.0, 3.0]);
        let cases = vec![
            case("2026-11-30T06:00:00Z", 1.0, true), // in recovery since 08:00
            case("2026-11-30T07:15:00Z", 1.0, false), // 09:15
            case("2026-11-30T07:40:00Z", 0.5, false), // 09:40, done with 0.5
        ];
        let f = recovery_forecast(&cases, &durations, 2, t("2026-11-30T06:30:00Z"), &zone);
        // 08:30 to midnight: the hour under way and 15 more.
        assert_eq!(f.hours.len(), 16);
        assert_eq!(f.hours[0].at, t("2026-11-30T06:30:00Z"));
        assert_eq!(f.hours[0].occupied, 1.0);
        // 09:00: the first patient stays (> 1 h) with 1/2, no one else has come.
        let nine = &f.hours[1];
        assert_eq!(nine.arrivals, 1.5);
        assert_eq!(nine.occupied, 0.5);
        // 10:00: first 1/2; second arrived 45 min ago (stays > 0.75 h: 1); third
        // 0.5 × 1 = 0.5: mean 2.0; full needs all three "2 of 3":
        // P(≥2) = 1 − P(0) − P(1) with p = (0.5, 1, 0.5): P(0) = 0,
        // P(1) = 0.5·0.5 = 0.25: P(≥2) = 0.75.
        let ten = &f.hours[2];
        assert!((ten.occupied - 2.0).abs() < 1e-12);
        assert!((ten.full - 0.75).abs() < 1e-12);
        assert_eq!(f.full_from, Some(t("2026-11-30T08:00:00Z")));
        // 11:00: first has left (3 h since 08:00), second 1/2, third 0.5 × 1/2.
        assert!((f.hours[3].occupied - 0.75).abs() < 1e-12);
    }

    #[test]
    fn the_autumn_sunday_has_twenty_five_hours_of_recovery() {
        let zone = helsinki();
        let f = recovery_forecast(
            &[],
            &Durations::new(vec![1.0]),
            3,
            t("2026-10-24T21:00:00Z"),
            &zone,
        );
        assert_eq!(f.hours.len(), 25);
        assert_eq!(f.full_from, None);
        let spring = recovery_forecast(
            &[],
            &Durations::new(vec![1.0]),
            3,
            t("2026-03-28T22:00:00Z"),
            &zone,
        );
        assert_eq!(spring.hours.len(), 23);
    }
}
