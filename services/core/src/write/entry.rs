//! What a write request is made of (its entries) and what became of each, shared
//! by the front door, the steps that apply the entries, and the bed holds and
//! occupancy that look at them.

use ohjaamo_fhir::ResourceType;
use ohjaamo_store::Written;
use serde_json::Value;

use crate::base::error::ApiError;

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

/// Each entry's result while a request is planned: `None` until the entry failed or
/// was written.
pub type Outcomes = Vec<Option<Result<Written, ApiError>>>;

/// Entry `i` failed with `e`; the later steps pass it by.
pub fn fail(results: &mut Outcomes, i: usize, e: ApiError) {
    results[i] = Some(Err(e));
}
