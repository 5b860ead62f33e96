//! `ohjaamo serve`: configuration from flags and `OHJAAMO_*` variables, then the
//! core until SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use jiff::tz::TimeZone;
use ohjaamo_core::base::clock::Clock;
use ohjaamo_core::base::config::{AccessLogSettings, Paging};
use ohjaamo_core::log::relay::{Bus, LocalBus};
use ohjaamo_core::picture::deriver::DeriverOptions;
use ohjaamo_core::{AppState, Background, Config};
use ohjaamo_store::{Store, StoreOptions};

use crate::serve_auth::AuthArgs;
use crate::serve_limits::LimitArgs;

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "OHJAAMO_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// `postgres://user@host/db` in production; a SQLite file by default.
    #[arg(
        long,
        env = "OHJAAMO_DATABASE_URL",
        default_value = "sqlite:ohjaamo.db"
    )]
    pub database_url: String,
    /// Most database connections the core holds.
    #[arg(long, env = "OHJAAMO_DATABASE_MAX_CONNECTIONS", default_value_t = 16)]
    pub database_max_connections: u32,
    /// The organisation requests without an X-Ohjaamo-Organization header act for.
    #[arg(long, env = "OHJAAMO_DEFAULT_ORGANIZATION", default_value = "default")]
    pub default_organization: String,
    /// IANA time zone for dates without an offset and for "today".
    #[arg(long, env = "OHJAAMO_TIME_ZONE", default_value = "Europe/Helsinki")]
    pub time_zone: String,
    /// Largest request body in bytes (413 beyond).
    #[arg(long, env = "OHJAAMO_MAX_BODY_BYTES", default_value_t = 32 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Most entries in one batch or transaction Bundle.
    #[arg(long, env = "OHJAAMO_MAX_BUNDLE_ENTRIES", default_value_t = 5_000)]
    pub max_bundle_entries: usize,
    /// Search page size when the client gives no _count.
    #[arg(long, env = "OHJAAMO_DEFAULT_PAGE_SIZE", default_value_t = 50)]
    pub default_page_size: usize,
    /// Largest _count honoured.
    #[arg(long, env = "OHJAAMO_MAX_PAGE_SIZE", default_value_t = 1_000)]
    pub max_page_size: usize,
    /// Base URL clients reach the API at (for links), e.g. https://ohjaamo.example/fhir;
    /// derived from the Host header when unset.
    #[arg(long, env = "OHJAAMO_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// RabbitMQ to publish events to, e.g. amqp://user:pass@rabbitmq:5672/%2f; without
    /// it events go to the in-process bus (the embedded default).
    #[arg(long, env = "OHJAAMO_BUS_URL")]
    pub bus_url: Option<String>,
    /// Seconds between recomputing every unit's picture for the passing of time
    /// (changes are recomputed as they are written); 1 to 86,400 (a day: the deriver
    /// reads what is on each bed two days ahead, and must read it again before then).
    #[arg(
        long,
        env = "OHJAAMO_PICTURE_REFRESH_SECONDS",
        default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(1..=86_400)
    )]
    pub picture_refresh_seconds: u64,
    /// The least seconds between two rounds of ward capacity MeasureReports (each
    /// ward's report then has its latest figures).
    #[arg(long, env = "OHJAAMO_REPORT_INTERVAL_SECONDS", default_value_t = 5)]
    pub report_interval_seconds: u64,
    /// A live-stream client further behind than this many events is sent `resync`
    /// and dropped.
    #[arg(long, env = "OHJAAMO_STREAM_MAX_LAG", default_value_t = 100_000)]
    pub stream_max_lag: i64,
    /// Seconds a live-stream client may go without reading before it is dropped.
    #[arg(
        long,
        env = "OHJAAMO_STREAM_SEND_TIMEOUT_SECONDS",
        default_value_t = 30
    )]
    pub stream_send_timeout_seconds: u64,
    /// Hours events stay in the log after every reader has passed them (how far back a
    /// display can resume).
    #[arg(long, env = "OHJAAMO_EVENT_RETENTION_HOURS", default_value_t = 168)]
    pub event_retention_hours: u64,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub auth: AuthArgs,
    /// The access log (käyttöloki) of every request that reads or changes data: `on`,
    /// or `off` only where no patient data is served (benchmarks); off warns hourly.
    #[arg(long, env = "OHJAAMO_ACCESS_LOG", default_value = "on", value_parser = ["on", "off"])]
    pub access_log: String,
    /// Days access records are kept; older ones are deleted hourly, and the deletion is
    /// logged. Unset: kept forever (the hospital's retention policy decides).
    #[arg(long, env = "OHJAAMO_ACCESS_LOG_RETENTION_DAYS")]
    pub access_log_retention_days: Option<u64>,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    run_on(args, Clock::system()).await
}

/// The core on `clock`: the system clock, or in the demo the simulated hospital's.
pub async fn run_on(args: ServeArgs, clock: Clock) -> anyhow::Result<()> {
    // Before the database: a core that would serve everyone to everyone must not
    // start by accident.
    let auth = args.auth.mode()?;
    let time_zone = TimeZone::get(&args.time_zone)
        .with_context(|| format!("unknown time zone {:?}", args.time_zone))?;
    let store_options = StoreOptions {
        max_connections: args.database_max_connections,
        statement_timeout: args.limits.statement_timeout(),
    };
    let store = Store::connect_with(&args.database_url, store_options)
        .await
        .context("cannot open the database")?;
    tracing::info!(
        database = store.backend_name(),
        "database ready, migrations applied"
    );
    let mut config = Config {
        default_tenant: args.default_organization,
        time_zone,
        max_body_bytes: args.max_body_bytes,
        max_bundle_entries: args.max_bundle_entries,
        paging: Paging {
            default_count: args.default_page_size.max(1),
            max_count: args.max_page_size.max(1),
        },
        public_base_url: args.public_url,
        stream_max_lag: args.stream_max_lag,
        stream_send_timeout: Duration::from_secs(args.stream_send_timeout_seconds.max(1)),
        event_retention: Duration::from_secs(args.event_retention_hours * 3600),
        clock,
        auth,
        access_log: AccessLogSettings {
            enabled: args.access_log == "on",
            retention: args
                .access_log_retention_days
                .map(|days| Duration::from_secs(days.max(1) * 86_400)),
        },
        ..Config::default()
    };
    args.limits
        .apply(&mut config, args.database_max_connections);
    let state = AppState::new(Arc::new(store), config);
    let unlogged = state
        .access_log
        .is_none()
        .then(|| tokio::spawn(crate::serve_auth::warn_unlogged()));
    let warning = match &state.auth {
        None => Some(tokio::spawn(crate::serve_auth::warn_unauthenticated())),
        Some(verifier) => {
            match verifier.discovery().await {
                Ok(d) => {
                    tracing::info!(issuer = %d.issuer, "authenticating with the issuer's tokens")
                }
                // The issuer may come up after the core: its keys are fetched on the
                // first token, and every request is refused until then.
                Err(e) => {
                    tracing::warn!(error = %e, "the issuer does not answer yet; tokens are refused until it does")
                }
            }
            None
        }
    };
    let bus = match args.bus_url {
        Some(url) => Bus::Amqp { url },
        None => Bus::InProcess(LocalBus::default()),
    };
    tracing::info!(bus = bus.describe(), "publishing events");
    let background = Background::start(
        &state,
        bus,
        DeriverOptions {
            refresh: Duration::from_secs(args.picture_refresh_seconds),
            report_interval: Duration::from_secs(args.report_interval_seconds),
            ..DeriverOptions::default()
        },
    );
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(address = %args.listen, "serving the FHIR API at /fhir");
    ohjaamo_core::http::server::serve(
        listener,
        state.clone(),
        ohjaamo_core::http::server::shutdown_signal(),
    )
    .await?;
    drop(background);
    for warning in [warning, unlogged].into_iter().flatten() {
        warning.abort();
    }
    state.store.close().await;
    tracing::info!("stopped");
    Ok(())
}
