//! Bundles we send (searchset, history, batch-response, transaction-response).
//! Stored resources are spliced in as raw JSON text: parsing them only to print them
//! again would be most of the cost of a search.

use serde::Serialize;
use serde_json::value::RawValue;

use crate::base::error::ApiError;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleOut {
    pub resource_type: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub link: Vec<Link>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entry: Vec<EntryOut>,
}

impl BundleOut {
    pub fn new(kind: &'static str) -> BundleOut {
        BundleOut {
            resource_type: "Bundle",
            kind,
            total: None,
            link: Vec::new(),
            entry: Vec::new(),
        }
    }

    pub fn to_json(&self) -> Result<String, ApiError> {
        serde_json::to_string(self)
            .map_err(|e| ApiError::Internal(format!("bundle serialisation: {e}")))
    }
}

#[derive(Serialize)]
pub struct Link {
    pub relation: &'static str,
    pub url: String,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct EntryOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search: Option<SearchOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseOut>,
}

#[derive(Serialize)]
pub struct SearchOut {
    pub mode: &'static str,
}

#[derive(Serialize)]
pub struct RequestOut {
    pub method: &'static str,
    pub url: String,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ResponseOut {
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Box<RawValue>>,
}

/// Stored JSON text as a raw value to splice into a Bundle.
pub fn raw(text: String) -> Result<Box<RawValue>, ApiError> {
    RawValue::from_string(text)
        .map_err(|e| ApiError::Internal(format!("stored resource is not JSON: {e}")))
}
