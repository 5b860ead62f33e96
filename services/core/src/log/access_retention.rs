//! Keeping the access log for as long as the hospital's retention policy says, and no
//! longer: once an hour, records older than `access_log.retention` are deleted, and the
//! deletion leaves a record of its own (how many, up to when) in the same transaction.
//! Without a retention period nothing is ever deleted.

use std::time::Duration;

use jiff::Timestamp;
use ohjaamo_store::AccessRecord;

use crate::base::state::AppState;

/// How often the log is pruned.
const EVERY: Duration = Duration::from_secs(3600);

/// Runs until aborted; returns at once when no retention period is set.
pub async fn run(state: AppState) {
    if state.config.access_log.retention.is_none() || state.access_log.is_none() {
        return;
    }
    loop {
        if let Err(e) = prune_once(&state).await {
            crate::ops::observe::note_background_error("access-log retention");
            tracing::warn!(error = %e, "pruning the access log failed; trying again in an hour");
        }
        tokio::time::sleep(EVERY).await;
    }
}

/// Deletes the records past the retention period once; answers how many went.
pub async fn prune_once(state: &AppState) -> Result<u64, ohjaamo_store::StoreError> {
    let Some(retention) = state.config.access_log.retention else {
        return Ok(0);
    };
    let now = Timestamp::now().as_microsecond();
    let keep = i64::try_from(retention.as_micros()).unwrap_or(i64::MAX);
    let before = now.saturating_sub(keep);
    let pruning = AccessRecord {
        recorded: now,
        interaction: "access-log-prune".into(),
        method: "-".into(),
        path: "(retention)".into(),
        request_id: uuid::Uuid::now_v7().to_string(),
        subject: Some("ohjaamo-core".into()),
        status: 200,
        ..AccessRecord::default()
    };
    let deleted = state.store.prune_access(before, pruning).await?;
    if deleted > 0 {
        tracing::info!(
            records = deleted,
            "pruned the access log past its retention period"
        );
    }
    Ok(deleted)
}
