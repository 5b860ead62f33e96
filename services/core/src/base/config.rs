//! Settings of the core that the API reads at run time. The command line (clap, in
//! the `ohjaamo` binary) fills these from flags and `OHJAAMO_*` variables.

use jiff::tz::TimeZone;

use crate::base::clock::Clock;

/// Page size limits of searches and histories.
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    pub default_count: usize,
    pub max_count: usize,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// The organisation a request without an `X-Ohjaamo-Organization` header
    /// belongs to.
    pub default_tenant: String,
    /// The zone that dates without an offset are read in, and "today" is computed in.
    pub time_zone: TimeZone,
    /// Largest request body accepted (413 beyond).
    pub max_body_bytes: usize,
    /// Most entries in one Bundle (413 beyond).
    pub max_bundle_entries: usize,
    pub paging: Paging,
    /// The base URL clients see (`https://ohjaamo.example/fhir`), when a proxy in
    /// front rewrites hosts; otherwise links are built from the `Host` header.
    pub public_base_url: Option<String>,
    /// A live-stream client further behind than this many events is sent `resync`
    /// and dropped.
    pub stream_max_lag: i64,
    /// A live-stream client that takes no event for this long is dropped.
    pub stream_send_timeout: std::time::Duration,
    /// How often an idle live stream sends a comment, so proxies keep it open and
    /// clients can tell the connection is alive.
    pub stream_heartbeat: std::time::Duration,
    /// How long events stay in the log after every reader has passed them, so that a
    /// display away for a while can resume with `Last-Event-ID`.
    pub event_retention: std::time::Duration,
    /// What "now" is for the picture, holds and the live stream: the system clock,
    /// except in the demo (see [`Clock`]).
    pub clock: Clock,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            default_tenant: "default".into(),
            time_zone: TimeZone::get("Europe/Helsinki").unwrap_or(TimeZone::UTC),
            max_body_bytes: 32 * 1024 * 1024,
            max_bundle_entries: 5_000,
            paging: Paging {
                default_count: 50,
                max_count: 1_000,
            },
            public_base_url: None,
            stream_max_lag: 100_000,
            stream_send_timeout: std::time::Duration::from_secs(30),
            stream_heartbeat: std::time::Duration::from_secs(15),
            event_retention: std::time::Duration::from_secs(7 * 24 * 3600),
            clock: Clock::system(),
        }
    }
}
