//! The event log's epoch: a value that changes whenever the log's history may have
//! been cut, so that a consumer which de-duplicates by sequence can tell a sequence
//! number it has already seen from the same number given out again.
//!
//! Sequences are gap-free and only grow, as long as the database only moves forward.
//! Two things move it back: a restore from a backup, and a failover to a replica that
//! had not received the last commits. Either way the next writes reuse sequence
//! numbers a consumer has already applied — and would silently drop as duplicates.
//!
//! The epoch has two parts:
//! - a token stored in the database (`log_epoch`), created with the schema and replaced
//!   by `ohjaamo store new-epoch` (an operator runs it after restoring a backup; the
//!   runbook says so);
//! - on PostgreSQL, the cluster's system identifier and the WAL timeline of the
//!   primary. A promoted replica and a point-in-time recovery each begin a new
//!   timeline, and a restore into a new cluster has a new system identifier, so these
//!   change the epoch without anyone having to remember the command.
//!
//! A new epoch does not mean history *was* cut (a clean switchover also starts a new
//! timeline); it means a consumer must not trust its position and resyncs from a
//! snapshot. Consumers compare epochs for equality only; the text has no meaning.

use crate::StoreError;
use crate::backend::{Db, on_pool};

impl crate::Store {
    /// The log's current epoch (see the module documentation).
    pub async fn log_epoch(&self) -> Result<String, StoreError> {
        match &self.db {
            Db::Postgres(pool) => {
                let (token, system, wal_file): (String, String, String) = sqlx::query_as(
                    "SELECT (SELECT token FROM log_epoch WHERE id = 1), \
                     (SELECT system_identifier::text FROM pg_control_system()), \
                     pg_walfile_name(pg_current_wal_lsn())",
                )
                .fetch_one(pool)
                .await?;
                Ok(format!("{token}.{system}.{}", timeline_of(&wal_file)))
            }
            Db::Sqlite(pool) => Ok(
                sqlx::query_scalar("SELECT token FROM log_epoch WHERE id = 1")
                    .fetch_one(pool)
                    .await?,
            ),
        }
    }

    /// Runs `read` and returns what it read with the epoch it is from. The epoch is
    /// read before and after; when the two differ the database changed under the read
    /// (a failover) and `read` runs again, so nothing read is ever labelled with an
    /// epoch it is not from.
    pub async fn within_epoch<T, F, Fut>(&self, mut read: F) -> Result<(String, T), StoreError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, StoreError>>,
    {
        loop {
            let before = self.log_epoch().await?;
            let value = read().await?;
            if self.log_epoch().await? == before {
                return Ok((before, value));
            }
            tracing::warn!("the event log's epoch changed during a read; reading again");
        }
    }

    /// Replaces the stored token, which begins a new epoch: for after a restore from a
    /// backup. Returns the new epoch.
    pub async fn new_log_epoch(&self) -> Result<String, StoreError> {
        let now = crate::stamp::now_micros();
        // A new random token, in each backend's SQL.
        let token = if self.is_postgres() {
            "substr(md5(random()::text || clock_timestamp()::text), 1, 16)"
        } else {
            "lower(hex(randomblob(8)))"
        };
        let sql = format!("UPDATE log_epoch SET began_at = $1, token = {token} WHERE id = 1");
        let turn = self.writer_turn().await;
        on_pool!(self, pool => {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(now)
                .execute(pool)
                .await?;
        });
        drop(turn); // the turn ends with the write, before the read below
        self.log_epoch().await
    }
}

/// The timeline of a WAL file name (its first eight hex digits), as a number so that
/// `00000002` reads `2`; the name itself if it is not one.
fn timeline_of(wal_file: &str) -> String {
    wal_file
        .get(..8)
        .and_then(|hex| u32::from_str_radix(hex, 16).ok())
        .map_or_else(|| wal_file.to_owned(), |t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::timeline_of;

    #[test]
    fn the_timeline_is_read_from_the_wal_file_name() {
        assert_eq!(timeline_of("000000010000000000000001"), "1");
        assert_eq!(timeline_of("0000000A00000003000000FF"), "10");
        assert_eq!(timeline_of("junk"), "junk");
    }
}
