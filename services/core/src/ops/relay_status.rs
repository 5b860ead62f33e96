//! What the relay is doing, for `/readyz` and `/metrics`: an engineer on call reads
//! here that the broker is away and how many events wait, without reading logs.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use jiff::Timestamp;
use serde_json::{Value, json};

#[derive(Default)]
pub struct RelayStatus {
    state: Mutex<State>,
    published: AtomicU64,
    backlog: AtomicI64,
}

#[derive(Default)]
struct State {
    bus: Option<String>,
    connected: bool,
    since: Option<Timestamp>,
    last_error: Option<(Timestamp, String)>,
    /// When the oldest event not yet confirmed by the bus was committed, as of the
    /// last round; `None` when nothing waits.
    oldest_waiting: Option<Timestamp>,
}

impl RelayStatus {
    pub(crate) fn starting(&self, bus: String) {
        self.state().bus = Some(bus);
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn connected(&self) {
        let mut s = self.state();
        s.connected = true;
        s.since = Some(Timestamp::now());
        metrics::gauge!("ohjaamo_bus_connected").set(1.0);
    }

    pub(crate) fn failed(&self, error: &str) {
        let mut s = self.state();
        if s.connected {
            s.since = Some(Timestamp::now());
        }
        s.connected = false;
        s.last_error = Some((Timestamp::now(), error.to_owned()));
        metrics::gauge!("ohjaamo_bus_connected").set(0.0);
        metrics::counter!("ohjaamo_publish_failures_total").increment(1);
    }

    pub(crate) fn published(&self, n: u64) {
        self.published.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn set_backlog(&self, events: i64, oldest_waiting: Option<Timestamp>) {
        self.backlog.store(events, Ordering::Relaxed);
        self.state().oldest_waiting = oldest_waiting.filter(|_| events > 0);
        metrics::gauge!("ohjaamo_outbox_backlog_events").set(events as f64);
    }

    /// How long the oldest waiting event has waited, now: it keeps growing while the
    /// bus is away and no round runs.
    pub fn oldest_waiting_seconds(&self) -> f64 {
        self.state().oldest_waiting.map_or(0.0, |t| {
            Timestamp::now().duration_since(t).as_secs_f64().max(0.0)
        })
    }

    pub fn is_connected(&self) -> bool {
        self.state().connected
    }

    /// Events committed but not yet confirmed by the bus, as of the last round.
    pub fn backlog(&self) -> i64 {
        self.backlog.load(Ordering::Relaxed)
    }

    pub fn to_json(&self) -> Value {
        let waited = self.oldest_waiting_seconds();
        let s = self.state();
        json!({
            "bus": s.bus,
            "connected": s.connected,
            "since": s.since.map(|t| t.to_string()),
            "lastError": s.last_error.as_ref().map(|(at, e)| json!({"at": at.to_string(), "message": e})),
            "published": self.published.load(Ordering::Relaxed),
            "backlog": self.backlog(),
            "oldestWaitingSeconds": (waited * 10.0).round() / 10.0,
        })
    }
}
