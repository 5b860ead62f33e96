//! `ohjaamo serve`'s limits against costly or hostile clients: how much a search may
//! ask, how long the database may work on one statement, how long a client may take,
//! how many may be connected and in flight. Every default is in README.md's table and
//! explained in `docs/operations.md`.

use std::time::Duration;

use ohjaamo_core::Config;
use ohjaamo_core::base::admission::AdmissionLimits;
use ohjaamo_core::base::config::{SearchLimits, ServerLimits};
use ohjaamo_core::base::fanout::FanoutLimits;

#[derive(clap::Args, Debug)]
pub struct LimitArgs {
    /// Seconds a database statement may run before the database stops it (a search
    /// then answers 503).
    #[arg(
        long,
        env = "OHJAAMO_DATABASE_STATEMENT_TIMEOUT_SECONDS",
        default_value_t = 30
    )]
    pub database_statement_timeout_seconds: u64,
    /// Most JSON values (objects, arrays, scalars) in one request body, counted before
    /// it is parsed (413 beyond).
    #[arg(long, env = "OHJAAMO_MAX_JSON_VALUES", default_value_t = 1_000_000)]
    pub max_json_values: usize,
    /// Most GET entries in one batch or transaction Bundle (413 beyond).
    #[arg(long, env = "OHJAAMO_MAX_BUNDLE_READS", default_value_t = 100)]
    pub max_bundle_reads: usize,
    /// Most bytes of answers to one Bundle's GET entries; entries past it answer 413.
    #[arg(long, env = "OHJAAMO_MAX_BUNDLE_RESPONSE_BYTES", default_value_t = 32 * 1024 * 1024)]
    pub max_bundle_response_bytes: usize,
    /// Most search parameters in one search.
    #[arg(long, env = "OHJAAMO_SEARCH_MAX_PARAMETERS", default_value_t = 32)]
    pub search_max_parameters: usize,
    /// Most comma-separated values (OR) in one search parameter.
    #[arg(long, env = "OHJAAMO_SEARCH_MAX_OR_VALUES", default_value_t = 100)]
    pub search_max_or_values: usize,
    /// Most ids in `_id`.
    #[arg(long, env = "OHJAAMO_SEARCH_MAX_IDS", default_value_t = 1_000)]
    pub search_max_ids: usize,
    /// Most values of all search parameters together.
    #[arg(long, env = "OHJAAMO_SEARCH_MAX_TOTAL_VALUES", default_value_t = 1_000)]
    pub search_max_total_values: usize,
    /// Most keys in `_sort`.
    #[arg(long, env = "OHJAAMO_SEARCH_MAX_SORT_KEYS", default_value_t = 4)]
    pub search_max_sort_keys: usize,
    /// Most `_include` values.
    #[arg(long, env = "OHJAAMO_SEARCH_MAX_INCLUDES", default_value_t = 8)]
    pub search_max_includes: usize,
    /// Largest `_offset`.
    #[arg(long, env = "OHJAAMO_SEARCH_MAX_OFFSET", default_value_t = 100_000)]
    pub search_max_offset: usize,
    /// Seconds a client has to send a request's headers (and the most a kept-alive
    /// connection may sit idle).
    #[arg(
        long,
        env = "OHJAAMO_HEADER_READ_TIMEOUT_SECONDS",
        default_value_t = 30
    )]
    pub header_read_timeout_seconds: u64,
    /// Seconds a client has to send a request body.
    #[arg(long, env = "OHJAAMO_BODY_READ_TIMEOUT_SECONDS", default_value_t = 60)]
    pub body_read_timeout_seconds: u64,
    /// Most open HTTP connections; further ones are closed at once.
    #[arg(long, env = "OHJAAMO_MAX_CONNECTIONS", default_value_t = 4_096)]
    pub max_connections: usize,
    /// Requests in flight in the whole server (live streams not counted); beyond it
    /// 503 with Retry-After.
    #[arg(long, env = "OHJAAMO_MAX_IN_FLIGHT", default_value_t = 256)]
    pub max_in_flight: usize,
    /// Requests in flight for one organisation; beyond it 503 with Retry-After.
    #[arg(
        long,
        env = "OHJAAMO_MAX_IN_FLIGHT_PER_ORGANIZATION",
        default_value_t = 64
    )]
    pub max_in_flight_per_organization: usize,
    /// Searches one organisation may run on the database at once; unset: half of the
    /// database connections.
    #[arg(long, env = "OHJAAMO_SEARCHES_PER_ORGANIZATION")]
    pub searches_per_organization: Option<usize>,
    /// Bytes of request bodies read and parsed at once; a body waits up to 5 s for room,
    /// then 503.
    #[arg(long, env = "OHJAAMO_BODY_MEMORY_BYTES", default_value_t = 96 * 1024 * 1024)]
    pub body_memory_bytes: usize,
    /// Live-stream (`/stream`) clients in the whole server; beyond it 503.
    #[arg(long, env = "OHJAAMO_STREAM_MAX_CLIENTS", default_value_t = 2_000)]
    pub stream_max_clients: usize,
    /// Live-stream clients of one organisation; beyond it 503.
    #[arg(
        long,
        env = "OHJAAMO_STREAM_MAX_CLIENTS_PER_ORGANIZATION",
        default_value_t = 500
    )]
    pub stream_max_clients_per_organization: usize,
    /// Picture events buffered per live-stream client; one further behind the
    /// organisation's follower is sent `resync`.
    #[arg(long, env = "OHJAAMO_STREAM_BUFFER", default_value_t = 1_024)]
    pub stream_buffer: usize,
    /// Proxies (addresses or CIDR blocks, comma-separated) whose X-Forwarded-Host and
    /// X-Forwarded-Proto are believed; from anyone else they are ignored.
    #[arg(long, env = "OHJAAMO_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_network)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl LimitArgs {
    pub fn statement_timeout(&self) -> Duration {
        Duration::from_secs(self.database_statement_timeout_seconds.max(1))
    }

    /// Writes the limits into `config`; `database_connections` sizes the default
    /// search share.
    pub fn apply(&self, config: &mut Config, database_connections: u32) {
        config.max_json_values = self.max_json_values.max(1);
        config.max_bundle_reads = self.max_bundle_reads;
        config.max_bundle_response_bytes = self.max_bundle_response_bytes;
        config.search_limits = SearchLimits {
            max_parameters: self.search_max_parameters,
            max_or_values: self.search_max_or_values.max(1),
            max_ids: self.search_max_ids.max(1),
            max_total_values: self.search_max_total_values.max(1),
            max_sort_keys: self.search_max_sort_keys,
            max_includes: self.search_max_includes,
            max_offset: self.search_max_offset,
        };
        config.server = ServerLimits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_seconds.max(1)),
            body_read_timeout: Duration::from_secs(self.body_read_timeout_seconds.max(1)),
            max_connections: self.max_connections.max(1),
            trusted_proxies: self.trusted_proxies.clone(),
        };
        config.streams = FanoutLimits {
            max_clients: self.stream_max_clients,
            max_clients_per_organization: self.stream_max_clients_per_organization,
            buffer: self.stream_buffer.clamp(1, 65_536),
        };
        let half_the_pool = (database_connections as usize / 2).max(1);
        config.admission = AdmissionLimits {
            max_in_flight: self.max_in_flight.max(1),
            max_in_flight_per_organization: self.max_in_flight_per_organization.max(1),
            searches_per_organization: self.searches_per_organization.unwrap_or(half_the_pool),
            body_memory_bytes: self.body_memory_bytes.max(1024),
            ..AdmissionLimits::default()
        };
    }
}

/// An address (a network of one) or a CIDR block.
fn parse_network(value: &str) -> Result<ipnet::IpNet, String> {
    let value = value.trim();
    value
        .parse::<ipnet::IpNet>()
        .or_else(|_| value.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{value:?} is neither an IP address nor a CIDR block"))
}

#[cfg(test)]
mod tests {
    use super::parse_network;

    #[test]
    fn proxies_are_addresses_or_blocks() {
        assert_eq!(
            parse_network("10.0.0.0/8").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            parse_network(" 10.1.2.3").unwrap().to_string(),
            "10.1.2.3/32"
        );
        assert_eq!(parse_network("::1").unwrap().to_string(), "::1/128");
        assert!(parse_network("proxy.local").is_err());
    }
}
