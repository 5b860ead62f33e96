//! The front door of the one write path. A single create, update or delete is a
//! one-entry request; a `batch` or `transaction` Bundle is many. Either way the bed
//! holds among the entries are checked first ([`holds`]), the entries are written
//! ([`apply`]), and bed occupancy is derived from what was written ([`occupancy`]).
//! Holds and occupancy never call back here: the derivation writes its Slots through
//! [`apply`], and the entries they share are [`entry`]'s.
//!
//! [`holds`]: crate::write::holds
//! [`apply`]: crate::write::apply
//! [`occupancy`]: crate::write::occupancy
//! [`entry`]: crate::write::entry

use ohjaamo_fhir::ResourceType;
use ohjaamo_store::Written;

use crate::base::error::ApiError;
use crate::base::state::AppState;
use crate::write::apply::run_writes;
use crate::write::entry::WriteEntry;
use crate::write::{holds, occupancy};

/// Runs the entries. With `atomic`, the first failure fails the whole request (the
/// error says which entry); otherwise each entry has its own result. Bed occupancy
/// is derived from what was written before this returns.
pub async fn run(
    state: &AppState,
    tenant: &str,
    entries: Vec<WriteEntry>,
    atomic: bool,
) -> Result<Vec<Result<Written, ApiError>>, ApiError> {
    let derives = entries.iter().any(|e| {
        matches!(
            e.rtype,
            ResourceType::Encounter | ResourceType::Schedule | ResourceType::Location
        )
    });
    let results = match holds::check(state, tenant, &entries).await? {
        None => run_writes(state, tenant, entries, atomic).await,
        // Bed holds: checked and written under the hold lock, released after commit.
        Some((_lock, refusals)) => run_checked(state, tenant, entries, refusals, atomic).await,
    };
    if let Ok(written) = &results
        && derives
    {
        occupancy::derive_after(state, tenant, written).await;
    }
    results
}

/// Runs the entries whose holds were not refused; the refused ones get their 409 (or
/// the whole request does, when it is atomic).
async fn run_checked(
    state: &AppState,
    tenant: &str,
    entries: Vec<WriteEntry>,
    refusals: Vec<Option<ApiError>>,
    atomic: bool,
) -> Result<Vec<Result<Written, ApiError>>, ApiError> {
    let n = entries.len();
    if let Some((i, refusal)) = refusals
        .iter()
        .enumerate()
        .find_map(|(i, r)| r.clone().map(|r| (i, r)))
        && atomic
    {
        return Err(if n == 1 {
            refusal
        } else {
            refusal.within(&format!("Bundle.entry[{i}] (Slot)"))
        });
    }
    let mut kept = Vec::with_capacity(n);
    let mut slots: Vec<Result<usize, ApiError>> = Vec::with_capacity(n);
    for (entry, refusal) in entries.into_iter().zip(refusals) {
        match refusal {
            Some(refusal) => slots.push(Err(refusal)),
            None => {
                slots.push(Ok(kept.len()));
                kept.push(entry);
            }
        }
    }
    let mut written: Vec<Option<Result<Written, ApiError>>> =
        run_writes(state, tenant, kept, atomic)
            .await?
            .into_iter()
            .map(Some)
            .collect();
    Ok(slots
        .into_iter()
        .map(|slot| match slot {
            Err(refusal) => Err(refusal),
            Ok(k) => written
                .get_mut(k)
                .and_then(Option::take)
                .unwrap_or_else(|| Err(ApiError::Internal("a batch entry had no result".into()))),
        })
        .collect())
}
