//! Applying a request's entries to the store: plan every entry (its target id, the
//! names its references resolve to, its validated and indexed content, the
//! preconditions and business rules), then hand the survivors to the store in one
//! database transaction — and plan again when a concurrent writer made the plan
//! stale. Each step is a file of its own; [`run_once`] runs them in order.

use ohjaamo_fhir::ResourceType;
use ohjaamo_store::{WriteOp, WriteRefusal, Written};

use crate::base::error::ApiError;
use crate::base::state::AppState;
use crate::ops::{observe, trace_context};
use crate::write::entry::{Outcomes, WriteEntry};
use crate::write::names::Names;
use crate::write::{checks, prepare, store_ops, targets};

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

/// One plan of the request, and its write. Fails with [`RunError::Stale`] when the
/// store found the plan overtaken by a concurrent writer.
async fn run_once(
    state: &AppState,
    tenant: &str,
    entries: &mut [WriteEntry],
    atomic: bool,
) -> Result<Vec<Result<Written, ApiError>>, RunError> {
    let tz = &state.config.time_zone;
    let store = &state.store;
    let mut results: Outcomes = vec![None; entries.len()];
    // 1. Every entry's target id.
    let ids = targets::target_ids(store, tenant, entries, &mut results).await?;
    // 2 and 3. What the references may name, in the request and in the store.
    let names = Names::gather(store, tenant, entries, &ids).await?;
    // 4. Validate each resource, rewrite references in the validated copy, index it.
    let mut prepared = prepare::prepare(entries, &ids, &names, tz, &mut results);
    // 5. Preconditions and business rules over everything that is still standing.
    checks::check(store, tenant, entries, &ids, &prepared, tz, &mut results).await?;
    if atomic && let Some(e) = first_failure(&results, entries) {
        return Err(RunError::Api(e));
    }
    // 6. The store, in the order R4 gives a transaction.
    let ops = store_ops::ops(entries, &ids, &mut prepared, &mut results);
    if atomic && let Some(e) = first_failure(&results, entries) {
        return Err(RunError::Api(e));
    }
    let (positions, ops): (Vec<usize>, Vec<WriteOp>) = ops.into_iter().unzip();
    let trace = trace_context::current_event_trace();
    // The request's access record commits with the write, or not at all.
    let access = crate::audit::note::for_write();
    let written = match store
        .apply(tenant, &ops, atomic, &trace, access.as_ref())
        .await
    {
        Err(e) if e.is_stale() => return Err(RunError::Stale(e)),
        other => other?,
    };
    let committed = !atomic || written.iter().all(Result::is_ok);
    if access.is_some() && committed {
        crate::audit::note::written();
    }
    let n = entries.len();
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

/// The first entry that failed, named (for an atomic request, which fails with it).
fn first_failure(results: &Outcomes, entries: &[WriteEntry]) -> Option<ApiError> {
    results.iter().enumerate().find_map(|(i, r)| match r {
        Some(Err(e)) => Some(in_entry(e.clone(), i, entries.len(), &entries[i])),
        _ => None,
    })
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
