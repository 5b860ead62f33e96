//! Applying a request's entries to the store: decide every target id, resolve
//! `urn:uuid:` and conditional references, validate and index, check the business
//! rules, and hand the survivors to the store in one database transaction — and plan
//! again when a concurrent writer made the plan stale.

use std::collections::HashMap;

use ohjaamo_fhir::ResourceType;
use ohjaamo_store::{Action, IdentKey, WriteOp, WriteRefusal, WriteTarget, Written};
use serde_json::Value;

use crate::base::error::ApiError;
use crate::base::state::AppState;
use crate::ops::observe;
use crate::search::extract::values_at;
use crate::search::normalize;
use crate::search::query::split_token;
use crate::search::references::rewrite_references;
use crate::write::entry::{WriteEntry, WriteKind};
use crate::write::ingest::{Prepared, finish, validated};

/// The writes and their metrics, without the front door's holds and derivation
/// (`write::pipeline::run`). The derivation's own Slot writes go through here.
pub async fn run_writes(
    state: &AppState,
    tenant: &str,
    entries: Vec<WriteEntry>,
    atomic: bool,
) -> Result<Vec<Result<Written, ApiError>>, ApiError> {
    let types: Vec<ResourceType> = entries.iter().map(|e| e.rtype).collect();
    let results = plan_and_write(state, tenant, entries, atomic).await;
    match &results {
        Ok(results) => observe::count_writes(
            types
                .iter()
                .zip(results)
                .map(|(t, r)| (t.as_str(), r.as_ref().ok().map(|w| w.status))),
        ),
        // A refused transaction wrote none of its entries.
        Err(_) => observe::count_writes(types.iter().map(|t| (t.as_str(), None))),
    }
    results
}

/// [`run_writes`] without the bookkeeping: plans, and plans again when stale.
async fn plan_and_write(
    state: &AppState,
    tenant: &str,
    mut entries: Vec<WriteEntry>,
    atomic: bool,
) -> Result<Vec<Result<Written, ApiError>>, ApiError> {
    // A concurrent writer may create a resource by the same identifier between our
    // look-up and the store's locked one; the store then refuses as stale and the
    // whole request is planned again, so no reference points at a lost id. Planning
    // leaves the entries' resources as sent (references are rewritten in validated
    // copies), so a new plan starts from the same request without a copy of it.
    let mut attempt = 1;
    loop {
        match run_once(state, tenant, &mut entries, atomic).await {
            Err(RunError::Stale(e)) if attempt < MAX_PLANS => {
                tracing::debug!(attempt, error = %e, "identifier taken concurrently; planning again");
                attempt += 1;
            }
            Err(RunError::Stale(e)) => return Err(ApiError::from(e)),
            Err(RunError::Api(e)) => return Err(e),
            Ok(results) => return Ok(results),
        }
    }
}

/// Plans a request afresh at most this many times.
const MAX_PLANS: u32 = 3;

enum RunError {
    Api(ApiError),
    Stale(ohjaamo_store::StoreError),
}

impl From<ApiError> for RunError {
    fn from(e: ApiError) -> Self {
        RunError::Api(e)
    }
}

impl From<ohjaamo_store::StoreError> for RunError {
    fn from(e: ohjaamo_store::StoreError) -> Self {
        RunError::Api(e.into())
    }
}

async fn run_once(
    state: &AppState,
    tenant: &str,
    entries: &mut [WriteEntry],
    atomic: bool,
) -> Result<Vec<Result<Written, ApiError>>, RunError> {
    let tz = &state.config.time_zone;
    let n = entries.len();
    let mut results: Vec<Option<Result<Written, ApiError>>> = vec![None; n];
    let fail = |results: &mut Vec<Option<Result<Written, ApiError>>>, i: usize, e: ApiError| {
        results[i] = Some(Err(e));
    };

    // 1. Every entry's target id. Conditional updates are looked up in bulk now so
    // that references to them can be rewritten; the store looks again under a lock.
    let keys: Vec<IdentKey> = entries
        .iter()
        .filter_map(|e| match &e.kind {
            WriteKind::ConditionalUpdate { system, code } => {
                Some((e.rtype.as_str(), system.clone(), code.clone()))
            }
            _ => None,
        })
        .collect();
    let mut found = state.store.resolve_identifiers(tenant, &keys).await?;
    let mut ids: Vec<Option<String>> = Vec::with_capacity(n);
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
                    &mut results,
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
                let key = (e.rtype.as_str(), system.clone(), code.clone());
                let matches = found.entry(key).or_default();
                match (matches.len(), body_id) {
                    // No match: create, with the client's id if it gave one.
                    (0, given) => {
                        let id = given.map_or_else(new_id, str::to_owned);
                        matches.push(id.clone());
                        // Later entries may name the same resource with or without
                        // the system (`Slot?identifier=v` and `…=sys|v`): register
                        // the new id under every form, or each would create its own.
                        let resource = e.resource.as_ref().unwrap_or(&Value::Null);
                        for (sys, value) in identifiers_of(resource) {
                            if value == *code {
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
                        Some(id)
                    }
                    (1, None) => Some(matches[0].clone()),
                    (1, Some(given)) if matches[0] == given => Some(given.to_owned()),
                    (1, Some(given)) => {
                        fail(
                            &mut results,
                            i,
                            ApiError::BadRequest(format!(
                                "the resource has id {given}, but identifier {code} belongs to {}/{}",
                                e.rtype, matches[0]
                            )),
                        );
                        None
                    }
                    (count, _) => {
                        fail(
                            &mut results,
                            i,
                            ApiError::PreconditionFailed(format!(
                                "{count} {} resources have identifier {code}; a conditional update needs at most one",
                                e.rtype
                            )),
                        );
                        None
                    }
                }
            }
        };
        if let (WriteKind::Update { id }, Some(_)) = (&e.kind, &e.resource)
            && body_id != Some(id.as_str())
        {
            fail(
                &mut results,
                i,
                ApiError::BadRequest(format!(
                    "the resource's id ({}) must equal the id in the URL ({id})",
                    body_id.unwrap_or("missing")
                )),
            );
        }
        ids.push(id);
    }

    // 2. Names other entries may use for each entry: its fullUrl, and its identifiers
    // (for conditional references to a resource created in the same request).
    let mut by_full_url: HashMap<String, String> = HashMap::new();
    let mut by_identifier: HashMap<IdentKey, Vec<String>> = HashMap::new();
    for (e, id) in entries.iter().zip(&ids) {
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

    // 3. Conditional references not answered inside the request: one bulk lookup.
    let mut conditional: HashMap<String, Result<IdentKey, String>> = HashMap::new();
    for e in entries.iter() {
        if let Some(resource) = &e.resource {
            for text in crate::search::references::all_references(resource) {
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
    let from_store = state.store.resolve_identifiers(tenant, &unresolved).await?;

    // 4. Validate each resource, rewrite references in the validated copy, index it.
    let mut prepared: Vec<Option<Prepared>> = vec![None; n];
    for (i, e) in entries.iter_mut().enumerate() {
        if matches!(e.kind, WriteKind::Delete { .. }) || results[i].is_some() {
            continue;
        }
        let (Some(id), Some(resource)) = (&ids[i], e.resource.as_mut()) else {
            continue;
        };
        let mut json = match validated(e.rtype, resource, id) {
            Ok(json) => json,
            Err(err) => {
                fail(&mut results, i, err);
                continue;
            }
        };
        let mut problem = None;
        rewrite_references(&mut json, &mut |element, text| {
            if let Some(target) = by_full_url.get(text) {
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
            let key = match conditional.get(text)? {
                Ok(key) => key,
                Err(e) => {
                    problem.get_or_insert_with(|| ApiError::BadRequest(format!("{element}: {e}")));
                    return None;
                }
            };
            let candidates = by_identifier
                .get(key)
                .filter(|v| !v.is_empty())
                .or_else(|| from_store.get(key))
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
        });
        if let Some(p) = problem {
            fail(&mut results, i, p);
            continue;
        }
        match finish(e.rtype, json, id, tz) {
            Ok(p) => prepared[i] = Some(p),
            Err(err) => fail(&mut results, i, err),
        }
    }

    // 5. Business rules over everything that is still standing.
    let standing: Vec<usize> = (0..n)
        .filter(|i| prepared[*i].is_some() && results[*i].is_none())
        .collect();
    // An entry whose If-Match is already stale will be refused by the store; it must
    // not count as "written by this request" when the rules resolve references, or
    // another entry of a batch could be stored pointing at a resource that never
    // came to be. (The store checks again under its lock.)
    for &i in &standing {
        let (Some(expected), Some(id)) = (entries[i].if_match, ids[i].as_deref()) else {
            continue;
        };
        let rtype = entries[i].rtype;
        let current = state.store.read(tenant, rtype.as_str(), id).await?;
        let live = current.filter(|v| !v.deleted).map(|v| v.version);
        if live != Some(expected) {
            fail(
                &mut results,
                i,
                ApiError::PreconditionFailed(match live {
                    Some(v) => format!("{rtype}/{id} is at version {v}, not {expected} (If-Match)"),
                    None => {
                        format!("{rtype}/{id} does not exist, so If-Match {expected} cannot match")
                    }
                }),
            );
        }
    }
    let standing: Vec<usize> = standing
        .into_iter()
        .filter(|i| results[*i].is_none())
        .collect();
    let items: Vec<&Prepared> = standing
        .iter()
        .filter_map(|i| prepared[*i].as_ref())
        .collect();
    let verdicts = crate::write::rules::check(&state.store, tenant, &items, tz).await?;
    for (i, verdict) in standing.iter().zip(verdicts) {
        if let Err(e) = verdict {
            fail(&mut results, *i, e);
        }
    }
    if atomic
        && let Some((i, e)) = results.iter().enumerate().find_map(|(i, r)| match r {
            Some(Err(e)) => Some((i, e)),
            _ => None,
        })
    {
        return Err(RunError::Api(in_entry(e.clone(), i, n, &entries[i])));
    }

    // 6. The store, in the order R4 gives a transaction: deletes, creates, updates.
    let mut order: Vec<usize> = (0..n).filter(|i| results[*i].is_none()).collect();
    order.sort_by_key(|i| match entries[*i].kind {
        WriteKind::Delete { .. } => 0,
        WriteKind::Create => 1,
        _ => 2,
    });
    let mut ops = Vec::with_capacity(order.len());
    for &i in &order {
        let e = &entries[i];
        let Some(id) = ids[i].clone() else { continue };
        let target = match &e.kind {
            WriteKind::Create => WriteTarget::New(id),
            WriteKind::Update { .. } | WriteKind::Delete { .. } => WriteTarget::Id(id),
            WriteKind::ConditionalUpdate { system, code } => WriteTarget::Identifier {
                system: system.clone(),
                code: code.clone(),
                new_id: id,
            },
        };
        let action = match prepared[i].take() {
            Some(p) => Action::Put(Box::new(p.content)),
            None if matches!(e.kind, WriteKind::Delete { .. }) => Action::Delete,
            None => {
                fail(
                    &mut results,
                    i,
                    ApiError::BadRequest("the entry has no resource".into()),
                );
                continue;
            }
        };
        ops.push((
            i,
            WriteOp {
                rtype: e.rtype.as_str(),
                target,
                action,
                if_match: e.if_match,
            },
        ));
    }
    if atomic && results.iter().any(|r| matches!(r, Some(Err(_)))) {
        let (i, e) = results
            .iter()
            .enumerate()
            .find_map(|(i, r)| match r {
                Some(Err(e)) => Some((i, e)),
                _ => None,
            })
            .expect("checked above");
        return Err(RunError::Api(in_entry(e.clone(), i, n, &entries[i])));
    }
    let (positions, ops): (Vec<usize>, Vec<WriteOp>) = ops.into_iter().unzip();
    let trace = crate::ops::trace_context::current_event_trace();
    let written = match state.store.apply(tenant, &ops, atomic, &trace).await {
        Err(e) if e.is_stale() => return Err(RunError::Stale(e)),
        other => other?,
    };
    for (i, outcome) in positions.into_iter().zip(written) {
        results[i] = Some(outcome.map_err(refusal_error));
        if atomic && let Some(Err(e)) = &results[i] {
            return Err(RunError::Api(in_entry(e.clone(), i, n, &entries[i])));
        }
    }
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(ApiError::Internal("entry was not processed".into()))))
        .collect())
}

/// A fresh server-assigned id: a UUIDv7, so ids sort roughly by creation time.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Names the failing entry of a multi-entry request; a single write's message
/// already names its element.
fn in_entry(error: ApiError, i: usize, n: usize, e: &WriteEntry) -> ApiError {
    if n == 1 {
        error
    } else {
        error.within(&format!("Bundle.entry[{i}] ({})", e.rtype))
    }
}

fn refusal_error(r: WriteRefusal) -> ApiError {
    match r {
        WriteRefusal::VersionMismatch { .. } | WriteRefusal::MultipleMatches { .. } => {
            ApiError::PreconditionFailed(r.to_string())
        }
    }
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

/// Whether a resource carries identifier `system|code` (any system when `None`).
fn carries_identifier(resource: Option<&Value>, system: Option<&str>, code: &str) -> bool {
    resource.is_some_and(|r| {
        identifiers_of(r)
            .iter()
            .any(|(s, c)| c == code && system.is_none_or(|want| want == s))
    })
}

/// `(system, value)` of each identifier of a resource, systems normalised.
fn identifiers_of(resource: &Value) -> Vec<(String, String)> {
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
