//! Staff by role or competence (DESIGN.md): on shift now and on the next shift.
//!
//! Definitions: a shift is a PractitionerRole's period at a unit. *On shift now*: the
//! shifts of the role that cover now. *On the next shift*: of the role's shifts that
//! start after now, those that start at the earliest such instant (the next change of
//! shift), however far ahead it is.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shift {
    pub role: String,
    pub start: Timestamp,
    pub end: Timestamp,
}

/// One role's figures (camelCase on the wire; the snake_case aliases read pictures
/// stored before).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StaffFigures {
    pub role: String,
    #[serde(alias = "on_shift_now")]
    pub on_shift_now: u32,
    #[serde(alias = "on_next_shift")]
    pub on_next_shift: u32,
}

/// The figures of `shifts` at `now`, one entry per role, ordered by role.
pub fn staff_figures(shifts: &[Shift], now: Timestamp) -> Vec<StaffFigures> {
    let mut by_role: BTreeMap<&str, Vec<&Shift>> = BTreeMap::new();
    for shift in shifts {
        by_role.entry(shift.role.as_str()).or_default().push(shift);
    }
    by_role
        .into_iter()
        .map(|(role, shifts)| {
            let next_start = shifts.iter().map(|s| s.start).filter(|s| *s > now).min();
            StaffFigures {
                role: role.to_owned(),
                on_shift_now: shifts
                    .iter()
                    .filter(|s| s.start <= now && now < s.end)
                    .count() as u32,
                on_next_shift: shifts
                    .iter()
                    .filter(|s| Some(s.start) == next_start)
                    .count() as u32,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shift(role: &str, start: &str, end: &str) -> Shift {
        Shift {
            role: role.into(),
            start: start.parse().unwrap(),
            end: end.parse().unwrap(),
        }
    }

    #[test]
    fn now_and_the_next_change_of_shift() {
        let now: Timestamp = "2026-11-30T12:00:00Z".parse().unwrap();
        let shifts = [
            shift(
                "sairaanhoitaja",
                "2026-11-30T05:00:00Z",
                "2026-11-30T13:00:00Z",
            ),
            shift(
                "sairaanhoitaja",
                "2026-11-30T05:00:00Z",
                "2026-11-30T13:00:00Z",
            ),
            shift(
                "sairaanhoitaja",
                "2026-11-30T13:00:00Z",
                "2026-11-30T21:00:00Z",
            ),
            // Later than the next change: not on the next shift.
            shift(
                "sairaanhoitaja",
                "2026-11-30T21:00:00Z",
                "2026-12-01T05:00:00Z",
            ),
            // Ended exactly now: off shift.
            shift(
                "lahihoitaja",
                "2026-11-30T04:00:00Z",
                "2026-11-30T12:00:00Z",
            ),
            shift(
                "lahihoitaja",
                "2026-12-01T05:00:00Z",
                "2026-12-01T13:00:00Z",
            ),
        ];
        assert_eq!(
            staff_figures(&shifts, now),
            vec![
                StaffFigures {
                    role: "lahihoitaja".into(),
                    on_shift_now: 0,
                    on_next_shift: 1
                },
                StaffFigures {
                    role: "sairaanhoitaja".into(),
                    on_shift_now: 2,
                    on_next_shift: 1
                },
            ]
        );
    }
}
