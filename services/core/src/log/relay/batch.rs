//! What the relay's rounds and its replay after a bus failure share: the name of its
//! cursor, the size and time bound of a batch, and the error that ends a round.

use std::time::Duration;

use ohjaamo_bus::BusError;
use ohjaamo_store::StoreError;

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
