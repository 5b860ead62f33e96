//! A recovery unit (DESIGN.md): bays occupied and free, expected arrivals per hour
//! from the theatres' planned case ends, patients ready to leave but waiting for a
//! ward bed, and today's flows from where to where.
//!
//! Definitions:
//! - a bay is *occupied* when a case in recovery is in it; *free* when it is open
//!   and not occupied; a closed bay is neither free nor, unless a patient is still in
//!   it, occupied.
//! - *patients*: cases in recovery in this unit's bays.
//! - *waiting for a ward bed*: of those, the ones ready to leave whose destination
//!   is not home.
//! - *expected arrivals*: the cases of the theatres this unit serves that have not
//!   reached recovery (not started, or in the operating room), counted by the local
//!   hour of their expected end ([`Operation::expected_end`]) over the next
//!   [`ARRIVAL_HOURS`] hours, the current one first; a case already past its
//!   expected end counts in the current hour.
//! - *flows today*: theatre → this unit for each case that arrived in one of its bays
//!   today; this unit → destination (a unit's id, `home` or `unknown`) for each that
//!   left today. "Today" is the local day in the unit's zone.

use std::collections::{BTreeMap, BTreeSet};

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::LocalDay;
use crate::operation::{Destination, Operation, Phase};

/// How many hours ahead arrivals are counted.
pub const ARRIVAL_HOURS: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bay {
    pub id: String,
    pub name: Option<String>,
    pub closed: bool,
}

/// A recovery unit, its bays and the operating rooms whose patients come to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryUnit {
    pub id: String,
    pub bays: Vec<Bay>,
    pub theatres: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HourCount {
    #[serde(alias = "hour_start")]
    pub hour_start: Timestamp,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Flow {
    pub from: String,
    pub to: String,
    pub count: u32,
}

/// One bay as the wall display shows it: who (as a case number) is in it since when,
/// and whether they are ready to leave and to where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BayState {
    pub id: String,
    #[serde(deserialize_with = "crate::wire::present")]
    pub name: Option<String>,
    pub closed: bool,
    /// The pseudonymous case number of the patient in the bay, if any.
    #[serde(deserialize_with = "crate::wire::present")]
    pub case: Option<String>,
    /// The operating room the patient came from.
    #[serde(alias = "from_room", deserialize_with = "crate::wire::present")]
    pub from_room: Option<String>,
    /// When the patient arrived (the operation's end): time in recovery runs from it.
    #[serde(alias = "arrived_at", deserialize_with = "crate::wire::present")]
    pub arrived_at: Option<Timestamp>,
    /// When the patient became ready to leave.
    #[serde(alias = "ready_at", deserialize_with = "crate::wire::present")]
    pub ready_at: Option<Timestamp>,
    /// Where the patient goes next (a unit's id, `home`, `unknown`), once ready.
    #[serde(deserialize_with = "crate::wire::present")]
    pub destination: Option<String>,
}

/// A recovery unit's figures (camelCase on the wire; the snake_case aliases read
/// pictures stored before).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryFigures {
    #[serde(alias = "bays_total")]
    pub bays_total: u32,
    #[serde(alias = "bays_closed")]
    pub bays_closed: u32,
    #[serde(alias = "bays_occupied")]
    pub bays_occupied: u32,
    #[serde(alias = "bays_free")]
    pub bays_free: u32,
    pub patients: u32,
    #[serde(alias = "waiting_for_ward_bed")]
    pub waiting_for_ward_bed: u32,
    #[serde(alias = "expected_arrivals")]
    pub expected_arrivals: Vec<HourCount>,
    #[serde(alias = "flows_today")]
    pub flows_today: Vec<Flow>,
    /// The operating rooms whose patients come here.
    pub theatres: Vec<String>,
    /// Every bay in the unit's order, occupied or not.
    pub bays: Vec<BayState>,
}

/// The figures of `unit` at `now` from `cases` (any cases: those of other units and
/// theatres are left out here), "today" and hours in `zone`.
pub fn recovery_figures(
    unit: &RecoveryUnit,
    cases: &[Operation],
    now: Timestamp,
    zone: &TimeZone,
) -> RecoveryFigures {
    let bays: BTreeSet<&str> = unit.bays.iter().map(|b| b.id.as_str()).collect();
    let theatres: BTreeSet<&str> = unit.theatres.iter().map(String::as_str).collect();
    let live = || cases.iter().filter(|c| c.live());
    let here = || live().filter(|c| c.bay.as_deref().is_some_and(|b| bays.contains(b)));
    let in_recovery: Vec<&Operation> = here().filter(|c| c.phase == Phase::InRecovery).collect();
    let occupied: BTreeSet<&str> = in_recovery
        .iter()
        .filter_map(|c| c.bay.as_deref())
        .collect();
    let bays_closed = unit.bays.iter().filter(|b| b.closed).count() as u32;
    let bays_free = unit
        .bays
        .iter()
        .filter(|b| !b.closed && !occupied.contains(b.id.as_str()))
        .count() as u32;
    let coming = live()
        .filter(|c| theatres.contains(c.room.as_str()))
        .filter(|c| c.phase.not_started() || c.phase == Phase::InOperation);
    let today = LocalDay::of(now, zone, 0);
    let is_today =
        |t: Option<Timestamp>| t.is_some_and(|t| t <= now && today.is_some_and(|d| d.contains(t)));
    let mut flows: BTreeMap<(String, String), u32> = BTreeMap::new();
    for case in here() {
        if is_today(case.actual_end) {
            *flows
                .entry((case.room.clone(), unit.id.clone()))
                .or_default() += 1;
        }
        if case.phase == Phase::LeftRecovery && is_today(case.left_at) {
            let to = case.destination.label().to_owned();
            *flows.entry((unit.id.clone(), to)).or_default() += 1;
        }
    }
    RecoveryFigures {
        bays_total: unit.bays.len() as u32,
        bays_closed,
        bays_occupied: occupied.len() as u32,
        bays_free,
        patients: in_recovery.len() as u32,
        waiting_for_ward_bed: in_recovery
            .iter()
            .filter(|c| c.ready_at.is_some_and(|t| t <= now))
            .filter(|c| c.destination != Destination::Home)
            .count() as u32,
        expected_arrivals: arrivals_by_hour(coming, now, zone),
        flows_today: flows
            .into_iter()
            .map(|((from, to), count)| Flow { from, to, count })
            .collect(),
        theatres: unit.theatres.clone(),
        bays: unit
            .bays
            .iter()
            .map(|bay| bay_state(bay, &in_recovery, now))
            .collect(),
    }
}

/// What `bay` holds now, from the cases in recovery.
fn bay_state(bay: &Bay, in_recovery: &[&Operation], now: Timestamp) -> BayState {
    let case = in_recovery
        .iter()
        .find(|c| c.bay.as_deref() == Some(bay.id.as_str()));
    let ready_at = case.and_then(|c| c.ready_at).filter(|t| *t <= now);
    BayState {
        id: bay.id.clone(),
        name: bay.name.clone(),
        closed: bay.closed,
        case: case.map(|c| c.case.clone()),
        from_room: case.map(|c| c.room.clone()),
        arrived_at: case.and_then(|c| c.actual_end),
        ready_at,
        destination: case
            .filter(|_| ready_at.is_some())
            .map(|c| c.destination.label().to_owned()),
    }
}

/// Counts the expected ends of `coming` by local hour, the current hour first.
fn arrivals_by_hour<'a>(
    coming: impl Iterator<Item = &'a Operation>,
    now: Timestamp,
    zone: &TimeZone,
) -> Vec<HourCount> {
    let first = hour_start(now, zone);
    let mut hours: Vec<HourCount> = (0..ARRIVAL_HOURS as i64)
        .map(|h| HourCount {
            hour_start: first
                .checked_add(SignedDuration::from_hours(h))
                .unwrap_or(first),
            count: 0,
        })
        .collect();
    for case in coming {
        let end = case.expected_end().max(first);
        let hour = end.duration_since(first).as_hours();
        if let Some(slot) = usize::try_from(hour).ok().and_then(|h| hours.get_mut(h)) {
            slot.count += 1;
        }
    }
    hours
}

/// The start of the local hour `now` falls in. Whole hours from it are whole local
/// hours in every zone whose offsets are whole hours (all of Finland's and Europe's).
fn hour_start(now: Timestamp, zone: &TimeZone) -> Timestamp {
    let local = now.to_zoned_datetime(zone.clone());
    let into_hour =
        SignedDuration::from_secs(i64::from(local.minute()) * 60 + i64::from(local.second()))
            + SignedDuration::from_nanos(i64::from(local.subsec_nanosecond()));
    now.checked_sub(into_hour).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operation::sample::{at, booked};

    fn helsinki() -> TimeZone {
        TimeZone::get("Europe/Helsinki").unwrap()
    }

    fn unit() -> RecoveryUnit {
        RecoveryUnit {
            id: "her".into(),
            bays: (1..=4)
                .map(|i| Bay {
                    id: format!("bay{i}"),
                    name: Some(format!("Paikka {i}")),
                    closed: i == 4,
                })
                .collect(),
            theatres: vec!["sali1".into(), "sali2".into()],
        }
    }

    fn in_recovery(
        case: &str,
        bay: &str,
        arrived: &str,
        ready: Option<&str>,
        to: Destination,
    ) -> Operation {
        let mut c = booked(
            case,
            "sali1",
            "2026-11-30T06:00:00Z",
            "2026-11-30T07:00:00Z",
        );
        c.phase = Phase::InRecovery;
        c.actual_start = Some(at("2026-11-30T06:00:00Z"));
        c.actual_end = Some(at(arrived));
        c.bay = Some(bay.into());
        c.ready_at = ready.map(at);
        c.destination = to;
        c
    }

    #[test]
    fn bays_patients_and_those_waiting_for_a_ward_bed() {
        let now = at("2026-11-30T10:00:00Z");
        let ward = || Destination::Unit("ward1".into());
        let cases = vec![
            // Ready an hour ago, going to a ward: waiting for a bed.
            in_recovery(
                "T-1",
                "bay1",
                "2026-11-30T07:00:00Z",
                Some("2026-11-30T09:00:00Z"),
                ward(),
            ),
            // Ready, going home: not waiting for a bed.
            in_recovery(
                "T-2",
                "bay2",
                "2026-11-30T07:30:00Z",
                Some("2026-11-30T09:30:00Z"),
                Destination::Home,
            ),
            // Not ready yet.
            in_recovery("T-3", "bay3", "2026-11-30T09:00:00Z", None, ward()),
            // In another unit's bay: not ours.
            in_recovery(
                "T-4",
                "other-bay",
                "2026-11-30T09:00:00Z",
                Some("2026-11-30T09:00:00Z"),
                ward(),
            ),
        ];
        let f = recovery_figures(&unit(), &cases, now, &helsinki());
        assert_eq!(
            (f.bays_total, f.bays_closed, f.bays_occupied, f.bays_free),
            (4, 1, 3, 0)
        );
        assert_eq!(f.patients, 3);
        assert_eq!(f.waiting_for_ward_bed, 1);
        // Each bay as the display shows it, in the unit's order.
        let bay = |i: usize| &f.bays[i];
        assert_eq!(f.bays.len(), 4);
        assert_eq!(
            (bay(0).case.as_deref(), bay(0).from_room.as_deref()),
            (Some("T-1"), Some("sali1"))
        );
        assert_eq!(bay(0).arrived_at, Some(at("2026-11-30T07:00:00Z")));
        assert_eq!(bay(0).ready_at, Some(at("2026-11-30T09:00:00Z")));
        assert_eq!(bay(0).destination.as_deref(), Some("ward1"));
        assert_eq!(bay(1).destination.as_deref(), Some("home"));
        // Not ready: no destination shown yet.
        assert_eq!(
            (bay(2).case.as_deref(), bay(2).ready_at),
            (Some("T-3"), None)
        );
        assert_eq!(bay(2).destination, None);
        // The closed bay is empty; the other unit's case is not in any of ours.
        assert!(bay(3).closed && bay(3).case.is_none());
        assert!(f.bays.iter().all(|b| b.case.as_deref() != Some("T-4")));
        assert_eq!(f.theatres, vec!["sali1".to_owned(), "sali2".to_owned()]);
    }

    #[test]
    fn arrivals_by_the_local_hour_of_the_expected_end() {
        // 10:20Z is 12:20 in Helsinki; the current hour began at 10:00Z.
        let now = at("2026-11-30T10:20:00Z");
        let mut overdue = booked("A", "sali1", "2026-11-30T08:00:00Z", "2026-11-30T09:30:00Z");
        overdue.phase = Phase::InOperation;
        overdue.actual_start = Some(at("2026-11-30T08:00:00Z"));
        let mut late_start = booked("B", "sali2", "2026-11-30T09:00:00Z", "2026-11-30T10:30:00Z");
        late_start.phase = Phase::InOperation;
        late_start.actual_start = Some(at("2026-11-30T10:00:00Z")); // ends 11:30Z
        let planned = booked("C", "sali1", "2026-11-30T11:00:00Z", "2026-11-30T11:45:00Z");
        let beyond = booked("D", "sali1", "2026-11-30T19:00:00Z", "2026-11-30T20:00:00Z");
        let elsewhere = booked("E", "sali9", "2026-11-30T10:00:00Z", "2026-11-30T10:30:00Z");
        let mut cancelled = booked("F", "sali1", "2026-11-30T10:00:00Z", "2026-11-30T10:40:00Z");
        cancelled.cancelled = true;
        let f = recovery_figures(
            &unit(),
            &[overdue, late_start, planned, beyond, elsewhere, cancelled],
            now,
            &helsinki(),
        );
        assert_eq!(f.expected_arrivals.len(), ARRIVAL_HOURS);
        assert_eq!(
            f.expected_arrivals[0].hour_start,
            at("2026-11-30T10:00:00Z")
        );
        let counts: Vec<u32> = f.expected_arrivals.iter().map(|h| h.count).collect();
        assert_eq!(counts, vec![1, 2, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn hours_follow_the_local_clock_across_the_dst_change() {
        // 25 October 2026 03:30 local after the change back (UTC+2) is 01:30Z; the
        // hour began at 01:00Z.
        let f = recovery_figures(&unit(), &[], at("2026-10-25T01:30:00Z"), &helsinki());
        assert_eq!(
            f.expected_arrivals[0].hour_start,
            at("2026-10-25T01:00:00Z")
        );
        assert_eq!(
            f.expected_arrivals[1].hour_start,
            at("2026-10-25T02:00:00Z")
        );
    }

    #[test]
    fn flows_from_theatres_through_recovery_today() {
        let now = at("2026-11-30T12:00:00Z");
        let mut home = in_recovery(
            "T-1",
            "bay1",
            "2026-11-30T07:00:00Z",
            Some("2026-11-30T08:00:00Z"),
            Destination::Home,
        );
        home.phase = Phase::LeftRecovery;
        home.left_at = Some(at("2026-11-30T08:00:00Z"));
        let mut to_ward = in_recovery(
            "T-2",
            "bay2",
            "2026-11-30T08:00:00Z",
            None,
            Destination::Unit("ward1".into()),
        );
        to_ward.room = "sali2".into();
        to_ward.phase = Phase::LeftRecovery;
        to_ward.left_at = Some(at("2026-11-30T11:00:00Z"));
        let still_here = in_recovery(
            "T-3",
            "bay3",
            "2026-11-30T11:00:00Z",
            None,
            Destination::Home,
        );
        // Arrived yesterday (local), left today: only the leaving flow counts today.
        let mut overnight = in_recovery(
            "T-4",
            "bay1",
            "2026-11-29T21:00:00Z",
            None,
            Destination::Unit("ward1".into()),
        );
        overnight.phase = Phase::LeftRecovery;
        overnight.left_at = Some(at("2026-11-29T22:30:00Z")); // 00:30 local on the 30th
        let f = recovery_figures(
            &unit(),
            &[home, to_ward, still_here, overnight],
            now,
            &helsinki(),
        );
        let flow = |from: &str, to: &str, count| Flow {
            from: from.into(),
            to: to.into(),
            count,
        };
        assert_eq!(
            f.flows_today,
            vec![
                flow("her", "home", 1),
                flow("her", "ward1", 2),
                flow("sali1", "her", 2),
                flow("sali2", "her", 1),
            ]
        );
    }
}
