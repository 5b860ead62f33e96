//! What the consumer is told on its command line: where it reads and what it declares.

use std::net::SocketAddr;

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
