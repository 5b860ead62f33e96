//! One message settled with the core: parsed, read into an event, applied to the
//! stay's Encounter and written — or found to be one that can never be applied.
//!
//! The listener answers the outcome with an ACK and quarantines what cannot be
//! applied; a replay of the quarantine settles kept messages the same way and only
//! records the outcome. So both go through exactly the same mapping.

use ohjaamo_hl7::{Message, ParseError};
use tokio::sync::watch;

use crate::adapter::AdtAdapter;
use crate::core_client::CoreError;
use crate::encounter::{apply, places_by_identifier};
use crate::event::{AdtEvent, MappingError};

/// Re-reads after the stay changed under a write before treating it as transient.
const MAX_REAPPLY: u32 = 5;

/// How a message was settled.
#[derive(Debug)]
pub enum Outcome {
    /// The core stored the stay (or already had it so).
    Stored(Message),
    /// The bytes are not an HL7 message.
    Unparseable(ParseError),
    /// A message, but not one the mapping can read.
    Unmappable(Message, MappingError),
    /// The core refuses the Encounter it maps to (its diagnostics).
    Refused(Message, String),
}

impl Outcome {
    /// Why the message can never be applied as it is; `None` when it was.
    pub fn failure(&self) -> Option<String> {
        match self {
            Outcome::Stored(_) => None,
            Outcome::Unparseable(e) => Some(format!("unparseable: {e}")),
            Outcome::Unmappable(_, e) => Some(e.to_string()),
            Outcome::Refused(_, reason) => Some(reason.clone()),
        }
    }

    /// MSH-10 of the message, when it could be read.
    pub fn control_id(&self) -> &str {
        match self {
            Outcome::Unparseable(_) => "",
            Outcome::Stored(m) | Outcome::Unmappable(m, _) | Outcome::Refused(m, _) => {
                m.control_id()
            }
        }
    }
}

impl AdtAdapter {
    /// Settles `raw` with the core. While the core is unavailable it retries with
    /// backoff; `None` when `stop` turned true before the outcome was known.
    pub async fn settle(&self, raw: &[u8], stop: &mut watch::Receiver<bool>) -> Option<Outcome> {
        let received = std::time::Instant::now();
        let message = match Message::parse(raw) {
            Ok(m) => m,
            Err(e) => return Some(Outcome::Unparseable(e)),
        };
        tracing::Span::current().record("control_id", message.control_id());
        let event = match AdtEvent::read(&message, &self.zone) {
            Ok(e) => e,
            Err(e) => return Some(Outcome::Unmappable(message, e)),
        };
        tracing::Span::current().record("trigger", tracing::field::debug(&event.trigger));
        let mut attempt = 0;
        loop {
            match self.apply_once(&event).await {
                Ok(()) => {
                    metrics::counter!("ohjaamo_adapter_pushed_total", "source" => "adt")
                        .increment(1);
                    self.delivery.succeeded(received.elapsed());
                    return Some(Outcome::Stored(message));
                }
                Err(CoreError::Refused(reason)) => return Some(Outcome::Refused(message, reason)),
                Err(e) => {
                    metrics::counter!("ohjaamo_adapter_retries_total", "source" => "adt")
                        .increment(1);
                    tracing::warn!(control_id = %event.control_id, attempt, error = %e, "core unavailable; holding the ACK and retrying");
                    self.delivery
                        .failed(&format!("the core is unavailable: {e}"));
                    let pause = self.backoff.delay(attempt);
                    attempt += 1;
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = stop.changed() => return None,
                    }
                }
            }
        }
    }

    /// Read, apply, write; re-reads when the stay changed in between.
    async fn apply_once(&self, event: &AdtEvent) -> Result<(), CoreError> {
        for _ in 0..MAX_REAPPLY {
            let current = self.core.read_stay(&event.visit).await?;
            let next = apply(current.as_ref().map(|s| &s.encounter), event, &self.ids)
                .map_err(|e| CoreError::Refused(e.to_string()))?;
            let version = current.as_ref().map(|s| s.version.as_str());
            let mut result = self.core.write_stay(&event.visit, &next, version).await;
            if let Err(CoreError::Refused(reason)) = &result {
                let mut by_identifier = next.clone();
                if reason.contains("matches no resource")
                    && places_by_identifier(&mut by_identifier)
                {
                    tracing::warn!(control_id = %event.control_id, reason = %reason, "a place is not known to the core yet; the stay is stored with the place's identifier");
                    metrics::counter!("ohjaamo_adapter_unknown_place_total", "source" => "adt")
                        .increment(1);
                    result = self
                        .core
                        .write_stay(&event.visit, &by_identifier, version)
                        .await;
                }
            }
            match result {
                Err(CoreError::Changed) => continue,
                other => return other,
            }
        }
        Err(CoreError::Transient(
            "the stay kept changing while it was being written".into(),
        ))
    }
}
