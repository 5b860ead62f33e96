//! What every stage shares: the error type that answers as an OperationOutcome, the
//! configuration, the admission counters, the live streams' fan-out, the core's clock, the state handlers and tasks share, and the FHIR media type.

pub mod admission;
pub mod clock;
pub mod config;
pub mod derived;
pub mod error;
pub mod fanout;
pub mod media_type;
pub mod state;
