//! The consumer's session with the bus: declare the queue first, take the snapshot,
//! then apply deliveries in order, acknowledging each after it is applied. Any
//! failure ends the session; the caller reconnects with backoff and starts over
//! (unacknowledged deliveries come again and are skipped as duplicates). Each
//! delivery is handled in a span that continues the trace its headers carry
//! ([`crate::trace`]).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt as _;
use ohjaamo_bus::lapin::message::Delivery;
use ohjaamo_bus::lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions,
};
use ohjaamo_bus::lapin::types::FieldTable;
use ohjaamo_bus::{QueueSettings, declare_consumer_queue};
use ohjaamo_proto::v1::{Event, event::Payload, picture_change::Figures};
use prost::Message as _;
use tracing::Instrument as _;

use crate::replica::{Applied, Change, Replica, lock};
use crate::settings::Settings;
use crate::snapshot::Snapshots;
use crate::status::Status;

/// Why a session ended.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Bus(#[from] ohjaamo_bus::BusError),
    #[error("RabbitMQ: {0}")]
    Amqp(#[from] ohjaamo_bus::lapin::Error),
    #[error("the queue's consumer was cancelled")]
    Cancelled,
}

/// Runs sessions until the task is aborted.
pub async fn run(settings: Settings, replica: Arc<Mutex<Replica>>, status: Arc<Status>) {
    let snapshots = Snapshots::new(&settings);
    let mut backoff = Duration::from_millis(250);
    loop {
        match session(&settings, &snapshots, &replica, &status).await {
            Ok(()) => {}
            Err(e) => {
                status.disconnected(&e.to_string());
                tracing::warn!(error = %e, retry_in = ?backoff, "bus session ended; reconnecting");
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(15));
        if status.connected_for() > Some(Duration::from_secs(10)) {
            backoff = Duration::from_millis(250);
        }
    }
}

async fn session(
    settings: &Settings,
    snapshots: &Snapshots,
    replica: &Mutex<Replica>,
    status: &Status,
) -> Result<(), SessionError> {
    let connection = ohjaamo_bus::connect(
        &settings.bus_url,
        "ohjaamo bed-reservations",
        Duration::from_secs(10),
    )
    .await?;
    let channel = connection.create_channel().await?;
    channel
        .basic_qos(settings.prefetch, BasicQosOptions::default())
        .await?;
    // The queue first, so that nothing published from here on is missed.
    declare_consumer_queue(&channel, &settings.queue_settings()).await?;
    let mut deliveries = channel
        .basic_consume(
            settings.queue.as_str().into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    status.connected();
    snapshots.take(replica).await;
    while let Some(delivery) = deliveries.next().await {
        let delivery = delivery?;
        let span = crate::trace::delivery_span(&delivery);
        handle(delivery, settings, snapshots, replica, status)
            .instrument(span)
            .await?;
    }
    Err(SessionError::Cancelled)
}

/// Applies one delivery and acknowledges it (in its `consume_event` span).
async fn handle(
    delivery: Delivery,
    settings: &Settings,
    snapshots: &Snapshots,
    replica: &Mutex<Replica>,
    status: &Status,
) -> Result<(), SessionError> {
    let event = match Event::decode(delivery.data.as_slice()) {
        Ok(event) => event,
        Err(e) => {
            // Not ours to fix: dead-lettered for inspection, never redelivered here.
            tracing::warn!(error = %e, routing_key = %delivery.routing_key, "undecodable message; dead-lettering it");
            status.garbage();
            delivery
                .nack(BasicNackOptions {
                    requeue: false,
                    ..BasicNackOptions::default()
                })
                .await?;
            return Ok(());
        }
    };
    let span = tracing::Span::current();
    span.record("sequence", event.sequence);
    span.record("unit", event.unit.as_str());
    if let Some(change) = ward_change(&event, &settings.organization) {
        let outcome = lock(replica).apply(change);
        match outcome {
            Applied::Gap => {
                tracing::warn!(
                    sequence = event.sequence,
                    unit = event.unit,
                    "missed an event of this unit; taking a new snapshot"
                );
                // The snapshot is taken after this event was committed, so it covers it.
                snapshots.take(replica).await;
            }
            Applied::NewEpoch => {
                tracing::warn!(
                    sequence = event.sequence,
                    epoch = event.epoch,
                    "the core's event log has a new epoch (a restore or a failover); \
                     taking a new snapshot"
                );
                snapshots.take(replica).await;
            }
            Applied::Stale => tracing::info!(
                sequence = event.sequence,
                epoch = event.epoch,
                "an event of an epoch the replica has left; dropped"
            ),
            Applied::Applied | Applied::Duplicate => {}
        }
    }
    delivery.ack(BasicAckOptions::default()).await?;
    Ok(())
}

/// The ward picture change `event` carries for `organization`, if it is one.
fn ward_change(event: &Event, organization: &str) -> Option<Change> {
    if event.organization != organization {
        return None;
    }
    let Some(Payload::PictureChange(change)) = &event.payload else {
        return None;
    };
    let Some(Figures::Ward(figures)) = &change.figures else {
        return None;
    };
    Some(Change {
        epoch: event.epoch.clone(),
        sequence: event.sequence,
        unit_previous_sequence: event.unit_previous_sequence,
        unit: change.unit.clone(),
        name: change.unit_name.clone(),
        figures: *figures,
    })
}

/// Settings' queue as the bus contract declares it.
impl Settings {
    pub fn queue_settings(&self) -> QueueSettings {
        QueueSettings {
            name: self.queue.clone(),
            bindings: vec![format!(
                "v1.{}.picture.ward.#",
                ohjaamo_bus::key_part(&self.organization)
            )],
            max_length_bytes: self.max_queue_bytes,
        }
    }
}
