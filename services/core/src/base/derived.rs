//! What the two derivers of bed occupancy share (`write::occupancy`: the request that
//! wrote a stay, and `log::occupancy`: the follower of the event log): a turn per
//! stay, so that two derivations of one stay never overlap, and a note of what was
//! already derived, so that the follower does not derive again what the request just
//! did.
//!
//! Why the turn matters: each derivation reads the stay's current version and writes
//! its Slots. Two of them overlapping could finish in the wrong order and leave the
//! Slots of an older version; taking turns, the later one always reads the newer
//! version. With turns, "derived from version v" means every version up to v is
//! reflected, which is what lets the follower skip.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Mutex;

/// Turns: a fixed set of locks, a stay's lock chosen by hashing its key. Two stays
/// may share a lock and wait for each other a moment; memory stays constant.
const TURNS: usize = 64;

/// Notes kept at most; past this the notes are dropped (the follower then derives a
/// few stays again, which changes nothing).
const MAX_NOTES: usize = 100_000;

/// Turns and notes of derived versions, per (organisation, resource type, id).
pub struct Derived {
    turns: Vec<tokio::sync::Mutex<()>>,
    hasher: std::collections::hash_map::RandomState,
    notes: Mutex<HashMap<(String, String, String), i64>>,
}

impl Default for Derived {
    fn default() -> Self {
        Derived {
            turns: (0..TURNS).map(|_| tokio::sync::Mutex::new(())).collect(),
            hasher: std::collections::hash_map::RandomState::new(),
            notes: Mutex::default(),
        }
    }
}

impl Derived {
    /// Waits for the turn of `id` (a stay) of `tenant`.
    pub async fn turn(&self, tenant: &str, id: &str) -> tokio::sync::MutexGuard<'_, ()> {
        let index = (self.hasher.hash_one((tenant, id)) % TURNS as u64) as usize;
        self.turns[index].lock().await
    }

    /// Notes that the occupancy `rtype`/`id` calls for was derived from its version
    /// `version` (or a later one).
    pub fn note(&self, tenant: &str, rtype: &str, id: &str, version: i64) {
        let mut notes = self.notes.lock().unwrap_or_else(|p| p.into_inner());
        if notes.len() >= MAX_NOTES {
            notes.clear();
        }
        let key = (tenant.to_owned(), rtype.to_owned(), id.to_owned());
        let noted = notes.entry(key).or_insert(version);
        *noted = (*noted).max(version);
    }

    /// Whether version `version` of `rtype`/`id` (or a later one) was derived; the
    /// note is used up when it covers exactly this version (the follower passes each
    /// version once).
    pub fn take_if_covered(&self, tenant: &str, rtype: &str, id: &str, version: i64) -> bool {
        let mut notes = self.notes.lock().unwrap_or_else(|p| p.into_inner());
        let key = (tenant.to_owned(), rtype.to_owned(), id.to_owned());
        match notes.get(&key) {
            Some(noted) if *noted == version => {
                notes.remove(&key);
                true
            }
            Some(noted) => *noted > version,
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_covers_its_version_and_older_ones_once() {
        let derived = Derived::default();
        derived.note("t", "Encounter", "e1", 3);
        derived.note("t", "Encounter", "e1", 2); // an older one finishing later
        assert!(derived.take_if_covered("t", "Encounter", "e1", 2));
        assert!(derived.take_if_covered("t", "Encounter", "e1", 3));
        assert!(
            !derived.take_if_covered("t", "Encounter", "e1", 3),
            "used up"
        );
        assert!(!derived.take_if_covered("t", "Encounter", "e1", 4));
        assert!(!derived.take_if_covered("other", "Encounter", "e1", 1));
    }
}
