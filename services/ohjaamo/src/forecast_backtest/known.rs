//! What a forecast made at an instant may know of the simulated wards: the stays begun
//! before it (finished ones with their length, plans only once made), the patients on
//! the wards then, and the bookings made and not cancelled by then. Nothing later: the
//! backtest is honest only if this holds.

use jiff::{SignedDuration, Timestamp};
use ohjaamo_forecast::{Baseline, Incoming, PastStay, Stay, Ward};
use ohjaamo_simulator::seasons::{Season, SeasonStay};

/// How far back the forecast learns, and how far back it measures the recent level.
pub struct Learning {
    pub history: SignedDuration,
    pub level: SignedDuration,
}

fn plan_at(stay: &SeasonStay, at: Timestamp) -> Option<jiff::civil::Date> {
    (stay.plan_known_at <= at).then_some(stay.planned_discharge)
}

/// The stays begun before `at`, as the history knows them then.
pub fn history(season: &Season, at: Timestamp) -> Vec<PastStay> {
    season
        .stays
        .iter()
        .filter(|s| s.cancelled_at.is_none() && s.admitted < at)
        .map(|s| PastStay {
            ward: season.wards[s.ward].code.clone(),
            specialty: season.wards[s.ward].specialty.clone(),
            admitted: s.admitted,
            discharged: (s.discharged <= at).then_some(s.discharged),
            planned_discharge: plan_at(s, at),
            emergency: s.emergency,
        })
        .collect()
}

/// The share of elective bookings due in `[from, at)` that were cancelled by `at`.
fn cancellation_rate(season: &Season, from: Timestamp, at: Timestamp) -> f64 {
    let due: Vec<&SeasonStay> = season
        .stays
        .iter()
        .filter(|s| s.expected_at.is_some_and(|e| from <= e && e < at))
        .collect();
    let cancelled = due
        .iter()
        .filter(|s| s.cancelled_at.is_some_and(|c| c <= at))
        .count();
    if due.is_empty() {
        0.0
    } else {
        cancelled as f64 / due.len() as f64
    }
}

/// The wards as known at `at`, and the baseline learned from before it.
pub fn known_at(season: &Season, at: Timestamp, learning: &Learning) -> (Vec<Ward>, Baseline) {
    let zone = &season.zone;
    let past = history(season, at);
    let from = at
        .checked_sub(learning.history)
        .unwrap_or(season.start)
        .max(season.start);
    let recent = at.checked_sub(learning.level).unwrap_or(from).max(from);
    let learned = Baseline::learn(&past, from, at, zone, Vec::new());
    // A season's rise or fall since the learning window's middle, within bounds.
    let level = learned.level(&past, recent, at, zone).clamp(0.8, 1.25);
    let baseline = learned.scaled(level);
    let done = 1.0 - cancellation_rate(season, from, at);
    let mut wards: Vec<Ward> = season
        .wards
        .iter()
        .map(|w| Ward {
            code: w.code.clone(),
            site: w.site.clone(),
            specialty: w.specialty.clone(),
            beds: w.beds,
            stays: Vec::new(),
            incoming: Vec::new(),
        })
        .collect();
    for s in &season.stays {
        let ward = &mut wards[s.ward];
        if s.present(at) {
            ward.stays.push(Stay {
                admitted: s.admitted,
                specialty: ward.specialty.clone(),
                planned_discharge: plan_at(s, at),
                leaves: None,
            });
        } else if let (Some(booked), Some(expected)) = (s.booked_at, s.expected_at)
            && booked <= at
            && s.admitted > at
            && s.cancelled_at.is_none_or(|c| c > at)
        {
            ward.incoming.push(Incoming {
                at: expected,
                probability: done,
                specialty: ward.specialty.clone(),
                planned_discharge: plan_at(s, at),
            });
        }
    }
    (wards, baseline)
}
