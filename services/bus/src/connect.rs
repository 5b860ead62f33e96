//! Connecting to RabbitMQ. lapin's first connect can wait a long time on an address
//! that does not answer; a timeout turns that into an error the caller retries with
//! its own backoff, logging each attempt.

use std::time::Duration;

use lapin::{Connection, ConnectionProperties};

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("RabbitMQ at {address} did not answer within {seconds} s")]
    Timeout { address: String, seconds: u64 },
    #[error("RabbitMQ: {0}")]
    Amqp(#[from] lapin::Error),
    #[error("RabbitMQ refused a message (nack) at sequence {0}")]
    Refused(u64),
    #[error(
        "RabbitMQ confirmed nothing within {0} s: is it blocking publishers (disk or memory alarm)?"
    )]
    Unconfirmed(u64),
}

/// Opens a connection named `name` (shown in the RabbitMQ management UI).
pub async fn connect(url: &str, name: &str, timeout: Duration) -> Result<Connection, BusError> {
    let properties = ConnectionProperties::default().with_connection_name(name.into());
    match tokio::time::timeout(timeout, Connection::connect(url, properties)).await {
        Ok(connection) => Ok(connection?),
        Err(_) => Err(BusError::Timeout {
            address: redact(url),
            seconds: timeout.as_secs(),
        }),
    }
}

/// An AMQP URL without its password, for messages and logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(start), Some(at)) if at > start => {
            let user = url[start + 3..at].split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..start + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(
            super::redact("amqp://guest:guest@127.0.0.1:5672/%2f"),
            "amqp://guest:***@127.0.0.1:5672/%2f"
        );
        assert_eq!(super::redact("amqp://host"), "amqp://host");
    }
}
