//! Settings of the core that the API reads at run time. The command line (clap, in
//! the `ohjaamo` binary) fills these from flags and `OHJAAMO_*` variables.

use std::time::Duration;

use jiff::tz::TimeZone;

use crate::auth::settings::AuthMode;
use crate::base::admission::AdmissionLimits;
use crate::base::clock::Clock;
use crate::base::fanout::FanoutLimits;

/// Limits of the HTTP server itself: how long a client may take, how many may be
/// connected, and whom to believe about the original request.
#[derive(Debug, Clone)]
pub struct ServerLimits {
    /// A client must send a request's headers within this, counted from when the
    /// server starts waiting for them (also between requests on a kept-alive
    /// connection: an idle connection is closed after it).
    pub header_read_timeout: Duration,
    /// A request body must arrive within this.
    pub body_read_timeout: Duration,
    /// Open connections; further connections are closed at once until one ends.
    pub max_connections: usize,
    /// Proxies whose `X-Forwarded-Host`/`-Proto` are believed; from anyone else these
    /// headers are ignored and links are built from `Host`.
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            header_read_timeout: Duration::from_secs(30),
            body_read_timeout: Duration::from_secs(60),
            max_connections: 4_096,
            trusted_proxies: Vec::new(),
        }
    }
}

/// Page size limits of searches and histories.
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    pub default_count: usize,
    pub max_count: usize,
}

/// How much one search may ask for. Every figure is a cost the database pays per
/// request: a client past one gets a 400 naming the limit, not a query that runs for
/// minutes (see `docs/operations.md`).
#[derive(Debug, Clone, Copy)]
pub struct SearchLimits {
    /// Search parameters in one request (`_count`, `_offset` and `_format` not counted).
    pub max_parameters: usize,
    /// Comma-separated alternatives (OR) in one parameter, `_id` excepted.
    pub max_or_values: usize,
    /// Ids in `_id` (all of its repeats together).
    pub max_ids: usize,
    /// Alternatives of all parameters together.
    pub max_total_values: usize,
    /// Keys in `_sort`.
    pub max_sort_keys: usize,
    /// `_include` values.
    pub max_includes: usize,
    /// Largest `_offset`: deeper pages cost the database every row before them.
    pub max_offset: usize,
}

impl Default for SearchLimits {
    fn default() -> Self {
        SearchLimits {
            max_parameters: 32,
            max_or_values: 100,
            max_ids: 1_000,
            max_total_values: 1_000,
            max_sort_keys: 4,
            max_includes: 8,
            max_offset: 100_000,
        }
    }
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
    /// Most GET entries in one Bundle (413 beyond).
    pub max_bundle_reads: usize,
    /// Most bytes of answers to one Bundle's GET entries; entries past it answer 413.
    pub max_bundle_response_bytes: usize,
    /// Most JSON values (objects, arrays, scalars) in one body, counted before the
    /// body is parsed into a tree (413 beyond): bounds the memory a body can cost.
    pub max_json_values: usize,
    pub paging: Paging,
    pub search_limits: SearchLimits,
    pub server: ServerLimits,
    pub admission: AdmissionLimits,
    /// The base URL clients see (`https://ohjaamo.example/fhir`), when a proxy in
    /// front rewrites hosts; otherwise links are built from the `Host` header.
    pub public_base_url: Option<String>,
    /// A live-stream client further behind than this many events is sent `resync`
    /// and dropped.
    pub stream_max_lag: i64,
    /// Caps on live-stream clients and each one's buffer.
    pub streams: FanoutLimits,
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
    /// How callers are authenticated: no one by default here (tests, embedded uses);
    /// `ohjaamo serve` refuses to start without an issuer unless told `--auth none`.
    pub auth: AuthMode,
    /// The access log (käyttöloki): on unless switched off.
    pub access_log: AccessLogSettings,
}

/// What the access log keeps.
#[derive(Debug, Clone, Copy)]
pub struct AccessLogSettings {
    /// Whether requests are logged at all. Off only where no patient data is served
    /// (benchmarks of the log's own cost); `serve` warns when it is.
    pub enabled: bool,
    /// Records older than this are deleted (the deletion is itself logged); `None`
    /// keeps them forever.
    pub retention: Option<std::time::Duration>,
}

impl Default for AccessLogSettings {
    fn default() -> Self {
        AccessLogSettings {
            enabled: true,
            retention: None,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            default_tenant: "default".into(),
            time_zone: TimeZone::get("Europe/Helsinki").unwrap_or(TimeZone::UTC),
            max_body_bytes: 32 * 1024 * 1024,
            max_bundle_entries: 5_000,
            max_json_values: 1_000_000,
            max_bundle_reads: 100,
            max_bundle_response_bytes: 32 * 1024 * 1024,
            paging: Paging {
                default_count: 50,
                max_count: 1_000,
            },
            search_limits: SearchLimits::default(),
            server: ServerLimits::default(),
            admission: AdmissionLimits::default(),
            public_base_url: None,
            stream_max_lag: 100_000,
            streams: FanoutLimits::default(),
            stream_send_timeout: std::time::Duration::from_secs(30),
            stream_heartbeat: std::time::Duration::from_secs(15),
            event_retention: std::time::Duration::from_secs(7 * 24 * 3600),
            clock: Clock::system(),
            auth: AuthMode::None,
            access_log: AccessLogSettings::default(),
        }
    }
}
