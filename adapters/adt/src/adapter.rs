//! The adapter's state, shared by every connection and by a replay: the core, the
//! mapping's settings (the visit-key rule, what to answer to messages not used),
//! the ACK builder, the quarantine, and the limits on senders.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jiff::tz::TimeZone;
use ohjaamo_adapter_kit::{Backoff, Delivery, Quarantine};
use ohjaamo_hl7::AckBuilder;

use crate::core_client::CoreClient;
use crate::encounter::SourceIds;
use crate::visit_key::Reading;

/// What a message of a type the adapter does not use is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum NotUsed {
    /// `AA` with a note ("not used"): an interface engine goes on to the next
    /// message.
    #[default]
    Accept,
    /// `AR`, and the message is quarantined (as before issue 20).
    Reject,
}

/// Connections served at once when not configured.
pub const DEFAULT_MAX_CONNECTIONS: usize = 16;
/// Seconds a connection may stay silent when not configured.
pub const DEFAULT_IDLE_TIMEOUT_SECONDS: u64 = 300;
/// Largest message accepted when not configured; an ADT message is a few kilobytes.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// What one sender may hold of the adapter.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// MLLP connections served at once; one more is closed when accepted.
    pub max_connections: usize,
    /// A connection that sends no byte for this long is closed.
    pub idle_timeout: Duration,
    /// A message (frame payload) larger than this is refused with `AR`.
    pub max_message_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            idle_timeout: Duration::from_secs(DEFAULT_IDLE_TIMEOUT_SECONDS),
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
        }
    }
}

/// Everything a connection needs.
pub struct AdtAdapter {
    pub core: CoreClient,
    pub ids: SourceIds,
    pub zone: TimeZone,
    pub acks: AckBuilder,
    pub quarantine: Quarantine,
    pub backoff: Backoff,
    pub limits: Limits,
    /// The last message the core stored, for the status reports.
    pub delivery: Delivery,
    /// How stays are keyed (`--visit-key`).
    pub reading: Reading,
    /// What messages not used are answered (`--unsupported`).
    pub not_used: NotUsed,
    ack_counter: AtomicU64,
    marks: AtomicU64,
}

impl AdtAdapter {
    /// An adapter with the default [`Limits`] (see [`AdtAdapter::with_limits`]).
    pub fn new(
        core: CoreClient,
        ids: SourceIds,
        zone: TimeZone,
        acks: AckBuilder,
        quarantine: Quarantine,
        backoff: Backoff,
    ) -> AdtAdapter {
        AdtAdapter {
            core,
            ids,
            zone,
            acks,
            quarantine,
            backoff,
            limits: Limits::default(),
            delivery: Default::default(),
            reading: Reading::default(),
            not_used: NotUsed::default(),
            ack_counter: AtomicU64::new(0),
            marks: AtomicU64::new(0),
        }
    }

    /// Stays keyed by `reading`'s rule instead of PV1-19 alone.
    pub fn with_reading(mut self, reading: Reading) -> AdtAdapter {
        self.reading = reading;
        self
    }

    /// Messages not used answered as `not_used` says.
    pub fn with_not_used(mut self, not_used: NotUsed) -> AdtAdapter {
        self.not_used = not_used;
        self
    }

    /// Data-quality marks left on stays since the adapter started.
    pub fn marks(&self) -> u64 {
        self.marks.load(Ordering::Relaxed)
    }

    pub(crate) fn count_mark(&self) {
        self.marks.fetch_add(1, Ordering::Relaxed);
    }

    pub fn with_limits(mut self, limits: Limits) -> AdtAdapter {
        self.limits = limits;
        self
    }

    /// MSH-10 of the next ACK this adapter sends.
    pub(crate) fn next_ack_id(&self) -> String {
        format!(
            "OHJ{}",
            self.ack_counter.fetch_add(1, Ordering::Relaxed) + 1
        )
    }
}
