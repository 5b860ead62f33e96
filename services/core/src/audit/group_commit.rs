//! Writing reads' access records durably before their answers go out, without a
//! transaction per request.
//!
//! A request hands its record over and waits. Whoever finds no writer at work starts
//! one (a task, so that a client hanging up cannot abandon the records of others);
//! the writer takes everything waiting at that moment, commits it in one transaction,
//! tells each waiter, and goes round again until nothing waits. Under load, records
//! that arrive during one commit share the next: a commit per round, not per request.

use std::sync::{Arc, Mutex};

use ohjaamo_store::{AccessRecord, Store};
use tokio::sync::oneshot;

/// Why a record could not be written: the request's answer must not go out.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the access log cannot be written: {0}")]
pub struct NotLogged(pub String);

type Waiter = (AccessRecord, oneshot::Sender<Result<(), NotLogged>>);

/// The shared writer of access records.
#[derive(Clone)]
pub struct AccessLog {
    store: Arc<Store>,
    queue: Arc<Mutex<Queue>>,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Waiter>,
    writing: bool,
}

impl AccessLog {
    pub fn new(store: Arc<Store>) -> AccessLog {
        AccessLog {
            store,
            queue: Arc::default(),
        }
    }

    /// Writes `record`; returns once it is committed.
    pub async fn write(&self, record: AccessRecord) -> Result<(), NotLogged> {
        let (tell, told) = oneshot::channel();
        let start_writer = {
            let mut queue = self.lock();
            queue.waiting.push((record, tell));
            !std::mem::replace(&mut queue.writing, true)
        };
        if start_writer {
            tokio::spawn(self.clone().write_rounds());
        }
        told.await
            .unwrap_or_else(|_| Err(NotLogged("the access-log writer stopped".into())))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Commits what waits, round after round, until nothing does.
    async fn write_rounds(self) {
        loop {
            let round = {
                let mut queue = self.lock();
                if queue.waiting.is_empty() {
                    queue.writing = false;
                    return;
                }
                std::mem::take(&mut queue.waiting)
            };
            let (records, waiters): (Vec<AccessRecord>, Vec<_>) = round.into_iter().unzip();
            metrics::histogram!("ohjaamo_access_log_group_size").record(records.len() as f64);
            let outcome = match self.store.append_access(&records).await {
                Ok(_) => Ok(()),
                Err(e) => {
                    metrics::counter!("ohjaamo_access_log_failures_total").increment(1);
                    tracing::error!(error = %e, records = records.len(), "cannot write access records; their requests fail");
                    Err(NotLogged(e.to_string()))
                }
            };
            for waiter in waiters {
                // A waiter whose request was dropped no longer listens; its record is
                // written all the same.
                let _ = waiter.send(outcome.clone());
            }
        }
    }
}
