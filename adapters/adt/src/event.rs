//! What an ADT message says, read by HL7 position into plain fields.
//!
//! Only what the capacity picture needs is read. Of PID, only what the source's
//! visit-key rule names (`visit_key`): PID-18, or PID-3 turned into a keyed
//! pseudonym at once. The name and everything else of the patient are never read:
//! Ohjaamo keeps no personal data.
//!
//! An A17 (swap) carries two patients: each PID–PV1 group is read as an event of
//! its own ([`AdtEvent::read_pair`]).

use jiff::tz::TimeZone;
use ohjaamo_hl7::Message;

use crate::hl7_time::{self, TimeError};
use crate::visit_key::Reading;

pub use crate::trigger::{Role, Trigger};

/// A point of care as PV1-3 / PV1-6 give it: `unit^room^bed^site`, as keys of the
/// source's registers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointOfCare {
    pub unit: String,
    pub room: String,
    pub bed: String,
    pub site: String,
}

/// One ADT event, read from a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdtEvent {
    pub trigger: Trigger,
    /// MSH-10, for ACKs and logs.
    pub control_id: String,
    /// The stay's first key by the source's rule (PV1-19 by default); empty for an
    /// event that needs none (person data, tracking).
    pub visit: String,
    /// Every key the message offers, in the rule's order (`visit` first): the stay
    /// is looked up by each in turn and keeps them all as identifiers.
    pub keys: Vec<String>,
    /// `patient:<pseudonym>` of PID-3 when the rule uses PID-3 (kept for merges).
    pub patient: Option<String>,
    /// PV1-2: I inpatient, O outpatient, E emergency, P preadmit.
    pub patient_class: String,
    /// PV1-3.
    pub location: Option<PointOfCare>,
    /// PV1-6 (A02: where the patient came from; A12: the location being cancelled).
    pub prior_location: Option<PointOfCare>,
    /// PV1-42, the pending location (A15: where the patient is to be moved).
    pub pending_location: Option<PointOfCare>,
    /// When it happened: EVN-6, else EVN-2, else MSH-7; a FHIR instant.
    pub occurred: String,
    /// EVN-3, the planned time of a pending event (A14, A15, A16).
    pub planned: Option<String>,
    /// PV2-8, the expected admission (A05, A14).
    pub expected_admit: Option<String>,
    /// PV1-44.
    pub admitted: Option<String>,
    /// PV1-45.
    pub discharged: Option<String>,
    /// PV2-9: the planned discharge, a FHIR dateTime (date or instant).
    pub planned_discharge: Option<String>,
    /// PD1-12, the protection order (turvakielto): `Some(true)` for `Y`, `Some(false)`
    /// for `N` (the order is lifted), `None` when the message does not say. Only an
    /// explicit `N` lifts an order: most A02s and A03s carry no PD1 at all, and must
    /// not drop what an earlier message set.
    pub protection: Option<bool>,
    /// A34/A40: the keys merged away (MRG) and the keys they become.
    pub renames: Vec<(String, String)>,
}

/// Why a message cannot be mapped; every variant is permanent (the message is
/// answered `AE` and quarantined) and names what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error(
        "message type {0} is not used by this adapter (it maps the ADT and SIU events of docs/adapters.md)"
    )]
    UnsupportedTrigger(String),
    #[error("{0} is required and missing")]
    Missing(&'static str),
    /// None of the keys of the source's visit-key rule (the text says which).
    #[error("{0}")]
    NoVisitKey(String),
    #[error("{field}: {source}")]
    BadTime {
        field: &'static str,
        source: TimeError,
    },
    #[error("{0}")]
    Inconsistent(String),
}

/// PD1-12 as a yes/no (HL7 table 0136); any other value says nothing.
fn protection_order(value: &str) -> Option<bool> {
    if value.eq_ignore_ascii_case("Y") {
        Some(true)
    } else if value.eq_ignore_ascii_case("N") {
        Some(false)
    } else {
        None
    }
}

impl AdtEvent {
    /// Reads the event from a parsed message, the stay keyed by PV1-19. Times
    /// without an offset are read in `zone`.
    pub fn read(message: &Message, zone: &TimeZone) -> Result<AdtEvent, MappingError> {
        AdtEvent::read_with(message, zone, &Reading::default())
    }

    /// Reads the event, the stay keyed by `reading`'s rule. Of an A17, the first
    /// patient's.
    pub fn read_with(
        message: &Message,
        zone: &TimeZone,
        reading: &Reading,
    ) -> Result<AdtEvent, MappingError> {
        let trigger = trigger_of(message)?;
        read_group(message, zone, reading, trigger, 1)
    }

    /// The two patients of an A17, each as an event.
    pub fn read_pair(
        message: &Message,
        zone: &TimeZone,
        reading: &Reading,
    ) -> Result<[AdtEvent; 2], MappingError> {
        let trigger = trigger_of(message)?;
        if message.segments_named("PV1").count() < 2 {
            return Err(MappingError::Missing(
                "the second patient's PV1 (A17 swaps two patients)",
            ));
        }
        Ok([
            read_group(message, zone, reading, trigger, 1)?,
            read_group(message, zone, reading, trigger, 2)?,
        ])
    }
}

/// The ADT trigger of MSH-9; anything else is not used.
fn trigger_of(message: &Message) -> Result<Trigger, MappingError> {
    let kind = message.message_type();
    match (kind.code.as_str(), Trigger::parse(&kind.trigger)) {
        ("ADT", Some(t)) => Ok(t),
        _ => Err(MappingError::UnsupportedTrigger(format!(
            "{}^{}",
            kind.code, kind.trigger
        ))),
    }
}

/// The segments of a patient's group: the n-th of each is the n-th patient's.
const GROUP_SEGMENTS: &[&str] = &["PID", "PD1", "PV1", "PV2"];

/// The event of the `group`-th patient of the message (1 for all but A17).
fn read_group(
    message: &Message,
    zone: &TimeZone,
    reading: &Reading,
    trigger: Trigger,
    group: usize,
) -> Result<AdtEvent, MappingError> {
    let text = |position: &str| {
        let position = match position.split_once('-') {
            Some((segment, rest)) if group > 1 && GROUP_SEGMENTS.contains(&segment) => {
                format!("{segment}({group})-{rest}")
            }
            _ => position.to_owned(),
        };
        message
            .get(&position)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty() && v != "\"\"")
    };
    let time = |field: &'static str, position: &str| -> Result<Option<String>, MappingError> {
        text(position)
            .map(|v| hl7_time::instant(&v, zone))
            .transpose()
            .map_err(|source| MappingError::BadTime { field, source })
    };
    // The planned times (EVN-3, PV2-8) only matter to pending events; a bad one in
    // another message is no reason to refuse it.
    let planning = matches!(
        trigger,
        Trigger::A05 | Trigger::A14 | Trigger::A15 | Trigger::A16
    );
    let date_or_time = |field: &'static str| -> Result<Option<String>, MappingError> {
        let value = text(field).map(|v| hl7_time::date_or_instant(&v, zone));
        match value {
            Some(Err(_)) if !planning && field != "PV2-9" => Ok(None),
            other => other
                .transpose()
                .map_err(|source| MappingError::BadTime { field, source }),
        }
    };
    let occurred = match time("EVN-6", "EVN-6")? {
        Some(t) => t,
        None => match time("EVN-2", "EVN-2")? {
            Some(t) => t,
            None => time("MSH-7", "MSH-7")?
                .ok_or(MappingError::Missing("EVN-6, EVN-2 or MSH-7 (event time)"))?,
        },
    };
    let control_id = message.control_id().to_owned();
    let keys = if trigger.role() == Role::Nothing {
        Vec::new()
    } else {
        reading.keys(&text)
    };
    let renames = if trigger.role() == Role::Merge {
        reading.renames(&text)
    } else {
        Vec::new()
    };
    let needs_key = matches!(trigger.role(), Role::Stay | Role::Swap);
    if needs_key && keys.is_empty() {
        return Err(MappingError::NoVisitKey(reading.missing()));
    }
    let point = |field: &str| {
        let part = |n: usize| text(&format!("{field}-{n}")).unwrap_or_default();
        let poc = PointOfCare {
            unit: part(1),
            room: part(2),
            bed: part(3),
            site: part(4),
        };
        (!(poc.unit.is_empty() && poc.room.is_empty() && poc.bed.is_empty())).then_some(poc)
    };
    let event = AdtEvent {
        trigger,
        control_id,
        visit: keys.first().cloned().unwrap_or_default(),
        patient: reading.patient_key(&text),
        keys,
        patient_class: text("PV1-2").unwrap_or_default(),
        location: point("PV1-3"),
        prior_location: point("PV1-6"),
        pending_location: point("PV1-42"),
        occurred,
        planned: date_or_time("EVN-3")?,
        expected_admit: date_or_time("PV2-8")?,
        admitted: time("PV1-44", "PV1-44")?,
        discharged: time("PV1-45", "PV1-45")?,
        planned_discharge: date_or_time("PV2-9")?,
        protection: text("PD1-12").and_then(|v| protection_order(&v)),
        renames,
    };
    if trigger.needs_location() && event.location.is_none() {
        return Err(MappingError::Missing("PV1-3 (assigned location)"));
    }
    if trigger == Trigger::A12 && event.prior_location.is_none() {
        return Err(MappingError::Missing(
            "PV1-6 (the transfer's location being cancelled)",
        ));
    }
    Ok(event)
}
