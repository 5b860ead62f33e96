//! The SQLite backend's reader leases. One process owns a SQLite file, so a reader's
//! exclusive hold on a tenant's log (see `cursor`) is a lock in that process rather than
//! a locked row; the store keeps these locks, and a lease holds one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// One reader's lock on one tenant's log.
type ReaderLock = Arc<tokio::sync::Mutex<()>>;

/// Locks of the SQLite backend's readers, by `(tenant, reader)`.
#[derive(Default)]
pub(crate) struct LocalLeases(Mutex<HashMap<(String, String), ReaderLock>>);

impl LocalLeases {
    pub(crate) fn try_take(
        &self,
        tenant: &str,
        reader: &str,
    ) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        let lock = {
            let mut map = self
                .0
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            map.entry((tenant.to_owned(), reader.to_owned()))
                .or_default()
                .clone()
        };
        lock.try_lock_owned().ok()
    }
}
