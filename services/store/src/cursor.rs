//! Readers of the event log and the stored picture.
//!
//! A reader (the relay, the picture deriver) owns a tenant's log while it holds a
//! [`CursorLease`]: on PostgreSQL the cursor row locked with `FOR UPDATE SKIP LOCKED`
//! in an open transaction, so that with several core replicas exactly one of them works
//! on a tenant at a time and events stay in order; on SQLite, where one process owns
//! the file, a lock in that process. Finishing the lease moves the cursor and, for the
//! deriver, stores the new unit pictures and appends their events — all in one
//! transaction, so a crash in between repeats the work instead of losing it.

use std::collections::HashMap;

use sqlx::{Postgres, Row as _, Transaction};

use crate::StoreError;
use crate::backend::{Db, on_pool};
use crate::picture_finish::PictureUpdate;

/// A unit's stored picture and the sequence of the event that announced it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPicture {
    pub unit: String,
    pub kind: String,
    pub sequence: i64,
    pub body: String,
}

enum Hold {
    Postgres(Transaction<'static, Postgres>),
    Sqlite(#[allow(dead_code)] tokio::sync::OwnedMutexGuard<()>),
}

/// What one attempt at a lease found.
enum Claim {
    Held(CursorLease),
    /// Another reader holds it.
    Busy,
    /// The reader has no cursor row for this tenant yet.
    Missing,
}

/// A reader's exclusive hold on one tenant's log, at `position` (the last sequence it
/// has dealt with). Dropping it without [`CursorLease::finish`] leaves the cursor where
/// it was.
pub struct CursorLease {
    tenant: String,
    reader: &'static str,
    pub position: i64,
    hold: Hold,
}

impl crate::Store {
    /// Takes `reader`'s lease on `tenant`'s log, or `None` when another process (or
    /// task) holds it now.
    pub async fn claim_cursor(
        &self,
        tenant: &str,
        reader: &'static str,
    ) -> Result<Option<CursorLease>, StoreError> {
        // The cursor row exists after a reader's first claim; creating it is the rare
        // path, taken only when the claim finds no row.
        for first_attempt in [true, false] {
            match self.try_claim(tenant, reader).await? {
                Claim::Held(lease) => return Ok(Some(lease)),
                Claim::Busy => return Ok(None),
                Claim::Missing if first_attempt => self.create_cursor(tenant, reader).await?,
                Claim::Missing => break,
            }
        }
        Ok(None)
    }

    async fn try_claim(&self, tenant: &str, reader: &'static str) -> Result<Claim, StoreError> {
        let select = "SELECT sequence FROM outbox_cursor WHERE tenant = $1 AND reader = $2";
        let (position, hold) = match &self.db {
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                let position: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "{select} FOR UPDATE SKIP LOCKED"
                )))
                .bind(tenant)
                .bind(reader)
                .fetch_optional(&mut *tx)
                .await?;
                match position {
                    Some(p) => (p, Hold::Postgres(tx)),
                    // Locked by another reader, or not there yet.
                    None if self.cursor_exists(tenant, reader).await? => return Ok(Claim::Busy),
                    None => return Ok(Claim::Missing),
                }
            }
            Db::Sqlite(pool) => {
                let Some(guard) = self.local_leases.try_take(tenant, reader) else {
                    return Ok(Claim::Busy);
                };
                let position: Option<i64> = sqlx::query_scalar(select)
                    .bind(tenant)
                    .bind(reader)
                    .fetch_optional(pool)
                    .await?;
                match position {
                    Some(p) => (p, Hold::Sqlite(guard)),
                    None => return Ok(Claim::Missing),
                }
            }
        };
        Ok(Claim::Held(CursorLease {
            tenant: tenant.to_owned(),
            reader,
            position,
            hold,
        }))
    }

    async fn create_cursor(&self, tenant: &str, reader: &str) -> Result<(), StoreError> {
        let _turn = self.writer_turn().await;
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO outbox_cursor (tenant, reader, sequence) VALUES ($1, $2, 0) \
                 ON CONFLICT (tenant, reader) DO NOTHING",
            )
            .bind(tenant)
            .bind(reader)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    async fn cursor_exists(&self, tenant: &str, reader: &str) -> Result<bool, StoreError> {
        on_pool!(self, pool => {
            let found: Option<i64> = sqlx::query_scalar(
                "SELECT sequence FROM outbox_cursor WHERE tenant = $1 AND reader = $2",
            )
            .bind(tenant)
            .bind(reader)
            .fetch_optional(pool)
            .await?;
            Ok(found.is_some())
        })
    }

    /// The stored `kind` picture bodies of `units`, by unit.
    pub async fn picture_bodies(
        &self,
        tenant: &str,
        kind: &str,
        units: &[String],
    ) -> Result<HashMap<String, String>, StoreError> {
        let mut found = HashMap::new();
        for chunk in units.chunks(crate::sql::IN_LIST_CHUNK) {
            let mut sql =
                crate::sql::Sql::new("SELECT unit, body FROM picture_unit WHERE tenant = ");
            sql.text(tenant).push(" AND kind = ").text(kind);
            sql.push(" AND unit IN ").text_list(chunk);
            on_pool!(self, pool => {
                let rows = crate::sql::bind_all!(sqlx::query(sqlx::AssertSqlSafe(sql.text)), &sql.binds)
                    .fetch_all(pool)
                    .await?;
                for row in rows {
                    found.insert(row.try_get(0)?, row.try_get(1)?);
                }
            });
        }
        Ok(found)
    }

    /// Every stored unit picture of `tenant` (of `kind`, when given) and the sequence
    /// they are as of, read in one snapshot: the pictures reflect every picture event
    /// up to that sequence and none after it.
    pub async fn pictures(
        &self,
        tenant: &str,
        kind: Option<&str>,
    ) -> Result<(Vec<StoredPicture>, i64), StoreError> {
        let postgres = self.is_postgres();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            if postgres {
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .execute(&mut *tx)
                    .await?;
            }
            let last: Option<i64> =
                sqlx::query_scalar("SELECT last FROM event_sequence WHERE tenant = $1")
                    .bind(tenant)
                    .fetch_optional(&mut *tx)
                    .await?;
            let rows = sqlx::query(
                "SELECT unit, kind, sequence, body FROM picture_unit \
                 WHERE tenant = $1 AND ($2 = '' OR kind = $2) ORDER BY kind, unit",
            )
            .bind(tenant)
            .bind(kind.unwrap_or(""))
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            let pictures = rows
                .iter()
                .map(|r| {
                    Ok(StoredPicture {
                        unit: r.try_get(0)?,
                        kind: r.try_get(1)?,
                        sequence: r.try_get(2)?,
                        body: r.try_get(3)?,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok((pictures, last.unwrap_or(0)))
        })
    }
}

impl CursorLease {
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// Moves the cursor to `to`, stores `pictures` (each replacing its unit's) and
    /// appends one picture event per unit, in one transaction. Each picture event
    /// carries, as its `version`, the sequence of the unit's previous picture event, so
    /// that a consumer of one unit's events can tell it missed one.
    pub async fn finish(
        self,
        store: &crate::Store,
        to: i64,
        pictures: &[PictureUpdate],
    ) -> Result<(), StoreError> {
        self.finish_traced(store, to, pictures, &crate::EventTrace::default())
            .await
    }

    /// [`CursorLease::finish`] with the picture events in the trace `trace` (the
    /// change they were derived from), so that a consumer's handling of a picture
    /// joins the trace of the write behind it.
    pub async fn finish_traced(
        self,
        store: &crate::Store,
        to: i64,
        pictures: &[PictureUpdate],
        trace: &crate::EventTrace,
    ) -> Result<(), StoreError> {
        let CursorLease {
            tenant,
            reader,
            hold,
            ..
        } = self;
        match hold {
            Hold::Postgres(mut tx) => {
                crate::picture_finish::finish_pg(&mut tx, &tenant, reader, to, pictures, trace)
                    .await?;
                tx.commit().await?;
            }
            Hold::Sqlite(_guard) => {
                let Db::Sqlite(pool) = &store.db else {
                    unreachable!("a SQLite lease comes from a SQLite store")
                };
                let _turn = store.writer_turn().await;
                let mut tx = pool.begin().await?;
                crate::picture_finish::finish_sqlite(&mut tx, &tenant, reader, to, pictures, trace)
                    .await?;
                tx.commit().await?;
            }
        }
        if !pictures.is_empty() {
            store.signal_events();
        }
        Ok(())
    }
}
