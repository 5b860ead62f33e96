//! Alert rules with hysteresis, so that an alert does not flap.
//!
//! A rule watches one figure (free beds now, forecast occupancy % within 12 h, hours
//! until recovery is full, T3 days, …). For a rule that fires *above*: it fires when
//! the figure reaches `fire`, and clears only when the figure has stayed below `clear`
//! (≤ `fire`) for `hold`. A figure wobbling around the threshold therefore fires once;
//! between `clear` and `fire` nothing changes. A rule that fires *below* is the mirror
//! image (free beds below N: fire at ≤ `fire`, clear above `clear` ≥ `fire`). A missing
//! figure (no data) changes nothing.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Direction {
    Above,
    Below,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub id: String,
    pub direction: Direction,
    pub fire: f64,
    pub clear: f64,
    /// How long the figure must stay on the clear side before the alert clears.
    pub hold: SignedDuration,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RuleError {
    #[error("alert rule {id}: the clearing level {clear} is on the wrong side of the firing level {fire} (an alert firing {direction:?} clears {})", if *direction == Direction::Above { "below it" } else { "above it" })]
    WrongSide {
        id: String,
        direction: Direction,
        fire: f64,
        clear: f64,
    },
    #[error("alert rule {id}: levels must be numbers and the hold not negative")]
    Invalid { id: String },
}

impl Rule {
    pub fn new(
        id: &str,
        direction: Direction,
        fire: f64,
        clear: f64,
        hold: SignedDuration,
    ) -> Result<Rule, RuleError> {
        if !fire.is_finite() || !clear.is_finite() || hold.is_negative() {
            return Err(RuleError::Invalid { id: id.into() });
        }
        let right_side = match direction {
            Direction::Above => clear <= fire,
            Direction::Below => clear >= fire,
        };
        if !right_side {
            return Err(RuleError::WrongSide {
                id: id.into(),
                direction,
                fire,
                clear,
            });
        }
        Ok(Rule {
            id: id.into(),
            direction,
            fire,
            clear,
            hold,
        })
    }

    fn fires(&self, value: f64) -> bool {
        match self.direction {
            Direction::Above => value >= self.fire,
            Direction::Below => value <= self.fire,
        }
    }

    fn clearing(&self, value: f64) -> bool {
        match self.direction {
            Direction::Above => value < self.clear,
            Direction::Below => value > self.clear,
        }
    }
}

/// Where a rule stands for one subject (a ward, a unit).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertState {
    /// Since when the alert has been firing.
    pub firing_since: Option<Timestamp>,
    /// Since when the figure has been on the clear side while firing.
    pub clearing_since: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "change")]
pub enum Change {
    Fired { at: Timestamp, value: f64 },
    Cleared { at: Timestamp, value: f64 },
}

/// The rule applied to the figure `value` observed at `at`; the change, if any.
/// Observations must come in time order.
pub fn evaluate(
    rule: &Rule,
    state: &mut AlertState,
    value: Option<f64>,
    at: Timestamp,
) -> Option<Change> {
    let value = value.filter(|v| v.is_finite())?;
    if state.firing_since.is_none() {
        if rule.fires(value) {
            state.firing_since = Some(at);
            state.clearing_since = None;
            return Some(Change::Fired { at, value });
        }
        return None;
    }
    if !rule.clearing(value) {
        state.clearing_since = None;
        return None;
    }
    let since = *state.clearing_since.get_or_insert(at);
    if at.duration_since(since) >= rule.hold {
        *state = AlertState::default();
        return Some(Change::Cleared { at, value });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(minutes: i64) -> Timestamp {
        Timestamp::from_second(1_796_000_000 + minutes * 60).unwrap()
    }

    fn run(rule: &Rule, values: &[(i64, f64)]) -> Vec<String> {
        let mut state = AlertState::default();
        values
            .iter()
            .filter_map(|(m, v)| evaluate(rule, &mut state, Some(*v), t(*m)))
            .map(|c| match c {
                Change::Fired { value, .. } => format!("fired {value}"),
                Change::Cleared { value, .. } => format!("cleared {value}"),
            })
            .collect()
    }

    #[test]
    fn a_wobbling_figure_fires_once() {
        // Forecast occupancy: fire at 95 %, clear below 90 %, no hold.
        let rule = Rule::new(
            "occupancy",
            Direction::Above,
            95.0,
            90.0,
            SignedDuration::ZERO,
        )
        .unwrap();
        let values = [
            (0, 94.0),
            (5, 95.0),
            (10, 94.0),
            (15, 96.0),
            (20, 91.0),
            (25, 89.0),
            (30, 95.5),
        ];
        assert_eq!(
            run(&rule, &values),
            vec!["fired 95", "cleared 89", "fired 95.5"]
        );
    }

    #[test]
    fn clearing_waits_for_the_hold() {
        // Free beds: fire at ≤ 2, clear above 4 held for 30 minutes.
        let rule = Rule::new(
            "free-beds",
            Direction::Below,
            2.0,
            4.0,
            SignedDuration::from_mins(30),
        )
        .unwrap();
        let values = [
            (0, 2.0),
            (10, 5.0),
            (20, 6.0),
            (30, 3.0),
            (40, 5.0),
            (60, 5.0),
            (70, 5.0),
        ];
        // 10–20 on the clear side, broken at 30; again from 40, held 30 min at 70.
        assert_eq!(run(&rule, &values), vec!["fired 2", "cleared 5"]);
        let mut state = AlertState::default();
        evaluate(&rule, &mut state, Some(1.0), t(0));
        assert_eq!(evaluate(&rule, &mut state, None, t(100)), None);
        assert_eq!(state.firing_since, Some(t(0)));
    }

    #[test]
    fn rules_on_the_wrong_side_are_refused() {
        let err = Rule::new("t3", Direction::Above, 14.0, 20.0, SignedDuration::ZERO).unwrap_err();
        assert!(err.to_string().contains("wrong side"), "{err}");
        assert!(Rule::new("x", Direction::Below, f64::NAN, 1.0, SignedDuration::ZERO).is_err());
        assert!(
            Rule::new(
                "x",
                Direction::Below,
                1.0,
                1.0,
                SignedDuration::from_mins(-1)
            )
            .is_err()
        );
    }
}
