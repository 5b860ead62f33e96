//! `ohjaamo forecast-backtest`: the ward occupancy forecast replayed over a simulated
//! month and scored against what happened (issue 22, point 6).
//!
//! The simulator's seasonal model ([`ohjaamo_simulator::seasons`]) lives the weeks of
//! learning before the month and the month itself. Every `--every-hours` hours of the
//! month the forecast is made from what was known then ([`known`]) — it learns from the
//! `--history-weeks` before — and [`ohjaamo_forecast::backtest`] scores it for each
//! horizon against the truth and the two naive forecasts. One table per seed and the
//! medians over the seeds.

mod known;

use anyhow::Context as _;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use ohjaamo_forecast::hours::plus_hours;
use ohjaamo_forecast::{HorizonScore, Point, backtest, forecast_hospital};
use ohjaamo_simulator::seasons::{Season, wards};

use known::{Learning, known_at};

#[derive(clap::Args, Debug)]
pub struct ForecastBacktestArgs {
    /// Seeds of the simulated months, comma-separated: one backtest each, then medians.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3")]
    pub seeds: Vec<u64>,
    /// Wards of the simulated hospital (four to a site).
    #[arg(long, default_value_t = 8)]
    pub wards: usize,
    /// Beds of a ward: wards have this − 4, − 1 and + 2 in turn.
    #[arg(long, default_value_t = 24)]
    pub beds_per_ward: u32,
    /// The month's first day (local); the learning weeks come before it.
    #[arg(long, default_value = "2027-01-04")]
    pub start: Date,
    /// Days scored.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// Weeks of history the forecast learns from.
    #[arg(long, default_value_t = 8)]
    pub history_weeks: u32,
    /// Hours between forecasts.
    #[arg(long, default_value_t = 6)]
    pub every_hours: u32,
    /// Hours ahead.
    #[arg(long, default_value_t = 48)]
    pub horizon: usize,
    #[arg(long, env = "OHJAAMO_TIME_ZONE", default_value = "Europe/Helsinki")]
    pub time_zone: String,
}

/// The horizons printed.
const SHOWN: [usize; 7] = [1, 3, 6, 12, 24, 36, 48];

pub fn run(args: ForecastBacktestArgs) -> anyhow::Result<()> {
    anyhow::ensure!(!args.seeds.is_empty(), "--seeds: give at least one seed");
    anyhow::ensure!(
        args.wards > 0 && args.days > 0,
        "--wards and --days must be positive"
    );
    anyhow::ensure!(
        args.every_hours > 0 && args.horizon > 0,
        "--every-hours and --horizon must be positive"
    );
    anyhow::ensure!(
        args.history_weeks >= 2,
        "--history-weeks: at least 2 (the last-week baseline needs one)"
    );
    let zone = TimeZone::get(&args.time_zone)
        .with_context(|| format!("--time-zone {}: not a known time zone", args.time_zone))?;
    let month = args
        .start
        .to_zoned_datetime(zone.clone())
        .context("--start: no local midnight on that day")?
        .timestamp();
    let mut all = Vec::new();
    for seed in &args.seeds {
        let started = std::time::Instant::now();
        let scores = one_seed(*seed, &args, month, &zone);
        println!(
            "seed {seed}: {} forecasts per horizon, {:.1} s",
            scores.first().map_or(0, |s| s.n),
            started.elapsed().as_secs_f64()
        );
        print_table(&scores);
        all.push(scores);
    }
    if all.len() > 1 {
        println!("medians over seeds {:?}:", args.seeds);
        let medians: Vec<HorizonScore> = (0..args.horizon).map(|h| median_score(&all, h)).collect();
        print_table(&medians);
        verdict(&medians);
    } else if let Some(scores) = all.first() {
        verdict(scores);
    }
    Ok(())
}

/// Lives the learning weeks and the month for `seed` and scores the forecasts.
pub fn one_seed(
    seed: u64,
    args: &ForecastBacktestArgs,
    month: Timestamp,
    zone: &TimeZone,
) -> Vec<HorizonScore> {
    let weeks = i64::from(args.history_weeks);
    // Two more weeks before the learning window, so that the wards are full when it
    // begins; the horizon after the month, so that its last forecasts have their truth.
    let lived_from = plus_hours(month, -(weeks + 2) * 168);
    let end = plus_hours(month, i64::from(args.days) * 24 + args.horizon as i64 + 1);
    let season = Season::live(
        seed,
        wards(args.wards, args.beds_per_ward),
        lived_from,
        end,
        zone.clone(),
    );
    // The truth from a week before the month (for the last-week baseline) to its end.
    let first = plus_hours(month, -168);
    let length = (end.duration_since(first).as_secs() / 3600) as usize;
    let actual: Vec<Vec<f64>> = (0..season.wards.len())
        .map(|w| occupancy_series(&season, w, first, length))
        .collect();
    let origins: Vec<usize> = (168..168 + args.days as usize * 24)
        .step_by(args.every_hours as usize)
        .collect();
    let learning = Learning {
        history: SignedDuration::from_hours(weeks * 168),
        level: SignedDuration::from_hours(14 * 24),
    };
    backtest(&actual, &origins, args.horizon, |origin| {
        let at = plus_hours(first, origin as i64);
        let (known, baseline) = known_at(&season, at, &learning);
        let (per_ward, _) = forecast_hospital(&known, &baseline, at, zone, args.horizon);
        per_ward
            .into_iter()
            .map(|f| {
                f.hours
                    .into_iter()
                    .map(|h| Point {
                        expected: h.expected,
                        low: h.low,
                        high: h.high,
                    })
                    .collect()
            })
            .collect()
    })
}

/// Ward `w`'s patients at the start of each of `length` hours from `first`: a sweep
/// over admissions and discharges.
fn occupancy_series(season: &Season, w: usize, first: Timestamp, length: usize) -> Vec<f64> {
    let mut change = vec![0i64; length + 1];
    let mut base = 0i64;
    // The first hour whose start is at or after `t`.
    let index = |t: Timestamp| -> i64 {
        let nanos = t.duration_since(first).as_nanos();
        let hour = 3_600_000_000_000i128;
        i64::try_from((nanos + hour - 1).div_euclid(hour)).unwrap_or(i64::MAX)
    };
    for s in season
        .stays
        .iter()
        .filter(|s| s.ward == w && s.cancelled_at.is_none())
    {
        // Present at hour i's start when admitted ≤ t_i < discharged.
        let (a, d) = (index(s.admitted), index(s.discharged));
        if d <= 0 || a >= length as i64 {
            continue;
        }
        if a <= 0 {
            base += 1;
        } else {
            change[a as usize] += 1;
        }
        if (d as usize) < length {
            change[d as usize] -= 1;
        }
    }
    let mut count = base;
    (0..length)
        .map(|i| {
            count += change[i];
            count as f64
        })
        .collect()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn median_score(all: &[Vec<HorizonScore>], h: usize) -> HorizonScore {
    let field = |f: fn(&HorizonScore) -> f64| median(all.iter().map(|s| f(&s[h])).collect());
    HorizonScore {
        horizon: h + 1,
        n: all.iter().map(|s| s[h].n).sum(),
        mae: field(|s| s.mae),
        bias: field(|s| s.bias),
        coverage: field(|s| s.coverage),
        mae_carried_forward: field(|s| s.mae_carried_forward),
        mae_last_week: field(|s| s.mae_last_week),
    }
}

fn print_table(scores: &[HorizonScore]) {
    println!(
        "| horizon (h) | MAE | bias | 80 % coverage | MAE carried forward | MAE same hour last week | MAE / better naive |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for s in scores.iter().filter(|s| SHOWN.contains(&s.horizon)) {
        println!(
            "| {} | {:.2} | {:+.2} | {:.1} % | {:.2} | {:.2} | {:.2} |",
            s.horizon,
            s.mae,
            s.bias,
            100.0 * s.coverage,
            s.mae_carried_forward,
            s.mae_last_week,
            s.skill_ratio()
        );
    }
}

/// The targets at 24 h: MAE ≥ 20 % below the better naive forecast, coverage
/// 75–85 %.
fn verdict(scores: &[HorizonScore]) {
    let Some(day) = scores.iter().find(|s| s.horizon == 24) else {
        return;
    };
    let skill = day.skill_ratio() <= 0.8;
    let covered = (0.75..=0.85).contains(&day.coverage);
    println!(
        "24 h: MAE {:.2} is {:.0} % below the better naive forecast ({}), coverage {:.1} % ({})",
        day.mae,
        100.0 * (1.0 - day.skill_ratio()),
        if skill { "target met" } else { "target missed" },
        100.0 * day.coverage,
        if covered {
            "within 75–85 %"
        } else {
            "outside 75–85 %"
        },
    );
    let all_coverage: Vec<f64> = scores.iter().map(|s| s.coverage).collect();
    let lowest = all_coverage.iter().copied().fold(f64::INFINITY, f64::min);
    let highest = all_coverage.iter().copied().fold(0.0, f64::max);
    println!(
        "coverage over horizons 1–{}: {:.1}–{:.1} %",
        scores.len(),
        100.0 * lowest,
        100.0 * highest
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn season() -> (Season, TimeZone) {
        let zone = TimeZone::get("Europe/Helsinki").unwrap();
        let start: Timestamp = "2026-11-01T22:00:00Z".parse().unwrap();
        let season = Season::live(
            7,
            wards(2, 20),
            start,
            plus_hours(start, 5 * 168),
            zone.clone(),
        );
        (season, zone)
    }

    #[test]
    fn the_series_is_the_truth_hour_by_hour() {
        let (season, _) = season();
        let first = plus_hours(season.start, 168);
        let series = occupancy_series(&season, 1, first, 200);
        for (i, count) in series.iter().enumerate() {
            assert_eq!(
                *count,
                f64::from(season.occupancy(1, plus_hours(first, i as i64))),
                "hour {i}"
            );
        }
    }

    #[test]
    fn a_forecast_knows_nothing_later_than_its_instant() {
        let (season, _) = season();
        // Wednesday 12:30 local, four weeks in.
        let at = plus_hours(season.start, 4 * 168 + 60)
            .checked_add(SignedDuration::from_mins(30))
            .unwrap();
        let learning = Learning {
            history: SignedDuration::from_hours(3 * 168),
            level: SignedDuration::from_hours(7 * 24),
        };
        let (known, baseline) = known_at(&season, at, &learning);
        let present: usize = (0..2).map(|w| season.occupancy(w, at) as usize).sum();
        assert_eq!(known.iter().map(|w| w.stays.len()).sum::<usize>(), present);
        for stay in known.iter().flat_map(|w| &w.stays) {
            assert!(stay.admitted <= at);
        }
        // A plan is known only once made: emergencies admitted in the last day have none.
        let day_ago = plus_hours(at, -24);
        assert!(
            known
                .iter()
                .flat_map(|w| &w.stays)
                .any(|s| s.planned_discharge.is_none() && s.admitted > day_ago)
        );
        // Bookings known at `at`, for later; the history holds no stay begun after it,
        // and no discharge after it.
        assert!(known.iter().flat_map(|w| &w.incoming).count() > 0);
        let past = known::history(&season, at);
        assert!(
            past.iter()
                .all(|s| s.admitted < at && s.discharged.is_none_or(|d| d <= at))
        );
        assert!(baseline.arrivals.values().flatten().sum::<f64>() > 0.0);
    }
}
