//! The consumer's connection state and counts, for `GET /status`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[derive(Default)]
pub struct Status {
    state: Mutex<State>,
    garbage: AtomicU64,
}

#[derive(Default)]
struct State {
    connected_at: Option<Instant>,
    last_error: Option<String>,
}

impl Status {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn connected(&self) {
        self.state().connected_at = Some(Instant::now());
    }

    pub(crate) fn disconnected(&self, error: &str) {
        let mut s = self.state();
        s.connected_at = None;
        s.last_error = Some(error.to_owned());
    }

    pub(crate) fn garbage(&self) {
        self.garbage.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn connected_for(&self) -> Option<Duration> {
        self.state().connected_at.map(|at| at.elapsed())
    }

    pub fn to_json(&self) -> Value {
        let s = self.state();
        json!({
            "connected": s.connected_at.is_some(),
            "lastError": s.last_error,
            "undecodable": self.garbage.load(Ordering::Relaxed),
        })
    }
}
