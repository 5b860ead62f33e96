//! Fault injection: the failures adapters must live through, switched on by flags.
//! Draws come from a generator of their own, so faults never change the hospital's
//! history — only how it is delivered.

use std::sync::Mutex;

use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Faults {
    /// Share of export requests answered 500.
    pub http_error_rate: f64,
    /// Share of export requests that hang (the client's timeout must end them).
    pub timeout_rate: f64,
    /// Delay added to every export request, in milliseconds.
    pub slow_ms: u64,
    /// Share of export requests answered with an HTML error page and status 200.
    pub html_rate: f64,
    /// Share of export pages cut off in the middle of the JSON.
    pub half_page_rate: f64,
    /// Share of export pages that carry one extra malformed record.
    pub malformed_rate: f64,
    /// Share of ADT messages preceded by a frame of garbage.
    pub garbage_mllp_rate: f64,
    /// Close the MLLP connection after every n-th message, before its ACK (0 = never).
    pub drop_mllp_every: u32,
}

impl Faults {
    pub fn any(&self) -> bool {
        *self != Faults::default()
    }
}

/// The dice faults are drawn with.
pub struct Dice(Mutex<ChaCha8Rng>);

impl Dice {
    pub fn new(seed: u64) -> Dice {
        Dice(Mutex::new(ChaCha8Rng::seed_from_u64(seed ^ 0x00fa_0175)))
    }

    /// True with probability `p`.
    pub fn roll(&self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        let mut rng = self.0.lock().unwrap_or_else(|e| e.into_inner());
        rng.random_bool(p.min(1.0))
    }
}
