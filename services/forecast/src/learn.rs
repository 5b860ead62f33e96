//! What the forecast learns from history: emergency arrivals by ward and local hour of
//! the week, length of stay by specialty, when planned discharges really happen, and
//! how long patients stay in recovery.
//!
//! Everything here is an empirical distribution or a rate with its exposure; nothing is
//! fitted, so each figure can be checked by counting.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Serialize;

use crate::hours::{HOURS_OF_WEEK, hour_of_week, hour_start, hours_between, plus_hours};

/// A stay of the history.
#[derive(Debug, Clone, PartialEq)]
pub struct PastStay {
    pub ward: String,
    pub specialty: String,
    pub admitted: Timestamp,
    /// `None` while the patient is still on the ward: the stay then counts as an
    /// arrival but not yet as a length of stay.
    pub discharged: Option<Timestamp>,
    /// The planned discharge date as it stood when the patient left (or stands now),
    /// if one was set.
    pub planned_discharge: Option<Date>,
    /// An unplanned (emergency) admission: what the arrival rates count.
    pub emergency: bool,
}

/// An empirical distribution of durations in hours: `survival(x)` = P(duration > x).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Durations {
    sorted: Vec<f64>,
}

impl Durations {
    pub fn new(mut hours: Vec<f64>) -> Durations {
        hours.retain(|h| h.is_finite());
        hours.sort_by(f64::total_cmp);
        Durations { sorted: hours }
    }

    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// P(duration ≤ x).
    pub fn cdf(&self, x: f64) -> f64 {
        if self.sorted.is_empty() {
            return 0.0;
        }
        let at_most = self.sorted.partition_point(|d| *d <= x);
        at_most as f64 / self.sorted.len() as f64
    }

    /// P(duration > x).
    pub fn survival(&self, x: f64) -> f64 {
        1.0 - self.cdf(x)
    }

    /// P(duration > x + h | duration > x); `None` when nothing observed lasted past x.
    pub fn still(&self, x: f64, h: f64) -> Option<f64> {
        let now = self.survival(x);
        (now > 0.0).then(|| self.survival(x + h.max(0.0)) / now)
    }

    /// The median, `None` when empty.
    pub fn median(&self) -> Option<f64> {
        (!self.sorted.is_empty()).then(|| self.sorted[(self.sorted.len() - 1) / 2])
    }
}

/// What was learned from a history.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Baseline {
    /// Emergency admissions per hour, by ward and local hour of the week.
    pub arrivals: BTreeMap<String, Vec<f64>>,
    /// The arrivals' variance over their mean, per day (1: Poisson).
    pub dispersion: f64,
    /// Length of stay of emergency admissions by specialty (hours): for stays without
    /// a planned discharge (emergencies, mostly, before a plan is made) and for the
    /// emergencies still to come.
    pub length_of_stay: BTreeMap<String, Durations>,
    /// Every emergency stay's length, for a specialty with too few of its own.
    pub length_of_stay_all: Durations,
    /// When a planned discharge happens, in hours from the start of its planned date
    /// (local midnight): 10–16 is on the day, 34–40 a day late.
    pub discharge_offset: Durations,
    /// The same for plans on a Saturday or Sunday, and on a weekday: a weekend plan
    /// slips more often where weekend discharges wait for Monday.
    pub discharge_offset_weekend: Durations,
    pub discharge_offset_weekday: Durations,
    /// Time in recovery (hours).
    pub recovery: Durations,
}

/// Fewer stays than this of a specialty and its length of stay is the pooled one.
const MIN_STAYS_PER_SPECIALTY: usize = 30;

/// How many times each local hour of the week occurs in `[from, to)`: the exposure
/// the arrival counts are divided by (the spring Sunday has no 03:00, the autumn one
/// has two).
pub fn exposure(from: Timestamp, to: Timestamp, zone: &TimeZone) -> Vec<f64> {
    let mut seen = vec![0.0; HOURS_OF_WEEK];
    let mut hour = hour_start(from, zone);
    if hour < from {
        hour = plus_hours(hour, 1);
    }
    while hour < to {
        seen[hour_of_week(hour, zone)] += 1.0;
        hour = plus_hours(hour, 1);
    }
    seen
}

impl Baseline {
    /// Learns from the stays of `[from, to)`: emergency arrivals admitted in it, lengths
    /// of stays that ended in it (a length of stay learned only from finished stays is
    /// a little short when the window is; eight weeks against stays of days keeps
    /// that small). `recovery_hours` are observed times in recovery.
    pub fn learn(
        history: &[PastStay],
        from: Timestamp,
        to: Timestamp,
        zone: &TimeZone,
        recovery_hours: Vec<f64>,
    ) -> Baseline {
        let seen = exposure(from, to, zone);
        let mut counts: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let mut by_specialty: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let mut all = Vec::new();
        let mut offsets = Vec::new();
        let mut weekend = Vec::new();
        let mut weekday = Vec::new();
        for stay in history {
            let ward = counts
                .entry(stay.ward.clone())
                .or_insert_with(|| vec![0.0; HOURS_OF_WEEK]);
            if stay.emergency && from <= stay.admitted && stay.admitted < to {
                ward[hour_of_week(stay.admitted, zone)] += 1.0;
            }
            let Some(discharged) = stay.discharged.filter(|d| from <= *d && *d < to) else {
                continue;
            };
            if stay.emergency {
                let length = hours_between(stay.admitted, discharged);
                all.push(length);
                by_specialty
                    .entry(stay.specialty.clone())
                    .or_default()
                    .push(length);
            }
            if let Some(plan) = stay.planned_discharge
                && let Some(midnight) = date_start(plan, zone)
            {
                let offset = hours_between(midnight, discharged);
                offsets.push(offset);
                if is_weekend(plan) {
                    weekend.push(offset);
                } else {
                    weekday.push(offset);
                }
            }
        }
        let arrivals: BTreeMap<String, Vec<f64>> = counts
            .into_iter()
            .map(|(ward, counts)| {
                let rates: Vec<f64> = counts
                    .iter()
                    .zip(&seen)
                    .map(|(c, n)| if *n > 0.0 { c / n } else { 0.0 })
                    .collect();
                (ward, smooth(&rates))
            })
            .collect();
        let dispersion = daily_dispersion(history, &arrivals, from, to, zone);
        Baseline {
            arrivals,
            dispersion,
            length_of_stay: by_specialty
                .into_iter()
                .filter(|(_, v)| v.len() >= MIN_STAYS_PER_SPECIALTY)
                .map(|(s, v)| (s, Durations::new(v)))
                .collect(),
            length_of_stay_all: Durations::new(all),
            discharge_offset: Durations::new(offsets),
            discharge_offset_weekend: Durations::new(weekend),
            discharge_offset_weekday: Durations::new(weekday),
            recovery: Durations::new(recovery_hours),
        }
    }

    /// Scales every ward's arrival rates by `factor` (the recent level against the
    /// learned one, see [`Baseline::level`]).
    pub fn scaled(mut self, factor: f64) -> Baseline {
        for rates in self.arrivals.values_mut() {
            rates.iter_mut().for_each(|r| *r *= factor.max(0.0));
        }
        self
    }

    /// The emergency arrivals of `[from, to)` over those the learned rates expect: a
    /// season's rise (winter) shows as a level above 1.
    pub fn level(
        &self,
        history: &[PastStay],
        from: Timestamp,
        to: Timestamp,
        zone: &TimeZone,
    ) -> f64 {
        let seen = exposure(from, to, zone);
        let expected: f64 = self
            .arrivals
            .values()
            .map(|rates| rates.iter().zip(&seen).map(|(r, n)| r * n).sum::<f64>())
            .sum();
        let observed = history
            .iter()
            .filter(|s| s.emergency && from <= s.admitted && s.admitted < to)
            .count() as f64;
        if expected > 0.0 {
            observed / expected
        } else {
            1.0
        }
    }

    /// The emergency arrival rate of `ward` in the hour starting at `hour`.
    pub fn arrival_rate(&self, ward: &str, hour: Timestamp, zone: &TimeZone) -> f64 {
        self.arrivals
            .get(ward)
            .map_or(0.0, |rates| rates[hour_of_week(hour, zone)])
    }

    /// The length of stay of `specialty` (the pooled one when it has too few).
    pub fn length_of_stay(&self, specialty: &str) -> &Durations {
        self.length_of_stay
            .get(specialty)
            .unwrap_or(&self.length_of_stay_all)
    }

    /// When discharges planned for `plan` happen: its kind of day's (weekend or
    /// weekday) when that has at least `enough` of them, else all of them.
    pub fn discharge_offsets(&self, plan: Date, enough: usize) -> &Durations {
        let own = if is_weekend(plan) {
            &self.discharge_offset_weekend
        } else {
            &self.discharge_offset_weekday
        };
        if own.len() >= enough {
            own
        } else {
            &self.discharge_offset
        }
    }

    /// The share of planned discharges that did not happen on their planned day.
    pub fn slip_probability(&self) -> f64 {
        self.discharge_offset.survival(24.0)
    }
}

fn is_weekend(date: Date) -> bool {
    matches!(
        date.weekday(),
        jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
    )
}

/// Local midnight starting `date`.
pub fn date_start(date: Date, zone: &TimeZone) -> Option<Timestamp> {
    date.to_zoned_datetime(zone.clone())
        .ok()
        .map(|z| z.timestamp())
}

/// A circular [1, 2, 1]/4 smoothing over neighbouring hours of the week: a few weeks
/// of history count a handful of arrivals per hour, and a neighbouring hour's count
/// says nearly as much about this one.
fn smooth(rates: &[f64]) -> Vec<f64> {
    let n = rates.len();
    (0..n)
        .map(|i| 0.25 * rates[(i + n - 1) % n] + 0.5 * rates[i] + 0.25 * rates[(i + 1) % n])
        .collect()
}

/// Pearson's dispersion of the daily emergency arrivals (all wards) against the learned
/// rates: Σ (observed − expected)² / expected over days, per day; at least 1.
fn daily_dispersion(
    history: &[PastStay],
    arrivals: &BTreeMap<String, Vec<f64>>,
    from: Timestamp,
    to: Timestamp,
    zone: &TimeZone,
) -> f64 {
    let first = hour_start(from, zone);
    let days = (hours_between(first, to) / 24.0).floor().max(0.0) as usize;
    let mut observed: BTreeMap<(&str, usize), f64> = BTreeMap::new();
    for stay in history
        .iter()
        .filter(|s| s.emergency && s.admitted >= first)
    {
        let day = (hours_between(first, stay.admitted) / 24.0).floor() as usize;
        if day < days {
            *observed.entry((stay.ward.as_str(), day)).or_default() += 1.0;
        }
    }
    let mut total = 0.0;
    let mut terms = 0.0;
    for day in 0..days {
        let start = plus_hours(first, 24 * day as i64);
        let seen = exposure(start, plus_hours(start, 24), zone);
        for (ward, rates) in arrivals {
            let expected: f64 = rates.iter().zip(&seen).map(|(r, n)| r * n).sum();
            if expected > 0.0 {
                let o = observed.get(&(ward.as_str(), day)).copied().unwrap_or(0.0);
                total += (o - expected).powi(2) / expected;
                terms += 1.0;
            }
        }
    }
    if terms > 0.0 {
        (total / terms).max(1.0)
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{helsinki, t};

    fn stay(admitted: &str, discharged: &str, plan: Option<&str>, emergency: bool) -> PastStay {
        PastStay {
            ward: "W1".into(),
            specialty: "SIS".into(),
            admitted: t(admitted),
            discharged: Some(t(discharged)),
            planned_discharge: plan.map(|d| d.parse().unwrap()),
            emergency,
        }
    }

    #[test]
    fn durations_by_counting() {
        let d = Durations::new(vec![10.0, 20.0, 30.0, 40.0]);
        assert_eq!(d.survival(20.0), 0.5);
        assert_eq!(d.survival(5.0), 1.0);
        // Of the stays past 15 h (three), those past 35 h (one): 1/3.
        assert!((d.still(15.0, 20.0).unwrap() - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(d.still(45.0, 1.0), None);
        assert_eq!(d.median(), Some(20.0));
    }

    #[test]
    fn exposure_over_the_daylight_saving_weeks() {
        let zone = helsinki();
        // The week Monday 2026-03-23 00:00 (22:00Z the day before, UTC+2) to Monday
        // 2026-03-30 00:00 (21:00Z, UTC+3) has 167 hours: Sunday's 03:00 is missing.
        let spring = exposure(t("2026-03-22T22:00:00Z"), t("2026-03-29T21:00:00Z"), &zone);
        assert_eq!(spring.iter().sum::<f64>(), 167.0);
        assert_eq!(spring[6 * 24 + 3], 0.0);
        // The autumn week has 169: Sunday 2026-10-25 03:00 twice.
        let autumn = exposure(t("2026-10-18T21:00:00Z"), t("2026-10-25T22:00:00Z"), &zone);
        assert_eq!(autumn.iter().sum::<f64>(), 169.0);
        assert_eq!(autumn[6 * 24 + 3], 2.0);
    }

    #[test]
    fn rates_offsets_and_slips_by_hand() {
        let zone = helsinki();
        // Two weeks from Monday 2026-11-30 00:00 local; two emergency admissions on
        // Mondays at 10:xx local (08:xx Z), one elective that does not count.
        let from = t("2026-11-29T22:00:00Z");
        let to = t("2026-12-13T22:00:00Z");
        let history = vec![
            // Planned for Tuesday 1.12., left Tuesday 12:00 local (10:00Z): offset 12 h.
            stay(
                "2026-11-30T08:10:00Z",
                "2026-12-01T10:00:00Z",
                Some("2026-12-01"),
                true,
            ),
            // Planned for Tuesday 8.12., left Wednesday 11:00 local: offset 35 h (slipped).
            stay(
                "2026-12-07T08:20:00Z",
                "2026-12-09T09:00:00Z",
                Some("2026-12-08"),
                true,
            ),
            stay("2026-12-02T06:00:00Z", "2026-12-03T10:00:00Z", None, false),
        ];
        let base = Baseline::learn(&history, from, to, &zone, vec![1.0, 2.0, 3.0]);
        let rates = &base.arrivals["W1"];
        // Monday 10:xx saw 2 arrivals in 2 weeks: 1 per hour, smoothed to 0.5, and
        // 0.25 spills to 09:xx and 11:xx.
        assert!((rates[10] - 0.5).abs() < 1e-12);
        assert!((rates[9] - 0.25).abs() < 1e-12);
        assert!((rates[11] - 0.25).abs() < 1e-12);
        assert_eq!(rates.iter().sum::<f64>(), 1.0); // per week: 2 arrivals / 2 weeks
        assert_eq!(base.discharge_offset.len(), 2);
        // Both plans were for a Tuesday: the weekday group has them, the weekend none,
        // so a weekend plan falls back to all of them.
        assert_eq!(base.discharge_offset_weekday.len(), 2);
        let saturday: Date = "2026-12-05".parse().unwrap();
        assert_eq!(base.discharge_offsets(saturday, 1).len(), 2);
        assert_eq!(base.discharge_offsets(saturday, 0).len(), 0);
        assert_eq!(base.slip_probability(), 0.5);
        assert_eq!(base.recovery.median(), Some(2.0));
        // The level of the first week alone: 1 arrival where 1 was expected.
        assert!((base.level(&history, from, t("2026-12-06T22:00:00Z"), &zone) - 1.0).abs() < 1e-12);
        assert!(
            (base
                .clone()
                .scaled(2.0)
                .arrival_rate("W1", t("2026-11-30T08:00:00Z"), &zone)
                - 1.0)
                .abs()
                < 1e-12
        );
    }
}
