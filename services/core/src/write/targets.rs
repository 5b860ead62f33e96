//! Step 1 of applying a request: every entry's target id. A create gets a fresh id,
//! an update or delete names its own, and a conditional update by identifier is
//! looked up — in bulk now, so that references to it can be rewritten; the store
//! looks again under its lock.

use std::collections::HashMap;

use ohjaamo_store::{IdentKey, Store, StoreError};
use serde_json::Value;

use crate::base::error::ApiError;
use crate::search::extract::values_at;
use crate::search::normalize;
use crate::search::references::is_fhir_id;
use crate::write::entry::{Outcomes, WriteEntry, WriteKind, fail};

/// The target id of each entry (`None` for an entry that failed here, its failure in
/// `results`).
pub async fn target_ids(
    store: &Store,
    tenant: &str,
    entries: &[WriteEntry],
    results: &mut Outcomes,
) -> Result<Vec<Option<String>>, StoreError> {
    let keys: Vec<IdentKey> = entries
        .iter()
        .filter_map(|e| match &e.kind {
            WriteKind::ConditionalUpdate { system, code } => {
                Some((e.rtype.as_str(), system.clone(), code.clone()))
            }
            _ => None,
        })
        .collect();
    let mut found = store.resolve_identifiers(tenant, &keys).await?;
    let mut ids: Vec<Option<String>> = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        let body_id = e
            .resource
            .as_ref()
            .and_then(|r| r.get("id"))
            .and_then(Value::as_str);
        let id = match &e.kind {
            WriteKind::Create => Some(new_id()),
            WriteKind::Update { id } | WriteKind::Delete { id } => Some(id.clone()),
            WriteKind::ConditionalUpdate { system, code }
                if !carries_identifier(e.resource.as_ref(), system.as_deref(), code) =>
            {
                // Otherwise the next identical update would not find it again and
                // create a duplicate.
                fail(
                    results,
                    i,
                    ApiError::BadRequest(format!(
                        "a conditional update by identifier {} needs that identifier in the resource",
                        match system {
                            Some(s) => format!("{s}|{code}"),
                            None => code.clone(),
                        }
                    )),
                );
                None
            }
            WriteKind::ConditionalUpdate { system, code } => {
                conditional_target(&mut found, e, system.as_deref(), code, body_id)
                    .map_err(|error| fail(results, i, error))
                    .ok()
            }
        };
        if let (WriteKind::Update { id }, Some(_)) = (&e.kind, &e.resource)
            && body_id != Some(id.as_str())
        {
            fail(
                results,
                i,
                ApiError::BadRequest(format!(
                    "the resource's id ({}) must equal the id in the URL ({id})",
                    body_id.unwrap_or("missing")
                )),
            );
        }
        ids.push(id);
    }
    Ok(ids)
}

/// The target of a conditional update by `system|code`, given what the store and the
/// earlier entries of the request (`found`) know of that identifier.
fn conditional_target(
    found: &mut HashMap<IdentKey, Vec<String>>,
    e: &WriteEntry,
    system: Option<&str>,
    code: &str,
    body_id: Option<&str>,
) -> Result<String, ApiError> {
    let key = (e.rtype.as_str(), system.map(str::to_owned), code.to_owned());
    let matches = found.entry(key).or_default();
    match (matches.len(), body_id) {
        // The client's id becomes a path segment: it must be one, or the resource
        // could be neither read nor deleted afterwards.
        (0, Some(given)) if !is_fhir_id(given) => Err(ApiError::BadRequest(format!(
            "the resource's id {:?} is not a FHIR id (1 to 64 of A-Z, a-z, 0-9, '-' and '.')",
            given.chars().take(80).collect::<String>()
        ))),
        // No match: create, with the client's id if it gave one.
        (0, given) => {
            let id = given.map_or_else(new_id, str::to_owned);
            matches.push(id.clone());
            // Later entries may name the same resource with or without
            // the system (`Slot?identifier=v` and `…=sys|v`): register
            // the new id under every form, or each would create its own.
            let resource = e.resource.as_ref().unwrap_or(&Value::Null);
            for (sys, value) in identifiers_of(resource) {
                if value == code {
                    for form in [Some(sys), None] {
                        let list = found
                            .entry((e.rtype.as_str(), form, value.clone()))
                            .or_default();
                        if !list.contains(&id) {
                            list.push(id.clone());
                        }
                    }
                }
            }
            Ok(id)
        }
        (1, None) => Ok(matches[0].clone()),
        (1, Some(given)) if matches[0] == given => Ok(given.to_owned()),
        (1, Some(given)) => Err(ApiError::BadRequest(format!(
            "the resource has id {given}, but identifier {code} belongs to {}/{}",
            e.rtype, matches[0]
        ))),
        (count, _) => Err(ApiError::PreconditionFailed(format!(
            "{count} {} resources have identifier {code}; a conditional update needs at most one",
            e.rtype
        ))),
    }
}

/// A fresh server-assigned id: a UUIDv7, so ids sort roughly by creation time.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Whether a resource carries identifier `system|code` (any system when `None`).
fn carries_identifier(resource: Option<&Value>, system: Option<&str>, code: &str) -> bool {
    resource.is_some_and(|r| {
        identifiers_of(r)
            .iter()
            .any(|(s, c)| c == code && system.is_none_or(|want| want == s))
    })
}

/// `(system, value)` of each identifier of a resource, systems normalised.
pub fn identifiers_of(resource: &Value) -> Vec<(String, String)> {
    let mut values = Vec::new();
    values_at(resource, &["identifier"], &mut values);
    values
        .into_iter()
        .filter_map(|i| {
            let code = i.get("value")?.as_str()?.to_owned();
            let system = i
                .get("system")
                .and_then(Value::as_str)
                .map(normalize::system)
                .unwrap_or_default();
            Some((system, code))
        })
        .collect()
}
