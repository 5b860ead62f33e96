//! The RabbitMQ side of the bus contract (docs/bus-contract.md): the exchange and
//! queue topology, routing keys, message properties, and connecting with a timeout.
//!
//! Shared by the core's relay (the producer) and consumers, so both sides declare the
//! same things with the same arguments.

mod connect;
mod routing;
mod topology;

pub use connect::{BusError, connect};
pub use routing::{key_part, routing_key};
pub use topology::{
    DEAD_LETTER_EXCHANGE, DEAD_LETTER_QUEUE, EXCHANGE, QueueSettings, declare_consumer_queue,
    declare_exchange, message_properties,
};

pub use lapin;
