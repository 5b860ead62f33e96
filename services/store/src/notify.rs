//! Waking every replica's log readers when any replica commits events.
//!
//! Each commit that appends events also sends a PostgreSQL notification on
//! [`CHANNEL`] (in the same transaction: it is delivered at commit, and not at all on
//! rollback). Every store on PostgreSQL listens on a connection of its own and turns
//! each notification into the same local signal its own commits raise, so the relay,
//! the picture deriver and the `/stream` followers of every replica wake within
//! milliseconds of a write on any replica instead of at their next poll. Polling stays
//! as the fallback: a notification lost with a connection costs one poll interval, and
//! after every (re)connection the readers are woken once for what may have been missed.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::watch;

/// The notification channel; the payload is `tenant:last sequence` (for whoever
/// watches with `LISTEN`; the readers only need to wake).
pub(crate) const CHANNEL: &str = "ohjaamo_events";

/// How long to wait before listening again after the connection failed.
const RETRY: Duration = Duration::from_secs(1);

/// Listens on [`CHANNEL`] until aborted, bumping `signal` for every notification. The
/// listener has a connection of its own to `url`, outside the store's pool: it holds
/// it for good, and a pool of one (an operator command) must keep its one.
pub(crate) fn listen(url: &str, signal: Arc<watch::Sender<u64>>) -> tokio::task::JoinHandle<()> {
    let url = url.to_owned();
    tokio::spawn(async move {
        loop {
            if let Err(e) = listen_once(&url, &signal).await {
                tracing::warn!(error = %e, "cannot listen for other replicas' events; polling until it works again");
            }
            tokio::time::sleep(RETRY).await;
        }
    })
}

async fn listen_once(url: &str, signal: &watch::Sender<u64>) -> Result<(), sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    // Whatever was committed while no one listened: read it now.
    signal.send_modify(|n| *n += 1);
    loop {
        // `None`: the connection was lost and is re-established on the next call;
        // notifications sent meanwhile are gone, so wake the readers once.
        let _ = listener.try_recv().await?;
        signal.send_modify(|n| *n += 1);
    }
}
