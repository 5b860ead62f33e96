//! The MLLP listener: one task per connection, messages of a connection in order, and
//! the ACK only when the outcome is settled.
//!
//! `AA` is written after the core has stored the change. A message that can never be
//! applied is quarantined first and then answered `AR` (cannot be read, or an event
//! this adapter does not map) or `AE` (readable, but wrong or refused by the core).
//! While the core is unreachable the adapter keeps retrying with backoff and holds the
//! ACK, so the sender waits (and resends after its own timeout: replays are no-ops).
//! On shutdown a message still in flight is left unacknowledged for the same reason.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use jiff::tz::TimeZone;
use ohjaamo_hl7::mllp::{read_frame, write_frame};
use ohjaamo_hl7::{Ack, AckBuilder, AckError, ErrorCode, Message, MllpDecoder, MllpError};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tracing::Instrument as _;

use crate::core_client::{CoreClient, CoreError};
use crate::encounter::{SourceIds, apply, places_by_identifier};
use crate::event::{AdtEvent, MappingError};
use crate::pid::without_pid;
use ohjaamo_adapter_kit::quarantine::{Payload, Quarantine};
use ohjaamo_adapter_kit::{Backoff, Delivery, PushFeed};

/// Largest MLLP frame accepted; an ADT message is a few kilobytes.
const MAX_FRAME: usize = 1024 * 1024;
/// Re-reads after the stay changed under a write before treating it as transient.
const MAX_REAPPLY: u32 = 5;

/// Everything a connection needs.
pub struct AdtAdapter {
    pub core: CoreClient,
    pub ids: SourceIds,
    pub zone: TimeZone,
    pub acks: AckBuilder,
    pub quarantine: Quarantine,
    pub backoff: Backoff,
    /// The last message the core stored, for the status reports.
    pub delivery: Delivery,
    ack_counter: AtomicU64,
}

impl AdtAdapter {
    pub fn new(
        core: CoreClient,
        ids: SourceIds,
        zone: TimeZone,
        acks: AckBuilder,
        quarantine: Quarantine,
        backoff: Backoff,
    ) -> AdtAdapter {
        AdtAdapter {
            core,
            ids,
            zone,
            acks,
            quarantine,
            backoff,
            delivery: Default::default(),
            ack_counter: AtomicU64::new(0),
        }
    }

    fn next_ack_id(&self) -> String {
        format!(
            "OHJ{}",
            self.ack_counter.fetch_add(1, Ordering::Relaxed) + 1
        )
    }

    /// Settles one message: `Some(ack)` to send, `None` when shutting down before the
    /// outcome was known (no ACK: the sender will resend). Runs in an `adt_message`
    /// span (MSH-10 control id and trigger; nothing about the patient) whose context
    /// the requests to the core carry, so the core's work is part of its trace.
    pub async fn handle(&self, raw: &[u8], shutdown: &mut watch::Receiver<bool>) -> Option<Ack> {
        let span = tracing::info_span!(
            "adt_message",
            control_id = tracing::field::Empty,
            trigger = tracing::field::Empty,
        );
        self.handle_in_span(raw, shutdown).instrument(span).await
    }

    async fn handle_in_span(
        &self,
        raw: &[u8],
        shutdown: &mut watch::Receiver<bool>,
    ) -> Option<Ack> {
        metrics::counter!("ohjaamo_adapter_received_total", "source" => "adt").increment(1);
        let received = std::time::Instant::now();
        let message = match Message::parse(raw) {
            Ok(m) => m,
            Err(e) => {
                self.keep("", &format!("unparseable: {e}"), raw).await?;
                return Some(self.acks.reject_unparseable(raw, &self.next_ack_id(), &e));
            }
        };
        tracing::Span::current().record("control_id", message.control_id());
        let event = match AdtEvent::read(&message, &self.zone) {
            Ok(e) => {
                tracing::Span::current().record("trigger", tracing::field::debug(&e.trigger));
                e
            }
            Err(e) => {
                self.keep(message.control_id(), &e.to_string(), raw).await?;
                let error = AckError::new(code_of(&e), e.to_string());
                let ack_id = self.next_ack_id();
                return Some(match e {
                    MappingError::UnsupportedTrigger(_) => {
                        self.acks.reject(&message, &ack_id, &error)
                    }
                    _ => self.acks.error(&message, &ack_id, &error),
                });
            }
        };
        let mut attempt = 0;
        loop {
            match self.apply_once(&event).await {
                Ok(()) => {
                    metrics::counter!("ohjaamo_adapter_pushed_total", "source" => "adt")
                        .increment(1);
                    self.delivery.succeeded(received.elapsed());
                    return Some(self.acks.accept(&message, &self.next_ack_id()));
                }
                Err(CoreError::Refused(reason)) => {
                    self.keep(&event.control_id, &reason, raw).await?;
                    let error = AckError::new(ErrorCode::ApplicationInternalError, reason);
                    return Some(self.acks.error(&message, &self.next_ack_id(), &error));
                }
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
                        _ = shutdown.changed() => return None,
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

    /// Quarantines, the PID segment blanked; `None` when even that failed (then the message must not be ACKed).
    async fn keep(&self, control_id: &str, reason: &str, raw: &[u8]) -> Option<()> {
        let kept = without_pid(raw);
        match self
            .quarantine
            .put("adt", control_id, reason, Payload::Bytes(&kept))
            .await
        {
            Ok(()) => Some(()),
            Err(e) => {
                tracing::error!(error = %e, control_id, "cannot write the quarantine; the message is not acknowledged");
                None
            }
        }
    }
}

fn code_of(error: &MappingError) -> ErrorCode {
    match error {
        MappingError::UnsupportedTrigger(_) => ErrorCode::UnsupportedEventCode,
        MappingError::Missing(_) => ErrorCode::RequiredFieldMissing,
        MappingError::BadTime { .. } => ErrorCode::DataType,
        MappingError::Inconsistent(_) => ErrorCode::UnknownKeyIdentifier,
    }
}

/// The feed as the kit serves it: the kit accepts MLLP connections, this reads
/// their frames, settles each message and answers its ACK.
impl PushFeed for AdtAdapter {
    const PROTOCOL: &'static str = "MLLP";

    async fn connection(self: Arc<Self>, stream: TcpStream, shutdown: watch::Receiver<bool>) {
        connection(stream, self, shutdown).await;
    }

    fn delivery(&self) -> &Delivery {
        &self.delivery
    }

    fn quarantine(&self) -> &Quarantine {
        &self.quarantine
    }
}

async fn connection(
    stream: TcpStream,
    adapter: Arc<AdtAdapter>,
    mut shutdown: watch::Receiver<bool>,
) {
    let peer = stream
        .peer_addr()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let (mut reader, mut writer) = stream.into_split();
    let mut decoder = MllpDecoder::new(MAX_FRAME);
    loop {
        let frame = tokio::select! {
            frame = read_frame(&mut reader, &mut decoder) => frame,
            _ = shutdown.changed() => return,
        };
        let frame = match frame {
            Ok(Some(frame)) => frame,
            Ok(None) => return,
            Err(e @ (MllpError::FrameTooLarge { .. } | MllpError::IncompleteFrame { .. })) => {
                tracing::warn!(%peer, error = %e, "MLLP frame dropped");
                metrics::counter!("ohjaamo_adapter_bad_frames_total", "source" => "adt")
                    .increment(1);
                continue;
            }
            Err(e) => {
                tracing::warn!(%peer, error = %e, "MLLP connection closed");
                return;
            }
        };
        if frame.skipped_before > 0 {
            tracing::warn!(%peer, bytes = frame.skipped_before, "bytes outside MLLP frames skipped");
        }
        let Some(ack) = adapter.handle(&frame.payload, &mut shutdown).await else {
            return;
        };
        if let Err(e) = write_frame(&mut writer, &ack.to_bytes()).await {
            tracing::warn!(%peer, error = %e, "cannot send the ACK; the sender will resend");
            return;
        }
    }
}
