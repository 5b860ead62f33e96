//! Publishing again what the broker confirmed just before it failed.
//!
//! A broker that is going down can confirm messages it never stored: a quorum queue
//! stopping under an open channel makes the channel confirm what was in flight to
//! it (seen in this project's broker-restart test as two confirmed picture events
//! that never reached the consumer's queue; rabbitmq/rabbitmq-server#15333 describes
//! the same for a queue being deleted). A confirm is therefore trusted only once the
//! connection has outlived it: after a bus failure the relay publishes again,
//! before anything new, every event it published in the last [`WINDOW`]. Consumers
//! de-duplicate by sequence, so the cost is a few repeats after a failure.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use ohjaamo_bus::BusError;

use super::batch::{PUBLISH_TIMEOUT, READER, RelayError, read_batch};
use super::envelope::envelope;
use super::sink::Sink;
use crate::base::state::AppState;

/// How far back confirms are distrusted when the bus fails.
pub const WINDOW: Duration = Duration::from_secs(10);

/// Where the batches of the last [`WINDOW`] began, per organisation.
#[derive(Debug, Default)]
pub struct Recent(HashMap<String, VecDeque<(Instant, i64)>>);

impl Recent {
    /// A batch of `tenant` starting after `position` was published.
    pub fn note(&mut self, tenant: &str, position: i64) {
        let batches = self.0.entry(tenant.to_owned()).or_default();
        batches.push_back((Instant::now(), position));
        while batches.front().is_some_and(|(at, _)| at.elapsed() > WINDOW) {
            batches.pop_front();
        }
    }

    /// The bus failed: where to publish again from, per organisation, merged into
    /// `pending` (what an earlier replay has not finished).
    pub fn take_into(&mut self, pending: &mut HashMap<String, i64>) {
        for (tenant, batches) in self.0.drain() {
            let recent = batches
                .iter()
                .filter(|(at, _)| at.elapsed() <= WINDOW)
                .map(|(_, position)| *position)
                .min();
            if let Some(from) = recent {
                let entry = pending.entry(tenant).or_insert(from);
                *entry = (*entry).min(from);
            }
        }
    }
}

/// Publishes again, on a fresh connection, each organisation's events after its
/// `pending` position up to its cursor (without moving the cursor); the replayed
/// organisations are removed from `pending`. Answers how many events were sent.
pub async fn replay(
    state: &AppState,
    sink: &mut Sink,
    pending: &mut HashMap<String, i64>,
) -> Result<usize, RelayError> {
    let store = &state.store;
    let mut sent = 0;
    let tenants: Vec<(String, i64)> = pending.iter().map(|(t, p)| (t.clone(), *p)).collect();
    for (tenant, from) in tenants {
        // The lease keeps this organisation's publishing in one replica meanwhile.
        let lease = loop {
            if let Some(lease) = store.claim_cursor(&tenant, READER).await? {
                break lease;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let mut position = from;
        while position < lease.position {
            let (epoch, stored) = read_batch(store, &tenant, position).await?;
            let stored: Vec<_> = stored
                .into_iter()
                .filter(|e| e.sequence <= lease.position)
                .collect();
            let Some(last) = stored.last().map(|e| e.sequence) else {
                break;
            };
            let events: Vec<_> = stored
                .iter()
                .map(|e| envelope(&tenant, &epoch, e))
                .collect();
            let (confirmed, error) = tokio::time::timeout(PUBLISH_TIMEOUT, sink.publish(&events))
                .await
                .unwrap_or((0, Some(BusError::Unconfirmed(PUBLISH_TIMEOUT.as_secs()))));
            sent += confirmed;
            if let Some(e) = error {
                return Err(e.into()); // the lease is dropped: nothing moved
            }
            position = last;
        }
        let end = lease.position;
        lease.finish(store, end, &[]).await?;
        pending.remove(&tenant);
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_replays_from_the_earliest_recent_batch_of_each_organisation() {
        let mut recent = Recent::default();
        recent.note("a", 10);
        recent.note("a", 30);
        recent.note("b", 7);
        let mut pending = HashMap::from([("b".to_owned(), 3)]);
        recent.take_into(&mut pending);
        // An unfinished earlier replay of b reaches further back and is kept.
        assert_eq!(
            pending,
            HashMap::from([("a".to_owned(), 10), ("b".to_owned(), 3)])
        );
        // Taken: the next failure replays only what was published since.
        let mut again = HashMap::new();
        recent.take_into(&mut again);
        assert!(again.is_empty());
    }
}
