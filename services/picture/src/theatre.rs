//! An operating room (DESIGN.md): state now (free, in use, cleaning, closed), the
//! current case and its planned end, the next case, cases left today, use today.
//!
//! Definitions:
//! - *closed*: the room is closed (its Location inactive or closed) or a closure
//!   window (maintenance, no staff) covers now. Closed wins over everything else.
//! - *in use*: a case is in the operating room (its phase says so).
//! - *cleaning*: no case is in the room and the last case left it less than
//!   [`CLEANING`] ago — the turnover the operation lists plan between cases.
//! - *free*: none of those.
//! - *next case*: of the cases not yet started (waiting or on the way to the
//!   theatre) and planned to start today or later, the one planned first. A late
//!   case (its planned start passed) is still the next one.
//! - *cases left today*: cases planned to start today that have not started.
//! - *use today*: minutes of today, up to now, that cases were in the room;
//!   *planned today*: the planned minutes of the cases planned to start today.
//!
//! Cancelled cases count nowhere.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::LocalDay;
use crate::operation::{Operation, Phase};

/// The turnover after a case during which the room counts as being cleaned.
pub const CLEANING: SignedDuration = SignedDuration::from_mins(30);

/// What the room's own records say of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Room {
    /// The room is out of use (Location inactive, or operational status closed).
    pub closed: bool,
    /// Windows the room is closed: `[start, end)`.
    pub closures: Vec<(Timestamp, Timestamp)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoomState {
    Free,
    InUse,
    Cleaning,
    Closed,
}

/// An operating room's figures (camelCase on the wire; the snake_case aliases read
/// pictures stored before). Optional values are `null`, never absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperatingRoomFigures {
    pub state: RoomState,
    #[serde(alias = "current_case", deserialize_with = "crate::wire::present")]
    pub current_case: Option<String>,
    /// The current case's planned end, as booked.
    #[serde(
        alias = "current_planned_end",
        deserialize_with = "crate::wire::present"
    )]
    pub current_planned_end: Option<Timestamp>,
    /// Its real start plus its planned length (a late start ends late).
    #[serde(
        alias = "current_expected_end",
        deserialize_with = "crate::wire::present"
    )]
    pub current_expected_end: Option<Timestamp>,
    #[serde(alias = "next_case", deserialize_with = "crate::wire::present")]
    pub next_case: Option<String>,
    #[serde(
        alias = "next_planned_start",
        deserialize_with = "crate::wire::present"
    )]
    pub next_planned_start: Option<Timestamp>,
    #[serde(alias = "cases_left_today")]
    pub cases_left_today: u32,
    #[serde(alias = "cases_done_today")]
    pub cases_done_today: u32,
    #[serde(alias = "use_today_minutes")]
    pub use_today_minutes: u32,
    #[serde(alias = "planned_today_minutes")]
    pub planned_today_minutes: u32,
}

/// The figures of one operating room with its `cases` at `now`, "today" in `zone`.
pub fn operating_room_figures(
    room: &Room,
    cases: &[Operation],
    now: Timestamp,
    zone: &TimeZone,
) -> OperatingRoomFigures {
    let live: Vec<&Operation> = cases.iter().filter(|c| c.live()).collect();
    let today = LocalDay::of(now, zone, 0);
    let is_today = |t: Timestamp| today.is_some_and(|d| d.contains(t));
    let current = live
        .iter()
        .filter(|c| c.phase == Phase::InOperation)
        .min_by_key(|c| (c.actual_start.unwrap_or(c.planned_start), c.case.as_str()));
    let next = live
        .iter()
        .filter(|c| c.phase.not_started())
        .filter(|c| today.is_none_or(|d| c.planned_start >= d.start))
        .min_by_key(|c| (c.planned_start, c.case.as_str()));
    let last_out = live
        .iter()
        .filter(|c| !matches!(c.phase, Phase::InOperation) && !c.phase.not_started())
        .filter_map(|c| c.actual_end)
        .filter(|end| *end <= now)
        .max();
    let closed = room.closed
        || room
            .closures
            .iter()
            .any(|(start, end)| *start <= now && now < *end);
    let state = if closed {
        RoomState::Closed
    } else if current.is_some() {
        RoomState::InUse
    } else if last_out.is_some_and(|end| now.duration_since(end) < CLEANING) {
        RoomState::Cleaning
    } else {
        RoomState::Free
    };
    let planned_today: Vec<&&Operation> =
        live.iter().filter(|c| is_today(c.planned_start)).collect();
    OperatingRoomFigures {
        state,
        current_case: current.map(|c| c.case.clone()),
        current_planned_end: current.map(|c| c.planned_end),
        current_expected_end: current.map(|c| c.expected_end()),
        next_case: next.map(|c| c.case.clone()),
        next_planned_start: next.map(|c| c.planned_start),
        cases_left_today: planned_today
            .iter()
            .filter(|c| c.phase.not_started())
            .count() as u32,
        cases_done_today: live
            .iter()
            .filter(|c| c.phase != Phase::InOperation)
            .filter(|c| c.actual_end.is_some_and(|end| end <= now && is_today(end)))
            .count() as u32,
        use_today_minutes: today.map_or(0, |d| use_minutes(&live, d, now)),
        planned_today_minutes: planned_today
            .iter()
            .map(|c| c.planned_length().as_mins().max(0))
            .sum::<i64>() as u32,
    }
}

/// Minutes of `[day.start, now)` that cases were in the room.
fn use_minutes(cases: &[&Operation], day: LocalDay, now: Timestamp) -> u32 {
    let seconds: i64 = cases
        .iter()
        .filter_map(|c| {
            let start = c.actual_start?;
            let end = match c.phase {
                Phase::InOperation => now,
                _ => c.actual_end?,
            };
            let (from, to) = (start.max(day.start), end.min(now).min(day.end));
            (from < to).then(|| to.duration_since(from).as_secs())
        })
        .sum();
    (seconds / 60) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operation::sample::{at, booked};

    fn helsinki() -> TimeZone {
        TimeZone::get("Europe/Helsinki").unwrap()
    }

    /// Helsinki is UTC+2 in winter: 08:00 local is 06:00Z.
    fn list() -> Vec<Operation> {
        let mut done = booked(
            "T-1",
            "sali1",
            "2026-11-30T06:00:00Z",
            "2026-11-30T07:30:00Z",
        );
        done.phase = Phase::LeftRecovery;
        done.actual_start = Some(at("2026-11-30T06:10:00Z"));
        done.actual_end = Some(at("2026-11-30T07:40:00Z"));
        let mut current = booked(
            "T-2",
            "sali1",
            "2026-11-30T08:00:00Z",
            "2026-11-30T09:00:00Z",
        );
        current.phase = Phase::InOperation;
        current.actual_start = Some(at("2026-11-30T08:20:00Z"));
        let mut on_the_way = booked(
            "T-3",
            "sali1",
            "2026-11-30T09:30:00Z",
            "2026-11-30T10:30:00Z",
        );
        on_the_way.phase = Phase::ToTheatre;
        let later = booked(
            "T-4",
            "sali1",
            "2026-11-30T11:00:00Z",
            "2026-11-30T12:00:00Z",
        );
        let mut cancelled = booked(
            "T-5",
            "sali1",
            "2026-11-30T09:00:00Z",
            "2026-11-30T09:10:00Z",
        );
        cancelled.cancelled = true;
        let tomorrow = booked(
            "T-6",
            "sali1",
            "2026-12-01T06:00:00Z",
            "2026-12-01T07:00:00Z",
        );
        vec![tomorrow, later, cancelled, on_the_way, current, done]
    }

    #[test]
    fn a_room_in_use_with_its_current_and_next_case() {
        let now = at("2026-11-30T08:50:00Z");
        let f = operating_room_figures(&Room::default(), &list(), now, &helsinki());
        assert_eq!(f.state, RoomState::InUse);
        assert_eq!(f.current_case.as_deref(), Some("T-2"));
        assert_eq!(f.current_planned_end, Some(at("2026-11-30T09:00:00Z")));
        // Began 20 minutes late, planned for an hour.
        assert_eq!(f.current_expected_end, Some(at("2026-11-30T09:20:00Z")));
        assert_eq!(f.next_case.as_deref(), Some("T-3"));
        assert_eq!(f.next_planned_start, Some(at("2026-11-30T09:30:00Z")));
        // T-3 and T-4; not the current case, the cancelled one, or tomorrow's.
        assert_eq!(f.cases_left_today, 2);
        assert_eq!(f.cases_done_today, 1);
        // T-1 06:10–07:40 (90) and T-2 08:20–now 08:50 (30).
        assert_eq!(f.use_today_minutes, 120);
        // 90 + 60 + 60 + 60 planned for today; the cancelled case not.
        assert_eq!(f.planned_today_minutes, 270);
    }

    #[test]
    fn cleaning_after_a_case_then_free() {
        let mut cases = list();
        cases.retain(|c| c.case != "T-2");
        let f = operating_room_figures(
            &Room::default(),
            &cases,
            at("2026-11-30T07:55:00Z"),
            &helsinki(),
        );
        assert_eq!(f.state, RoomState::Cleaning);
        assert_eq!(f.current_case, None);
        let f = operating_room_figures(
            &Room::default(),
            &cases,
            at("2026-11-30T08:10:00Z"),
            &helsinki(),
        );
        // Exactly 30 minutes after the last case left: cleaning is over.
        assert_eq!(f.state, RoomState::Free);
    }

    #[test]
    fn closed_wins_over_a_case_in_the_room() {
        let now = at("2026-11-30T08:50:00Z");
        let closed = Room {
            closed: true,
            closures: vec![],
        };
        assert_eq!(
            operating_room_figures(&closed, &list(), now, &helsinki()).state,
            RoomState::Closed
        );
        let window = Room {
            closed: false,
            closures: vec![(at("2026-11-30T08:00:00Z"), at("2026-11-30T08:50:00Z"))],
        };
        // The closure ended exactly now: the room is in use again.
        assert_eq!(
            operating_room_figures(&window, &list(), now, &helsinki()).state,
            RoomState::InUse
        );
    }

    #[test]
    fn a_late_case_is_still_next_and_yesterdays_are_not() {
        let mut yesterday = booked(
            "T-0",
            "sali1",
            "2026-11-29T06:00:00Z",
            "2026-11-29T07:00:00Z",
        );
        yesterday.phase = Phase::Waiting; // never updated by the source
        let late = booked(
            "T-7",
            "sali1",
            "2026-11-30T06:00:00Z",
            "2026-11-30T07:00:00Z",
        );
        let f = operating_room_figures(
            &Room::default(),
            &[yesterday, late],
            at("2026-11-30T07:30:00Z"),
            &helsinki(),
        );
        assert_eq!(f.state, RoomState::Free);
        assert_eq!(f.next_case.as_deref(), Some("T-7"));
        assert_eq!(f.cases_left_today, 1);
        assert_eq!(f.use_today_minutes, 0);
    }

    #[test]
    fn use_today_starts_at_local_midnight_on_a_dst_day() {
        // 25 October 2026, the clocks go back in Helsinki: local midnight is 21:00Z on
        // the 24th (UTC+3) and the day lasts 25 hours. A case across midnight counts
        // only from midnight.
        let mut night = booked(
            "T-8",
            "sali1",
            "2026-10-24T20:00:00Z",
            "2026-10-24T22:00:00Z",
        );
        night.phase = Phase::InRecovery;
        night.actual_start = Some(at("2026-10-24T20:00:00Z"));
        night.actual_end = Some(at("2026-10-24T22:00:00Z"));
        let f = operating_room_figures(
            &Room::default(),
            &[night],
            at("2026-10-25T10:00:00Z"),
            &helsinki(),
        );
        assert_eq!(f.use_today_minutes, 60);
        assert_eq!(f.cases_done_today, 1);
        // Planned to start on the 24th local time (23:00 +03:00): not today's.
        assert_eq!(f.planned_today_minutes, 0);
    }
}
