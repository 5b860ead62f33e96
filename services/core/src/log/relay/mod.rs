//! The relay: publishes the event log to the bus, in sequence order per organisation,
//! moving its cursor only past what the broker confirmed.
//!
//! Delivery is at least once: after a crash or a broker restart it publishes again
//! from the first unconfirmed event, and consumers de-duplicate by sequence. After a
//! bus failure it also publishes again what it published in the seconds before
//! ([`replay`]): a broker going down can confirm messages it then does not keep. With
//! several core replicas each runs a relay; the store's cursor lease lets one at a time
//! publish an organisation's events, so their order holds. When the broker is away
//! the API keeps serving, the log grows, and the relay reconnects with backoff and
//! drains it; `/readyz` and `/metrics` say so meanwhile.

mod batch;
mod envelope;
mod redact;
mod replay;
mod sink;

use std::collections::HashMap;
use std::time::Duration;

use ohjaamo_bus::BusError;

pub use envelope::envelope;
pub use sink::{Bus, LocalBus};

use crate::base::state::AppState;
use crate::ops::relay_status::RelayStatus;
use batch::{BATCH, PUBLISH_TIMEOUT, READER, RelayError};
use sink::Sink;

/// How often the log is looked at without a signal (other replicas' writes).
const POLL: Duration = Duration::from_millis(200);
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Runs until aborted: connect, publish, and on any bus failure reconnect with backoff.
pub async fn run(state: AppState, bus: Bus) {
    let status = state.relay.clone();
    status.starting(bus.describe());
    let mut signal = state.store.event_signal();
    let mut backoff = FIRST_BACKOFF;
    let mut done_up_to: HashMap<String, i64> = HashMap::new();
    let mut recent = replay::Recent::default();
    // Organisations to publish again from a position after a bus failure.
    let mut to_replay: HashMap<String, i64> = HashMap::new();
    loop {
        let mut sink = match bus.open().await {
            Ok(sink) => {
                tracing::info!(bus = bus.describe(), "relay connected");
                status.connected();
                backoff = FIRST_BACKOFF;
                sink
            }
            Err(e) => {
                status.failed(&e.to_string());
                tracing::warn!(bus = bus.describe(), error = %e, retry_in = ?backoff, "relay cannot reach the bus");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        if !to_replay.is_empty() {
            match replay::replay(&state, &mut sink, &mut to_replay).await {
                Ok(sent) => tracing::info!(
                    events = sent,
                    "published again what the bus confirmed just before it failed"
                ),
                Err(e) => {
                    crate::ops::observe::note_background_error(READER);
                    status.failed(&e.to_string());
                    tracing::warn!(error = %e, "publishing again after a bus failure failed; reconnecting");
                    sink.close().await;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            }
        }
        loop {
            match relay_round(&state, &mut sink, &status, &mut done_up_to, &mut recent).await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(RelayError::Store(e)) => {
                    crate::ops::observe::note_background_error(READER);
                    tracing::warn!(error = %e, "relay cannot read the event log; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(RelayError::Bus(e)) => {
                    crate::ops::observe::note_background_error(READER);
                    status.failed(&e.to_string());
                    tracing::warn!(error = %e, "publishing failed; reconnecting");
                    recent.take_into(&mut to_replay);
                    break;
                }
            }
            tokio::select! {
                _ = signal.changed() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
        sink.close().await;
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One pass over every organisation; `true` when a batch was full (more waiting).
async fn relay_round(
    state: &AppState,
    sink: &mut Sink,
    status: &RelayStatus,
    done_up_to: &mut HashMap<String, i64>,
    recent: &mut replay::Recent,
) -> Result<bool, RelayError> {
    let store = &state.store;
    let mut more = false;
    let mut backlog = 0;
    let mut oldest_waiting: Option<jiff::Timestamp> = None;
    for (tenant, last) in store.event_tenants().await? {
        if done_up_to.get(&tenant) == Some(&last) {
            continue;
        }
        let Some(lease) = store.claim_cursor(&tenant, READER).await? else {
            continue; // another replica publishes this organisation now
        };
        let (epoch, stored) = batch::read_batch(store, &tenant, lease.position).await?;
        let events: Vec<_> = stored
            .iter()
            .map(|e| envelope(&tenant, &epoch, e))
            .collect();
        // A blocked broker can stall even the sending; the whole batch has a bound.
        let (confirmed, error) = tokio::time::timeout(PUBLISH_TIMEOUT, sink.publish(&events))
            .await
            .unwrap_or((0, Some(BusError::Unconfirmed(PUBLISH_TIMEOUT.as_secs()))));
        let to = match confirmed {
            0 => lease.position,
            n => stored[n - 1].sequence,
        };
        if confirmed > 0 {
            recent.note(&tenant, lease.position);
        }
        lease.finish(store, to, &[]).await?;
        status.published(confirmed as u64);
        crate::ops::observe::note_published(confirmed);
        backlog += last - to;
        if let Some(first_waiting) = stored.get(confirmed) {
            let at = jiff::Timestamp::from_microsecond(first_waiting.occurred_at).ok();
            oldest_waiting = match (oldest_waiting, at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        if let Some(e) = error {
            // What waits is known so far: enough for the age to keep growing.
            status.set_backlog(backlog, oldest_waiting);
            return Err(e.into());
        }
        if to == last {
            done_up_to.insert(tenant, last);
        }
        more |= stored.len() as i64 == BATCH;
    }
    status.set_backlog(backlog, oldest_waiting);
    Ok(more)
}
