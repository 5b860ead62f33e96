//! Opening the database, running migrations, and the one place that knows there are
//! two backends.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::StoreError;
use crate::local_leases::LocalLeases;
use crate::statistics::Statistics;

/// Runs `$body` with `$pool` bound to the concrete pool. The body is compiled once per
/// backend, so the SQL both share is written once and still statically typed.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.db {
            $crate::backend::Db::Postgres($pool) => $body,
            $crate::backend::Db::Sqlite($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

pub(crate) enum Db {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

/// The store: a connection pool and the backend's quirks.
pub struct Store {
    pub(crate) db: Db,
    /// SQLite has one writer at a time; taking turns here, instead of letting two
    /// transactions race for the file lock, means a write never fails with "busy".
    pub(crate) sqlite_writer: tokio::sync::Mutex<()>,
    /// PostgreSQL only: keeps the planner statistics up with the writes.
    pub(crate) statistics: Option<Arc<Statistics>>,
    /// Bumped after every commit that appended events (see `events`).
    pub(crate) events_committed: Arc<tokio::sync::watch::Sender<u64>>,
    /// PostgreSQL only: the listener that turns other replicas' commits into the same
    /// signal (`notify`); stopped with the store.
    pub(crate) listener: Option<tokio::task::JoinHandle<()>>,
    /// SQLite only: which outbox readers hold which tenant's log.
    pub(crate) local_leases: LocalLeases,
    /// How long a statement may run (see [`StoreOptions::statement_timeout`]).
    pub(crate) statement_timeout: Duration,
}

/// How soon PostgreSQL gives up on a replica that vanished without closing its
/// connections (its node lost, its network cut): keepalive probes after 10 s of
/// silence, every 5 s, 3 unanswered ones end the connection — about 25 s. A reader's
/// lease on an organisation's log is a row lock held by an open transaction
/// (`cursor`), released when its connection ends; with the server's defaults (often
/// 2 h idle, then 9 probes 75 s apart) a lost node's lease would stop that
/// organisation's relay or deriver for over two hours. A process that dies on a
/// living node has its sockets closed by the kernel at once, so its leases go with
/// it (measured in docs/operations.md, "Replicas").
const LEASE_KEEPALIVE: [(&str, &str); 3] = [
    ("tcp_keepalives_idle", "10"),
    ("tcp_keepalives_interval", "5"),
    ("tcp_keepalives_count", "3"),
];

/// How the store connects.
#[derive(Debug, Clone, Copy)]
pub struct StoreOptions {
    /// Most connections in the pool.
    pub max_connections: u32,
    /// Longest a statement may run before the database stops it. On PostgreSQL every
    /// statement of the pool's connections (`statement_timeout`; migrations run on a
    /// connection of their own without it); on SQLite the searches, whose cost a
    /// client chooses (see `bounded`).
    pub statement_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: 16,
            statement_timeout: Duration::from_secs(30),
        }
    }
}

impl Store {
    /// Connects to `url` (`postgres://…` or `sqlite:…`), creating a SQLite file if it
    /// is missing, and applies pending migrations; the other options at their defaults.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        let options = StoreOptions {
            max_connections,
            ..StoreOptions::default()
        };
        Store::connect_with(url, options).await
    }

    /// [`Store::connect`] with every option.
    pub async fn connect_with(url: &str, options: StoreOptions) -> Result<Store, StoreError> {
        let StoreOptions {
            max_connections,
            statement_timeout,
        } = options;
        let mut statistics = None;
        let events_committed = Arc::new(tokio::sync::watch::Sender::new(0));
        let mut listener = None;
        let db = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let connect = PgConnectOptions::from_str(url)?;
            // Migrations may build indexes for longer than any request should run:
            // they get a connection of their own, without the statement timeout.
            let migrating = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(connect.clone())
                .await?;
            sqlx::migrate!("./migrations/postgres")
                .run(&migrating)
                .await?;
            migrating.close().await;
            let timeout_ms = statement_timeout.as_millis().max(1).to_string();
            let mut settings = vec![("statement_timeout", timeout_ms.as_str())];
            settings.extend(LEASE_KEEPALIVE);
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(connect.options(settings))
                .await?;
            statistics = Some(Statistics::start(&pool).await);
            listener = Some(crate::notify::listen(url, events_committed.clone()));
            Db::Postgres(pool)
        } else if url.starts_with("sqlite:") {
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: a commit is on disk before it is answered. The ADT adapter
                // acknowledges a message once the core answered; with NORMAL a power
                // cut could lose commits that were already acknowledged.
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10));
            // Every connection to ":memory:" is a database of its own: keep one.
            let connections = if in_memory { 1 } else { max_connections };
            let pool = SqlitePoolOptions::new()
                .max_connections(connections)
                .connect_with(options)
                .await?;
            sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
            Db::Sqlite(pool)
        } else {
            return Err(StoreError::UnsupportedUrl(redact(url)));
        };
        Ok(Store {
            db,
            sqlite_writer: tokio::sync::Mutex::new(()),
            statistics,
            events_committed,
            listener,
            local_leases: Default::default(),
            statement_timeout,
        })
    }

    /// "postgresql" or "sqlite", for logs and the health endpoint.
    pub fn backend_name(&self) -> &'static str {
        match self.db {
            Db::Postgres(_) => "postgresql",
            Db::Sqlite(_) => "sqlite",
        }
    }

    pub(crate) fn is_postgres(&self) -> bool {
        matches!(self.db, Db::Postgres(_))
    }

    /// Answers when the database does: readiness checks call this.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        if let Some(listener) = &self.listener {
            listener.abort();
        }
        on_pool!(self, pool => pool.close().await)
    }

    /// Counts rows written, for the planner statistics (PostgreSQL).
    pub(crate) fn note_written(&self, rows: usize) {
        if let (Db::Postgres(pool), Some(stats)) = (&self.db, &self.statistics) {
            stats.note_written(pool, rows as u64);
        }
    }

    /// Takes SQLite's single-writer turn; a no-op on PostgreSQL.
    pub(crate) async fn writer_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.db {
            Db::Sqlite(_) => Some(self.sqlite_writer.lock().await),
            Db::Postgres(_) => None,
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Some(listener) = &self.listener {
            listener.abort();
        }
    }
}

/// A database URL without its password, fit for an error message or a log line.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_reach_logs() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/ohjaamo"),
            "postgres://app:***@db:5432/ohjaamo"
        );
        assert_eq!(redact("postgres://app@db/x"), "postgres://app@db/x");
        assert_eq!(redact("sqlite:ohjaamo.db"), "sqlite:ohjaamo.db");
    }
}
