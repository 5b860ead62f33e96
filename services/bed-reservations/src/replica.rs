//! The consumer's replica of the ward picture and the rules that keep it exact:
//! start from a snapshot, apply each unit's events in order, skip what was already
//! applied, and ask for a resync on any sign of a missed event.
//!
//! A queue bound to ward pictures sees only some of the organisation's sequence
//! numbers, so a gap cannot be seen in the sequence itself; each picture event names
//! its unit's previous one (`unit_previous_sequence`), and that is what is checked.
//!
//! Sequences are only comparable within one epoch of the core's event log (see
//! docs/bus-contract.md): after a restore or a failover the same numbers can come
//! again. An event of another epoch than the replica's snapshot therefore never
//! applies: one of a new epoch asks for a snapshot (which names its epoch), one of an
//! epoch a snapshot has already left behind is stale and dropped.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use ohjaamo_proto::v1::WardFigures;
use serde::Serialize;

/// One ward as the replica holds it: its figures are the contract's message, whether
/// they came from an event or (converted from the core's picture) from a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ward {
    pub name: String,
    /// The sequence of the event (or snapshot entry) this state is from.
    pub sequence: u64,
    pub figures: WardFigures,
}

/// A ward's picture change as delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The event log's epoch the event is from (empty from cores before epochs).
    pub epoch: String,
    pub sequence: u64,
    pub unit_previous_sequence: u64,
    pub unit: String,
    pub name: String,
    pub figures: WardFigures,
}

/// What applying a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The replica moved on.
    Applied,
    /// Already in the replica (a redelivery, or covered by the snapshot).
    Duplicate,
    /// An event of this unit was missed: take a new snapshot.
    Gap,
    /// An event of an epoch the replica has not seen: take a new snapshot.
    NewEpoch,
    /// An event of an epoch an earlier snapshot left behind: dropped.
    Stale,
}

/// The replica: the wards, the snapshot it started from, and counts that let a test
/// (or an operator) see that nothing was lost or applied twice.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Replica {
    pub wards: BTreeMap<String, Ward>,
    /// The sequence the last snapshot was as of.
    pub snapshot_sequence: u64,
    /// The epoch of the event log the snapshot (and so every sequence here) is from.
    pub epoch: String,
    /// Epochs earlier snapshots were from: their events still in the queue are stale.
    #[serde(skip)]
    left_epochs: HashSet<String>,
    /// Events dropped as of a left epoch.
    pub stale: u64,
    /// The sequence the first snapshot was as of: every picture event after it has
    /// been received.
    pub first_snapshot_sequence: Option<u64>,
    pub snapshots: u64,
    pub applied: u64,
    pub duplicates: u64,
    pub gaps: u64,
    /// Sequences applied more than once (must stay 0).
    pub applied_twice: u64,
    #[serde(skip)]
    applied_sequences: HashSet<u64>,
    /// Every picture sequence delivered, applied or not (for the end-to-end check).
    #[serde(skip)]
    pub received: HashSet<u64>,
}

impl Replica {
    /// Replaces the wards with a snapshot's, taken in `epoch`.
    pub fn load_snapshot(&mut self, sequence: u64, epoch: &str, wards: BTreeMap<String, Ward>) {
        if epoch != self.epoch {
            if self.snapshots > 0 {
                self.left_epochs.insert(std::mem::take(&mut self.epoch));
                // Sequence numbers start to mean other events: what was counted by
                // them no longer says anything.
                self.applied_sequences.clear();
                self.received.clear();
                self.first_snapshot_sequence = None;
            }
            self.left_epochs.remove(epoch);
            self.epoch = epoch.to_owned();
        }
        self.wards = wards;
        self.snapshot_sequence = sequence;
        self.first_snapshot_sequence.get_or_insert(sequence);
        self.snapshots += 1;
    }

    pub fn apply(&mut self, change: Change) -> Applied {
        if change.epoch != self.epoch {
            return if self.left_epochs.contains(&change.epoch) {
                self.stale += 1;
                Applied::Stale
            } else {
                Applied::NewEpoch
            };
        }
        self.received.insert(change.sequence);
        let outcome = match self.wards.get(&change.unit) {
            Some(ward) if change.sequence <= ward.sequence => Applied::Duplicate,
            Some(ward) if change.unit_previous_sequence == ward.sequence => Applied::Applied,
            Some(_) => Applied::Gap,
            // A unit the snapshot did not have: its first picture, or one the
            // snapshot already covers (the unit went away since), or a miss.
            None if change.sequence <= self.snapshot_sequence => Applied::Duplicate,
            None if change.unit_previous_sequence == 0 => Applied::Applied,
            None => Applied::Gap,
        };
        match outcome {
            Applied::Applied => {
                self.applied += 1;
                if !self.applied_sequences.insert(change.sequence) {
                    self.applied_twice += 1;
                }
                self.wards.insert(
                    change.unit,
                    Ward {
                        name: change.name,
                        sequence: change.sequence,
                        figures: change.figures,
                    },
                );
            }
            Applied::Duplicate => self.duplicates += 1,
            Applied::Gap => self.gaps += 1,
            Applied::NewEpoch | Applied::Stale => {}
        }
        outcome
    }

    /// The highest sequence the replica reflects.
    pub fn sequence(&self) -> u64 {
        self.wards
            .values()
            .map(|w| w.sequence)
            .max()
            .unwrap_or(0)
            .max(self.snapshot_sequence)
    }
}

/// The shared replica, locked. A lock poisoned by a panic elsewhere is taken anyway, so
/// that one panic does not stop the consumer and its server with it.
pub(crate) fn lock(replica: &Mutex<Replica>) -> MutexGuard<'_, Replica> {
    replica.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ward(sequence: u64, beds: u32) -> Ward {
        Ward {
            name: "Osasto 1".into(),
            sequence,
            figures: WardFigures {
                beds_total: beds,
                ..Default::default()
            },
        }
    }

    fn change(sequence: u64, previous: u64, unit: &str, beds: u32) -> Change {
        Change {
            epoch: "e1".into(),
            sequence,
            unit_previous_sequence: previous,
            unit: unit.into(),
            name: "Osasto 1".into(),
            figures: WardFigures {
                beds_total: beds,
                ..Default::default()
            },
        }
    }

    fn replica() -> Replica {
        let mut r = Replica::default();
        r.load_snapshot(10, "e1", BTreeMap::from([("w1".to_owned(), ward(7, 5))]));
        r
    }

    #[test]
    fn events_in_order_apply() {
        let mut r = replica();
        assert_eq!(r.apply(change(12, 7, "w1", 6)), Applied::Applied);
        assert_eq!(r.apply(change(15, 12, "w1", 7)), Applied::Applied);
        assert_eq!(r.wards["w1"].figures.beds_total, 7);
        assert_eq!(r.sequence(), 15);
    }

    #[test]
    fn redeliveries_and_what_the_snapshot_covers_are_skipped() {
        let mut r = replica();
        assert_eq!(r.apply(change(7, 3, "w1", 5)), Applied::Duplicate);
        assert_eq!(r.apply(change(12, 7, "w1", 6)), Applied::Applied);
        assert_eq!(r.apply(change(12, 7, "w1", 6)), Applied::Duplicate);
        // A unit gone from the snapshot: its old events are covered by it.
        assert_eq!(r.apply(change(9, 4, "w2", 1)), Applied::Duplicate);
        assert_eq!((r.applied, r.duplicates, r.applied_twice), (1, 3, 0));
    }

    #[test]
    fn a_missed_event_is_a_gap() {
        let mut r = replica();
        assert_eq!(r.apply(change(15, 12, "w1", 7)), Applied::Gap);
        assert_eq!(r.wards["w1"].figures.beds_total, 5, "a gap changes nothing");
        // A new unit whose first event was missed.
        assert_eq!(r.apply(change(20, 18, "w9", 1)), Applied::Gap);
        // A new unit's first event.
        assert_eq!(r.apply(change(21, 0, "w8", 1)), Applied::Applied);
        assert_eq!(r.gaps, 2);
    }

    #[test]
    fn an_event_of_another_epoch_never_applies() {
        let mut r = replica();
        assert_eq!(r.apply(change(12, 7, "w1", 6)), Applied::Applied);
        // The log was restored: sequence 13 of the new epoch is another event than
        // the 13 the old epoch would have had.
        let reused = Change {
            epoch: "e2".into(),
            ..change(13, 12, "w1", 9)
        };
        assert_eq!(r.apply(reused.clone()), Applied::NewEpoch);
        assert_eq!(r.wards["w1"].figures.beds_total, 6, "nothing applied");
        // The snapshot the consumer then takes is of the new epoch.
        r.load_snapshot(13, "e2", BTreeMap::from([("w1".to_owned(), ward(13, 9))]));
        assert_eq!(
            r.apply(reused),
            Applied::Duplicate,
            "the snapshot covers it"
        );
        // Old-epoch events still queued are dropped, without another snapshot.
        assert_eq!(r.apply(change(14, 12, "w1", 4)), Applied::Stale);
        assert_eq!(r.wards["w1"].figures.beds_total, 9);
        assert_eq!((r.epoch.as_str(), r.stale, r.applied_twice), ("e2", 1, 0));
        let next = Change {
            epoch: "e2".into(),
            ..change(15, 13, "w1", 10)
        };
        assert_eq!(r.apply(next), Applied::Applied);
    }
}
