//! A booking settled with the core: the Appointment found by its keys, the message
//! applied to it (`appointment`), and the Appointment and its Slots written in one
//! FHIR transaction — a reschedule moves the booking and its windows together, or
//! not at all.
//!
//! The feed does not wait for master data, as with stays: a room, bay, device or
//! staff member the core does not know yet is written as an identifier-only
//! reference (it still names the resource exactly; counted in
//! `ohjaamo_adapter_unknown_place_total`), and a window on a Schedule the core does
//! not have is left out.

use ohjaamo_adapter_kit::Kind;
use ohjaamo_hl7::Message;
use serde_json::{Value, json};
use tokio::sync::watch;

use super::appointment::{Planned, plan};
use super::read::Booking;
use crate::adapter::AdtAdapter;
use crate::core_client::CoreError;
use crate::settle::{Failure, Outcome, unread};

/// Re-reads after the Appointment changed under a write before treating it as
/// transient.
const MAX_REAPPLY: u32 = 5;
/// Writes retried with one more unknown reference turned into an identifier.
const MAX_UNKNOWN: usize = 32;

impl AdtAdapter {
    /// Settles a SIU message (see [`AdtAdapter::settle`]).
    pub(crate) async fn settle_booking(
        &self,
        message: Message,
        received: std::time::Instant,
        stop: &mut watch::Receiver<bool>,
    ) -> Option<Outcome> {
        let booking = match Booking::read(&message, &self.zone) {
            Ok(b) => b,
            Err(e) => return Some(unread(message, e)),
        };
        tracing::Span::current().record("trigger", booking.trigger.code());
        self.until_settled(message, received, stop, || self.book(&booking))
            .await
    }

    /// Read, apply, write; re-reads when the Appointment changed in between.
    async fn book(&self, booking: &Booking) -> Result<(), Failure> {
        for _ in 0..MAX_REAPPLY {
            let mut found = None;
            for key in &booking.keys {
                let identifier = format!("{}|{key}", self.ids.system(Kind::Booking));
                if let Some(stored) = self.core.read_one("Appointment", &identifier).await? {
                    found = Some((key.clone(), stored));
                    break;
                }
            }
            let key = found
                .as_ref()
                .map_or_else(|| booking.keys[0].clone(), |(k, _)| k.clone());
            let stored = found.as_ref().map(|(_, (a, v))| (a, v.as_str()));
            let mut planned = plan(&self.ids, booking, &key, stored.map(|(a, _)| a))?;
            if planned.late {
                tracing::info!(control_id = %booking.control_id, "a booking message older than the one applied; acknowledged, not applied");
                metrics::counter!("ohjaamo_adapter_late_total", "source" => "adt").increment(1);
            }
            if planned.repeat {
                metrics::counter!("ohjaamo_adapter_repeats_total", "source" => "adt").increment(1);
            }
            if !planned.writes() {
                return Ok(());
            }
            match self.write(&key, &mut planned, stored.map(|(_, v)| v)).await {
                Err(CoreError::Changed) => continue,
                other => return other.map_err(Failure::from),
            }
        }
        Err(
            CoreError::Transient("the booking kept changing while it was being written".into())
                .into(),
        )
    }

    /// Writes the planned Slots and Appointment in one transaction; a reference the
    /// core does not know is made an identifier (a Slot on an unknown Schedule is
    /// left out) and the write tried again.
    async fn write(
        &self,
        key: &str,
        planned: &mut Planned,
        version: Option<&str>,
    ) -> Result<(), CoreError> {
        for _ in 0..MAX_UNKNOWN {
            let result = self
                .core
                .transaction(self.entries(key, planned, version))
                .await;
            let Err(CoreError::Refused(reason)) = &result else {
                return result;
            };
            let Some(unknown) = unknown_reference(reason) else {
                return result;
            };
            if !without(planned, unknown) {
                return result;
            }
            tracing::warn!(reason = %reason, "a resource of the booking is not known to the core yet; written by its identifier");
            metrics::counter!("ohjaamo_adapter_unknown_place_total", "source" => "adt")
                .increment(1);
        }
        Err(CoreError::Refused(
            "too many resources of the booking unknown to the core".into(),
        ))
    }

    fn entries(&self, key: &str, planned: &Planned, version: Option<&str>) -> Vec<Value> {
        let mut entries: Vec<Value> = planned
            .slots
            .iter()
            .map(|(slot_key, slot)| {
                json!({
                    "resource": slot,
                    "request": {"method": "PUT", "url": self.ids.conditional(Kind::Slot, slot_key)},
                })
            })
            .collect();
        let mut request = json!({"method": "PUT", "url": self.ids.conditional(Kind::Booking, key)});
        if let Some(v) = version {
            request["ifMatch"] = json!(format!("W/\"{v}\""));
        }
        entries.push(json!({"resource": planned.appointment, "request": request}));
        entries
    }
}

/// The reference the core's refusal names as matching nothing.
fn unknown_reference(reason: &str) -> Option<&str> {
    let (_, rest) = reason.split_once("conditional reference ")?;
    let (reference, _) = rest.split_once(" matches no resource")?;
    Some(reference)
}

/// `planned` without the unknown `reference`: Slots on an unknown Schedule left
/// out (and out of the Appointment's `slot`), any other reference by its
/// identifier only. Answers whether anything changed.
fn without(planned: &mut Planned, reference: &str) -> bool {
    let named = |r: &Value| r["reference"].as_str() == Some(reference);
    if reference.starts_with("Schedule?") {
        let gone: Vec<Value> = planned
            .slots
            .iter()
            .filter(|(_, s)| named(&s["schedule"]))
            .map(|(_, s)| s["identifier"][0].clone())
            .collect();
        planned.slots.retain(|(_, s)| !named(&s["schedule"]));
        if let Some(slots) = planned.appointment["slot"].as_array_mut() {
            slots.retain(|r| !gone.contains(&r["identifier"]));
            if slots.is_empty() {
                planned
                    .appointment
                    .as_object_mut()
                    .map(|a| a.remove("slot"));
            }
        }
        return !gone.is_empty();
    }
    let mut changed = false;
    for participant in planned.appointment["participant"]
        .as_array_mut()
        .into_iter()
        .flatten()
    {
        let actor = &mut participant["actor"];
        if named(actor)
            && actor.get("identifier").is_some()
            && let Some(map) = actor.as_object_mut()
        {
            map.remove("reference");
            changed = true;
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unknown_reference_is_read_from_the_refusal() {
        let reason = "422 Unprocessable Entity: Appointment.participant[0].actor: conditional reference Location?identifier=urn:oid:1.2.3.3|SALI9 matches no resource";
        assert_eq!(
            unknown_reference(reason),
            Some("Location?identifier=urn:oid:1.2.3.3|SALI9")
        );
        assert_eq!(unknown_reference("422: end before start"), None);
    }
}
