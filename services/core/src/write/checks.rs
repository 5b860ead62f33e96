//! Step 5 of applying a request: what is still standing meets the preconditions
//! (`If-Match`) and the business rules.

use jiff::tz::TimeZone;
use ohjaamo_store::Store;

use crate::base::error::ApiError;
use crate::write::entry::{Outcomes, WriteEntry, fail};
use crate::write::ingest::Prepared;
use crate::write::rules;

/// Fails, in `results`, each prepared entry whose `If-Match` is already stale or that
/// breaks a business rule.
pub async fn check(
    store: &Store,
    tenant: &str,
    entries: &[WriteEntry],
    ids: &[Option<String>],
    prepared: &[Option<Prepared>],
    tz: &TimeZone,
    results: &mut Outcomes,
) -> Result<(), ApiError> {
    let standing: Vec<usize> = (0..entries.len())
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
        let current = store.read(tenant, rtype.as_str(), id).await?;
        let live = current.filter(|v| !v.deleted).map(|v| v.version);
        if live != Some(expected) {
            fail(
                results,
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
    let verdicts = rules::check(store, tenant, &items, tz).await?;
    for (i, verdict) in standing.iter().zip(verdicts) {
        if let Err(e) = verdict {
            fail(results, *i, e);
        }
    }
    Ok(())
}
