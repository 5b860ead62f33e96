use std::fmt;

/// A failure of the store itself (not of the client's request): the database is
/// unreachable, a migration failed, or a write kept conflicting with concurrent ones.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL {0}: use postgres://… or sqlite:…")]
    UnsupportedUrl(String),
    /// A statement ran past the statement timeout, or was cancelled because the
    /// request that asked for it went away.
    #[error("the statement took longer than the database statement timeout allows")]
    TimedOut,
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("the write still conflicted with concurrent writes after {0} attempts")]
    Contention(Attempts),
    /// A conditional update found, under its lock, a resource created since the
    /// caller looked: the caller must plan the request again.
    #[error("{0} was created by a concurrent request; the request must be planned again")]
    Stale(String),
}

/// How many times a write was tried; a newtype so the message reads naturally.
#[derive(Debug, Clone, Copy)]
pub struct Attempts(pub u32);

impl fmt::Display for Attempts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl StoreError {
    /// See [`StoreError::Stale`].
    pub fn is_stale(&self) -> bool {
        matches!(self, StoreError::Stale(_))
    }

    /// The database cannot be reached (as opposed to refusing a statement): the
    /// API answers 503 and readiness fails.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Database(
                sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)
            )
        )
    }

    /// A conflict with a concurrent transaction that is worth retrying: a unique
    /// violation (two creates of one id), a serialization failure or a deadlock in
    /// PostgreSQL, or a busy SQLite file. SQLite's extended codes count too: 517
    /// (`SQLITE_BUSY_SNAPSHOT`: the transaction read a snapshot that another
    /// connection's commit has since passed, so it cannot write; the busy timeout does
    /// not wait for this one, only a new transaction helps) and 261/262, busy while the
    /// log recovers or a shared cache is locked.
    pub(crate) fn is_retryable(&self) -> bool {
        let StoreError::Database(sqlx::Error::Database(db)) = self else {
            return false;
        };
        matches!(
            db.code().as_deref(),
            Some("23505" | "40001" | "40P01" | "5" | "6" | "261" | "262" | "517" | "2067" | "1555")
        )
    }
}
