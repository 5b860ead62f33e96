//! Keeping the event log from growing without end: once an hour, events that every
//! reader (relay, deriver) has passed and that are older than `event_retention` are
//! deleted. A live-stream client that asks to resume from before what is kept gets
//! `resync` and a fresh snapshot.

use std::time::Duration;

use jiff::Timestamp;

use crate::base::state::AppState;

/// How often the log is pruned.
const EVERY: Duration = Duration::from_secs(3600);

/// Runs until aborted.
pub async fn run(state: AppState) {
    loop {
        tokio::time::sleep(EVERY).await;
        if let Err(e) = prune_once(&state).await {
            crate::ops::observe::note_background_error("retention");
            tracing::warn!(error = %e, "pruning the event log failed; trying again in an hour");
        }
    }
}

/// Prunes every organisation's log once; answers how many events went.
pub async fn prune_once(state: &AppState) -> Result<u64, ohjaamo_store::StoreError> {
    let keep = i64::try_from(state.config.event_retention.as_micros()).unwrap_or(i64::MAX);
    let before = Timestamp::now().as_microsecond().saturating_sub(keep);
    let mut pruned = 0;
    for (tenant, _) in state.store.event_tenants().await? {
        let n = state.store.prune_events(&tenant, before).await?;
        if n > 0 {
            tracing::info!(tenant, events = n, "pruned the event log");
        }
        pruned += n;
    }
    Ok(pruned)
}
