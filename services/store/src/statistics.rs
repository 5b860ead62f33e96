//! Keeping PostgreSQL's planner statistics fresh while the store grows.
//!
//! Every search joins the resource table with an index table, and which side the
//! planner starts from depends on its row estimates. With statistics from when the
//! tables were nearly empty it starts from the wrong side: measured at 20,000 Slots,
//! a Slot search by schedule and date took 190 ms with stale statistics and 0.7 ms
//! after `ANALYZE`. Autovacuum normally takes care of this, but it wakes once a
//! minute at best, an initial load of a hospital is faster than that, and some
//! servers run with autovacuum off. So the store counts the rows it writes and runs
//! `ANALYZE` on its own tables whenever they have doubled since the last time (and
//! at start-up when they were never analysed). Doubling keeps the total cost
//! logarithmic in the size of the store — about 9 runs from empty to a million — and
//! the estimates within a factor of two, which is what separates a good plan from a
//! bad one here (the bad plans came from statistics of a nearly empty store). Growth
//! by half, as before, was 6 % of PostgreSQL's CPU samples during an initial sync.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use sqlx::PgPool;

/// No ANALYZE before this many rows have been written since the last one.
const MIN_ROWS_BETWEEN: u64 = 2_000;

/// The tables whose statistics the searches depend on.
const ANALYZE: &str = "ANALYZE resource, resource_history, search_token, \
                       search_reference, search_date, search_string";

/// Write counts and the single-flight flag for the statistics refresh.
#[derive(Debug, Default)]
pub(crate) struct Statistics {
    /// Rows written since the last ANALYZE started.
    written_since: AtomicU64,
    /// Resources in the store as of the last ANALYZE (an estimate).
    size_at_last: AtomicU64,
    /// An ANALYZE is running; at most one at a time per process.
    running: AtomicBool,
}

impl Statistics {
    /// Reads how big the store was when PostgreSQL last analysed it, and refreshes
    /// the statistics now if it never did.
    pub(crate) async fn start(pool: &PgPool) -> Arc<Statistics> {
        let stats = Arc::new(Statistics::default());
        let estimate: Option<f32> =
            sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE relname = 'resource'")
                .fetch_optional(pool)
                .await
                .ok()
                .flatten();
        match estimate {
            Some(rows) if rows >= 0.0 => stats.size_at_last.store(rows as u64, Ordering::Relaxed),
            // -1: never analysed. The tables may already hold a hospital.
            _ => {
                if stats.claim() {
                    refresh(pool.clone(), stats.clone());
                }
            }
        }
        stats
    }

    /// Counts `rows` written; when the store has grown enough since the last
    /// refresh and none is running, starts one in the background.
    pub(crate) fn note_written(self: &Arc<Self>, pool: &PgPool, rows: u64) {
        let since = self.written_since.fetch_add(rows, Ordering::Relaxed) + rows;
        let due = MIN_ROWS_BETWEEN.max(self.size_at_last.load(Ordering::Relaxed));
        if since >= due && self.claim() {
            let size = self.size_at_last.load(Ordering::Relaxed) + since;
            self.size_at_last.store(size, Ordering::Relaxed);
            self.written_since.store(0, Ordering::Relaxed);
            refresh(pool.clone(), self.clone());
        }
    }

    fn claim(&self) -> bool {
        self.running
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    }
}

/// Runs ANALYZE off the request path. A failure is logged, never surfaced: the
/// statistics only make queries faster, and autovacuum may still do the job.
fn refresh(pool: PgPool, stats: Arc<Statistics>) {
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        match sqlx::query(ANALYZE).execute(&pool).await {
            Ok(_) => tracing::debug!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "refreshed the planner statistics of the store's tables"
            ),
            Err(e) => tracing::warn!(error = %e, "could not refresh planner statistics (ANALYZE)"),
        }
        stats.running.store(false, Ordering::Release);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_refresh_runs_at_a_time() {
        let stats = Statistics::default();
        assert!(stats.claim());
        assert!(!stats.claim());
        stats.running.store(false, Ordering::Release);
        assert!(stats.claim());
    }
}
