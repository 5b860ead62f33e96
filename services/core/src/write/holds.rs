//! Bed holds: a coordinator holds a bed for an incoming patient (paikanvaraus).
//!
//! A hold is an ordinary FHIR Slot on the bed's Schedule, `busy-tentative` while held
//! and `busy` once confirmed, from when it was made to when it expires (its `end`),
//! carrying an identifier in [`HOLD_SYSTEM`] that the client makes once per hold (so
//! a double click repeats the same conditional update instead of making a second
//! hold). Releasing it is a DELETE. Nothing else is needed to expire it: the picture
//! counts a hold only while it covers now.
//!
//! What this module adds to the write path is the one rule that makes holds worth
//! having: **two coordinators cannot hold the same bed**. A hold that overlaps another
//! live hold of the bed, a stay occupying it, or a closed bed is refused with 409 and
//! an OperationOutcome that says which (its `details` code lets a display say it in
//! the coordinator's language). The check and the write run under one lock per
//! organisation — in-process, and on PostgreSQL also a transaction-scoped advisory
//! lock, so replicas behind one load balancer exclude each other too. Only hold
//! writes take it; stays derived from the ADT feed are the truth and are never
//! refused because of a hold (a stay beats a hold in the picture).

use jiff::Timestamp;
use ohjaamo_fhir::ResourceType;
use serde_json::Value;

use crate::base::error::ApiError;
use crate::base::state::AppState;
use crate::search::json::{first_reference, instant};
use crate::write::entry::{WriteEntry, WriteKind};

/// The identifier system of bed holds.
pub const HOLD_SYSTEM: &str = "https://ohjaamo.fi/fhir/NamingSystem/bed-hold";

/// Whether `slot` is a bed hold: a Slot with an identifier in [`HOLD_SYSTEM`].
pub fn is_hold(slot: &Value) -> bool {
    hold_key(slot).is_some()
}

/// The hold's own identifier value.
fn hold_key(slot: &Value) -> Option<&str> {
    slot["identifier"]
        .as_array()?
        .iter()
        .find(|i| i["system"].as_str() == Some(HOLD_SYSTEM))?["value"]
        .as_str()
}

/// Whether `slot` takes its bed for its period: a hold or confirmed hold, or a stay.
fn takes_bed(slot: &Value) -> bool {
    matches!(slot["status"].as_str(), Some("busy" | "busy-tentative"))
}

/// Why a hold cannot be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Another coordinator holds the bed.
    Held,
    /// A patient is in the bed (or will be, in the hold's period).
    Occupied,
    /// The bed is closed.
    Closed,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Refusal::Held => "held",
            Refusal::Occupied => "occupied",
            Refusal::Closed => "closed",
        }
    }
}

/// Serialises hold writes; dropping it lets the next one check.
pub struct HoldLock {
    _local: tokio::sync::OwnedMutexGuard<()>,
    _database: Option<ohjaamo_store::ExclusiveLock>,
}

/// The hold entries of `entries`, checked. `None` when there are none (the write
/// path goes on as before, without a lock). Otherwise the lock, to be held until the
/// writes are committed, and for each entry `Some(refusal)` where its hold is refused.
pub async fn check(
    state: &AppState,
    tenant: &str,
    entries: &[WriteEntry],
) -> Result<Option<(HoldLock, Vec<Option<ApiError>>)>, ApiError> {
    let holds: Vec<usize> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| is_hold_write(e))
        .map(|(i, _)| i)
        .collect();
    if holds.is_empty() {
        return Ok(None);
    }
    let local = state.hold_lock.clone().lock_owned().await;
    let database = state
        .store
        .exclusive(tenant, "bed-holds")
        .await
        .map_err(ApiError::from)?;
    let lock = HoldLock {
        _local: local,
        _database: database,
    };
    let now = state.config.clock.now();
    let mut refusals = vec![None; entries.len()];
    // Holds this request takes, so that a second hold on the same bed in one Bundle
    // is refused as if the first were already stored.
    let mut taken: Vec<RequestHold> = Vec::new();
    for i in holds {
        // Structure and rules (end after start) are checked by the write itself; an
        // expired hold takes nothing, writing one is history.
        let Some(this) = RequestHold::of(&entries[i], now) else {
            continue;
        };
        let mut refusal = check_one(state, tenant, &entries[i], &this, now).await?;
        if refusal.is_none() && taken.iter().any(|earlier| earlier.clashes_with(&this)) {
            refusal = Some(refused(
                Refusal::Held,
                format!(
                    "Schedule/{} is held by an earlier entry of this request for that time",
                    this.schedule.as_deref().unwrap_or_default()
                ),
            ));
        }
        if refusal.is_none() {
            taken.push(this);
        }
        refusals[i] = refusal;
    }
    Ok(Some((lock, refusals)))
}

/// A hold an entry of the request takes: its bed's Schedule, its period and its key.
struct RequestHold {
    /// `None` when the hold names no Schedule (refused 422).
    schedule: Option<String>,
    start: Timestamp,
    end: Timestamp,
    key: Option<String>,
}

impl RequestHold {
    /// The hold `entry` takes from now on, if it takes one.
    fn of(entry: &WriteEntry, now: Timestamp) -> Option<RequestHold> {
        let hold = entry.resource.as_ref()?;
        let (start, end) = (instant(&hold["start"])?, instant(&hold["end"])?);
        (end > now).then(|| RequestHold {
            schedule: first_reference(hold, "schedule", "Schedule"),
            start,
            end,
            key: hold_key(hold).map(str::to_owned),
        })
    }

    /// Two different holds of one bed whose periods overlap (the same hold written
    /// twice, by its key, is one hold).
    fn clashes_with(&self, other: &RequestHold) -> bool {
        let same_hold = self.key.is_some() && self.key == other.key;
        !same_hold
            && self.schedule.is_some()
            && self.schedule == other.schedule
            && self.start < other.end
            && other.start < self.end
    }
}

fn is_hold_write(e: &WriteEntry) -> bool {
    e.rtype == ResourceType::Slot
        && !matches!(e.kind, WriteKind::Delete { .. })
        && e.resource
            .as_ref()
            .is_some_and(|r| is_hold(r) && takes_bed(r))
}

/// The refusal of one hold write, if it is refused.
async fn check_one(
    state: &AppState,
    tenant: &str,
    entry: &WriteEntry,
    this: &RequestHold,
    now: Timestamp,
) -> Result<Option<ApiError>, ApiError> {
    let (start, end) = (this.start, this.end);
    let Some(schedule_id) = this.schedule.clone() else {
        return Ok(Some(ApiError::Unprocessable(
            "Slot.schedule: a bed hold names its bed's Schedule as Schedule/<id>".into(),
        )));
    };
    let store = &state.store;
    let Some(schedule) = store
        .read(tenant, "Schedule", &schedule_id)
        .await?
        .filter(|v| !v.deleted)
        .and_then(|v| serde_json::from_str::<Value>(&v.content).ok())
    else {
        // The write's reference check says it clearly (422).
        return Ok(None);
    };
    let bed_id = first_reference(&schedule, "actor", "Location");
    let bed = match &bed_id {
        Some(id) => store
            .read(tenant, "Location", id)
            .await?
            .filter(|v| !v.deleted)
            .and_then(|v| serde_json::from_str::<Value>(&v.content).ok()),
        None => None,
    };
    let bed_name = bed
        .as_ref()
        .and_then(|b| b["name"].as_str())
        .map_or_else(|| format!("Schedule/{schedule_id}"), str::to_owned);
    if bed
        .as_ref()
        .is_some_and(|b| b["operationalStatus"]["code"].as_str() == Some("C"))
    {
        return Ok(Some(refused(
            Refusal::Closed,
            format!("{bed_name} is closed and cannot be held"),
        )));
    }
    let own_id = match &entry.kind {
        WriteKind::Update { id } => Some(id.as_str()),
        _ => None,
    };
    let own_key = this.key.as_deref();
    let slot_ids: Vec<String> = store
        .referring_many(
            tenant,
            "Slot",
            "schedule",
            "Schedule",
            std::slice::from_ref(&schedule_id),
        )
        .await?
        .into_iter()
        .map(|(slot, _)| slot)
        .filter(|slot| Some(slot.as_str()) != own_id)
        .collect();
    let others = store.read_many(tenant, "Slot", &slot_ids).await?;
    let mut occupied_until = None;
    for other in others.iter().filter(|v| !v.deleted) {
        let Ok(slot) = serde_json::from_str::<Value>(&other.content) else {
            continue;
        };
        if !takes_bed(&slot) || (own_key.is_some() && hold_key(&slot) == own_key) {
            continue;
        }
        let (Some(s), Some(e)) = (instant(&slot["start"]), instant(&slot["end"])) else {
            continue;
        };
        if e <= now || s >= end || e <= start {
            continue;
        }
        if is_hold(&slot) {
            return Ok(Some(refused(
                Refusal::Held,
                format!(
                    "{bed_name} is already held by another coordinator until {e} (Slot/{}); \
                     choose another bed or wait until that hold is released or expires",
                    other.id
                ),
            )));
        }
        occupied_until = occupied_until.max(Some(e));
    }
    Ok(occupied_until.map(|until| {
        refused(
            Refusal::Occupied,
            format!("{bed_name} is occupied by a patient in this period (until {until})"),
        )
    }))
}

fn refused(reason: Refusal, message: String) -> ApiError {
    ApiError::BedTaken {
        reason: reason.code(),
        message,
    }
}
