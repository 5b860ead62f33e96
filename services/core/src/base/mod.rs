//! What every stage shares: the error type that answers as an OperationOutcome, the
//! configuration, the state handlers and tasks share, and the FHIR media type.

pub mod config;
pub mod error;
pub mod media_type;
pub mod state;
