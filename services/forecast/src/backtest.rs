//! Scoring a forecaster against what happened, and against two naive forecasts.
//!
//! Given the actual count of each unit at every hour of a history and a forecaster
//! that, for an origin hour, answers each unit's expected count and 80 % interval for
//! the hours after it (seeing only what was known at the origin: that is the caller's
//! side of the bargain), the backtest gives for each horizon:
//! - **MAE**, the mean absolute error of the expected count, in patients;
//! - **bias**, the mean of (forecast − actual): positive when it forecasts too many;
//! - **coverage**, the share of actual counts inside the interval (both ends
//!   included): for an honest 80 % interval, about 0.8;
//! - the MAE of two naive forecasts: the count at the origin carried forward, and the
//!   count of the same hour a week (168 hours) earlier.
//!
//! Only origins with the whole horizon and the week before it in the history count, so
//! every horizon is scored over the same forecasts.

use serde::Serialize;

/// One unit's forecast for one hour.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    pub expected: f64,
    pub low: f64,
    pub high: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HorizonScore {
    pub horizon: usize,
    /// Forecasts scored (origins × units).
    pub n: usize,
    pub mae: f64,
    pub bias: f64,
    pub coverage: f64,
    pub mae_carried_forward: f64,
    pub mae_last_week: f64,
}

impl HorizonScore {
    /// The forecast's MAE against the better naive one: below 1 is better.
    pub fn skill_ratio(&self) -> f64 {
        let best = self.mae_carried_forward.min(self.mae_last_week);
        if best > 0.0 {
            self.mae / best
        } else {
            f64::INFINITY
        }
    }
}

const WEEK: usize = 168;

/// Scores `forecast` at each of `origins` (hour indices into `actual`) for horizons
/// 1..=`horizons`. `actual[u][i]` is unit `u`'s count at hour `i`; `forecast(o)` answers
/// `[u][h − 1]`, each unit's forecast for hour `o + h`.
pub fn backtest(
    actual: &[Vec<f64>],
    origins: &[usize],
    horizons: usize,
    mut forecast: impl FnMut(usize) -> Vec<Vec<Point>>,
) -> Vec<HorizonScore> {
    let length = actual.iter().map(Vec::len).min().unwrap_or(0);
    let mut sums = vec![[0.0f64; 5]; horizons];
    let mut n = vec![0usize; horizons];
    for &origin in origins
        .iter()
        .filter(|o| **o + horizons < length && **o + 1 >= WEEK)
    {
        let answer = forecast(origin);
        for (unit, series) in actual.iter().enumerate() {
            let Some(points) = answer.get(unit) else {
                continue;
            };
            for h in 1..=horizons {
                let Some(p) = points.get(h - 1) else {
                    continue;
                };
                let truth = series[origin + h];
                let s = &mut sums[h - 1];
                s[0] += (p.expected - truth).abs();
                s[1] += p.expected - truth;
                s[2] += f64::from(u8::from(p.low <= truth && truth <= p.high));
                s[3] += (series[origin] - truth).abs();
                s[4] += (series[origin + h - WEEK] - truth).abs();
                n[h - 1] += 1;
            }
        }
    }
    sums.iter()
        .zip(&n)
        .enumerate()
        .map(|(i, (s, n))| {
            let d = (*n).max(1) as f64;
            HorizonScore {
                horizon: i + 1,
                n: *n,
                mae: s[0] / d,
                bias: s[1] / d,
                coverage: s[2] / d,
                mae_carried_forward: s[3] / d,
                mae_last_week: s[4] / d,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_by_hand() {
        // One unit: 10 every hour for a week, then 10, 12, 14, 16.
        let mut series = vec![10.0; WEEK];
        series.extend([10.0, 12.0, 14.0, 16.0]);
        let origin = WEEK; // the hour with 10, after a full week
        // Forecast 13 ± 1 for horizon 1 (truth 12), 13 ± 1 for horizon 2 (truth 14).
        let scores = backtest(&[series], &[origin, 0, WEEK + 2], 2, |o| {
            assert_eq!(
                o, WEEK,
                "origins without a week before or a horizon after are skipped"
            );
            vec![vec![
                Point {
                    expected: 13.0,
                    low: 12.0,
                    high: 14.0,
                },
                Point {
                    expected: 13.0,
                    low: 12.5,
                    high: 13.5,
                },
            ]]
        });
        assert_eq!(scores.len(), 2);
        let (one, two) = (&scores[0], &scores[1]);
        assert_eq!((one.n, one.mae, one.bias, one.coverage), (1, 1.0, 1.0, 1.0));
        assert_eq!((two.mae, two.bias, two.coverage), (1.0, -1.0, 0.0));
        // Carried forward: 10 against 12 and 14; last week: 10 against 12 and 14.
        assert_eq!(
            (one.mae_carried_forward, two.mae_carried_forward),
            (2.0, 4.0)
        );
        assert_eq!((one.mae_last_week, two.mae_last_week), (2.0, 4.0));
        assert_eq!(two.skill_ratio(), 0.25);
    }
}
