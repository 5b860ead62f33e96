//! The HL7 v2 ADT-feed adapter: from a Lifecare-style admission feed to FHIR
//! Encounters with their location history.
//!
//! [`event`] reads what a message says (never the patient's identity), [`encounter`]
//! applies it to the stay's current Encounter, and [`hl7_time`] turns HL7 timestamps
//! into FHIR instants in the source's time zone. [`listener`] serves MLLP, settles each
//! message with the core through [`core_client`] and answers the ACK; what cannot be
//! applied goes to the kit's quarantine, its PID segment removed ([`pid`]). The
//! listener is the kit's [`ohjaamo_adapter_kit::PushFeed`]; [`command`] is the
//! adapter's settings and its entry point for the `ohjaamo` binary ([`Adt`]).

pub mod command;
pub mod core_client;
pub mod encounter;
pub mod event;
pub mod hl7_time;
pub mod listener;
pub mod pid;
mod protection;

pub use command::{Adt, AdtArgs};
pub use encounter::{PLANNED_END_URL, SourceIds, apply};
pub use event::{AdtEvent, MappingError, PointOfCare, Trigger};
pub use listener::AdtAdapter;
pub use ohjaamo_adapter_kit::feed::serve;
pub use ohjaamo_adapter_kit::{Backoff, Quarantine};
