//! Where the relay publishes: RabbitMQ with publisher confirms in production, an
//! in-process broadcast on the embedded default.

use std::sync::Arc;
use std::time::Duration;

use ohjaamo_bus::lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use ohjaamo_bus::lapin::{Channel, Connection, PublisherConfirm};
use ohjaamo_bus::{BusError, EXCHANGE, message_properties, routing_key};
use ohjaamo_proto::v1::Event;
use prost::Message as _;
use tokio::sync::broadcast;

/// The bus the core publishes to.
#[derive(Clone)]
pub enum Bus {
    /// AMQP 0-9-1 (RabbitMQ) at this URL.
    Amqp { url: String },
    /// The in-process bus: subscribers in this process receive every event.
    InProcess(LocalBus),
}

impl Bus {
    /// Where it is, for logs and the status page (no password).
    pub fn describe(&self) -> String {
        match self {
            Bus::Amqp { url } => match url.rsplit_once('@') {
                Some((_, host)) => format!("amqp://…@{host}"),
                None => url.clone(),
            },
            Bus::InProcess(_) => "in-process".into(),
        }
    }

    pub(super) async fn open(&self) -> Result<Sink, BusError> {
        match self {
            Bus::Amqp { url } => {
                let connection =
                    ohjaamo_bus::connect(url, "ohjaamo-core relay", Duration::from_secs(10))
                        .await?;
                let channel = connection.create_channel().await?;
                channel
                    .confirm_select(ConfirmSelectOptions::default())
                    .await?;
                ohjaamo_bus::declare_exchange(&channel).await?;
                Ok(Sink::Amqp {
                    connection: Box::new(connection),
                    channel,
                })
            }
            Bus::InProcess(bus) => Ok(Sink::InProcess(bus.clone())),
        }
    }
}

/// An in-process bus: a bounded broadcast. A subscriber that falls more than its
/// capacity behind is told how many it missed (and resyncs); the publisher never waits.
#[derive(Clone)]
pub struct LocalBus(broadcast::Sender<Arc<Event>>);

impl LocalBus {
    pub fn new(capacity: usize) -> LocalBus {
        LocalBus(broadcast::Sender::new(capacity))
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.0.subscribe()
    }
}

impl Default for LocalBus {
    fn default() -> Self {
        LocalBus::new(16_384)
    }
}

/// An open publishing session.
pub(super) enum Sink {
    Amqp {
        connection: Box<Connection>,
        channel: Channel,
    },
    InProcess(LocalBus),
}

impl Sink {
    /// Publishes `events` in order and answers how many from the start were confirmed
    /// by the broker — all of them, or a prefix and the error that stopped the rest.
    pub async fn publish(&mut self, events: &[Event]) -> (usize, Option<BusError>) {
        match self {
            Sink::InProcess(bus) => {
                for event in events {
                    // No subscriber is fine: nobody in this process listens.
                    let _ = bus.0.send(Arc::new(event.clone()));
                }
                (events.len(), None)
            }
            Sink::Amqp { channel, .. } => {
                let mut confirms = Vec::with_capacity(events.len());
                for event in events {
                    let published = channel
                        .basic_publish(
                            EXCHANGE.into(),
                            routing_key(event).into(),
                            BasicPublishOptions::default(),
                            &event.encode_to_vec(),
                            message_properties(event),
                        )
                        .await;
                    match published {
                        Ok(confirm) => confirms.push(confirm),
                        Err(e) => {
                            return (confirmed_prefix(confirms, events).await.0, Some(e.into()));
                        }
                    }
                }
                confirmed_prefix(confirms, events).await
            }
        }
    }

    pub async fn close(self) {
        if let Sink::Amqp { connection, .. } = self {
            let _ = connection.close(200, "relay stopping".into()).await;
        }
    }
}

/// How long the relay waits for a confirm. A broker that blocks publishers (its disk
/// or memory alarm) never answers; after this the relay reconnects and says why.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(30);

/// Waits for the confirms in order; stops at the first nack, error or timeout.
async fn confirmed_prefix(
    confirms: Vec<PublisherConfirm>,
    events: &[Event],
) -> (usize, Option<BusError>) {
    let deadline = tokio::time::Instant::now() + CONFIRM_TIMEOUT;
    for (n, confirm) in confirms.into_iter().enumerate() {
        match tokio::time::timeout_at(deadline, confirm).await {
            Ok(Ok(confirmation)) if confirmation.is_nack() => {
                return (n, Some(BusError::Refused(events[n].sequence)));
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return (n, Some(e.into())),
            Err(_) => {
                return (n, Some(BusError::Unconfirmed(CONFIRM_TIMEOUT.as_secs())));
            }
        }
    }
    (events.len(), None)
}
