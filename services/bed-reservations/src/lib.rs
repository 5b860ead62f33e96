//! Reference consumer: a ward bed-reservation client's local replica of the ward
//! picture, kept from a snapshot and the bus (docs/bus-contract.md, "How a consumer
//! starts, and resyncs"), and served as JSON at `GET /wards`.
//!
//! It is the contract's executable example: declare the queue, snapshot, apply in
//! order, de-duplicate, detect gaps per unit and resync.

mod consume;
pub mod replica;
mod serve;
mod settings;
mod snapshot;
mod status;
mod trace;

use std::sync::{Arc, Mutex};

pub use replica::{Replica, Ward};
pub use settings::Settings;
pub use snapshot::parse_snapshot;
pub use status::Status;
pub use trace::delivery_span;

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
