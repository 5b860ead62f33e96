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
}

impl RelayStatus {
    pub(super) fn starting(&self, bus: String) {
        self.state().bus = Some(bus);
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn connected(&self) {
        let mut s = self.state();
        s.connected = true;
        s.since = Some(Timestamp::now());
        metrics::gauge!("ohjaamo_bus_connected").set(1.0);
    }

    pub(super) fn failed(&self, error: &str) {
        let mut s = self.state();
        if s.connected {
            s.since = Some(Timestamp::now());
        }
        s.connected = false;
        s.last_error = Some((Timestamp::now(), error.to_owned()));
        metrics::gauge!("ohjaamo_bus_connected").set(0.0);
    }

    pub(super) fn published(&self, n: u64) {
        self.published.fetch_add(n, Ordering::Relaxed);
    }

    pub(super) fn set_backlog(&self, events: i64) {
        self.backlog.store(events, Ordering::Relaxed);
        metrics::gauge!("ohjaamo_outbox_backlog_events").set(events as f64);
    }

    pub fn is_connected(&self) -> bool {
        self.state().connected
    }

    /// Events committed but not yet confirmed by the bus, as of the last round.
    pub fn backlog(&self) -> i64 {
        self.backlog.load(Ordering::Relaxed)
    }

    pub fn to_json(&self) -> Value {
        let s = self.state();
        json!({
            "bus": s.bus,
            "connected": s.connected,
            "since": s.since.map(|t| t.to_string()),
            "lastError": s.last_error.as_ref().map(|(at, e)| json!({"at": at.to_string(), "message": e})),
            "published": self.published.load(Ordering::Relaxed),
            "backlog": self.backlog(),
        })
    }
}
