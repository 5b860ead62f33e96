//! `ohjaamo`: the one binary of the project. Subcommands start the core and, as they
//! arrive, the adapters, the simulator and the tools around them.

mod access_log_export;
mod adapters;
mod demo;
mod forecast_backtest;
mod logging;
mod process;
mod serve;
mod serve_auth;
mod serve_limits;
mod simulate;
mod store_admin;

use clap::{Parser, Subcommand};

/// mimalloc instead of glibc's allocator: ingest parses and re-serialises every
/// resource as JSON trees, and with glibc malloc almost half of the core's CPU went to
/// malloc and free (perf, docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "ohjaamo",
    version,
    about = "Ohjaamo — FHIR-based production control for hospitals"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log format: `text` for people, `json` (one object per line) for log collectors.
    #[arg(
        long,
        env = "OHJAAMO_LOG_FORMAT",
        default_value = "text",
        global = true
    )]
    log_format: logging::Format,
}

#[derive(Subcommand)]
// Parsed once at start and matched once: the size of the largest variant costs
// nothing worth a Box.
#[allow(clippy::large_enum_variant)]
enum Command {
    /// Run the demo: the core on SQLite, the simulator and both adapters, in one process.
    Demo(demo::DemoArgs),
    /// Run the core: the FHIR REST API over the store.
    Serve(serve::ServeArgs),
    #[command(flatten)]
    Adapter(adapters::AdapterCommand),
    /// Run the Lifecare-style source simulator: an ADT feed and an export to pull.
    Simulate(simulate::SimulateArgs),
    /// Run the reference bus consumer: a ward bed-reservation replica of the ward
    /// picture from a snapshot and RabbitMQ events, served at /wards.
    BedReservations(ohjaamo_bed_reservations::Settings),
    /// Operator commands on the core's database (the event log's epoch, the access
    /// log's export).
    Store(store_admin::StoreArgs),
    /// Replay the ward occupancy forecast over a simulated month and score it: MAE,
    /// bias and 80 % interval coverage per horizon against two naive forecasts.
    ForecastBacktest(forecast_backtest::ForecastBacktestArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let default_filter = match cli.command {
        Command::Demo(_) => demo::LOG_FILTER,
        _ => logging::DEFAULT_FILTER,
    };
    // `store` commands print their answers (an epoch, an export) on stdout.
    let logs_to_stderr = matches!(cli.command, Command::Store(_));
    let _telemetry = logging::init(cli.log_format, default_filter, logs_to_stderr);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Demo(args) => runtime.block_on(demo::run(args)),
        Command::Serve(args) => runtime.block_on(serve::run(args)),
        Command::Adapter(adapter) => runtime.block_on(adapter.run()),
        Command::Simulate(args) => runtime.block_on(simulate::run(args)),
        Command::Store(args) => runtime.block_on(store_admin::run(args)),
        Command::ForecastBacktest(args) => forecast_backtest::run(args),
        Command::BedReservations(settings) => runtime.block_on(async {
            ohjaamo_bed_reservations::run(settings, ohjaamo_core::http::server::shutdown_signal())
                .await
                .map_err(anyhow::Error::from)
        }),
    }
}
