//! Exclusive sections across replicas: a named lock per tenant, for the few checks
//! that must see every concurrent writer's result (a bed can be held by one
//! coordinator only).
//!
//! On PostgreSQL the lock is a transaction-scoped advisory lock held by a transaction
//! of its own: it is released when the guard is dropped (the transaction rolls back),
//! even if the holder's task is cancelled or panics, so a lock can never leak into the
//! pool. SQLite serves one process, whose callers exclude each other in process; it
//! gets no database lock.

use sqlx::{Postgres, Transaction};

use crate::StoreError;
use crate::backend::{Db, Store};

/// Held while the section runs; dropping it releases the lock.
pub struct ExclusiveLock {
    _transaction: Transaction<'static, Postgres>,
}

impl Store {
    /// Waits for the lock `name` of `tenant` across every process on this database.
    /// `None` on SQLite (the caller's in-process lock is enough there).
    pub async fn exclusive(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<Option<ExclusiveLock>, StoreError> {
        let Db::Postgres(pool) = &self.db else {
            return Ok(None);
        };
        let mut transaction = pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(format!("{tenant}\u{1f}{name}"))
            .execute(&mut *transaction)
            .await?;
        Ok(Some(ExclusiveLock {
            _transaction: transaction,
        }))
    }
}
