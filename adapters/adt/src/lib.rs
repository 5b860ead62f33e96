//! The HL7 v2 ADT-feed adapter: from an admission feed (v2.3–v2.8, any vendor's
//! shape) to FHIR Encounters with their location history, and from the same
//! sender's SIU bookings ([`siu`]) to Appointments and Slots.
//!
//! [`event`] reads what a message says (never the patient's identity; the stay's
//! key by the source's [`visit_key`] rule, the [`trigger`]'s role), [`encounter`]
//! applies it to the stay's current Encounter — its [`history`] of places in time
//! order, its [`ledger`] of messages for repeats, late ones and data-quality marks,
//! its protection order as `protection` says — and [`hl7_time`] turns HL7
//! timestamps into FHIR instants in the source's time zone. A swap (`swap`) writes
//! two stays in one transaction and a merge (`merge`) re-keys stays, through
//! [`stays`]. [`adapter`] holds what they share; [`listener`] serves MLLP within its limits, [`settle`]s
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
pub mod history;
pub mod hl7_time;
pub mod ledger;
pub mod listener;
mod merge;
pub mod minimise;
mod planned;
mod protection;
pub mod replay;
pub mod settle;
pub mod siu;
pub mod stays;
mod swap;
pub mod trigger;
pub mod visit_key;

pub use adapter::{AdtAdapter, Limits, NotUsed};
pub use command::{Adt, AdtArgs};
pub use encounter::{
    Applied, PENDING_DISCHARGE_URL, PLANNED_END_URL, SourceIds, apply, apply_event,
};
pub use event::{AdtEvent, MappingError, PointOfCare, Trigger};
pub use ohjaamo_adapter_kit::feed::serve;
pub use ohjaamo_adapter_kit::{Backoff, Quarantine};
pub use siu::{Booking, SiuTrigger};
pub use visit_key::{Reading, VisitRule};
