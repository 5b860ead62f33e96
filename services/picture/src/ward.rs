//! A ward's figures (DESIGN.md, "The situational picture"): beds total, closed,
//! occupied, reserved, free now, freeing today and tomorrow, over-capacity patients,
//! patients and occupancy %.
//!
//! Definitions, so that every screen counts the same way:
//! - *beds* are the ward's regular places; over-capacity places (*ylipaikat*) are not
//!   beds, but patients in them are patients;
//! - a place is *occupied* when a stay covers now, *reserved* when a hold covers now and
//!   no stay does (a hold past its expiry holds nothing);
//! - *open* beds are beds not closed; *free now* = open − occupied − reserved;
//! - *freeing today / tomorrow*: occupied open beds whose stay ends (its planned
//!   discharge while open) later today / tomorrow in the unit's time zone; a stay
//!   ending exactly at midnight frees its bed on the day that ends then (a planned
//!   discharge *date* is written as the end of that day);
//! - *occupancy %* = patients / open beds, none when no bed is open.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::day::LocalDay;

/// A place of the ward: a bed or an over-capacity place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub id: String,
    pub over_capacity: bool,
    pub closed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OccupancyKind {
    /// A stay (a `busy` Slot).
    Occupied,
    /// A hold for an incoming patient (a `busy-tentative` Slot), until its end.
    Reserved,
}

/// Something in a place from `start` until `end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occupancy {
    pub place: String,
    pub kind: OccupancyKind,
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Occupancy {
    pub fn covers(&self, now: Timestamp) -> bool {
        self.start <= now && now < self.end
    }
}

/// A ward's figures as the API serves them (camelCase, like FHIR) and as the store
/// keeps them in a unit's picture. The snake_case aliases read pictures stored before
/// the API took one casing. Every field is required: a picture missing one is an
/// error for its reader, never a silent 0.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WardFigures {
    #[serde(alias = "beds_total")]
    pub beds_total: u32,
    #[serde(alias = "beds_closed")]
    pub beds_closed: u32,
    #[serde(alias = "beds_open")]
    pub beds_open: u32,
    pub occupied: u32,
    pub reserved: u32,
    #[serde(alias = "free_now")]
    pub free_now: u32,
    #[serde(alias = "freeing_today")]
    pub freeing_today: u32,
    #[serde(alias = "freeing_tomorrow")]
    pub freeing_tomorrow: u32,
    #[serde(alias = "over_capacity_patients")]
    pub over_capacity_patients: u32,
    pub patients: u32,
    /// Patients per open bed, in per cent; `None` (JSON `null`) when no bed is open.
    #[serde(alias = "occupancy_percent", deserialize_with = "crate::wire::present")]
    pub occupancy_percent: Option<f64>,
}

/// The figures of a ward with `places`, given what occupies them, at `now` in `zone`.
pub fn ward_figures(
    places: &[Place],
    occupancy: &[Occupancy],
    now: Timestamp,
    zone: &TimeZone,
) -> WardFigures {
    let today = LocalDay::of(now, zone, 0);
    let tomorrow = LocalDay::of(now, zone, 1);
    let mut f = WardFigures::default();
    for place in places {
        let stay = occupancy
            .iter()
            .filter(|o| o.place == place.id && o.kind == OccupancyKind::Occupied && o.covers(now))
            .max_by_key(|o| o.end);
        let held = occupancy
            .iter()
            .any(|o| o.place == place.id && o.kind == OccupancyKind::Reserved && o.covers(now));
        if stay.is_some() {
            f.patients += 1;
        }
        if place.over_capacity {
            f.over_capacity_patients += u32::from(stay.is_some());
            continue;
        }
        f.beds_total += 1;
        if place.closed {
            f.beds_closed += 1;
            continue;
        }
        f.beds_open += 1;
        match stay {
            Some(stay) => {
                f.occupied += 1;
                // The last instant of the stay decides its day.
                let last = stay
                    .end
                    .checked_sub(jiff::SignedDuration::from_nanos(1))
                    .unwrap_or(stay.end);
                if today.is_some_and(|d| d.contains(last)) {
                    f.freeing_today += 1;
                } else if tomorrow.is_some_and(|d| d.contains(last)) {
                    f.freeing_tomorrow += 1;
                }
            }
            None if held => f.reserved += 1,
            None => f.free_now += 1,
        }
    }
    f.occupancy_percent =
        (f.beds_open > 0).then(|| 100.0 * f64::from(f.patients) / f64::from(f.beds_open));
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn helsinki() -> TimeZone {
        TimeZone::get("Europe/Helsinki").unwrap()
    }

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn bed(id: &str) -> Place {
        Place {
            id: id.into(),
            over_capacity: false,
            closed: false,
        }
    }

    fn stay(place: &str, start: &str, end: &str) -> Occupancy {
        Occupancy {
            place: place.into(),
            kind: OccupancyKind::Occupied,
            start: t(start),
            end: t(end),
        }
    }

    fn hold(place: &str, start: &str, end: &str) -> Occupancy {
        Occupancy {
            place: place.into(),
            kind: OccupancyKind::Reserved,
            start: t(start),
            end: t(end),
        }
    }

    #[test]
    fn every_figure_of_an_ordinary_day() {
        // Monday 2026-11-30 12:00 local (10:00Z).
        let now = t("2026-11-30T10:00:00Z");
        let mut closed = bed("b5");
        closed.closed = true;
        let places = vec![
            bed("b1"),
            bed("b2"),
            bed("b3"),
            bed("b4"),
            closed,
            bed("b6"),
            Place {
                id: "y1".into(),
                over_capacity: true,
                closed: false,
            },
            Place {
                id: "y2".into(),
                over_capacity: true,
                closed: false,
            },
        ];
        let occupancy = vec![
            stay("b1", "2026-11-28T08:00:00Z", "2026-11-30T21:59:00Z"), // leaves today
            stay("b2", "2026-11-29T08:00:00Z", "2026-12-01T12:00:00Z"), // leaves tomorrow
            stay("b3", "2026-11-29T08:00:00Z", "2026-12-20T12:00:00Z"), // stays on
            stay("b4", "2026-11-20T08:00:00Z", "2026-11-30T09:00:00Z"), // left this morning
            hold("b4", "2026-11-30T09:30:00Z", "2026-11-30T13:30:00Z"), // held for an arrival
            stay("y1", "2026-11-30T02:00:00Z", "2026-12-01T08:00:00Z"), // over capacity
            stay("b6", "2026-12-01T08:00:00Z", "2026-12-03T08:00:00Z"), // arrives tomorrow
        ];
        let f = ward_figures(&places, &occupancy, now, &helsinki());
        assert_eq!(
            f,
            WardFigures {
                beds_total: 6,
                beds_closed: 1,
                beds_open: 5,
                occupied: 3,
                reserved: 1,
                free_now: 1,
                freeing_today: 1,
                freeing_tomorrow: 1,
                over_capacity_patients: 1,
                patients: 4,
                occupancy_percent: Some(80.0),
            }
        );
    }

    #[test]
    fn today_ends_at_local_midnight_on_the_spring_change() {
        // 2026-03-29 has 23 hours: it ends at 21:00Z (00:00 local, +03:00). A stay
        // ending exactly then (a planned discharge date of the 29th) frees its bed on
        // the 29th; one ending a second later, on the 30th.
        let now = t("2026-03-29T20:30:00Z");
        let places = vec![bed("b1"), bed("b2"), bed("b3"), bed("b4")];
        let occupancy = vec![
            stay("b1", "2026-03-28T08:00:00Z", "2026-03-29T20:59:59Z"),
            stay("b2", "2026-03-28T08:00:00Z", "2026-03-29T21:00:00Z"),
            stay("b3", "2026-03-28T08:00:00Z", "2026-03-29T21:00:01Z"),
            stay("b4", "2026-03-28T08:00:00Z", "2026-03-30T21:00:01Z"),
        ];
        let f = ward_figures(&places, &occupancy, now, &helsinki());
        assert_eq!((f.freeing_today, f.freeing_tomorrow), (2, 1));
    }

    #[test]
    fn today_ends_at_local_midnight_on_the_autumn_change() {
        // 2026-10-25 has 25 hours: it starts at 21:00Z on the 24th (+03:00) and ends at
        // 22:00Z on the 25th (+02:00).
        let places = vec![bed("b1"), bed("b2")];
        let occupancy = vec![
            stay("b1", "2026-10-20T08:00:00Z", "2026-10-25T21:59:00Z"),
            stay("b2", "2026-10-20T08:00:00Z", "2026-10-26T21:59:00Z"),
        ];
        // Just after local midnight at the start of the long day.
        let early = ward_figures(&places, &occupancy, t("2026-10-24T21:05:00Z"), &helsinki());
        assert_eq!((early.freeing_today, early.freeing_tomorrow), (1, 1));
        // Late on the long day: still the same day locally.
        let late = ward_figures(&places, &occupancy, t("2026-10-25T21:30:00Z"), &helsinki());
        assert_eq!((late.freeing_today, late.freeing_tomorrow), (1, 1));
    }

    #[test]
    fn a_hold_expires_by_itself_and_a_stay_beats_a_hold() {
        let places = vec![bed("b1"), bed("b2")];
        let occupancy = vec![
            hold("b1", "2026-11-30T08:00:00Z", "2026-11-30T10:00:00Z"),
            hold("b2", "2026-11-30T08:00:00Z", "2026-11-30T12:00:00Z"),
            stay("b2", "2026-11-30T09:00:00Z", "2026-12-02T10:00:00Z"),
        ];
        let held = ward_figures(&places, &occupancy, t("2026-11-30T09:59:59Z"), &helsinki());
        assert_eq!((held.reserved, held.occupied, held.free_now), (1, 1, 0));
        let expired = ward_figures(&places, &occupancy, t("2026-11-30T10:00:00Z"), &helsinki());
        assert_eq!(
            (expired.reserved, expired.occupied, expired.free_now),
            (0, 1, 1)
        );
    }

    #[test]
    fn closed_beds_are_not_open_and_a_ward_with_none_open_has_no_percentage() {
        let mut b1 = bed("b1");
        b1.closed = true;
        let f = ward_figures(
            &[b1],
            &[stay("b1", "2026-11-29T08:00:00Z", "2026-12-01T08:00:00Z")],
            t("2026-11-30T10:00:00Z"),
            &helsinki(),
        );
        assert_eq!(
            (f.beds_total, f.beds_closed, f.beds_open, f.free_now),
            (1, 1, 0, 0)
        );
        assert_eq!(
            f.patients, 1,
            "a patient in a closed bed is still a patient"
        );
        assert_eq!(f.occupancy_percent, None);
        let empty = ward_figures(&[], &[], t("2026-11-30T10:00:00Z"), &helsinki());
        assert_eq!(empty, WardFigures::default());
    }

    #[test]
    fn over_capacity_can_exceed_a_hundred_per_cent() {
        let places = vec![
            bed("b1"),
            Place {
                id: "y1".into(),
                over_capacity: true,
                closed: false,
            },
        ];
        let occupancy = vec![
            stay("b1", "2026-11-29T08:00:00Z", "2026-12-05T08:00:00Z"),
            stay("y1", "2026-11-29T08:00:00Z", "2026-12-05T08:00:00Z"),
        ];
        let f = ward_figures(&places, &occupancy, t("2026-11-30T10:00:00Z"), &helsinki());
        assert_eq!(
            (f.patients, f.over_capacity_patients, f.free_now),
            (2, 1, 0)
        );
        assert_eq!(f.occupancy_percent, Some(200.0));
    }
}
