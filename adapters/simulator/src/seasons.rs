//! Weeks of the wards' stays, for forecasts and their backtest (issue 22): the patterns
//! a forecast must learn and the truth it is scored against.
//!
//! The minute-by-minute hospital of [`crate::life`] lives a few days for the adapters'
//! tests; its admissions follow free beds and its stays last a few days with no week
//! or season in them. This model lives months of stays in seconds, hour by hour, with
//! the patterns wards have:
//! - **weekly and daily cycles**: emergency admissions peak in the afternoon and on
//!   Mondays, fewest at night and at weekends; discharges happen 09–16 local, and a
//!   weekend discharge waits for Monday half the time;
//! - **elective Monday peaks**: elective admissions on weekdays, most on Monday, few on
//!   Friday, none at weekends, booked 1–14 days ahead, 5 % cancelled before the day,
//!   surgical ones arriving in the afternoon after their operation and recovery;
//! - **the winter season**: emergency admissions 15 % above the year's mean at the end
//!   of January, 15 % below at the end of July, and day-to-day swings (a log-normal
//!   factor per ward and day) beyond Poisson's;
//! - **slipping discharges**: each stay gets a planned discharge date (electives at
//!   booking, emergencies a day after admission), and leaves on it 70 % of the time,
//!   a day later 20 %, two days later 6 %, a day early 4 %.
//!
//! Every draw comes from a generator seeded with the seed, in a fixed order: a seed
//! gives the same months. [`Season::stays`] is the truth, each stay with what was known
//! of it when ([`SeasonStay::booked_at`], [`SeasonStay::plan_known_at`],
//! [`SeasonStay::cancelled_at`]), so that a forecast can be given only what was known
//! at its time.

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;

/// A ward of the model.
#[derive(Debug, Clone, PartialEq)]
pub struct SeasonWard {
    pub code: String,
    pub site: String,
    pub specialty: String,
    pub beds: u32,
    /// Emergency admissions per day, at the year's mean.
    pub emergencies_per_day: f64,
    /// Elective admissions on an ordinary weekday (Tuesday–Thursday).
    pub electives_per_weekday: f64,
    /// Whether electives come from the operating list (arriving after recovery).
    pub surgical: bool,
}

/// A stay, or an elective booking that was cancelled.
#[derive(Debug, Clone, PartialEq)]
pub struct SeasonStay {
    /// Index into [`Season::wards`].
    pub ward: usize,
    pub emergency: bool,
    /// When an elective was booked (known from then on).
    pub booked_at: Option<Timestamp>,
    /// When an elective is expected (the booking's time; for a surgical one, the
    /// operation's end plus the expected recovery).
    pub expected_at: Option<Timestamp>,
    /// When the booking was cancelled (the stay then never happens).
    pub cancelled_at: Option<Timestamp>,
    pub admitted: Timestamp,
    pub discharged: Timestamp,
    pub planned_discharge: Date,
    /// When the planned discharge date became known.
    pub plan_known_at: Timestamp,
}

impl SeasonStay {
    /// On the ward at `t`.
    pub fn present(&self, t: Timestamp) -> bool {
        self.cancelled_at.is_none() && self.admitted <= t && t < self.discharged
    }
}

/// The months lived.
#[derive(Debug, Clone)]
pub struct Season {
    pub wards: Vec<SeasonWard>,
    pub stays: Vec<SeasonStay>,
    pub start: Timestamp,
    pub end: Timestamp,
    pub zone: TimeZone,
}

const SPECIALTIES: [(&str, bool, f64); 5] = [
    // specialty, surgical, median emergency length of stay in days
    ("sisatauti", false, 3.5),
    ("kirurgia", true, 3.0),
    ("ortopedia", true, 4.0),
    ("neurologia", false, 4.5),
    ("kardiologia", false, 3.0),
];

/// Relative emergency admissions by local hour (mean 1).
const HOURLY: [f64; 24] = [
    0.45, 0.4, 0.35, 0.35, 0.35, 0.4, 0.5, 0.7, 1.0, 1.2, 1.35, 1.45, 1.5, 1.55, 1.6, 1.55, 1.45,
    1.35, 1.25, 1.15, 1.0, 0.85, 0.7, 0.55,
];

/// Relative emergency admissions by weekday, Monday first (mean 1).
const DAILY: [f64; 7] = [1.15, 1.05, 1.0, 1.0, 1.0, 0.85, 0.95];

/// Elective admissions by weekday against an ordinary weekday: the Monday peak.
const ELECTIVE_DAYS: [f64; 7] = [1.6, 1.0, 1.0, 1.0, 0.5, 0.0, 0.0];

/// `count` wards of `beds` − 4, `beds` − 1 and `beds` + 2 beds in turn (at least 6),
/// four to a site, their admissions sized to keep them about 90 % full on average.
pub fn wards(count: usize, beds: u32) -> Vec<SeasonWard> {
    (0..count)
        .map(|i| {
            let (specialty, surgical, los) = SPECIALTIES[i % SPECIALTIES.len()];
            let beds = (beds + (i as u32 * 3) % 9).saturating_sub(4).max(6);
            let b = f64::from(beds);
            let electives = 0.1 * b;
            // Mean occupancy = emergencies × their mean stay + electives' share:
            // ~0.73 electives a day of the week, each ~2.9 days.
            let emergency_mean_days = los * 1.15;
            let emergencies = ((0.9 * b - 0.73 * electives * 2.9) / emergency_mean_days).max(0.5);
            SeasonWard {
                code: format!("S{}-OS{}", i / 4 + 1, i % 4 + 1),
                site: format!("S{}", i / 4 + 1),
                specialty: specialty.into(),
                beds,
                emergencies_per_day: emergencies,
                electives_per_weekday: electives,
                surgical,
            }
        })
        .collect()
}

impl Season {
    /// Lives `[start, end)` hour by hour for `wards`. Stays admitted before `start`
    /// are not made: begin a few weeks before the period of interest.
    pub fn live(
        seed: u64,
        wards: Vec<SeasonWard>,
        start: Timestamp,
        end: Timestamp,
        zone: TimeZone,
    ) -> Season {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut stays = Vec::new();
        let mut hour = start;
        let mut day_factor = vec![1.0; wards.len()];
        let mut last_date = None;
        while hour < end {
            let local = hour.to_zoned_datetime(zone.clone());
            let date = local.date();
            if last_date != Some(date) {
                last_date = Some(date);
                for (w, ward) in wards.iter().enumerate() {
                    // The day's swing: log-normal, mean 1, σ 0.2.
                    day_factor[w] = (0.2 * normal(&mut rng) - 0.02).exp();
                    electives(&mut rng, &mut stays, w, ward, date, &zone);
                }
            }
            let weekday = date.weekday().to_monday_zero_offset() as usize;
            let rate_factor = HOURLY[local.hour() as usize] * DAILY[weekday] * season(date);
            for (w, ward) in wards.iter().enumerate() {
                let mean = ward.emergencies_per_day / 24.0 * rate_factor * day_factor[w];
                for _ in 0..poisson(&mut rng, mean) {
                    let admitted = within_hour(&mut rng, hour);
                    stays.push(emergency(&mut rng, w, ward, admitted, &zone));
                }
            }
            hour = later(hour, 3600.0);
        }
        stays.sort_by_key(|s| s.admitted);
        Season {
            wards,
            stays,
            start,
            end,
            zone,
        }
    }

    /// The patients on ward `ward` at `t`: the truth.
    pub fn occupancy(&self, ward: usize, t: Timestamp) -> u32 {
        self.stays
            .iter()
            .filter(|s| s.ward == ward && s.present(t))
            .count() as u32
    }
}

/// An emergency admission: its length of stay log-normal around the specialty's
/// median, its plan made a day after admission (the true discharge day less its slip).
fn emergency(
    rng: &mut ChaCha8Rng,
    w: usize,
    ward: &SeasonWard,
    admitted: Timestamp,
    zone: &TimeZone,
) -> SeasonStay {
    let median = SPECIALTIES
        .iter()
        .find(|s| s.0 == ward.specialty)
        .map_or(3.5, |s| s.2);
    let days = (median * (0.55 * normal(rng)).exp()).clamp(0.3, 40.0);
    let rough = later(admitted, days * 86_400.0);
    let slip = slip(rng);
    let discharged = discharge_on(
        rng,
        rough.to_zoned_datetime(zone.clone()).date(),
        admitted,
        zone,
    );
    let actual_date = discharged.to_zoned_datetime(zone.clone()).date();
    let planned = actual_date
        .checked_sub(jiff::Span::new().days(slip))
        .unwrap_or(actual_date);
    SeasonStay {
        ward: w,
        emergency: true,
        booked_at: None,
        expected_at: None,
        cancelled_at: None,
        admitted,
        discharged,
        planned_discharge: planned,
        plan_known_at: later(admitted, 86_400.0),
    }
}

/// The day's elective admissions of a ward, booked ahead.
fn electives(
    rng: &mut ChaCha8Rng,
    stays: &mut Vec<SeasonStay>,
    w: usize,
    ward: &SeasonWard,
    date: Date,
    zone: &TimeZone,
) {
    let weekday = date.weekday().to_monday_zero_offset() as usize;
    let count = poisson(rng, ward.electives_per_weekday * ELECTIVE_DAYS[weekday]);
    let Ok(midnight) = date.to_zoned_datetime(zone.clone()).map(|z| z.timestamp()) else {
        return;
    };
    for _ in 0..count {
        // Ward admissions 08–11; surgical patients after their operation (ending
        // 10–15) and two hours of recovery.
        let hour = if ward.surgical {
            rng.random_range(12.0..17.0)
        } else {
            rng.random_range(8.0..11.0)
        };
        let expected = later(midnight, hour * 3600.0);
        // The patient comes within half an hour early to two hours late.
        let admitted = later(expected, rng.random_range(-1800.0..7200.0));
        let booked_at = later(
            midnight,
            -f64::from(rng.random_range(1..=14)) * 86_400.0 - 36_000.0,
        );
        let cancelled_at = rng.random_bool(0.05).then(|| {
            later(
                booked_at,
                rng.random_range(0.2..0.95) * admitted.duration_since(booked_at).as_secs_f64(),
            )
        });
        let stay_days = rng.random_range(1..=4);
        let planned = date
            .checked_add(jiff::Span::new().days(stay_days))
            .unwrap_or(date);
        let slip = slip(rng);
        let actual = planned
            .checked_add(jiff::Span::new().days(slip))
            .unwrap_or(planned);
        let discharged = discharge_on(rng, actual, admitted, zone);
        stays.push(SeasonStay {
            ward: w,
            emergency: false,
            booked_at: Some(booked_at),
            expected_at: Some(expected),
            cancelled_at,
            admitted,
            discharged,
            planned_discharge: planned,
            plan_known_at: booked_at,
        });
    }
}

/// Days a discharge slips past its plan: 0 (70 %), 1 (20 %), 2 (6 %), −1 (4 %).
fn slip(rng: &mut ChaCha8Rng) -> i64 {
    let u: f64 = rng.random();
    match u {
        u if u < 0.70 => 0,
        u if u < 0.90 => 1,
        u if u < 0.96 => 2,
        _ => -1,
    }
}

/// A discharge time on `date` (or Monday for half of those falling on a weekend),
/// 09–16 local with most around midday, and after `admitted` by at least four hours.
fn discharge_on(
    rng: &mut ChaCha8Rng,
    date: Date,
    admitted: Timestamp,
    zone: &TimeZone,
) -> Timestamp {
    let mut date = date;
    let weekend = matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday);
    if weekend && rng.random_bool(0.5) {
        while date.weekday() != Weekday::Monday {
            date = date.tomorrow().unwrap_or(date);
        }
    }
    let hour = 9.0 + 7.0 * (rng.random::<f64>() + rng.random::<f64>()) / 2.0;
    let at = date
        .to_zoned_datetime(zone.clone())
        .map(|z| later(z.timestamp(), hour * 3600.0))
        .unwrap_or(admitted);
    at.max(later(admitted, 4.0 * 3600.0))
}

/// The season's factor on `date`: 1 + 0.15·cos(2π(day − 25)/365), highest on 25 January.
fn season(date: Date) -> f64 {
    let day = f64::from(date.day_of_year());
    1.0 + 0.15 * (2.0 * std::f64::consts::PI * (day - 25.0) / 365.0).cos()
}

fn within_hour(rng: &mut ChaCha8Rng, hour: Timestamp) -> Timestamp {
    later(hour, rng.random_range(0.0..3600.0))
}

fn later(t: Timestamp, seconds: f64) -> Timestamp {
    t.checked_add(SignedDuration::from_secs_f64(seconds))
        .unwrap_or(t)
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u: f64 = rng.random_range(f64::EPSILON..1.0);
    let v: f64 = rng.random();
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

/// A Poisson draw by multiplying uniforms (means here are a few at most).
fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> u32 {
    if mean <= 0.0 {
        return 0;
    }
    let limit = (-mean).exp();
    let mut product: f64 = rng.random();
    let mut count = 0;
    while product > limit && count < 1000 {
        product *= rng.random::<f64>();
        count += 1;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn helsinki() -> TimeZone {
        TimeZone::get("Europe/Helsinki").unwrap()
    }

    fn eight_weeks(seed: u64) -> Season {
        let start: Timestamp = "2026-11-01T22:00:00Z".parse().unwrap();
        let end = later(start, 56.0 * 86_400.0);
        Season::live(seed, wards(4, 24), start, end, helsinki())
    }

    #[test]
    fn a_seed_lives_the_same_season() {
        assert_eq!(eight_weeks(3).stays, eight_weeks(3).stays);
        assert_ne!(eight_weeks(3).stays, eight_weeks(4).stays);
    }

    #[test]
    fn the_patterns_are_there() {
        let season = eight_weeks(1);
        let zone = helsinki();
        let weekday = |t: Timestamp| t.to_zoned_datetime(zone.clone()).weekday();
        let electives: Vec<&SeasonStay> = season.stays.iter().filter(|s| !s.emergency).collect();
        let on = |d: Weekday| {
            electives
                .iter()
                .filter(|s| weekday(s.expected_at.unwrap()) == d)
                .count()
        };
        assert!(
            on(Weekday::Monday) > on(Weekday::Wednesday),
            "Monday's elective peak"
        );
        assert_eq!(on(Weekday::Saturday) + on(Weekday::Sunday), 0);
        let cancelled = electives
            .iter()
            .filter(|s| s.cancelled_at.is_some())
            .count();
        assert!(cancelled > 0 && cancelled * 10 < electives.len());
        // Discharges slip: some leave after their planned day, most on it.
        let day = |t: Timestamp| t.to_zoned_datetime(zone.clone()).date();
        let slipped = season
            .stays
            .iter()
            .filter(|s| day(s.discharged) > s.planned_discharge)
            .count();
        assert!(slipped * 10 > season.stays.len() && slipped * 2 < season.stays.len());
        // Afternoons bring more emergencies than nights.
        let hour = |t: Timestamp| t.to_zoned_datetime(zone.clone()).hour();
        let emergencies = season.stays.iter().filter(|s| s.emergency);
        let (afternoon, night) = emergencies.fold((0, 0), |(a, n), s| match hour(s.admitted) {
            12..=15 => (a + 1, n),
            1..=4 => (a, n + 1),
            _ => (a, n),
        });
        assert!(
            afternoon > 2 * night,
            "{afternoon} afternoon, {night} night"
        );
        // Wards are near full once the first weeks have filled them.
        let at: Timestamp = "2026-12-20T10:00:00Z".parse().unwrap();
        let patients: u32 = (0..4).map(|w| season.occupancy(w, at)).sum();
        let beds: u32 = season.wards.iter().map(|w| w.beds).sum();
        assert!(
            patients * 10 > beds * 6 && patients < beds * 13 / 10,
            "{patients} of {beds}"
        );
        // Nobody leaves before arriving, plans are known no later than a day in.
        assert!(season.stays.iter().all(|s| s.discharged > s.admitted));
        assert!(
            season
                .stays
                .iter()
                .all(|s| s.plan_known_at <= later(s.admitted, 86_400.0))
        );
    }

    #[test]
    fn winter_is_busier_than_late_summer() {
        assert!(season("2027-01-25".parse().unwrap()) > 1.14);
        assert!(season("2027-07-27".parse().unwrap()) < 0.86);
    }
}
