//! The FHIR JSON media type, which every FHIR response and every OperationOutcome
//! (from whichever stage refused) is sent as.

pub const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";
