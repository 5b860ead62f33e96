//! One operation (a theatre case) as the operating-room and recovery pictures read it:
//! where it is in its course, what was planned and what happened.
//!
//! The course is the source's (the operation list's phase), not guessed from the
//! clock: a case still waiting after its planned start is late, not in theatre.

use jiff::{SignedDuration, Timestamp};

/// Where a case is in its course.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Booked, not yet on its way.
    Waiting,
    /// On the way to the theatre.
    ToTheatre,
    /// In the operating room.
    InOperation,
    /// In a recovery bay.
    InRecovery,
    /// Out of recovery: to a ward, a rehabilitation hospital or home.
    LeftRecovery,
}

impl Phase {
    /// Not yet in the operating room.
    pub fn not_started(self) -> bool {
        matches!(self, Phase::Waiting | Phase::ToTheatre)
    }
}

/// Where a patient goes from recovery.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Destination {
    Home,
    /// A unit (ward, rehabilitation hospital ward): its Location id.
    Unit(String),
    /// The source did not say.
    Unknown,
}

impl Destination {
    /// The flow target's name: `home`, the unit's id, or `unknown`.
    pub fn label(&self) -> &str {
        match self {
            Destination::Home => "home",
            Destination::Unit(id) => id,
            Destination::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The pseudonymous case number (never a name or identity code).
    pub case: String,
    /// The operating room's Location id.
    pub room: String,
    pub cancelled: bool,
    pub phase: Phase,
    pub planned_start: Timestamp,
    pub planned_end: Timestamp,
    /// When the operation really began and ended (the patient's arrival in
    /// recovery follows the end).
    pub actual_start: Option<Timestamp>,
    pub actual_end: Option<Timestamp>,
    /// The recovery bay's Location id, once the patient has one.
    pub bay: Option<String>,
    /// When the patient was ready to leave recovery.
    pub ready_at: Option<Timestamp>,
    /// When the patient left recovery.
    pub left_at: Option<Timestamp>,
    pub destination: Destination,
}

impl Operation {
    /// The planned length of the operation.
    pub fn planned_length(&self) -> SignedDuration {
        self.planned_end.duration_since(self.planned_start)
    }

    /// When the operation is expected to end: as planned when it has not begun, its
    /// real start plus the planned length once it has (a late start ends late).
    pub fn expected_end(&self) -> Timestamp {
        match (self.phase, self.actual_start) {
            (Phase::InOperation, Some(start)) => start
                .checked_add(self.planned_length())
                .unwrap_or(self.planned_end),
            _ => self.planned_end,
        }
    }

    /// Counts for the pictures at all: cancelled cases do not.
    pub fn live(&self) -> bool {
        !self.cancelled
    }
}

#[cfg(test)]
pub(crate) mod sample {
    use super::*;

    pub fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    /// A booked case in `room` planned `[start, end)`.
    pub fn booked(case: &str, room: &str, start: &str, end: &str) -> Operation {
        Operation {
            case: case.into(),
            room: room.into(),
            cancelled: false,
            phase: Phase::Waiting,
            planned_start: at(start),
            planned_end: at(end),
            actual_start: None,
            actual_end: None,
            bay: None,
            ready_at: None,
            left_at: None,
            destination: Destination::Unknown,
        }
    }
}
