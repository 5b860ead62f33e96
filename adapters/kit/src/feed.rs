//! The one trait a pushed feed implements, beside [`crate::PullSource`] for pulled ones.
//!
//! A pushed feed (HL7 v2 over MLLP, …) is the sender's to pace: the adapter listens,
//! and each sender's connection carries messages that are settled with the core in
//! order and answered. The feed knows its protocol — framing, parsing, mapping, the
//! answer; the kit accepts the connections (from the allowed addresses, over TLS
//! when set: [`crate::intake`]), stops them on shutdown, and turns the feed's
//! [`Delivery`] and [`Quarantine`] into its `/status` and its reports.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use crate::health::{Health, Observed};
use crate::intake::{Connection, Intake};
use crate::quarantine::Quarantine;
use crate::report::Delivery;

pub trait PushFeed: Send + Sync + 'static {
    /// The feed's wire protocol, for logs (`MLLP`).
    const PROTOCOL: &'static str;

    /// Serves one sender's connection until the sender closes it or `shutdown` turns
    /// true. Messages of one connection are settled in the order they came.
    fn connection(
        self: Arc<Self>,
        connection: Connection,
        shutdown: watch::Receiver<bool>,
    ) -> impl Future<Output = ()> + Send;

    /// What the feed knows of its last delivery to the core.
    fn delivery(&self) -> &Delivery;

    /// Where what cannot be applied is kept.
    fn quarantine(&self) -> &Quarantine;

    /// Records applied with a data-quality mark since the feed started (reported
    /// to the core's `/sources`); none unless the feed marks any.
    fn data_quality_marks(&self) -> u64 {
        0
    }

    /// The most connections served at once. Each holds a task and a frame buffer, so
    /// a sender that opens connections without end must not take the adapter down.
    fn max_connections(&self) -> usize;
}

/// [`serve_with`] over plain TCP from every address.
pub async fn serve<F: PushFeed>(
    listener: TcpListener,
    feed: Arc<F>,
    source: &'static str,
    shutdown: watch::Receiver<bool>,
) {
    serve_with(listener, feed, source, Intake::plain(), shutdown).await;
}

/// Accepts connections until `shutdown` turns true, one task per connection, at
/// most [`PushFeed::max_connections`] at once: one more is closed as soon as it is
/// accepted. A connection from an address `intake` does not allow is closed at once
/// too, and one whose TLS handshake fails ends there. Each refusal is logged and
/// counted in `ohjaamo_adapter_connections_refused_total{source,reason}` (`limit`,
/// `address`, `tls`); `ohjaamo_adapter_connections{source}` is how many are open.
pub async fn serve_with<F: PushFeed>(
    listener: TcpListener,
    feed: Arc<F>,
    source: &'static str,
    intake: Intake,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(feed.max_connections()));
    let intake = Arc::new(intake);
    let refused = move |reason: &'static str| {
        metrics::counter!("ohjaamo_adapter_connections_refused_total",
            "source" => source, "reason" => reason)
        .increment(1);
    };
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    if !intake.allows(&peer) {
                        tracing::warn!(%peer, "{} connection refused: the address is not on the allow-list", F::PROTOCOL);
                        refused("address");
                        drop(stream);
                        continue;
                    }
                    let Ok(slot) = slots.clone().try_acquire_owned() else {
                        tracing::warn!(%peer, limit = feed.max_connections(),
                            "{} connection refused: too many open", F::PROTOCOL);
                        refused("limit");
                        drop(stream);
                        continue;
                    };
                    let (feed, intake, shutdown) = (feed.clone(), intake.clone(), shutdown.clone());
                    tokio::spawn(async move {
                        let connection = match intake.open(stream, peer).await {
                            Ok(c) => c,
                            Err(reason) => {
                                tracing::warn!(%peer, %reason, "{} connection refused", F::PROTOCOL);
                                refused("tls");
                                return;
                            }
                        };
                        tracing::info!(%peer, tls = intake.is_tls(), "{} connection", F::PROTOCOL);
                        let open = metrics::gauge!("ohjaamo_adapter_connections", "source" => source);
                        open.increment(1.0);
                        feed.connection(connection, shutdown).await;
                        open.decrement(1.0);
                        drop(slot);
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = shutdown.changed() => return,
        }
    }
}

/// A push feed as its admin server and its reporter see it.
pub struct FeedStatus<F> {
    /// The source's name (`adt`).
    pub name: String,
    pub feed: Arc<F>,
}

impl<F: PushFeed> Observed for FeedStatus<F> {
    fn status(&self) -> Value {
        let quarantine = self.feed.quarantine();
        json!({
            "source": self.name,
            "quarantinedSinceStart": quarantine.kept(),
            "quarantineFile": quarantine.path().display().to_string(),
        })
    }

    fn health(&self) -> Health {
        Health {
            data_quality_marks: self.feed.data_quality_marks(),
            ..Health::of_delivery(self.feed.delivery(), self.feed.quarantine().kept())
        }
    }
}
