//! The capacity reports: follows the ward picture events and writes each ward's
//! capacity MeasureReport (`measure_report.rs`) through the write path, so that the
//! figures are also searchable FHIR.
//!
//! A reader of its own (cursor "capacity-reports") rather than a step of the deriver:
//! a report costs a whole validated write, and the picture events — what displays and
//! consumers wait for — should not wait for it. It is crash-safe the way every reader
//! is: its cursor moves after the reports are written, so a crash repeats them (a
//! rewrite of the same figures), never skips them.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use ohjaamo_fhir::ResourceType;
use ohjaamo_store::{EventBody, EventFilter};
use serde_json::Value;

use super::measure_report::ward_capacity_report;
use crate::base::state::AppState;
use crate::write::entry::{WriteEntry, WriteKind};

/// The reader's name for its cursor in the store.
pub const READER: &str = "capacity-reports";

/// Picture events read per round.
const BATCH: i64 = 1_000;
/// How often the log is looked at without a signal (other replicas' writes).
const POLL: Duration = Duration::from_millis(500);

/// Runs until the task is dropped or aborted.
pub async fn run(state: AppState, interval: Duration) {
    let reports = Reports {
        state: state.clone(),
        done_up_to: HashMap::new(),
        interval,
        last_round: None,
    };
    crate::log::follow::follow_log(&state, READER, POLL, reports).await;
}

struct Reports {
    state: AppState,
    /// How far this process has reported each organisation, so that an idle round
    /// costs one query, not a lease per organisation.
    done_up_to: HashMap<String, i64>,
    /// The least time between rounds (see `DeriverOptions::report_interval`).
    interval: Duration,
    /// When the last round began, and whether its batch was full.
    last_round: Option<(Instant, bool)>,
}

impl crate::log::follow::LogReader for Reports {
    async fn round(&mut self) -> anyhow::Result<bool> {
        // Rounds no closer than the interval, except to catch up with a backlog.
        if let Some((at, false)) = self.last_round {
            tokio::time::sleep(self.interval.saturating_sub(at.elapsed())).await;
        }
        let started = Instant::now();
        let more = report_round(&self.state, &mut self.done_up_to).await?;
        self.last_round = Some((started, more));
        Ok(more)
    }
}

/// One pass over every organisation; `true` when a batch was full (more waiting).
async fn report_round(
    state: &AppState,
    done_up_to: &mut HashMap<String, i64>,
) -> anyhow::Result<bool> {
    let store = &state.store;
    let mut more = false;
    for (tenant, last) in store.event_tenants().await? {
        if done_up_to.get(&tenant) == Some(&last) {
            continue;
        }
        let Some(lease) = store.claim_cursor(&tenant, READER).await? else {
            continue; // another replica reports this organisation now
        };
        let events = store
            .events_after(&tenant, lease.position, BATCH, EventFilter::Pictures)
            .await?;
        let full = events.len() as i64 == BATCH;
        more |= full;
        // Every picture event up to `last` (committed before this read, and the
        // sequence is gap-free) is among these unless the batch was full.
        let to = match events.last() {
            Some(e) if full => e.sequence,
            last_read => last
                .max(lease.position)
                .max(last_read.map_or(0, |e| e.sequence)),
        };
        // The newest picture of each ward in the batch.
        let mut wards: BTreeMap<&str, &str> = BTreeMap::new();
        for event in &events {
            if let EventBody::Picture {
                unit_kind,
                unit,
                body,
                ..
            } = &event.body
                && unit_kind == super::ward::KIND
            {
                wards.insert(unit, body);
            }
        }
        write_reports(state, &tenant, wards.values().copied()).await?;
        lease.finish(store, to, &[]).await?;
        done_up_to.insert(tenant, to);
    }
    Ok(more)
}

/// Writes the capacity MeasureReport of each ward picture in `pictures`.
async fn write_reports(
    state: &AppState,
    tenant: &str,
    pictures: impl Iterator<Item = &str>,
) -> anyhow::Result<()> {
    let now = state.config.clock.now();
    let entries: Vec<WriteEntry> = pictures
        .filter_map(|body| serde_json::from_str::<Value>(body).ok())
        .filter_map(|picture| {
            // Each ward's day in its own zone (the picture says which).
            let zone = picture["timeZone"]
                .as_str()
                .and_then(|name| jiff::tz::TimeZone::get(name).ok())
                .unwrap_or_else(|| state.config.time_zone.clone());
            ward_capacity_report(&picture, now, &zone)
        })
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
    let results = crate::write::apply::run_writes(state, tenant, entries, false)
        .await
        .map_err(|e| anyhow::anyhow!("writing capacity reports: {e}"))?;
    for result in results {
        if let Err(e) = result {
            // A report the core refuses is our bug, not a reason to stop the others.
            tracing::error!(error = %e, "a ward capacity MeasureReport was refused");
        }
    }
    Ok(())
}
