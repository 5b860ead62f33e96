//! What an ADT message says, read by HL7 position into plain fields.
//!
//! Only what the capacity picture needs is read. PID (the patient's identity code and
//! name) is never read at all: Ohjaamo keeps no personal data, and the stay is known by
//! its visit number (PV1-19) alone.

use jiff::tz::TimeZone;
use ohjaamo_hl7::Message;

use crate::hl7_time::{self, TimeError};

/// The triggers the adapter maps (Finnish v2.3 localisation of ADT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// Admit an inpatient.
    A01,
    /// Transfer to another location.
    A02,
    /// Discharge.
    A03,
    /// Register an outpatient or emergency visit.
    A04,
    /// Update the visit's information.
    A08,
    /// Cancel an admit (or a registration).
    A11,
    /// Cancel a transfer.
    A12,
    /// Cancel a discharge.
    A13,
}

impl Trigger {
    fn parse(code: &str) -> Option<Trigger> {
        Some(match code {
            "A01" => Trigger::A01,
            "A02" => Trigger::A02,
            "A03" => Trigger::A03,
            "A04" => Trigger::A04,
            "A08" => Trigger::A08,
            "A11" => Trigger::A11,
            "A12" => Trigger::A12,
            "A13" => Trigger::A13,
            _ => return None,
        })
    }
}

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
    /// PV1-19: the stay's key in the source.
    pub visit: String,
    /// PV1-2: I inpatient, O outpatient, E emergency, P preadmit.
    pub patient_class: String,
    /// PV1-3.
    pub location: Option<PointOfCare>,
    /// PV1-6 (A02: where the patient came from; A12: the location being cancelled).
    pub prior_location: Option<PointOfCare>,
    /// When it happened: EVN-6, else EVN-2, else MSH-7; a FHIR instant.
    pub occurred: String,
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
}

/// Why a message cannot be mapped; every variant is permanent (the message is
/// answered `AE` and quarantined) and names what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error(
        "message type {0} is not an ADT event this adapter maps (A01, A02, A03, A04, A08, A11, A12, A13)"
    )]
    UnsupportedTrigger(String),
    #[error("{0} is required and missing")]
    Missing(&'static str),
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
    /// Reads the event from a parsed message. Times without an offset are read in
    /// `zone`.
    pub fn read(message: &Message, zone: &TimeZone) -> Result<AdtEvent, MappingError> {
        let kind = message.message_type();
        let trigger = match (kind.code.as_str(), Trigger::parse(&kind.trigger)) {
            ("ADT", Some(t)) => t,
            _ => {
                return Err(MappingError::UnsupportedTrigger(format!(
                    "{}^{}",
                    kind.code, kind.trigger
                )));
            }
        };
        let text = |position: &str| {
            message
                .get(position)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty() && v != "\"\"")
        };
        let time = |field: &'static str, position: &str| -> Result<Option<String>, MappingError> {
            text(position)
                .map(|v| hl7_time::instant(&v, zone))
                .transpose()
                .map_err(|source| MappingError::BadTime { field, source })
        };
        let visit = text("PV1-19-1").ok_or(MappingError::Missing("PV1-19 (visit number)"))?;
        let occurred = match time("EVN-6", "EVN-6")? {
            Some(t) => t,
            None => match time("EVN-2", "EVN-2")? {
                Some(t) => t,
                None => time("MSH-7", "MSH-7")?
                    .ok_or(MappingError::Missing("EVN-6, EVN-2 or MSH-7 (event time)"))?,
            },
        };
        let planned_discharge = text("PV2-9")
            .map(|v| hl7_time::date_or_instant(&v, zone))
            .transpose()
            .map_err(|source| MappingError::BadTime {
                field: "PV2-9",
                source,
            })?;
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
            control_id: message.control_id().to_owned(),
            visit,
            patient_class: text("PV1-2").unwrap_or_default(),
            location: point("PV1-3"),
            prior_location: point("PV1-6"),
            occurred,
            admitted: time("PV1-44", "PV1-44")?,
            discharged: time("PV1-45", "PV1-45")?,
            planned_discharge,
            protection: text("PD1-12").and_then(|v| protection_order(&v)),
        };
        let needs_location = matches!(
            trigger,
            Trigger::A01 | Trigger::A02 | Trigger::A04 | Trigger::A12
        );
        if needs_location && event.location.is_none() {
            return Err(MappingError::Missing("PV1-3 (assigned location)"));
        }
        if trigger == Trigger::A12 && event.prior_location.is_none() {
            return Err(MappingError::Missing(
                "PV1-6 (the transfer's location being cancelled)",
            ));
        }
        Ok(event)
    }
}
