//! What is searchable and how: the registry of search parameters (read by the
//! CapabilityStatement, the index extraction and the query parser alike), the index
//! entries extracted from a resource, composite parameters, FHIR dates and times,
//! references, string and system normalisation, and the search query itself. The
//! write path indexes through it; the API surface searches through it.

pub mod composite;
pub mod extract;
pub mod fhir_time;
pub mod json;
pub mod limits;
pub mod normalize;
pub mod query;
pub mod references;
pub mod registry;
