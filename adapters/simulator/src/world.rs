//! The hospital's state: one table per export stream, each with its change log, the
//! stays the ADT feed tells, and the ADT messages waiting to be sent.

use std::collections::{BTreeMap, VecDeque};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use serde_json::{Value, json};

use crate::records::*;

/// A record with a change number.
pub trait Versioned: Serialize + Clone {
    fn key(&self) -> &str;
    fn change(&self) -> u64;
    fn deleted(&self) -> bool;
    fn set_change(&mut self, change: u64);
}

macro_rules! versioned {
    ($($t:ty),*) => {$(
        impl Versioned for $t {
            fn key(&self) -> &str { &self.koodi }
            fn change(&self) -> u64 { self.muutos }
            fn deleted(&self) -> bool { self.poistettu }
            fn set_change(&mut self, change: u64) { self.muutos = change; }
        }
    )*};
}
versioned!(
    Toimipiste,
    Yksikko,
    Huone,
    Vuodepaikka,
    Laite,
    Tyovuoro,
    Leikkaus,
    Vastaanottoaika
);

/// The records of one stream and which key each change number belongs to.
#[derive(Debug, Clone)]
pub struct Table<T> {
    pub rows: BTreeMap<String, T>,
    changes: BTreeMap<u64, String>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            rows: BTreeMap::new(),
            changes: BTreeMap::new(),
        }
    }
}

impl<T: Versioned> Table<T> {
    fn put(&mut self, change: u64, mut row: T) {
        row.set_change(change);
        let key = row.key().to_owned();
        if let Some(old) = self.rows.get(&key) {
            self.changes.remove(&old.change());
        }
        self.changes.insert(change, key.clone());
        self.rows.insert(key, row);
    }

    /// Up to `limit` records changed after `after`, oldest change first, and the change
    /// number of the last one.
    pub fn page(&self, after: u64, limit: usize) -> (Vec<&T>, Option<u64>, bool) {
        let mut range = self.changes.range(after.saturating_add(1)..);
        let picked: Vec<(&u64, &String)> = range.by_ref().take(limit).collect();
        let more = range.next().is_some();
        let last = picked.last().map(|(c, _)| **c);
        (
            picked.into_iter().map(|(_, k)| &self.rows[k]).collect(),
            last,
            more,
        )
    }

    /// The change number of the latest change in this table.
    pub fn last_change(&self) -> u64 {
        self.changes.keys().next_back().copied().unwrap_or(0)
    }

    pub fn live(&self) -> impl Iterator<Item = &T> {
        self.rows.values().filter(|r| !r.deleted())
    }
}

/// The export streams, in the order a reader syncs them (parents first).
pub const STREAMS: [&str; 8] = [
    "toimipisteet",
    "yksikot",
    "huoneet",
    "vuodepaikat",
    "laitteet",
    "tyovuorot",
    "leikkaukset",
    "vastaanottoajat",
];

pub struct World {
    pub now: Timestamp,
    pub zone: TimeZone,
    pub rng: ChaCha8Rng,
    change: u64,
    pub toimipisteet: Table<Toimipiste>,
    pub yksikot: Table<Yksikko>,
    pub huoneet: Table<Huone>,
    pub vuodepaikat: Table<Vuodepaikka>,
    pub laitteet: Table<Laite>,
    pub tyovuorot: Table<Tyovuoro>,
    pub leikkaukset: Table<Leikkaus>,
    pub vastaanottoajat: Table<Vastaanottoaika>,
    pub hoitojaksot: BTreeMap<String, Hoitojakso>,
    /// ADT messages not yet acknowledged, oldest first.
    pub outbox: VecDeque<Outgoing>,
    /// Counters for names: visits, messages, cases, operations.
    pub counters: BTreeMap<&'static str, u64>,
    /// What the simulation knows ahead of the source (when things will happen).
    pub plan: Plan,
}

/// An ADT message waiting to be sent, and when (in real time) it was made: the feed's
/// lag is measured from then to its ACK.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub bytes: Vec<u8>,
    pub made: std::time::Instant,
}

/// Future happenings, not part of any export.
#[derive(Debug, Default)]
pub struct Plan {
    /// Operation code → when the operation really ends.
    pub operation_ends: BTreeMap<String, Timestamp>,
    /// Operation code → when the patient may leave recovery.
    pub recovery_ends: BTreeMap<String, Timestamp>,
    /// Cancels to send: (when, visit).
    pub cancels: Vec<(Timestamp, String)>,
    /// Bed place → when it reopens.
    pub reopenings: BTreeMap<String, Timestamp>,
    /// Stays before their last event, for the cancel of that event.
    pub undo: BTreeMap<String, Undo>,
    /// Ward codes (acute and rehabilitation) operations send patients to.
    pub wards: Vec<String>,
    pub theatres: usize,
    pub clinic_rooms: usize,
    pub days_ahead: usize,
}

/// The last event of a stay and the stay before it.
#[derive(Debug, Clone)]
pub struct Undo {
    pub trigger: &'static str,
    pub before: Option<Hoitojakso>,
}

/// Writes a record into its table under the next change number.
pub trait Store<T> {
    fn store(&mut self, row: T);
}

macro_rules! store_into {
    ($($t:ty => $field:ident),*) => {$(
        impl Store<$t> for World {
            fn store(&mut self, row: $t) {
                self.change += 1;
                let change = self.change;
                self.$field.put(change, row);
            }
        }
    )*};
}
store_into!(
    Toimipiste => toimipisteet, Yksikko => yksikot, Huone => huoneet,
    Vuodepaikka => vuodepaikat, Laite => laitteet, Tyovuoro => tyovuorot,
    Leikkaus => leikkaukset, Vastaanottoaika => vastaanottoajat
);

impl World {
    pub fn new(now: Timestamp, zone: TimeZone, rng: ChaCha8Rng) -> World {
        World {
            now,
            zone,
            rng,
            change: 0,
            toimipisteet: Table::default(),
            yksikot: Table::default(),
            huoneet: Table::default(),
            vuodepaikat: Table::default(),
            laitteet: Table::default(),
            tyovuorot: Table::default(),
            leikkaukset: Table::default(),
            vastaanottoajat: Table::default(),
            hoitojaksot: BTreeMap::new(),
            outbox: VecDeque::new(),
            counters: BTreeMap::new(),
            plan: Plan::default(),
        }
    }

    /// The next number of a counter (1, 2, ...).
    pub fn next(&mut self, counter: &'static str) -> u64 {
        let n = self.counters.entry(counter).or_insert(0);
        *n += 1;
        *n
    }

    /// The size of the world and where its feed stands, without the records: what
    /// benchmarks poll.
    pub fn summary(&self) -> Value {
        json!({
            "aika": self.now.to_string(),
            "muutos": self.change,
            "lahettamatta_adt": self.outbox.len(),
            "hoitojaksot": self.hoitojaksot.len(),
            "vastaanottoajat": self.vastaanottoajat.rows.len(),
            "leikkaukset": self.leikkaukset.rows.len(),
            "vuodepaikat": self.vuodepaikat.rows.len(),
            "virrat": {
                "toimipisteet": self.toimipisteet.last_change(),
                "yksikot": self.yksikot.last_change(),
                "huoneet": self.huoneet.last_change(),
                "vuodepaikat": self.vuodepaikat.last_change(),
                "laitteet": self.laitteet.last_change(),
                "tyovuorot": self.tyovuorot.last_change(),
                "leikkaukset": self.leikkaukset.last_change(),
                "vastaanottoajat": self.vastaanottoajat.last_change(),
            },
        })
    }

    /// The last change number given.
    pub fn last_change(&self) -> u64 {
        self.change
    }

    /// One page of a stream as the export answers it: `None` for an unknown stream.
    pub fn page(
        &self,
        stream: &str,
        after: u64,
        limit: usize,
    ) -> Option<(Vec<Value>, Option<u64>, bool)> {
        fn values<T: Serialize>(
            (rows, last, more): (Vec<&T>, Option<u64>, bool),
        ) -> (Vec<Value>, Option<u64>, bool) {
            let rows = rows
                .into_iter()
                .filter_map(|r| serde_json::to_value(r).ok())
                .collect();
            (rows, last, more)
        }
        Some(match stream {
            "toimipisteet" => values(self.toimipisteet.page(after, limit)),
            "yksikot" => values(self.yksikot.page(after, limit)),
            "huoneet" => values(self.huoneet.page(after, limit)),
            "vuodepaikat" => values(self.vuodepaikat.page(after, limit)),
            "laitteet" => values(self.laitteet.page(after, limit)),
            "tyovuorot" => values(self.tyovuorot.page(after, limit)),
            "leikkaukset" => values(self.leikkaukset.page(after, limit)),
            "vastaanottoajat" => values(self.vastaanottoajat.page(after, limit)),
            _ => return None,
        })
    }

    /// Everything as it is now, tombstones left out: what `GET /truth` answers.
    pub fn truth(&self) -> Value {
        fn list<'a, T: Versioned + 'a>(rows: impl Iterator<Item = &'a T>) -> Value {
            Value::Array(rows.filter_map(|r| serde_json::to_value(r).ok()).collect())
        }
        json!({
            "aika": self.now.to_string(),
            "muutos": self.change,
            "toimipisteet": list(self.toimipisteet.live()),
            "yksikot": list(self.yksikot.live()),
            "huoneet": list(self.huoneet.live()),
            "vuodepaikat": list(self.vuodepaikat.live()),
            "laitteet": list(self.laitteet.live()),
            "tyovuorot": list(self.tyovuorot.live()),
            "leikkaukset": list(self.leikkaukset.live()),
            "vastaanottoajat": list(self.vastaanottoajat.live()),
            "hoitojaksot": self.hoitojaksot.values().collect::<Vec<_>>(),
            "lahettamatta_adt": self.outbox.len(),
        })
    }
}
