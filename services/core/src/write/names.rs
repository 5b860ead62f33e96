//! Steps 2 and 3 of applying a request: the names a reference may use for a
//! resource, and what each resolves to. Inside the request an entry is named by its
//! `fullUrl` and by its identifiers (for conditional references to a resource
//! created in the same request); conditional references the request does not answer
//! are looked up in the store, in bulk.

use std::collections::HashMap;

use ohjaamo_fhir::ResourceType;
use ohjaamo_store::{IdentKey, Store, StoreError};

use crate::base::error::ApiError;
use crate::search::query::split_token;
use crate::search::references::all_references;
use crate::write::entry::{WriteEntry, WriteKind};
use crate::write::targets::identifiers_of;

/// What the references of a request's entries may resolve to.
pub struct Names {
    /// `fullUrl` → `Type/id`.
    by_full_url: HashMap<String, String>,
    /// An identifier (with and without its system) → the ids of this request's
    /// entries that carry it.
    by_identifier: HashMap<IdentKey, Vec<String>>,
    /// Each conditional reference's text → its identifier look-up (or why it is not
    /// one).
    conditional: HashMap<String, Result<IdentKey, String>>,
    /// What the store holds for the conditional references the request does not
    /// answer.
    from_store: HashMap<IdentKey, Vec<String>>,
}

impl Names {
    /// The names of `entries` (with their target `ids`), and one store look-up for
    /// the conditional references none of them answers.
    pub async fn gather(
        store: &Store,
        tenant: &str,
        entries: &[WriteEntry],
        ids: &[Option<String>],
    ) -> Result<Names, StoreError> {
        let (by_full_url, by_identifier) = in_request(entries, ids);
        let mut conditional: HashMap<String, Result<IdentKey, String>> = HashMap::new();
        for e in entries {
            if let Some(resource) = &e.resource {
                for text in all_references(resource) {
                    if text.contains('?') && !conditional.contains_key(text) {
                        conditional.insert(text.to_owned(), parse_conditional(text));
                    }
                }
            }
        }
        let unresolved: Vec<IdentKey> = conditional
            .values()
            .filter_map(|k| k.as_ref().ok())
            .filter(|k| by_identifier.get(*k).is_none_or(Vec::is_empty))
            .cloned()
            .collect();
        let from_store = store.resolve_identifiers(tenant, &unresolved).await?;
        Ok(Names {
            by_full_url,
            by_identifier,
            conditional,
            from_store,
        })
    }

    /// What reference `text` at `element` becomes: `Some` literal reference, or
    /// `None` to leave it as it is. A reference that must resolve and does not sets
    /// `problem` (the first one found is kept).
    pub fn resolve(
        &self,
        element: &str,
        text: &str,
        problem: &mut Option<ApiError>,
    ) -> Option<String> {
        if let Some(target) = self.by_full_url.get(text) {
            return Some(target.clone());
        }
        if text.starts_with("urn:uuid:") || text.starts_with("urn:oid:") {
            problem.get_or_insert_with(|| {
                ApiError::BadRequest(format!(
                    "{element}: reference {text} does not resolve to the fullUrl of any entry of the Bundle"
                ))
            });
            return None;
        }
        let key = match self.conditional.get(text)? {
            Ok(key) => key,
            Err(e) => {
                problem.get_or_insert_with(|| ApiError::BadRequest(format!("{element}: {e}")));
                return None;
            }
        };
        let candidates = self
            .by_identifier
            .get(key)
            .filter(|v| !v.is_empty())
            .or_else(|| self.from_store.get(key))
            .cloned()
            .unwrap_or_default();
        match candidates.as_slice() {
            [one] => Some(format!("{}/{one}", key.0)),
            [] => {
                problem.get_or_insert_with(|| {
                    ApiError::Unprocessable(format!(
                        "{element}: conditional reference {text} matches no resource"
                    ))
                });
                None
            }
            many => {
                problem.get_or_insert_with(|| {
                    ApiError::Unprocessable(format!(
                        "{element}: conditional reference {text} matches {} resources; it must match one",
                        many.len()
                    ))
                });
                None
            }
        }
    }
}

/// The names the entries give themselves: `fullUrl` → `Type/id`, and each identifier
/// (with and without its system) → the ids carrying it.
fn in_request(
    entries: &[WriteEntry],
    ids: &[Option<String>],
) -> (HashMap<String, String>, HashMap<IdentKey, Vec<String>>) {
    let mut by_full_url: HashMap<String, String> = HashMap::new();
    let mut by_identifier: HashMap<IdentKey, Vec<String>> = HashMap::new();
    for (e, id) in entries.iter().zip(ids) {
        let Some(id) = id else { continue };
        if let Some(url) = &e.full_url {
            by_full_url.insert(url.clone(), format!("{}/{id}", e.rtype));
        }
        if let (
            Some(resource),
            WriteKind::Create | WriteKind::Update { .. } | WriteKind::ConditionalUpdate { .. },
        ) = (&e.resource, &e.kind)
        {
            for (system, code) in identifiers_of(resource) {
                for key in [
                    (e.rtype.as_str(), Some(system.clone()), code.clone()),
                    (e.rtype.as_str(), None, code.clone()),
                ] {
                    let list = by_identifier.entry(key).or_default();
                    if !list.contains(id) {
                        list.push(id.clone());
                    }
                }
            }
        }
    }
    (by_full_url, by_identifier)
}

/// `Type?identifier=system|code` as an identifier lookup. Only `identifier` is
/// supported: it is what a stateless adapter knows.
pub fn parse_conditional(text: &str) -> Result<IdentKey, String> {
    let (rtype, query) = text.split_once('?').unwrap_or((text, ""));
    let rtype: ResourceType = rtype
        .parse()
        .map_err(|e| format!("conditional reference {text}: {e}"))?;
    let value = query
        .strip_prefix("identifier=")
        .filter(|v| !v.contains('&'))
        .ok_or_else(|| {
            format!("conditional reference {text}: only Type?identifier=system|value is supported")
        })?;
    let value = percent_encoding::percent_decode_str(value)
        .decode_utf8()
        .map_err(|_| format!("conditional reference {text} is not valid UTF-8 when decoded"))?;
    let (system, code) = split_token(&value);
    if code.is_empty() {
        return Err(format!(
            "conditional reference {text} has an empty identifier value"
        ));
    }
    Ok((rtype.as_str(), system, code))
}
