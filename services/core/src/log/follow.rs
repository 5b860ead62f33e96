//! The loop every reader of the event log runs: a round whenever the log may have
//! moved (this process signalled a commit, or the poll interval passed for other
//! replicas' commits), at once again while rounds find more waiting, and a pause
//! after a failure, which is counted and logged, never fatal.

use std::time::Duration;

use crate::base::state::AppState;

/// One reader's work on the log.
pub trait LogReader: Send {
    /// One pass over every organisation; `true` when a batch was full (more is
    /// waiting).
    fn round(&mut self) -> impl Future<Output = anyhow::Result<bool>> + Send;
}

/// Runs `reader`'s rounds until the task is aborted.
pub async fn follow_log(
    state: &AppState,
    name: &'static str,
    poll: Duration,
    mut reader: impl LogReader,
) {
    let mut signal = state.store.event_signal();
    loop {
        match reader.round().await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(e) => {
                crate::ops::observe::note_background_error(name);
                tracing::warn!(reader = name, error = %e, "a round over the event log failed; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        tokio::select! {
            _ = signal.changed() => {}
            () = tokio::time::sleep(poll) => {}
        }
    }
}
