//! The picture deriver: follows the event log and keeps every unit's stored picture
//! current, appending a picture event whenever a unit's picture changes.
//!
//! It reads resource changes after its cursor, recomputes the pictures of just the
//! units they touch, and stores the ones that differ — together with their events and
//! the cursor's new position, in one transaction (see the store's `cursor`). Figures
//! also change with the clock (a stay's planned end passes, midnight turns "tomorrow"
//! into "today"), so every `refresh` it recomputes all units of each organisation as
//! well; unchanged pictures cost nothing downstream.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use ohjaamo_store::{EventBody, EventFilter, EventTrace, PictureUpdate, Store, StoreError};

use super::compute;
use super::place_cache::PlaceCache;
use super::source::Resources;
use super::touched::{Touched, touched_units};
use crate::base::state::AppState;

/// The deriver's name for its cursor in the store.
pub const READER: &str = "picture";

/// Events read per query.
const BATCH: i64 = 2_000;

/// Events one round may take, in batches of [`BATCH`], when more keep waiting.
/// Behind (an initial load, a replica taking over), the units are recomputed once
/// for all the changes read instead of once per batch: during a hospital's initial
/// sync every batch touches nearly every unit, and recomputing them per batch cost
/// an eighth of the core's CPU. A round that reaches this many leaves the rest to
/// the next, so the pictures still move on while a backlog drains.
const MAX_PER_ROUND: usize = 50_000;

/// How the deriver paces itself.
#[derive(Debug, Clone)]
pub struct DeriverOptions {
    /// How often every unit is recomputed for the passing of time.
    pub refresh: Duration,
    /// How often the log is looked at without a signal (other replicas' writes).
    pub poll: Duration,
    /// The least time between two rounds of capacity MeasureReports: they are for
    /// regional reporting, not displays, so a busy ward gets one report per interval
    /// with its latest figures instead of one per picture change.
    pub report_interval: Duration,
}

impl Default for DeriverOptions {
    fn default() -> Self {
        DeriverOptions {
            refresh: Duration::from_secs(60),
            poll: Duration::from_millis(500),
            report_interval: Duration::from_secs(5),
        }
    }
}

/// Runs until the task is dropped or aborted.
pub async fn run(state: AppState, options: DeriverOptions) {
    let poll = options.poll;
    let deriver = Deriver {
        state: state.clone(),
        options,
        progress: Progress::default(),
    };
    crate::log::follow::follow_log(&state, READER, poll, deriver).await;
}

struct Deriver {
    state: AppState,
    options: DeriverOptions,
    progress: Progress,
}

impl crate::log::follow::LogReader for Deriver {
    async fn round(&mut self) -> anyhow::Result<bool> {
        derive_round(&self.state, &self.options, &mut self.progress).await
    }
}

/// What this process knows of its own work per organisation, so that an idle round
/// costs one query, not a lease per organisation.
#[derive(Default)]
struct Progress {
    last_refresh: HashMap<String, Instant>,
    done_up_to: HashMap<String, i64>,
    /// Ward places as of this process's last round, per organisation.
    places: HashMap<String, PlaceCache>,
    /// The next expiry of a hold on a kept place, per organisation.
    next_hold_end: HashMap<String, Timestamp>,
}

/// One pass over every organisation; `true` when a batch was full (more waiting).
async fn derive_round(
    state: &AppState,
    options: &DeriverOptions,
    progress: &mut Progress,
) -> anyhow::Result<bool> {
    let store = &state.store;
    let mut more = false;
    for (tenant, last) in store.event_tenants().await? {
        // A hold expiring changes its ward with no write to say so: recompute then,
        // not up to a refresh interval later.
        let hold_expired = progress
            .next_hold_end
            .get(&tenant)
            .is_some_and(|end| *end <= state.config.clock.now());
        let refresh_due = hold_expired
            || progress
                .last_refresh
                .get(&tenant)
                .is_none_or(|at| at.elapsed() >= options.refresh);
        if !refresh_due && progress.done_up_to.get(&tenant) == Some(&last) {
            continue;
        }
        let Some(lease) = store.claim_cursor(&tenant, READER).await? else {
            continue; // another replica derives this organisation now
        };
        // What this process kept of the places is good only if it derived every
        // change before these itself, and not across a refresh.
        let places = progress.places.entry(tenant.clone()).or_default();
        if refresh_due || progress.done_up_to.get(&tenant) != Some(&lease.position) {
            places.clear();
        }
        let read = read_changes(store, &tenant, lease.position, !refresh_due).await?;
        more |= read.more;
        let to = read.to;
        let touched = if refresh_due {
            progress.last_refresh.insert(tenant.clone(), Instant::now());
            compute::all_units(&Resources::Current {
                store,
                tenant: &tenant,
            })
            .await?
        } else {
            read.touched
        };
        let recomputed = touched.locations.len() + touched.equipment.len() + touched.staff.len();
        places.forget(&touched.locations);
        let started = Instant::now();
        let changed = changed_pictures(state, &tenant, &touched, places).await?;
        let cause = if refresh_due { "refresh" } else { "change" };
        metrics::histogram!("ohjaamo_picture_round_seconds", "cause" => cause)
            .record(started.elapsed().as_secs_f64());
        if !changed.is_empty() {
            tracing::debug!(tenant, units = changed.len(), "unit pictures changed");
        }
        crate::ops::observe::note_pictures_derived(recomputed, changed.len());
        lease
            .finish_traced(store, to, &changed, &read.trace)
            .await?;
        match places.next_hold_end(state.config.clock.now()) {
            Some(end) => progress.next_hold_end.insert(tenant.clone(), end),
            None => progress.next_hold_end.remove(&tenant),
        };
        // Our own picture events moved the log on; the next round reads past them.
        progress.done_up_to.insert(tenant, to);
    }
    Ok(more)
}

/// The changes one round derives from.
struct ReadChanges {
    /// The sequence of the last event read.
    to: i64,
    /// The units they touch (when asked for).
    touched: Touched,
    /// The trace of the latest traced resource change read.
    trace: EventTrace,
    /// Whether more events were waiting when the round stopped reading.
    more: bool,
}

/// Reads the log after `from` in batches while they come full, up to
/// [`MAX_PER_ROUND`] events, and (with `follow`) the units they touch.
async fn read_changes(
    store: &Store,
    tenant: &str,
    from: i64,
    follow: bool,
) -> Result<ReadChanges, StoreError> {
    let mut read = ReadChanges {
        to: from,
        touched: Touched::default(),
        trace: EventTrace::default(),
        more: false,
    };
    let mut count = 0;
    loop {
        let events = store
            .events_after(tenant, read.to, BATCH, EventFilter::Keys)
            .await?;
        let full = events.len() as i64 == BATCH;
        count += events.len();
        if let Some(last) = events.last() {
            read.to = last.sequence;
        }
        // A picture joins the trace of the latest traced change it was derived from:
        // exact when one write changed the unit (following one record), the last of
        // several when a round took many.
        if let Some(trace) = events
            .iter()
            .rev()
            .filter(|e| matches!(e.body, EventBody::Resource { .. }))
            .map(|e| &e.trace)
            .find(|t| !t.traceparent.is_empty())
        {
            read.trace = trace.clone();
        }
        if follow {
            read.touched
                .merge(touched_units(store, tenant, &events).await?);
        }
        if !full {
            return Ok(read);
        }
        if count >= MAX_PER_ROUND {
            read.more = true;
            return Ok(read);
        }
    }
}

/// The pictures of the touched units now, keeping those that differ from the stored
/// ones.
async fn changed_pictures(
    state: &AppState,
    tenant: &str,
    touched: &Touched,
    places: &mut PlaceCache,
) -> Result<Vec<PictureUpdate>, StoreError> {
    let store = &state.store;
    let src = Resources::Current { store, tenant };
    let now = state.config.clock.now();
    let fresh = compute::pictures(&src, touched, now, &state.config.time_zone, places).await?;
    let mut changed = Vec::new();
    for (kind, pictures) in fresh {
        let units: Vec<String> = pictures.iter().map(|p| p.unit.clone()).collect();
        let stored = store.picture_bodies(tenant, kind, &units).await?;
        changed.extend(
            pictures
                .into_iter()
                .filter(|p| stored.get(&p.unit) != Some(&p.body)),
        );
    }
    Ok(changed)
}
