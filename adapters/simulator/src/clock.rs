//! Simulated time: a start instant and a speed (simulated seconds per real second).
//! Speed 0 stops the clock: time then moves only when a test advances it.

use std::time::Instant;

use jiff::{SignedDuration, Timestamp};

#[derive(Debug, Clone)]
pub struct SimClock {
    start: Timestamp,
    real_start: Instant,
    speed: f64,
}

impl SimClock {
    pub fn new(start: Timestamp, speed: f64) -> SimClock {
        SimClock {
            start,
            real_start: Instant::now(),
            speed: speed.max(0.0),
        }
    }

    /// The simulated now.
    pub fn now(&self) -> Timestamp {
        let real = self.real_start.elapsed().as_secs_f64() * self.speed;
        let elapsed = SignedDuration::try_from_secs_f64(real).unwrap_or(SignedDuration::ZERO);
        self.start.checked_add(elapsed).unwrap_or(self.start)
    }
}
