//! One message settled with the core: parsed, read into an event, applied to the
//! stay's Encounter and written — or found to be one that can never be applied.
//!
//! The listener answers the outcome with an ACK and quarantines what cannot be
//! applied; a replay of the quarantine settles kept messages the same way and only
//! records the outcome. So both go through exactly the same mapping.

use ohjaamo_hl7::{Message, ParseError};
use tokio::sync::watch;

use crate::adapter::AdtAdapter;
use crate::core_client::{CoreError, StoredStay};
use crate::encounter::{Applied, apply_event, places_by_identifier};
use crate::event::{AdtEvent, MappingError, Role};

/// Re-reads after the stay changed under a write before treating it as transient.
const MAX_REAPPLY: u32 = 5;

/// How a message was settled.
#[derive(Debug)]
pub enum Outcome {
    /// The core stored what the message says (or had it so already, or the message
    /// says nothing that is stored: person data, tracking).
    Stored(Message),
    /// A message type the adapter does not use (`MSH-9` as the text): answered
    /// `AA` with a note, or `AR` when the source is so configured.
    NotUsed(Message, String),
    /// The bytes are not an HL7 message.
    Unparseable(ParseError),
    /// A message, but not one the mapping can read.
    Unmappable(Message, MappingError),
    /// The core refuses the Encounter it maps to (its diagnostics).
    Refused(Message, String),
}

impl Outcome {
    /// Why the message can never be applied as it is; `None` when it was (or is one
    /// the adapter does not use).
    pub fn failure(&self) -> Option<String> {
        match self {
            Outcome::Stored(_) | Outcome::NotUsed(..) => None,
            Outcome::Unparseable(e) => Some(format!("unparseable: {e}")),
            Outcome::Unmappable(_, e) => Some(e.to_string()),
            Outcome::Refused(_, reason) => Some(reason.clone()),
        }
    }

    /// MSH-10 of the message, when it could be read.
    pub fn control_id(&self) -> &str {
        match self {
            Outcome::Unparseable(_) => "",
            Outcome::Stored(m)
            | Outcome::NotUsed(m, _)
            | Outcome::Unmappable(m, _)
            | Outcome::Refused(m, _) => m.control_id(),
        }
    }
}

/// The outcome of a message that could not be read: one of a type not used
/// (counted by type), or one the mapping cannot read.
pub(crate) fn unread(message: Message, error: MappingError) -> Outcome {
    match error {
        MappingError::UnsupportedTrigger(kind) => {
            metrics::counter!("ohjaamo_adapter_not_used_total", "source" => "adt", "type" => kind.clone())
                .increment(1);
            Outcome::NotUsed(message, kind)
        }
        e => Outcome::Unmappable(message, e),
    }
}

/// Why applying failed: the core (transient or refusing), or the message itself.
#[derive(Debug)]
pub(crate) enum Failure {
    Core(CoreError),
    Mapping(MappingError),
}

impl From<CoreError> for Failure {
    fn from(e: CoreError) -> Failure {
        Failure::Core(e)
    }
}

impl From<MappingError> for Failure {
    fn from(e: MappingError) -> Failure {
        Failure::Mapping(e)
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
        if message.message_type().code == "SIU" {
            return self.settle_booking(message, received, stop).await;
        }
        let events = match self.read(&message) {
            Ok(e) => e,
            Err(e) => return Some(unread(message, e)),
        };
        let trigger = events[0].trigger;
        tracing::Span::current().record("trigger", tracing::field::debug(&trigger));
        self.until_settled(message, received, stop, || async {
            match trigger.role() {
                Role::Nothing => Ok(()),
                Role::Stay => self.apply_once(&events[0]).await,
                Role::Swap => self.swap(&events[0], &events[1]).await,
                Role::Merge => self.merge(&events[0]).await,
            }
        })
        .await
    }

    /// Runs `apply` until it settles: stored, or a failure the message can never
    /// get past (its outcome). While the core is unavailable it retries with
    /// backoff, holding the ACK; `None` when `stop` turned true meanwhile.
    pub(crate) async fn until_settled<F, Fut>(
        &self,
        message: Message,
        received: std::time::Instant,
        stop: &mut watch::Receiver<bool>,
        apply: F,
    ) -> Option<Outcome>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<(), Failure>>,
    {
        let mut attempt = 0;
        loop {
            match apply().await {
                Ok(()) => {
                    metrics::counter!("ohjaamo_adapter_pushed_total", "source" => "adt")
                        .increment(1);
                    self.delivery.succeeded(received.elapsed());
                    return Some(Outcome::Stored(message));
                }
                Err(Failure::Mapping(e)) => return Some(Outcome::Unmappable(message, e)),
                Err(Failure::Core(CoreError::Refused(reason))) => {
                    return Some(Outcome::Refused(message, reason));
                }
                Err(Failure::Core(e)) => {
                    metrics::counter!("ohjaamo_adapter_retries_total", "source" => "adt")
                        .increment(1);
                    tracing::warn!(control_id = %message.control_id(), attempt, error = %e, "core unavailable; holding the ACK and retrying");
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

    /// The message's events: one, or an A17's two patients.
    fn read(&self, message: &Message) -> Result<Vec<AdtEvent>, MappingError> {
        let event = AdtEvent::read_with(message, &self.zone, &self.reading)?;
        if event.trigger.role() == Role::Swap {
            return Ok(AdtEvent::read_pair(message, &self.zone, &self.reading)?.into());
        }
        Ok(vec![event])
    }

    /// The stay `event` names: looked up by each of its keys in the rule's order;
    /// answers the key it was found by (the first key when none found it) and the
    /// stay.
    pub(crate) async fn find_stay(
        &self,
        event: &AdtEvent,
    ) -> Result<(String, Option<StoredStay>), CoreError> {
        for key in &event.keys {
            if let Some(stay) = self.core.read_stay(key).await? {
                return Ok((key.clone(), Some(stay)));
            }
        }
        Ok((event.visit.clone(), None))
    }

    /// Counts what applying told (a repeat, a late message, marks) and logs marks.
    pub(crate) fn observe(&self, event: &AdtEvent, applied: &Applied) {
        if applied.repeat {
            metrics::counter!("ohjaamo_adapter_repeats_total", "source" => "adt").increment(1);
        }
        if applied.late {
            metrics::counter!("ohjaamo_adapter_late_total", "source" => "adt").increment(1);
        }
        for mark in &applied.marks {
            tracing::warn!(control_id = %event.control_id, mark = %mark, "the message contradicts the stay; applied as far as consistent and marked");
            metrics::counter!("ohjaamo_adapter_data_quality_marks_total", "source" => "adt", "trigger" => event.trigger.code())
                .increment(1);
            self.count_mark();
        }
    }

    /// Read, apply, write; re-reads when the stay changed in between.
    async fn apply_once(&self, event: &AdtEvent) -> Result<(), Failure> {
        for _ in 0..MAX_REAPPLY {
            let (key, current) = self.find_stay(event).await?;
            let applied = apply_event(current.as_ref().map(|s| &s.encounter), event, &self.ids)?;
            if applied.repeat {
                self.observe(event, &applied);
                return Ok(());
            }
            let next = applied.encounter.clone();
            let version = current.as_ref().map(|s| s.version.as_str());
            let mut result = self.core.write_stay(&key, &next, version).await;
            if let Err(CoreError::Refused(reason)) = &result {
                let mut by_identifier = next.clone();
                if reason.contains("matches no resource")
                    && places_by_identifier(&mut by_identifier)
                {
                    tracing::warn!(control_id = %event.control_id, reason = %reason, "a place is not known to the core yet; the stay is stored with the place's identifier");
                    metrics::counter!("ohjaamo_adapter_unknown_place_total", "source" => "adt")
                        .increment(1);
                    result = self.core.write_stay(&key, &by_identifier, version).await;
                }
            }
            match result {
                Err(CoreError::Changed) => continue,
                Ok(()) => {
                    self.observe(event, &applied);
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(CoreError::Transient("the stay kept changing while it was being written".into()).into())
    }
}
