//! Reference consumer: a ward bed-reservation client's local replica of the ward
//! picture, kept from a snapshot and the bus (docs/bus-contract.md, "How a consumer
//! starts, and resyncs"), and served as JSON at `GET /wards`.
//!
//! It is the contract's executable example: declare the queue, snapshot, apply in
//! order, de-duplicate, detect gaps per unit and resync.

mod consume;
pub mod replica;
mod serve;
mod snapshot;
mod status;
mod trace;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub use replica::{Replica, Ward};
pub use snapshot::parse_snapshot;
pub use status::Status;
pub use trace::delivery_span;

/// Where the consumer reads from and what it declares.
#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// The core's root URL (where `/picture` is).
    #[arg(
        long,
        env = "OHJAAMO_CORE_ROOT",
        default_value = "http://127.0.0.1:8080"
    )]
    pub core: String,
    /// The organisation whose wards to follow.
    #[arg(long, env = "OHJAAMO_ORGANIZATION", default_value = "default")]
    pub organization: String,
    /// RabbitMQ.
    #[arg(
        long,
        env = "OHJAAMO_BUS_URL",
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f"
    )]
    pub bus_url: String,
    /// This consumer's queue (durable, quorum).
    #[arg(long, env = "OHJAAMO_QUEUE", default_value = "bed-reservations")]
    pub queue: String,
    /// Deliveries in flight before acknowledgement.
    #[arg(long, env = "OHJAAMO_PREFETCH", default_value_t = 256)]
    pub prefetch: u16,
    /// Most bytes the queue may hold while this consumer is away.
    #[arg(long, env = "OHJAAMO_MAX_QUEUE_BYTES", default_value_t = 1 << 30)]
    pub max_queue_bytes: i64,
    /// Where to serve `GET /wards` and `GET /status`.
    #[arg(long, env = "OHJAAMO_LISTEN", default_value = "127.0.0.1:8095")]
    pub listen: SocketAddr,
}

/// Runs the consumer and its HTTP server until `shutdown` completes.
pub async fn run(
    settings: Settings,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let replica = Arc::new(Mutex::new(Replica::default()));
    let status = Arc::new(Status::default());
    let listener = tokio::net::TcpListener::bind(settings.listen).await?;
    tracing::info!(address = %settings.listen, queue = settings.queue, "serving the ward replica at /wards");
    let consumer = tokio::spawn(consume::run(
        settings.clone(),
        replica.clone(),
        status.clone(),
    ));
    let app = serve::router(settings.organization.clone(), replica, status);
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    consumer.abort();
    served
}
