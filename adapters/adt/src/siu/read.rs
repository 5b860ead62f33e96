//! What an SIU message says (HL7 v2.3–v2.8, chapter 10), read by position into
//! plain fields: the booking's keys (SCH-1 placer, SCH-2 filler), its timing, its
//! status and reasons, and the resources of its groups (AIS services, AIG resources,
//! AIL locations, AIP personnel), each group repeating any number of times and
//! every one optional.
//!
//! Of the patient group (PID, PV1, …) nothing is read: a booking in the picture is a
//! case in a room at a time, not a person.

use jiff::tz::TimeZone;
use ohjaamo_adapter_kit::Kind;
use ohjaamo_hl7::{Message, Segment};

use super::timing::{self, Timing, clean};
use crate::event::{MappingError, PointOfCare};

/// The SIU trigger events the adapter maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SiuTrigger {
    /// Notification of a new appointment booking.
    S12,
    /// Rescheduling: new times (and perhaps resources).
    S13,
    /// Modification: a change that is not a new time.
    S14,
    /// Cancellation: the booking will not take place.
    S15,
    /// Discontinuation: the rest of a started booking (or series) will not.
    S16,
    /// Deletion: the booking was entered in error.
    S17,
    /// The patient did not arrive.
    S26,
}

impl SiuTrigger {
    /// The trigger of MSH-9-2; `None` for one the adapter does not map (S18–S25
    /// add, modify, cancel or delete single resources of a booking, which the
    /// next full notification restates anyway).
    pub fn parse(code: &str) -> Option<SiuTrigger> {
        use SiuTrigger::*;
        Some(match code {
            "S12" => S12,
            "S13" => S13,
            "S14" => S14,
            "S15" => S15,
            "S16" => S16,
            "S17" => S17,
            "S26" => S26,
            _ => return None,
        })
    }

    pub fn code(self) -> &'static str {
        use SiuTrigger::*;
        match self {
            S12 => "S12",
            S13 => "S13",
            S14 => "S14",
            S15 => "S15",
            S16 => "S16",
            S17 => "S17",
            S26 => "S26",
        }
    }

    /// The FHIR Appointment status the trigger itself decides; `None` when the
    /// filler status (SCH-25) says it (a notification, a reschedule, a modification).
    pub fn status(self) -> Option<&'static str> {
        use SiuTrigger::*;
        match self {
            S12 | S13 | S14 => None,
            S15 | S16 => Some("cancelled"),
            S17 => Some("entered-in-error"),
            S26 => Some("noshow"),
        }
    }
}

/// A coded value (CE / CWE): code, text, and the coding system's name (CWE-3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coded {
    pub code: String,
    pub text: String,
    pub system: String,
}

/// A resource the booking holds: a Location (AIL), a Device (AIG) or a
/// PractitionerRole (AIP), by the source's key, with its role in the booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub kind: Kind,
    pub key: String,
    /// AIL-4 location type, AIG-4 resource type, AIP-4 role.
    pub role: Option<Coded>,
}

/// One SIU message, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    pub trigger: SiuTrigger,
    /// MSH-10.
    pub control_id: String,
    /// MSH-7 (SIU has no EVN): the order messages of one booking apply in.
    pub occurred: String,
    /// The booking's keys, the first to write it by: SCH-2-1 (the filler's, the
    /// scheduling system's own id) as it is, then SCH-1-1 (the placer's) as
    /// `placer:<id>`. A booking first told of by its placer id and later by both is
    /// found by either and keeps both.
    pub keys: Vec<String>,
    /// TQ1-7/8, SCH-11-4/5, the first AIS-4 (and their durations); `None` when the
    /// message gives no start.
    pub timing: Option<Timing>,
    /// SCH-25-1, the filler status code (HL7 table 0278).
    pub filler_status: Option<String>,
    /// SCH-6, the event reason (why it was booked, moved or cancelled).
    pub event_reason: Option<Coded>,
    /// SCH-7, the appointment reason (HL7 table 0276: ROUTINE, EMERGENCY, …).
    pub appointment_reason: Option<Coded>,
    /// AIS-3 of each AIS: the services booked.
    pub services: Vec<Coded>,
    /// AIL, AIG and AIP in message order, each resource once.
    pub resources: Vec<Resource>,
}

impl Booking {
    /// Reads a SIU message; `UnsupportedTrigger` for a SIU trigger not mapped (the
    /// caller answers it as a type not used).
    pub fn read(message: &Message, zone: &TimeZone) -> Result<Booking, MappingError> {
        let kind = message.message_type();
        let trigger = SiuTrigger::parse(&kind.trigger).ok_or_else(|| {
            MappingError::UnsupportedTrigger(format!("{}^{}", kind.code, kind.trigger))
        })?;
        let text = |position: &str| clean(message.get(position).as_deref());
        let occurred = text("MSH-7").ok_or(MappingError::Missing("MSH-7 (the message's time)"))?;
        let occurred =
            crate::hl7_time::instant(&occurred, zone).map_err(|source| MappingError::BadTime {
                field: "MSH-7",
                source,
            })?;
        if message.segment("SCH").is_none() {
            return Err(MappingError::Missing("SCH (the schedule activity)"));
        }
        let mut keys = Vec::new();
        if let Some(filler) = text("SCH-2-1") {
            keys.push(filler);
        }
        if let Some(placer) = text("SCH-1-1") {
            keys.push(format!("placer:{placer}"));
        }
        if keys.is_empty() {
            return Err(MappingError::Missing(
                "SCH-2 (filler appointment id) or SCH-1 (placer appointment id)",
            ));
        }
        let timing = timing::read(message, zone)?;
        let mut resources: Vec<Resource> = Vec::new();
        let mut add = |resource: Resource| {
            if !resources
                .iter()
                .any(|r| r.kind == resource.kind && r.key == resource.key)
            {
                resources.push(resource);
            }
        };
        for ail in message.segments_named("AIL") {
            let part = |n: usize| clean(ail.get(&format!("3-{n}")).as_deref()).unwrap_or_default();
            let place = PointOfCare {
                unit: part(1),
                room: part(2),
                bed: part(3),
                site: part(4),
            };
            if let Some((kind, key)) = crate::encounter::place_key(&place) {
                add(Resource {
                    kind,
                    key: key.to_owned(),
                    role: coded(&ail, 4),
                });
            }
        }
        // A device (AIG-3) or a staff member (AIP-3, XCN: the id only) by its id.
        for (segment, kind) in [("AIG", Kind::Equipment), ("AIP", Kind::StaffRole)] {
            for resource in message.segments_named(segment) {
                if let Some(key) = clean(resource.get("3-1").as_deref()) {
                    add(Resource {
                        kind,
                        key,
                        role: coded(&resource, 4),
                    });
                }
            }
        }
        let sch = message.segment("SCH");
        let sch_coded = |n| sch.as_ref().and_then(|s| coded(s, n));
        Ok(Booking {
            trigger,
            control_id: message.control_id().to_owned(),
            occurred,
            keys,
            timing,
            filler_status: text("SCH-25-1"),
            event_reason: sch_coded(6),
            appointment_reason: sch_coded(7),
            services: message
                .segments_named("AIS")
                .filter_map(|ais| coded(&ais, 3))
                .collect(),
            resources,
        })
    }
}

/// Field `n` of `segment` as a coded value, when it has a code or a text.
fn coded(segment: &Segment<'_>, n: usize) -> Option<Coded> {
    let part = |c: usize| clean(segment.get(&format!("{n}-{c}")).as_deref()).unwrap_or_default();
    let value = Coded {
        code: part(1),
        text: part(2),
        system: part(3),
    };
    (!(value.code.is_empty() && value.text.is_empty())).then_some(value)
}
