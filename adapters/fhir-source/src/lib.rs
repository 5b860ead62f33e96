//! The FHIR source adapter: an upstream FHIR R4 server (Epic/Apotti style) read into
//! the core. Location, Schedule, Slot, Appointment and Encounter are polled with
//! `_lastUpdated=gt<cursor>` and paged through the upstream's `next` links
//! ([`source`]), their identifiers and references said in this server's terms and
//! deletes turned into retirements ([`map`]), a new source loaded through Bulk Data
//! `$export` when it offers it ([`bulk`]), and every request made with a SMART
//! Backend Services token and its faults sorted out ([`upstream`]). The kit's runner
//! does the rest: push, cursor, retry, quarantine, health reports. [`command`] is the
//! adapter's settings and its entry point for the `ohjaamo` binary.

pub mod bulk;
pub mod command;
pub mod map;
pub mod position;
pub mod source;
pub mod upstream;

pub use command::{FhirSourceAdapter, FhirSourceArgs};
pub use source::{Deletes, FhirSource};
