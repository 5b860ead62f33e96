//! The HL7 v2 ADT-feed adapter: from a Lifecare-style admission feed to FHIR
//! Encounters with their location history.
//!
//! [`event`] reads what a message says (never the patient's identity), [`encounter`]
//! applies it to the stay's current Encounter (keeping its protection order as
//! `protection` says), and [`hl7_time`] turns HL7 timestamps into FHIR instants in
//! the source's time zone. [`adapter`] holds what they share; [`listener`] serves MLLP within its limits, [`settle`]s
//! each message with the core through [`core_client`], and answers the ACK; what
//! cannot be applied goes to the kit's quarantine, reduced to the fields the mapping
//! reads ([`minimise`]), and [`replay`] sends it through the mapping again. The
//! listener is the kit's [`ohjaamo_adapter_kit::PushFeed`]; [`command`] is the
//! adapter's settings and its entry point for the `ohjaamo` binary ([`Adt`]).

pub mod adapter;
pub mod command;
pub mod core_client;
pub mod encounter;
pub mod event;
pub mod hl7_time;
pub mod listener;
pub mod minimise;
mod protection;
pub mod replay;
pub mod settle;

pub use adapter::{AdtAdapter, Limits};
pub use command::{Adt, AdtArgs};
pub use encounter::{PLANNED_END_URL, SourceIds, apply};
pub use event::{AdtEvent, MappingError, PointOfCare, Trigger};
pub use ohjaamo_adapter_kit::feed::serve;
pub use ohjaamo_adapter_kit::{Backoff, Quarantine};
