//! Ward occupancy ahead, hour by hour, per ward and summed per site.
//!
//! The count of patients at the start of each coming hour is a sum of independent
//! parts ([`crate::count`]):
//! - each patient on the ward now is still there with the probability the history
//!   gives: with a planned discharge, from when planned discharges really happen
//!   (slips included) given that it has not happened yet; without one, from the
//!   specialty's length of stay given the time already stayed; a known departure (a
//!   pending transfer out) ends the stay then;
//! - each expected arrival (elective admission, pending admission or transfer in, a
//!   patient from the operating list after recovery) is there with the chance that it
//!   happens times the chance that it has not left again;
//! - emergency admissions arrive as a Poisson process with the learned rate of each
//!   local hour of the week, and each stays for the specialty's length of stay: the
//!   patients of them present at a time are Poisson with mean Σ λₖ·S(t − tₖ) (the
//!   M/G/∞ queue), over-dispersed by the learned dispersion.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Serialize;

use crate::count::Count;
use crate::hours::{hour_start, hours_between, plus_hours};
use crate::learn::{Baseline, Durations, date_start};

/// The interval's level: 80 %.
pub const LEVEL: f64 = 0.8;
/// Fewer planned discharges than this in the history and plans are not trusted: the
/// stay is forecast from its length of stay.
const MIN_PLANNED: usize = 20;
/// Recovery time when the history has none (hours).
const DEFAULT_RECOVERY_HOURS: f64 = 2.0;

/// A patient on the ward now.
#[derive(Debug, Clone, PartialEq)]
pub struct Stay {
    pub admitted: Timestamp,
    pub specialty: String,
    pub planned_discharge: Option<Date>,
    /// A departure already known (a pending transfer out).
    pub leaves: Option<Timestamp>,
}

/// A patient expected to arrive.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    pub at: Timestamp,
    /// The chance that the arrival happens (1 − the cancellation rate).
    pub probability: f64,
    pub specialty: String,
    pub planned_discharge: Option<Date>,
}

/// A case of the operating list.
#[derive(Debug, Clone, PartialEq)]
pub struct OperatingCase {
    /// The operation's expected end.
    pub ends: Timestamp,
    /// The ward the patient goes to after recovery; `None` for home.
    pub destination: Option<String>,
    /// Expected recovery time (hours); the learned median when unknown.
    pub recovery_hours: Option<f64>,
    pub specialty: String,
    pub planned_discharge: Option<Date>,
    /// The chance that the operation is done (1 − the late cancellation rate).
    pub probability: f64,
}

/// A ward and what is known of it now.
#[derive(Debug, Clone, PartialEq)]
pub struct Ward {
    pub code: String,
    pub site: String,
    pub specialty: String,
    pub beds: u32,
    pub stays: Vec<Stay>,
    pub incoming: Vec<Incoming>,
}

/// One hour of a forecast: the count at the hour's start.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HourForecast {
    pub at: Timestamp,
    /// Hours from the hour the forecast was made in.
    pub horizon: u32,
    pub expected: f64,
    /// The 80 % interval's ends (10th and 90th percentiles).
    pub low: f64,
    pub high: f64,
    pub beds: u32,
    /// P(patients > beds): the chance of over-capacity patients.
    pub over_beds: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Forecast {
    /// A ward's code, or a site's.
    pub unit: String,
    pub hours: Vec<HourForecast>,
}

/// The patients of the operating list as arrivals on their destination wards:
/// `(ward, arrival)`, at the operation's end plus the recovery time (the learned
/// median when the case has none, or none that is a time).
pub fn post_operative(cases: &[OperatingCase], baseline: &Baseline) -> Vec<(String, Incoming)> {
    let learned = baseline.recovery.median().unwrap_or(DEFAULT_RECOVERY_HOURS);
    cases
        .iter()
        .filter_map(|case| {
            let ward = case.destination.clone()?;
            // A recovery time that is not a time (negative, not a number) is unknown.
            let hours = case
                .recovery_hours
                .filter(|h| h.is_finite() && *h >= 0.0)
                .unwrap_or(learned);
            let recovery = jiff::SignedDuration::try_from_secs_f64(hours * 3600.0).ok()?;
            let at = case.ends.checked_add(recovery).ok()?;
            Some((
                ward,
                Incoming {
                    at,
                    probability: case.probability,
                    specialty: case.specialty.clone(),
                    planned_discharge: case.planned_discharge,
                },
            ))
        })
        .collect()
}

/// The count's distribution at the start of each of the `horizon` hours after the hour
/// `now` falls in.
pub fn ward_counts(
    ward: &Ward,
    baseline: &Baseline,
    now: Timestamp,
    zone: &TimeZone,
    horizon: usize,
) -> Vec<(Timestamp, Count)> {
    let first = hour_start(now, zone);
    let emergency_los = baseline.length_of_stay(&ward.specialty);
    // The emergency arrivals' rate over each hour from `now`, with the share of the
    // hour still ahead, and the hour's middle (when they are taken to arrive).
    let arrivals: Vec<(f64, Timestamp)> = (0..horizon as i64)
        .map(|k| {
            let start = plus_hours(first, k);
            let share = if k == 0 {
                (1.0 - hours_between(start, now)).clamp(0.0, 1.0)
            } else {
                1.0
            };
            let rate = baseline.arrival_rate(&ward.code, start, zone) * share;
            let middle = plus_hours(start, 1)
                .checked_sub(jiff::SignedDuration::from_secs_f64(share * 1800.0))
                .unwrap_or(start);
            (rate, middle)
        })
        .collect();
    (1..=horizon as i64)
        .map(|h| {
            let at = plus_hours(first, h);
            let mut count = Count::new(baseline.dispersion);
            for stay in &ward.stays {
                count.add_bernoulli(still_here(stay, baseline, now, at, zone));
            }
            // An arrival already due but not yet on the ward is taken to arrive now.
            for incoming in ward.incoming.iter().filter(|i| i.at.max(now) <= at) {
                let arrives = incoming.at.max(now);
                let arrived = Stay {
                    admitted: arrives,
                    specialty: incoming.specialty.clone(),
                    planned_discharge: incoming.planned_discharge,
                    leaves: None,
                };
                count.add_bernoulli(
                    incoming.probability.clamp(0.0, 1.0)
                        * still_here(&arrived, baseline, arrives, at, zone),
                );
            }
            count.arrivals_mean = arrivals[..h as usize]
                .iter()
                .map(|(rate, middle)| rate * emergency_los.survival(hours_between(*middle, at)))
                .sum();
            (at, count)
        })
        .collect()
}

/// The chance that `stay`, on the ward at `now`, is still there at `at`.
fn still_here(
    stay: &Stay,
    baseline: &Baseline,
    now: Timestamp,
    at: Timestamp,
    zone: &TimeZone,
) -> f64 {
    if let Some(leaves) = stay.leaves {
        return if at < leaves { 1.0 } else { 0.0 };
    }
    if let Some(plan) = stay.planned_discharge
        && baseline.discharge_offset.len() >= MIN_PLANNED
        && let Some(midnight) = date_start(plan, zone)
        && let Some(p) = baseline
            .discharge_offsets(plan, MIN_PLANNED)
            .still(hours_between(midnight, now), hours_between(now, at))
    {
        return p;
    }
    let age = hours_between(stay.admitted, now).max(0.0);
    let los: &Durations = baseline.length_of_stay(&stay.specialty);
    los.still(age, hours_between(now, at))
        // Longer than any stay of the history: no evidence that it ends soon.
        .unwrap_or(1.0)
}

/// A forecast from counts: the mean, the 80 % interval and the chance of more patients
/// than `beds`, per hour.
pub fn summarise(
    unit: &str,
    now: Timestamp,
    zone: &TimeZone,
    counts: &[(Timestamp, Count)],
    beds: u32,
) -> Forecast {
    let first = hour_start(now, zone);
    Forecast {
        unit: unit.to_string(),
        hours: counts
            .iter()
            .map(|(at, count)| {
                let interval = count.interval(LEVEL);
                HourForecast {
                    at: *at,
                    horizon: hours_between(first, *at).round().max(0.0) as u32,
                    expected: count.mean(),
                    low: interval.low,
                    high: interval.high,
                    beds,
                    over_beds: count.at_least(beds.saturating_add(1)),
                }
            })
            .collect(),
    }
}

/// One ward's forecast, `horizon` hours ahead.
pub fn forecast_ward(
    ward: &Ward,
    baseline: &Baseline,
    now: Timestamp,
    zone: &TimeZone,
    horizon: usize,
) -> Forecast {
    let counts = ward_counts(ward, baseline, now, zone, horizon);
    summarise(&ward.code, now, zone, &counts, ward.beds)
}

/// A site's count per hour and its beds.
type HoursAndBeds = (Vec<(Timestamp, Count)>, u32);

/// Every ward's forecast and each site's: a site's count is the sum of its wards'
/// independent counts (their Bernoulli terms together; the arrivals' negative binomial
/// terms share their dispersion, so their sum is one of the same kind).
pub fn forecast_hospital(
    wards: &[Ward],
    baseline: &Baseline,
    now: Timestamp,
    zone: &TimeZone,
    horizon: usize,
) -> (Vec<Forecast>, Vec<Forecast>) {
    let mut per_ward = Vec::with_capacity(wards.len());
    let mut sites: BTreeMap<&str, HoursAndBeds> = BTreeMap::new();
    for ward in wards {
        let counts = ward_counts(ward, baseline, now, zone, horizon);
        per_ward.push(summarise(&ward.code, now, zone, &counts, ward.beds));
        let (site, beds) = sites.entry(ward.site.as_str()).or_insert_with(|| {
            (
                counts
                    .iter()
                    .map(|(at, _)| (*at, Count::new(baseline.dispersion)))
                    .collect(),
                0,
            )
        });
        *beds += ward.beds;
        for ((_, total), (_, count)) in site.iter_mut().zip(&counts) {
            total.bernoulli.extend_from_slice(&count.bernoulli);
            total.arrivals_mean += count.arrivals_mean;
        }
    }
    let per_site = sites
        .into_iter()
        .map(|(site, (counts, beds))| summarise(site, now, zone, &counts, beds))
        .collect();
    (per_ward, per_site)
}

#[cfg(test)]
mod tests;
