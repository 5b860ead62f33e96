//! The HL7 v2 ADT-feed adapter: from a Lifecare-style admission feed to FHIR
//! Encounters with their location history.
//!
//! [`event`] reads what a message says (never the patient's identity), [`encounter`]
//! applies it to the stay's current Encounter, and [`hl7_time`] turns HL7 timestamps
//! into FHIR instants in the source's time zone. The MLLP listener and the push to the
//! core build on these with the adapter kit.

pub mod encounter;
pub mod event;
pub mod hl7_time;

pub use encounter::{PLANNED_END_URL, SourceIds, apply};
pub use event::{AdtEvent, MappingError, PointOfCare, Trigger};
