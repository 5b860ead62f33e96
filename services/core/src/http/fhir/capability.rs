//! `GET /fhir/metadata`: the CapabilityStatement, generated from the same registry
//! the server searches with, so it lists exactly what works.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use ohjaamo_fhir::ResourceType;
use serde_json::{Value, json};

use crate::base::state::AppState;
use crate::http::context::LinkBase;
use crate::search::registry::{self, INCLUDES};

/// When this statement's content last changed (R4 requires a date).
const STATEMENT_DATE: &str = "2026-11-23";

/// Open without a token (a client reads it to learn how to get one), so it takes no
/// organisation: only the base URL for its links.
pub async fn handler(State(state): State<AppState>, LinkBase(base): LinkBase) -> Response {
    let mut statement = capability_statement(&base);
    if let Some(security) = crate::http::smart::capability_security(&state).await {
        statement["rest"][0]["security"] = security;
    }
    let body = statement.to_string();
    super::respond::json_response(StatusCode::OK, body)
}

pub fn capability_statement(base: &str) -> Value {
    let resources: Vec<Value> = ResourceType::ALL
        .iter()
        .map(|rt| resource_entry(*rt))
        .collect();
    json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": STATEMENT_DATE,
        "publisher": "Ohjaamo",
        "kind": "instance",
        "software": { "name": "Ohjaamo", "version": env!("CARGO_PKG_VERSION") },
        "implementation": {
            "description": "Ohjaamo production-control core: beds, rooms, theatres, recovery bays, equipment and staff",
            "url": base
        },
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "documentation": "Every request acts for one organisation: with authentication on, one the bearer token's organisation claim lists (the X-Ohjaamo-Organization header chooses among several); without it, the one the header names. Unknown search parameters are ignored (and reported) unless Prefer: handling=strict. Conditional references Type?identifier=system|value are resolved on write.",
            "resource": resources,
            "interaction": [{ "code": "batch" }, { "code": "transaction" }]
        }]
    })
}

fn resource_entry(rt: ResourceType) -> Value {
    let mut params = vec![
        json!({
            "name": "_id", "type": "token",
            "definition": "http://hl7.org/fhir/SearchParameter/Resource-id",
            "documentation": "Logical id"
        }),
        json!({
            "name": "_lastUpdated", "type": "date",
            "definition": "http://hl7.org/fhir/SearchParameter/Resource-lastUpdated",
            "documentation": "When the resource version last changed"
        }),
    ];
    params.extend(registry::params(rt).iter().map(|p| {
        json!({
            "name": p.name,
            "definition": p.definition,
            "type": p.kind.fhir_code(),
            "documentation": p.documentation
        })
    }));
    let includes: Vec<String> = INCLUDES
        .iter()
        .filter(|(t, _)| *t == rt)
        .map(|(t, p)| format!("{t}:{p}"))
        .collect();
    let mut entry = json!({
        "type": rt.as_str(),
        "interaction": [
            { "code": "read" }, { "code": "vread" }, { "code": "update" }, { "code": "delete" },
            { "code": "history-instance" }, { "code": "history-type" },
            { "code": "create" }, { "code": "search-type" }
        ],
        "versioning": "versioned-update",
        "readHistory": true,
        "updateCreate": true,
        "conditionalCreate": false,
        "conditionalRead": "not-supported",
        "conditionalUpdate": true,
        "conditionalDelete": "not-supported",
        "searchParam": params
    });
    if !includes.is_empty() {
        entry["searchInclude"] = json!(includes);
    }
    entry
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_type_and_the_custom_location_params() {
        let cs = capability_statement("http://x/fhir");
        let resources = cs["rest"][0]["resource"].as_array().unwrap();
        assert_eq!(resources.len(), ResourceType::ALL.len());
        let location = resources.iter().find(|r| r["type"] == "Location").unwrap();
        let names: Vec<&str> = location["searchParam"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        for n in [
            "_id",
            "identifier",
            "partof",
            "type",
            "organization",
            "name",
            "status",
            "physical-type",
            "operational-status",
        ] {
            assert!(names.contains(&n), "{n}");
        }
    }
}
