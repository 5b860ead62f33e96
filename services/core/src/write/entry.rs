//! What a write request is made of, shared by the front door, the writes it applies,
//! and the bed holds and occupancy that look at its entries.

use ohjaamo_fhir::ResourceType;
use serde_json::Value;

/// What one entry asks for.
#[derive(Debug, Clone)]
pub enum WriteKind {
    /// POST: a new resource with a server-assigned id.
    Create,
    /// PUT Type/id.
    Update { id: String },
    /// PUT Type?identifier=system|code.
    ConditionalUpdate {
        system: Option<String>,
        code: String,
    },
    /// DELETE Type/id.
    Delete { id: String },
}

#[derive(Debug, Clone)]
pub struct WriteEntry {
    pub rtype: ResourceType,
    pub kind: WriteKind,
    pub resource: Option<Value>,
    pub if_match: Option<i64>,
    /// The Bundle entry's fullUrl, when it is `urn:uuid:…` others may refer to.
    pub full_url: Option<String>,
}
