//! Drives a [`PullSource`]: pull a page, map it, push it, and only then move the
//! cursor.
//!
//! A page's records are settled one way or the other before its cursor is saved:
//! stored by the core, or (when the source's record cannot be mapped, or the core
//! refuses it) kept in the quarantine. A pull or push that fails transiently is
//! retried with backoff and the cursor stays where it was, so a crash or restart at
//! any point re-reads at most the page in hand — and its conditional updates are
//! no-ops in the core.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt as _;
use futures_util::stream::FuturesOrdered;
use serde::Serialize;
use tokio::sync::watch;

use crate::backoff::Backoff;
use crate::cursor::CursorStore;
use crate::push::{EntryOutcome, PushClient, PushError};
use crate::quarantine::{Payload, Quarantine};
use crate::source::{Mapped, Page, PullSource, Record};

#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// Source name in logs, metrics and the status.
    pub name: String,
    /// Pause between full rounds over the streams.
    pub poll_interval: Duration,
    /// Backoff between failed pulls.
    pub backoff: Backoff,
    /// Pages pushed to the core at once (1: one after another).
    pub push_concurrency: usize,
}

/// What the runner knows of each stream, for the status endpoint.
/// Served camelCase, like every JSON body of ours beside FHIR.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamStatus {
    /// When a round over this stream last completed (UTC, RFC 3339).
    pub last_success: Option<String>,
    pub last_error: Option<String>,
    pub cursor: Option<String>,
    pub records_stored: u64,
    pub records_quarantined: u64,
}

pub struct PullRunner<S> {
    source: S,
    push: PushClient,
    cursors: CursorStore,
    quarantine: Quarantine,
    config: RunnerConfig,
    status: Arc<Mutex<BTreeMap<String, StreamStatus>>>,
}

/// Why a sync stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("shutting down")]
    ShuttingDown,
    #[error(transparent)]
    Cursor(#[from] crate::cursor::CursorError),
    #[error("cannot write the quarantine, so cannot move past record {key}: {source}")]
    Quarantine { key: String, source: std::io::Error },
}

impl<S: PullSource> PullRunner<S> {
    pub fn new(
        source: S,
        push: PushClient,
        cursors: CursorStore,
        quarantine: Quarantine,
        config: RunnerConfig,
    ) -> PullRunner<S> {
        PullRunner {
            source,
            push,
            cursors,
            quarantine,
            config,
            status: Arc::default(),
        }
    }

    /// A live view of each stream's status.
    pub fn status(&self) -> Arc<Mutex<BTreeMap<String, StreamStatus>>> {
        self.status.clone()
    }

    /// Each stream's status as it is now.
    pub fn streams(&self) -> BTreeMap<String, StreamStatus> {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The source's name in logs, metrics and the status.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    pub fn quarantine(&self) -> &Quarantine {
        &self.quarantine
    }

    /// Rounds over every stream until `shutdown` turns true.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) -> Result<(), RunError> {
        loop {
            match self.sync_once(&mut shutdown).await {
                Ok(()) => {}
                Err(RunError::ShuttingDown) => return Ok(()),
                Err(e) => return Err(e),
            }
            tokio::select! {
                _ = tokio::time::sleep(self.config.poll_interval) => {}
                _ = shutdown.changed() => return Ok(()),
            }
        }
    }

    /// One round: every stream read up to its end.
    pub async fn sync_once(&self, shutdown: &mut watch::Receiver<bool>) -> Result<(), RunError> {
        for stream in self.source.streams() {
            self.sync_stream(&stream, shutdown).await?;
            let now = jiff::Timestamp::now();
            metrics::gauge!("ohjaamo_adapter_last_success_timestamp_seconds",
                "source" => self.config.name.clone(), "stream" => stream.clone())
            .set(now.as_millisecond() as f64 / 1000.0);
            self.update(&stream, |s| {
                s.last_success = Some(now.to_string());
                s.last_error = None;
            });
        }
        Ok(())
    }

    /// Reads `stream` to its end. Up to `push_concurrency` pages are being pushed
    /// while the next is fetched; cursors are saved in page order, each only when its
    /// page and every page before it are settled. A record changed while the stream
    /// was being read comes again in a later page: that page waits until the earlier
    /// ones are settled, so the newer version is written last.
    async fn sync_stream(
        &self,
        stream: &str,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), RunError> {
        let mut in_flight = FuturesOrdered::new();
        let mut in_flight_keys: VecDeque<HashSet<String>> = VecDeque::new();
        let mut cursor = self.cursors.get(stream).await;
        let in_order = self.source.in_order(stream);
        loop {
            let page = self.fetch(stream, cursor.as_deref(), shutdown).await?;
            let done = !page.more || page.next_cursor.is_none();
            if page.next_cursor.is_some() {
                cursor = page.next_cursor.clone();
            }
            let keys: HashSet<String> = page.records.iter().map(|r| r.key.clone()).collect();
            let overlaps = in_flight_keys.iter().any(|k| !k.is_disjoint(&keys));
            let limit = if overlaps || in_order {
                1
            } else {
                self.config.push_concurrency.max(1)
            };
            while in_flight.len() >= limit {
                self.next_settled(stream, &mut in_flight, &mut in_flight_keys)
                    .await?;
            }
            let mut own_shutdown = shutdown.clone();
            in_flight_keys.push_back(keys);
            in_flight.push_back(async move {
                self.settle(stream, &page.records, &mut own_shutdown)
                    .await?;
                Ok::<_, RunError>(page.next_cursor)
            });
            if done {
                while !in_flight.is_empty() {
                    self.next_settled(stream, &mut in_flight, &mut in_flight_keys)
                        .await?;
                }
                return Ok(());
            }
        }
    }

    /// Waits for the oldest page in flight and saves its cursor.
    async fn next_settled<F>(
        &self,
        stream: &str,
        in_flight: &mut FuturesOrdered<F>,
        keys: &mut VecDeque<HashSet<String>>,
    ) -> Result<(), RunError>
    where
        F: std::future::Future<Output = Result<Option<String>, RunError>>,
    {
        if let Some(settled) = in_flight.next().await {
            keys.pop_front();
            self.save_cursor(stream, settled?).await?;
        }
        Ok(())
    }

    async fn save_cursor(&self, stream: &str, cursor: Option<String>) -> Result<(), RunError> {
        if let Some(next) = cursor {
            self.cursors.save(stream, &next).await?;
            self.update(stream, |s| s.cursor = Some(next));
        }
        Ok(())
    }

    /// The page after `cursor`, retried with backoff until it comes.
    async fn fetch(
        &self,
        stream: &str,
        cursor: Option<&str>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Page, RunError> {
        let mut attempt = 0;
        loop {
            match self.source.fetch(stream, cursor).await {
                Ok(page) => return Ok(page),
                Err(e) => {
                    metrics::counter!("ohjaamo_adapter_pull_failures_total",
                        "source" => self.config.name.clone(), "stream" => stream.to_owned())
                    .increment(1);
                    tracing::warn!(source = %self.config.name, stream, attempt, error = %e, "pull failed; retrying");
                    self.update(stream, |s| s.last_error = Some(e.to_string()));
                    let pause = self.config.backoff.delay(attempt);
                    attempt += 1;
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = shutdown.changed() => return Err(RunError::ShuttingDown),
                    }
                }
            }
        }
    }

    /// Every record of a page stored or quarantined.
    async fn settle(
        &self,
        stream: &str,
        records: &[Record],
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<(), RunError> {
        let mut upserts = Vec::new();
        let mut owner = Vec::new();
        for (r, record) in records.iter().enumerate() {
            match self.source.map(stream, record) {
                Mapped::Upserts(list) => {
                    owner.extend(std::iter::repeat_n(r, list.len()));
                    upserts.extend(list);
                }
                Mapped::Unmappable(reason) => self.keep(stream, record, &reason).await?,
            }
        }
        if upserts.is_empty() {
            return Ok(());
        }
        let outcomes = match self.push.push(&upserts, shutdown).await {
            Ok(o) => o,
            Err(PushError::ShuttingDown) => return Err(RunError::ShuttingDown),
        };
        // A record is refused when any of its writes is; keep it once.
        let mut refused: BTreeMap<usize, String> = BTreeMap::new();
        for (r, outcome) in owner.iter().zip(outcomes) {
            if let EntryOutcome::Refused(reason) = outcome {
                refused.entry(*r).or_insert(reason);
            }
        }
        let stored = records.len() - refused.len();
        self.update(stream, |s| s.records_stored += stored as u64);
        for (r, reason) in refused {
            self.keep(
                stream,
                &records[r],
                &format!("the core refused it: {reason}"),
            )
            .await?;
        }
        Ok(())
    }

    async fn keep(&self, stream: &str, record: &Record, reason: &str) -> Result<(), RunError> {
        self.quarantine
            .put(stream, &record.key, reason, Payload::Json(&record.body))
            .await
            .map_err(|source| RunError::Quarantine {
                key: record.key.clone(),
                source,
            })?;
        self.update(stream, |s| s.records_quarantined += 1);
        Ok(())
    }

    fn update(&self, stream: &str, change: impl FnOnce(&mut StreamStatus)) {
        let mut status = self.status.lock().unwrap_or_else(|p| p.into_inner());
        change(status.entry(stream.to_owned()).or_default());
    }
}
