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
use ohjaamo_store::{EventFilter, PictureUpdate, StoreError};

use ohjaamo_fhir::ResourceType;

use super::compute;
use super::measure_report::ward_capacity_report;
use super::source::Resources;
use super::touched::{Touched, touched_units};
use crate::AppState;
use crate::pipeline::{WriteEntry, WriteKind};

/// The deriver's name for its cursor in the store.
pub const READER: &str = "picture";

/// Events read per round.
const BATCH: i64 = 2_000;

/// How the deriver paces itself.
#[derive(Debug, Clone)]
pub struct DeriverOptions {
    /// How often every unit is recomputed for the passing of time.
    pub refresh: Duration,
    /// How often the log is looked at without a signal (other replicas' writes).
    pub poll: Duration,
}

impl Default for DeriverOptions {
    fn default() -> Self {
        DeriverOptions {
            refresh: Duration::from_secs(60),
            poll: Duration::from_millis(500),
        }
    }
}

/// Runs until the task is dropped or aborted.
pub async fn run(state: AppState, options: DeriverOptions) {
    let mut signal = state.store.event_signal();
    let mut progress = Progress::default();
    loop {
        match derive_round(&state, &options, &mut progress).await {
            Ok(true) => continue, // more may be waiting
            Ok(false) => {}
            Err(e) => {
                crate::observe::note_background_error(READER);
                tracing::warn!(error = %e, "picture derivation failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        tokio::select! {
            _ = signal.changed() => {}
            () = tokio::time::sleep(options.poll) => {}
        }
    }
}

/// What this process knows of its own work per organisation, so that an idle round
/// costs one query, not a lease per organisation.
#[derive(Default)]
struct Progress {
    last_refresh: HashMap<String, Instant>,
    done_up_to: HashMap<String, i64>,
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
        let refresh_due = progress
            .last_refresh
            .get(&tenant)
            .is_none_or(|at| at.elapsed() >= options.refresh);
        if !refresh_due && progress.done_up_to.get(&tenant) == Some(&last) {
            continue;
        }
        let Some(lease) = store.claim_cursor(&tenant, READER).await? else {
            continue; // another replica derives this organisation now
        };
        let events = store
            .events_after(&tenant, lease.position, BATCH, EventFilter::All)
            .await?;
        more |= events.len() as i64 == BATCH;
        let to = events.last().map_or(lease.position, |e| e.sequence);
        let touched = if refresh_due {
            progress.last_refresh.insert(tenant.clone(), Instant::now());
            compute::all_units(&Resources::Current {
                store,
                tenant: &tenant,
            })
            .await?
        } else {
            touched_units(store, &tenant, &events).await?
        };
        let recomputed = touched.locations.len() + touched.equipment.len() + touched.staff.len();
        let changed = changed_pictures(state, &tenant, &touched).await?;
        if !changed.is_empty() {
            tracing::debug!(tenant, units = changed.len(), "unit pictures changed");
        }
        crate::observe::note_pictures_derived(recomputed, changed.len());
        // The reports first: if the round fails after them, it is repeated and
        // rewrites them unchanged; the cursor never passes a change not reported.
        write_reports(state, &tenant, &changed).await?;
        lease.finish(store, to, &changed).await?;
        // Our own picture events moved the log on; the next round reads past them.
        progress.done_up_to.insert(tenant, to);
    }
    Ok(more)
}

/// The pictures of the touched units now, keeping those that differ from the stored
/// ones.
async fn changed_pictures(
    state: &AppState,
    tenant: &str,
    touched: &Touched,
) -> Result<Vec<PictureUpdate>, StoreError> {
    let store = &state.store;
    let src = Resources::Current { store, tenant };
    let fresh = compute::pictures(&src, touched, Timestamp::now(), &state.config.time_zone).await?;
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

/// Writes the capacity MeasureReport of each changed ward.
async fn write_reports(
    state: &AppState,
    tenant: &str,
    changed: &[PictureUpdate],
) -> anyhow::Result<()> {
    let now = Timestamp::now();
    let entries: Vec<WriteEntry> = changed
        .iter()
        .filter(|p| p.kind == super::ward::KIND)
        .filter_map(|p| serde_json::from_str::<serde_json::Value>(&p.body).ok())
        .filter_map(|picture| ward_capacity_report(&picture, now, &state.config.time_zone))
        .map(|report| WriteEntry {
            rtype: ResourceType::MeasureReport,
            kind: WriteKind::Update {
                id: report["id"].as_str().unwrap_or_default().to_owned(),
            },
            resource: Some(report),
            if_match: None,
            full_url: None,
        })
        .collect();
    if entries.is_empty() {
        return Ok(());
    }
    let results = crate::pipeline::run_writes(state, tenant, entries, false)
        .await
        .map_err(|e| anyhow::anyhow!("writing capacity reports: {e}"))?;
    for result in results {
        if let Err(e) = result {
            // A report the core refuses is our bug, not a reason to stop the picture.
            tracing::error!(error = %e, "a ward capacity MeasureReport was refused");
        }
    }
    Ok(())
}
