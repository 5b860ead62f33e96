//! What the relay's rounds and its replay after a bus failure share: the name of its
//! cursor, the size and time bound of a batch, reading a batch with its epoch, and the
//! error that ends a round.

use std::time::Duration;

use ohjaamo_bus::BusError;
use ohjaamo_store::{EventFilter, Store, StoreError, StoredEvent};

/// The relay's name for its cursor in the store.
pub const READER: &str = "relay";

/// Events published per confirm round.
pub const BATCH: i64 = 500;

/// The longest a batch may take to publish and confirm.
pub const PUBLISH_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a round stopped: the bus failed (reconnect and publish again), or the store
/// could not be read (retry on the same connection).
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Up to [`BATCH`] events of `tenant` after `after`, with the epoch they are from.
pub async fn read_batch(
    store: &Store,
    tenant: &str,
    after: i64,
) -> Result<(String, Vec<StoredEvent>), StoreError> {
    store
        .within_epoch(|| store.events_after(tenant, after, BATCH, EventFilter::All))
        .await
}
