//! Resource need against capacity, hour by hour: theatres, recovery bays, ward beds and
//! staff by role. The need is a forecast (expected and the 80 % interval's upper end);
//! the capacity what is planned (open beds, bays, staffed theatres, people on shift).
//! An hour is *over* when the expected need exceeds the capacity, *at risk* when only
//! the interval's upper end does.

use jiff::Timestamp;
use serde::Serialize;

use crate::hours::{hours_between, plus_hours};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind", content = "code")]
pub enum Resource {
    WardBeds(String),
    RecoveryBays(String),
    Theatres(String),
    /// People on shift in a role (e.g. `sairaanhoitaja`) on a unit.
    Staff {
        unit: String,
        role: String,
    },
}

/// A resource's need in one hour.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Need {
    pub at: Timestamp,
    pub expected: f64,
    pub high: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NeedHour {
    pub at: Timestamp,
    pub expected: f64,
    pub high: f64,
    pub capacity: u32,
    pub over: bool,
    pub at_risk: bool,
}

/// Need next to capacity for each hour of `need`.
pub fn against_capacity(need: &[Need], capacity: impl Fn(Timestamp) -> u32) -> Vec<NeedHour> {
    need.iter()
        .map(|n| {
            let capacity = capacity(n.at);
            let cap = f64::from(capacity);
            NeedHour {
                at: n.at,
                expected: n.expected,
                high: n.high,
                capacity,
                over: n.expected > cap,
                at_risk: n.expected <= cap && n.high > cap,
            }
        })
        .collect()
}

/// People on shift at `at`: shifts `[start, end)` that cover it.
pub fn on_shift(shifts: &[(Timestamp, Timestamp)], at: Timestamp) -> u32 {
    shifts.iter().filter(|(s, e)| *s <= at && at < *e).count() as u32
}

/// Theatres in use during each hour from `first` on: each case `[start, end)` counts
/// for the share of the hour it covers.
pub fn theatre_need(cases: &[(Timestamp, Timestamp)], first: Timestamp, hours: usize) -> Vec<Need> {
    (0..hours as i64)
        .map(|h| {
            let start = plus_hours(first, h);
            let end = plus_hours(start, 1);
            let used: f64 = cases
                .iter()
                .map(|(s, e)| hours_between((*s).max(start), (*e).min(end)).max(0.0))
                .sum();
            Need {
                at: start,
                expected: used,
                high: used.ceil(),
            }
        })
        .collect()
}

/// Nurses needed for a patient count at a ratio of patients per nurse, rounded up.
pub fn staff_need(patients: f64, patients_per_person: f64) -> f64 {
    if patients_per_person <= 0.0 {
        return 0.0;
    }
    (patients / patients_per_person).ceil()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::t;

    #[test]
    fn over_and_at_risk_hours() {
        let need = [
            Need {
                at: t("2026-11-30T06:00:00Z"),
                expected: 18.0,
                high: 19.0,
            },
            Need {
                at: t("2026-11-30T07:00:00Z"),
                expected: 19.5,
                high: 22.0,
            },
            Need {
                at: t("2026-11-30T08:00:00Z"),
                expected: 21.0,
                high: 23.0,
            },
        ];
        let hours = against_capacity(&need, |_| 20);
        let marks: Vec<(bool, bool)> = hours.iter().map(|h| (h.over, h.at_risk)).collect();
        assert_eq!(marks, vec![(false, false), (false, true), (true, false)]);
    }

    #[test]
    fn theatres_and_shifts_by_hand() {
        // One case 08:30–10:00Z, one 09:00–09:15Z.
        let cases = [
            (t("2026-11-30T08:30:00Z"), t("2026-11-30T10:00:00Z")),
            (t("2026-11-30T09:00:00Z"), t("2026-11-30T09:15:00Z")),
        ];
        let need = theatre_need(&cases, t("2026-11-30T08:00:00Z"), 3);
        let used: Vec<f64> = need.iter().map(|n| n.expected).collect();
        assert_eq!(used, vec![0.5, 1.25, 0.0]);
        assert_eq!(need[1].high, 2.0);
        let shifts = [
            (t("2026-11-30T05:00:00Z"), t("2026-11-30T13:00:00Z")),
            (t("2026-11-30T13:00:00Z"), t("2026-11-30T21:00:00Z")),
        ];
        assert_eq!(on_shift(&shifts, t("2026-11-30T12:59:00Z")), 1);
        assert_eq!(on_shift(&shifts, t("2026-11-30T13:00:00Z")), 1);
        assert_eq!(on_shift(&shifts, t("2026-11-30T21:00:00Z")), 0);
        assert_eq!(staff_need(17.2, 4.0), 5.0);
        assert_eq!(staff_need(3.0, 0.0), 0.0);
    }
}
