//! The occupancy follower: bed occupancy derived from the event log, so that it is
//! never lost.
//!
//! The request that writes a stay derives its Slots at once (`write::occupancy`), but
//! after its commit: a core that dies in between, or a derivation that fails (the
//! database busy, a timeout), would leave the bed wrong until the stay was written
//! again. This follower reads every Encounter, Schedule and Location change from the
//! log after its cursor and derives what it calls for; the cursor moves only past a
//! batch whose every derivation succeeded, so a failure is retried — from the same
//! place, on the next round — until it succeeds. What the request already derived
//! (noted in `base::derived`) is not derived again.
//!
//! One replica at a time follows an organisation's log (the cursor's lease), as the
//! picture deriver and the relay do.

use std::collections::HashMap;
use std::time::Duration;

use ohjaamo_store::{EventBody, EventFilter};

use crate::base::state::AppState;
use crate::log::follow::{LogReader, follow_log};
use crate::write::occupancy::derive_changes;

/// The follower's name for its cursor in the store.
pub const READER: &str = "occupancy";

/// Events read per round and organisation.
const BATCH: i64 = 2_000;

/// Runs until aborted.
pub async fn run(state: AppState, poll: Duration) {
    let follower = Follower {
        state: state.clone(),
        done_up_to: HashMap::new(),
    };
    follow_log(&state, READER, poll, follower).await;
}

struct Follower {
    state: AppState,
    /// Per organisation, how far this process has followed (an idle round then costs
    /// one query, not a lease per organisation).
    done_up_to: HashMap<String, i64>,
}

impl LogReader for Follower {
    async fn round(&mut self) -> anyhow::Result<bool> {
        let store = &self.state.store;
        let mut more = false;
        for (tenant, last) in store.event_tenants().await? {
            if self.done_up_to.get(&tenant) == Some(&last) {
                continue;
            }
            let Some(lease) = store.claim_cursor(&tenant, READER).await? else {
                continue; // another replica follows this organisation now
            };
            let events = store
                .events_after(&tenant, lease.position, BATCH, EventFilter::ResourceKeys)
                .await?;
            let full = events.len() as i64 == BATCH;
            // Not a full batch: everything committed up to `last` has been read.
            let to = match events.last() {
                Some(event) if full => event.sequence,
                Some(event) => event.sequence.max(last),
                None => last.max(lease.position),
            };
            let changes = changes_to_derive(&self.state, &tenant, &events);
            let failures = derive_changes(&self.state, &tenant, &changes).await;
            if let Some((what, e)) = failures.first() {
                // The lease is dropped unfinished: the next round starts here again.
                anyhow::bail!(
                    "deriving bed occupancy for {what} ({} failures in all): {e}",
                    failures.len()
                );
            }
            lease.finish(store, to, &[]).await?;
            self.done_up_to.insert(tenant, to);
            more |= full;
        }
        Ok(more)
    }
}

/// The (type, id) of the changes among `events` whose occupancy is still to derive
/// (their content is read when derived: it may have moved on since the event):
/// Encounters, Schedules and Locations, each once, less those the writing request
/// already derived from that version or a later one.
fn changes_to_derive<'a>(
    state: &AppState,
    tenant: &str,
    events: &'a [ohjaamo_store::StoredEvent],
) -> Vec<(&'a str, String, Option<serde_json::Value>)> {
    let mut changes: Vec<(&str, String)> = Vec::new();
    for event in events {
        let EventBody::Resource {
            rtype, id, version, ..
        } = &event.body
        else {
            continue;
        };
        if !matches!(rtype.as_str(), "Encounter" | "Schedule" | "Location") {
            continue;
        }
        if state.derived.take_if_covered(tenant, rtype, id, *version) {
            continue;
        }
        changes.push((rtype.as_str(), id.clone()));
    }
    changes.sort();
    changes.dedup();
    changes
        .into_iter()
        .map(|(rtype, id)| (rtype, id, None))
        .collect()
}
