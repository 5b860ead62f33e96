//! What "now" is for the situational picture, bed holds' expiry and the live stream's
//! sense of time.
//!
//! Production runs on the system clock. The demo runs its simulated hospital faster
//! than real time; if the core kept the wall clock, stays that began in the
//! simulator's past would lie in the core's future, and "occupied now" or "freeing
//! today" would be computed from data the core sees as not yet happened. So there the
//! core follows the simulator's clock instead: one clock, one story.
//!
//! Record-keeping times are not "now" in this sense and stay on the system clock:
//! `meta.lastUpdated`, the event log's times, retention, source reports and the
//! relay's health.

use jiff::Timestamp;
use tokio::sync::watch;

/// The core's "now": the system clock, or an instant someone else keeps (published on
/// a watch channel, as the demo's simulator does).
#[derive(Debug, Clone, Default)]
pub struct Clock {
    follows: Option<watch::Receiver<Timestamp>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A clock that reads whatever instant was last published on `time`.
    pub fn following(time: watch::Receiver<Timestamp>) -> Clock {
        Clock {
            follows: Some(time),
        }
    }

    pub fn now(&self) -> Timestamp {
        match &self.follows {
            Some(time) => *time.borrow(),
            None => Timestamp::now(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_following_clock_reads_what_was_published() {
        let start: Timestamp = "2026-03-29T00:30:00Z".parse().unwrap();
        let (publish, time) = watch::channel(start);
        let clock = Clock::following(time);
        assert_eq!(clock.now(), start);
        let later: Timestamp = "2026-03-29T05:00:00Z".parse().unwrap();
        publish.send_replace(later);
        assert_eq!(clock.now(), later);
    }

    #[test]
    fn the_system_clock_moves_with_the_wall() {
        let before = Timestamp::now();
        let now = Clock::system().now();
        assert!(now >= before && now <= Timestamp::now());
    }
}
