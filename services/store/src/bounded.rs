//! Reads whose cost a client chooses (searches) are bounded in time and stopped when
//! nobody waits for them any more.
//!
//! Without this a search abandoned by its client kept running for minutes: dropping a
//! sqlx future does not stop the statement, and the connection it ran on stays busy
//! (it drains the answer before the pool hands it out again), so sixteen abandoned
//! searches held the pool and every other request timed out.
//!
//! - PostgreSQL: every connection carries `statement_timeout` (set at connect, see
//!   `backend`). A bounded read first learns its connection's backend pid; if the read
//!   is dropped before it completes, a guard that still owns the connection sends
//!   `pg_cancel_backend` for that pid over another connection, so the statement stops
//!   at once and the connection returns to the pool clean.
//! - SQLite: a progress handler on the connection interrupts the statement when the
//!   deadline passes or the read is dropped; it is removed before the connection goes
//!   back to the pool.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use sqlx::pool::PoolConnection;
use sqlx::{AssertSqlSafe, Postgres, Sqlite};

use crate::backend::Db;
use crate::sql::{Sql, bind_all, stored_version};
use crate::{Store, StoreError, StoredVersion};

/// SQLite virtual-machine steps between two looks at the clock: about a
/// millisecond of work.
const SQLITE_STEPS_PER_CHECK: i32 = 10_000;

impl Store {
    /// [`Store::fetch_versions`] within the statement timeout, cancelled if dropped.
    pub(crate) async fn fetch_versions_bounded(
        &self,
        sql: Sql,
    ) -> Result<Vec<StoredVersion>, StoreError> {
        let mut out = Vec::new();
        match &self.db {
            Db::Postgres(pool) => {
                let mut guard = PgCancelGuard::acquire(pool).await?;
                let rows = bind_all!(sqlx::query(AssertSqlSafe(sql.text)), &sql.binds)
                    .fetch_all(&mut **guard.connection())
                    .await
                    .map_err(timed_out)?;
                guard.completed();
                for row in rows {
                    out.push(stored_version!(row));
                }
            }
            Db::Sqlite(pool) => {
                let mut guard = SqliteDeadline::arm(pool, self.statement_timeout).await?;
                let rows = bind_all!(sqlx::query(AssertSqlSafe(sql.text)), &sql.binds)
                    .fetch_all(&mut **guard.connection())
                    .await
                    .map_err(timed_out)?;
                guard.disarm().await;
                for row in rows {
                    out.push(stored_version!(row));
                }
            }
        }
        Ok(out)
    }

    /// [`Store::fetch_count`] within the statement timeout, cancelled if dropped.
    pub(crate) async fn fetch_count_bounded(&self, sql: Sql) -> Result<u64, StoreError> {
        let count: i64 = match &self.db {
            Db::Postgres(pool) => {
                let mut guard = PgCancelGuard::acquire(pool).await?;
                let count = bind_all!(sqlx::query_scalar(AssertSqlSafe(sql.text)), &sql.binds)
                    .fetch_one(&mut **guard.connection())
                    .await
                    .map_err(timed_out)?;
                guard.completed();
                count
            }
            Db::Sqlite(pool) => {
                let mut guard = SqliteDeadline::arm(pool, self.statement_timeout).await?;
                let count = bind_all!(sqlx::query_scalar(AssertSqlSafe(sql.text)), &sql.binds)
                    .fetch_one(&mut **guard.connection())
                    .await
                    .map_err(timed_out)?;
                guard.disarm().await;
                count
            }
        };
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

/// A statement cancelled by the server (PostgreSQL `57014`: the statement timeout
/// or our cancel) or interrupted (SQLite `9`) is [`StoreError::TimedOut`].
fn timed_out(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && matches!(db.code().as_deref(), Some("57014" | "9"))
    {
        return StoreError::TimedOut;
    }
    StoreError::Database(e)
}

/// Owns a PostgreSQL connection while a statement runs on it; dropped before
/// [`PgCancelGuard::completed`], it cancels the statement.
struct PgCancelGuard {
    pool: sqlx::PgPool,
    connection: Option<PoolConnection<Postgres>>,
    backend_pid: i32,
}

impl PgCancelGuard {
    async fn acquire(pool: &sqlx::PgPool) -> Result<PgCancelGuard, StoreError> {
        let mut connection = pool.acquire().await?;
        let backend_pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut *connection)
            .await?;
        Ok(PgCancelGuard {
            pool: pool.clone(),
            connection: Some(connection),
            backend_pid,
        })
    }

    fn connection(&mut self) -> &mut PoolConnection<Postgres> {
        self.connection
            .as_mut()
            .expect("the connection stays until the guard is done")
    }

    /// The statement finished: the connection goes back to the pool as usual.
    fn completed(mut self) {
        self.connection.take();
    }
}

impl Drop for PgCancelGuard {
    fn drop(&mut self) {
        let Some(connection) = self.connection.take() else {
            return;
        };
        // Still ours: nobody else can have started a statement on this backend, so
        // the cancel can only hit the abandoned one.
        let (pool, pid) = (self.pool.clone(), self.backend_pid);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            let cancelled = sqlx::query("SELECT pg_cancel_backend($1)")
                .bind(pid)
                .execute(&pool)
                .await;
            if let Err(e) = cancelled {
                tracing::warn!(error = %e, pid, "could not cancel an abandoned statement");
            }
            drop(connection);
        });
    }
}

/// A SQLite connection with a progress handler that interrupts its statement past a
/// deadline or once the read is dropped.
struct SqliteDeadline {
    connection: Option<PoolConnection<Sqlite>>,
    abandoned: Arc<AtomicBool>,
}

impl SqliteDeadline {
    async fn arm(
        pool: &sqlx::SqlitePool,
        timeout: std::time::Duration,
    ) -> Result<SqliteDeadline, StoreError> {
        let mut connection = pool.acquire().await?;
        let abandoned = Arc::new(AtomicBool::new(false));
        let deadline = Instant::now() + timeout;
        let flag = abandoned.clone();
        connection
            .lock_handle()
            .await?
            .set_progress_handler(SQLITE_STEPS_PER_CHECK, move || {
                !flag.load(Ordering::Relaxed) && Instant::now() < deadline
            });
        Ok(SqliteDeadline {
            connection: Some(connection),
            abandoned,
        })
    }

    fn connection(&mut self) -> &mut PoolConnection<Sqlite> {
        self.connection
            .as_mut()
            .expect("the connection stays until the guard is done")
    }

    /// Removes the handler so the connection's next user is not interrupted.
    async fn disarm(mut self) {
        if let Some(connection) = self.connection.take() {
            remove_handler(connection).await;
        }
    }
}

impl Drop for SqliteDeadline {
    fn drop(&mut self) {
        let Some(connection) = self.connection.take() else {
            return;
        };
        self.abandoned.store(true, Ordering::Relaxed);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(remove_handler(connection));
        }
    }
}

/// Removes the progress handler; a connection where that fails is closed rather
/// than returned with a handler that would interrupt its next user.
async fn remove_handler(mut connection: PoolConnection<Sqlite>) {
    let failed = match connection.lock_handle().await {
        Ok(mut handle) => {
            handle.remove_progress_handler();
            None
        }
        Err(e) => Some(e),
    };
    if let Some(e) = failed {
        tracing::warn!(error = %e, "closing a SQLite connection whose deadline could not be removed");
        connection.close_on_drop();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    use sqlx::sqlite::SqlitePoolOptions;

    use super::*;

    /// PostgreSQL for these tests, or `None` (loudly) outside CI when there is none.
    async fn postgres(options: &[(&str, &str)]) -> Option<sqlx::PgPool> {
        let url = std::env::var("OHJAAMO_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let connect = url
            .parse::<PgConnectOptions>()
            .expect("OHJAAMO_TEST_POSTGRES_URL")
            .options(options.iter().copied());
        match PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(connect)
            .await
        {
            Ok(pool) => Some(pool),
            Err(e) if std::env::var("CI").is_err() => {
                eprintln!("SKIPPED: no PostgreSQL at {url} ({e})");
                None
            }
            Err(e) => panic!("CI needs PostgreSQL at {url}: {e}"),
        }
    }

    /// Whether backend `pid` is still running a statement.
    async fn busy(pool: &sqlx::PgPool, pid: i32) -> bool {
        sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active')",
        )
        .bind(pid)
        .fetch_one(pool)
        .await
        .expect("pg_stat_activity")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_statements_stop_at_the_timeout() {
        let Some(pool) = postgres(&[("statement_timeout", "200")]).await else {
            return;
        };
        let mut guard = PgCancelGuard::acquire(&pool).await.unwrap();
        let started = Instant::now();
        let result = sqlx::query("SELECT pg_sleep(20)")
            .execute(&mut **guard.connection())
            .await
            .map_err(timed_out);
        guard.completed();
        assert!(matches!(result, Err(StoreError::TimedOut)), "{result:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_statements_stop_when_abandoned() {
        let Some(pool) = postgres(&[]).await else {
            return;
        };
        let mut guard = PgCancelGuard::acquire(&pool).await.unwrap();
        let pid = guard.backend_pid;
        let abandoned = async move {
            let _ = sqlx::query("SELECT pg_sleep(60)")
                .execute(&mut **guard.connection())
                .await;
        };
        // The client goes away while the statement runs.
        assert!(
            tokio::time::timeout(Duration::from_millis(300), abandoned)
                .await
                .is_err()
        );
        let deadline = Instant::now() + Duration::from_secs(5);
        while busy(&pool, pid).await {
            assert!(
                Instant::now() < deadline,
                "the abandoned statement still runs"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // The connection came back to the pool usable.
        for _ in 0..4 {
            sqlx::query("SELECT 1").execute(&pool).await.unwrap();
        }
    }

    const ENDLESS: &str = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) \
                           SELECT count(*) FROM c";

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_statements_stop_at_the_deadline() {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        let mut guard = SqliteDeadline::arm(&pool, Duration::from_millis(200))
            .await
            .unwrap();
        let result = sqlx::query_scalar::<_, i64>(ENDLESS)
            .fetch_one(&mut **guard.connection())
            .await
            .map_err(timed_out);
        guard.disarm().await;
        assert!(matches!(result, Err(StoreError::TimedOut)), "{result:?}");
        // The handler is gone: the connection's next statement runs to its end.
        let n: i64 = sqlx::query_scalar(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) \
             SELECT count(*) FROM c",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(n, 2_000_000);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_statements_stop_when_abandoned() {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        let mut guard = SqliteDeadline::arm(&pool, Duration::from_secs(600))
            .await
            .unwrap();
        let abandoned = async move {
            let _ = sqlx::query_scalar::<_, i64>(ENDLESS)
                .fetch_one(&mut **guard.connection())
                .await;
        };
        assert!(
            tokio::time::timeout(Duration::from_millis(300), abandoned)
                .await
                .is_err()
        );
        // The pool's one connection is free again soon, and not interrupted.
        let one: i64 = tokio::time::timeout(
            Duration::from_secs(5),
            sqlx::query_scalar("SELECT 1").fetch_one(&pool),
        )
        .await
        .expect("the abandoned statement still holds the connection")
        .unwrap();
        assert_eq!(one, 1);
    }
}
