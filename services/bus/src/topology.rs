//! What the producer and every consumer declare (docs/bus-contract.md, "Exchange and
//! routing keys" and "Queues"). Declarations are idempotent: declaring what exists with
//! the same arguments is a no-op, so each side declares what it relies on at connect.

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, ExchangeKind};
use ohjaamo_proto::v1::Event;

/// The durable topic exchange every event is published to.
pub const EXCHANGE: &str = "ohjaamo.events";
/// Where consumers' queues dead-letter what they reject (a fanout exchange).
pub const DEAD_LETTER_EXCHANGE: &str = "ohjaamo.events.dlx";
/// The queue that keeps dead-lettered messages for inspection.
pub const DEAD_LETTER_QUEUE: &str = "ohjaamo.events.dead";

/// Declares the event exchange and the dead-letter exchange and queue.
pub async fn declare_exchange(channel: &Channel) -> Result<(), lapin::Error> {
    let durable = ExchangeDeclareOptions {
        durable: true,
        ..ExchangeDeclareOptions::default()
    };
    channel
        .exchange_declare(
            EXCHANGE.into(),
            ExchangeKind::Topic,
            durable,
            FieldTable::default(),
        )
        .await?;
    channel
        .exchange_declare(
            DEAD_LETTER_EXCHANGE.into(),
            ExchangeKind::Fanout,
            durable,
            FieldTable::default(),
        )
        .await?;
    channel
        .queue_declare(
            DEAD_LETTER_QUEUE.into(),
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            quorum(),
        )
        .await?;
    channel
        .queue_bind(
            DEAD_LETTER_QUEUE.into(),
            DEAD_LETTER_EXCHANGE.into(),
            "".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    Ok(())
}

fn quorum() -> FieldTable {
    let mut arguments = FieldTable::default();
    arguments.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    arguments
}

/// A consumer's queue.
#[derive(Debug, Clone)]
pub struct QueueSettings {
    pub name: String,
    /// Binding keys, e.g. `v1.1_2_246_10_1234567.picture.ward.#`.
    pub bindings: Vec<String>,
    /// Most bytes the queue may hold; beyond it the broker refuses new messages
    /// (`reject-publish`) and the producer's outbox keeps them.
    pub max_length_bytes: i64,
}

/// Declares and binds a consumer's durable quorum queue with dead-lettering and a
/// delivery limit, after making sure the exchanges exist.
pub async fn declare_consumer_queue(
    channel: &Channel,
    settings: &QueueSettings,
) -> Result<(), lapin::Error> {
    declare_exchange(channel).await?;
    let mut arguments = quorum();
    arguments.insert(
        "x-dead-letter-exchange".into(),
        AMQPValue::LongString(DEAD_LETTER_EXCHANGE.into()),
    );
    arguments.insert("x-delivery-limit".into(), AMQPValue::LongLongInt(5));
    arguments.insert(
        "x-max-length-bytes".into(),
        AMQPValue::LongLongInt(settings.max_length_bytes),
    );
    arguments.insert(
        "x-overflow".into(),
        AMQPValue::LongString("reject-publish".into()),
    );
    channel
        .queue_declare(
            settings.name.as_str().into(),
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            arguments,
        )
        .await?;
    for key in &settings.bindings {
        channel
            .queue_bind(
                settings.name.as_str().into(),
                EXCHANGE.into(),
                key.as_str().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
    }
    Ok(())
}

/// The AMQP properties of `event`: persistent, typed, identified by
/// `<organization>/<sequence>`, with the trace context as headers so that tracing
/// works without decoding the body.
pub fn message_properties(event: &Event) -> BasicProperties {
    let mut headers = FieldTable::default();
    if let Some(trace) = &event.trace {
        for (name, value) in [
            ("traceparent", &trace.traceparent),
            ("tracestate", &trace.tracestate),
        ] {
            if !value.is_empty() {
                headers.insert(name.into(), AMQPValue::LongString(value.as_str().into()));
            }
        }
    }
    // The epoch is part of the id: after a restore the same sequence is another event.
    let message_id = |event: &Event| match event.epoch.as_str() {
        "" => format!("{}/{}", event.organization, event.sequence),
        epoch => format!("{}/{}@{epoch}", event.organization, event.sequence),
    };
    let mut properties = BasicProperties::default()
        .with_delivery_mode(2)
        .with_content_type("application/x-protobuf".into())
        .with_type("ohjaamo.v1.Event".into())
        .with_message_id(message_id(event).into())
        .with_headers(headers);
    if let Some(at) = &event.occurred_at {
        properties = properties.with_timestamp(at.seconds.max(0) as u64);
    }
    properties
}
