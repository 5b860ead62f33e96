//! The MLLP listener: one task per connection, messages of a connection in order, and
//! the ACK only when the outcome is settled.
//!
//! `AA` is written after the core has stored the change. A message of a type the
//! adapter does not use is answered `AA` with a "not used" note (or `AR` and
//! quarantined, as configured). A message that can never be applied is
//! quarantined first and then answered `AR` (cannot be read, too large) or `AE`
//! (readable, but wrong — `101` for a missing visit key — or refused by the core). While the core is unreachable the adapter keeps retrying with backoff and
//! holds the ACK, so the sender waits (and resends after its own timeout: replays are
//! no-ops). On shutdown a message still in flight is left unacknowledged for the same
//! reason.
//!
//! A sender cannot make the adapter hold more than its [`crate::adapter::Limits`]
//! allow: the kit caps the
//! connections, a connection silent for the idle timeout is closed, and a frame past
//! the message size is dropped as it streams in (only its start is kept) and answered
//! `AR`. Who may connect at all (the allow-list), and over TLS, is the kit's
//! intake's to check before a connection reaches this file.

use std::sync::Arc;

use ohjaamo_hl7::mllp::{read_frame_within, write_frame};
use ohjaamo_hl7::{Ack, AckError, ErrorCode, Message, MllpDecoder, MllpError};
use tokio::sync::watch;
use tracing::Instrument as _;

use crate::adapter::{AdtAdapter, NotUsed};
use crate::event::MappingError;
use crate::minimise::{Kept, for_quarantine};
use crate::settle::Outcome;
use ohjaamo_adapter_kit::intake::Connection;
use ohjaamo_adapter_kit::quarantine::{Payload, Quarantine};
use ohjaamo_adapter_kit::{Delivery, PushFeed};

impl AdtAdapter {
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
        async {
            metrics::counter!("ohjaamo_adapter_received_total", "source" => "adt").increment(1);
            let outcome = self.settle(raw, shutdown).await?;
            let rejected =
                matches!(outcome, Outcome::NotUsed(..)) && self.not_used == NotUsed::Reject;
            if let Some(reason) = outcome
                .failure()
                .or_else(|| rejected.then(|| not_used_note(&outcome)))
            {
                self.keep(outcome.control_id(), &reason, for_quarantine(raw), false)
                    .await?;
            }
            Some(self.answer(&outcome, raw))
        }
        .instrument(span)
        .await
    }

    fn answer(&self, outcome: &Outcome, raw: &[u8]) -> Ack {
        let id = self.next_ack_id();
        match outcome {
            Outcome::Stored(message) => self.acks.accept(message, &id),
            Outcome::NotUsed(message, _) => {
                let code = if matches!(message.message_type().code.as_str(), "ADT" | "SIU") {
                    ErrorCode::UnsupportedEventCode
                } else {
                    ErrorCode::UnsupportedMessageType
                };
                let note = AckError::new(code, not_used_note(outcome));
                match self.not_used {
                    NotUsed::Accept => self.acks.accept_with_note(message, &id, &note),
                    NotUsed::Reject => self.acks.reject(message, &id, &note),
                }
            }
            Outcome::Unparseable(e) => self.acks.reject_unparseable(raw, &id, e),
            Outcome::Unmappable(message, e) => {
                let mut error = AckError::new(code_of(e), e.to_string());
                if let (MappingError::NoVisitKey(_), Some(pv1)) = (e, message.segment("PV1")) {
                    error = error.at("PV1", pv1.position(), Some(19));
                }
                match e {
                    MappingError::UnsupportedTrigger(_) => self.acks.reject(message, &id, &error),
                    _ => self.acks.error(message, &id, &error),
                }
            }
            Outcome::Refused(message, reason) => {
                let error = AckError::new(ErrorCode::ApplicationInternalError, reason.clone());
                self.acks.error(message, &id, &error)
            }
        }
    }

    /// A message past [`Limits::max_message_bytes`]: its start (what the decoder
    /// kept) is quarantined, never replayed, and the sender answered `AR`, named by
    /// its MSH when the start holds one.
    async fn refuse_oversized(&self, prefix: &[u8], length: usize) -> Option<Ack> {
        metrics::counter!("ohjaamo_adapter_received_total", "source" => "adt").increment(1);
        let reason = format!(
            "message of {length} bytes is larger than the limit of {} bytes",
            self.limits.max_message_bytes
        );
        let first_segment = prefix
            .split(|b| *b == b'\r' || *b == b'\n')
            .find(|s| !s.trim_ascii().is_empty())
            .unwrap_or_default();
        let header = Message::parse(first_segment);
        let control_id = header.as_ref().map_or("", |m| m.control_id());
        self.keep(control_id, &reason, for_quarantine(prefix), true)
            .await?;
        let id = self.next_ack_id();
        Some(match &header {
            Ok(msh) => {
                let error = AckError::new(ErrorCode::ApplicationInternalError, reason);
                self.acks.reject(msh, &id, &error)
            }
            Err(e) => self.acks.reject_unparseable(prefix, &id, e),
        })
    }

    /// Quarantines what [`for_quarantine`] kept (`partial`: of a message whose end
    /// was not kept); `None` when even that failed (then the message must not be
    /// ACKed).
    async fn keep(&self, control_id: &str, reason: &str, kept: Kept, partial: bool) -> Option<()> {
        let payload = match (&kept, partial) {
            (Kept::Message(bytes), false) => Payload::Bytes(bytes),
            (Kept::Message(bytes), true) => Payload::Prefix(bytes),
            (Kept::Diagnostic(text), _) => Payload::Diagnostic(text),
        };
        match self
            .quarantine
            .put("adt", control_id, reason, payload)
            .await
        {
            Ok(_) => Some(()),
            Err(e) => {
                tracing::error!(error = %e, control_id, "cannot write the quarantine; the message is not acknowledged");
                None
            }
        }
    }
}

/// The note of a message not used: which type, and that nothing was done with it.
fn not_used_note(outcome: &Outcome) -> String {
    match outcome {
        Outcome::NotUsed(_, kind) => format!(
            "{kind} not used: this adapter maps the ADT and SIU events of its conformance table (docs/adapters.md); nothing was stored"
        ),
        _ => String::new(),
    }
}

fn code_of(error: &MappingError) -> ErrorCode {
    match error {
        MappingError::UnsupportedTrigger(_) => ErrorCode::UnsupportedEventCode,
        MappingError::Missing(_) | MappingError::NoVisitKey(_) => ErrorCode::RequiredFieldMissing,
        MappingError::BadTime { .. } => ErrorCode::DataType,
        MappingError::Inconsistent(_) => ErrorCode::UnknownKeyIdentifier,
    }
}

/// The feed as the kit serves it: the kit accepts MLLP connections, this reads
/// their frames, settles each message and answers its ACK.
impl PushFeed for AdtAdapter {
    const PROTOCOL: &'static str = "MLLP";

    async fn connection(self: Arc<Self>, connection: Connection, shutdown: watch::Receiver<bool>) {
        serve_connection(connection, self, shutdown).await;
    }

    fn delivery(&self) -> &Delivery {
        &self.delivery
    }

    fn quarantine(&self) -> &Quarantine {
        &self.quarantine
    }

    fn max_connections(&self) -> usize {
        self.limits.max_connections
    }

    fn data_quality_marks(&self) -> u64 {
        self.marks()
    }
}

/// One sender's connection (plain or TLS, as the kit's intake opened it).
async fn serve_connection(
    connection: Connection,
    adapter: Arc<AdtAdapter>,
    mut shutdown: watch::Receiver<bool>,
) {
    let peer = connection.peer.to_string();
    let (mut reader, mut writer) = tokio::io::split(connection.io);
    let mut decoder = MllpDecoder::new(adapter.limits.max_message_bytes);
    let idle = adapter.limits.idle_timeout;
    loop {
        let frame = tokio::select! {
            frame = read_frame_within(&mut reader, &mut decoder, idle) => frame,
            _ = shutdown.changed() => return,
        };
        let ack = match frame {
            Ok(Some(frame)) => {
                if frame.skipped_before > 0 {
                    tracing::warn!(%peer, bytes = frame.skipped_before, "bytes outside MLLP frames skipped");
                }
                adapter.handle(&frame.payload, &mut shutdown).await
            }
            Ok(None) => return,
            Err(MllpError::FrameTooLarge { length, prefix, .. }) => {
                tracing::warn!(%peer, length, "MLLP frame too large; refused");
                metrics::counter!("ohjaamo_adapter_bad_frames_total", "source" => "adt")
                    .increment(1);
                adapter.refuse_oversized(&prefix, length).await
            }
            Err(e @ MllpError::IncompleteFrame { .. }) => {
                tracing::warn!(%peer, error = %e, "MLLP frame dropped");
                metrics::counter!("ohjaamo_adapter_bad_frames_total", "source" => "adt")
                    .increment(1);
                continue;
            }
            Err(MllpError::Idle(after)) => {
                tracing::info!(%peer, ?after, "idle MLLP connection closed");
                metrics::counter!("ohjaamo_adapter_idle_closed_total", "source" => "adt")
                    .increment(1);
                return;
            }
            Err(e) => {
                tracing::warn!(%peer, error = %e, "MLLP connection closed");
                return;
            }
        };
        let Some(ack) = ack else {
            return;
        };
        if let Err(e) = write_frame(&mut writer, &ack.to_bytes()).await {
            tracing::warn!(%peer, error = %e, "cannot send the ACK; the sender will resend");
            return;
        }
    }
}
