//! What source adapters report of themselves: one row per organisation and source,
//! replaced by each report. The store keeps the report's JSON as it is; the core
//! decides what it means (staleness).

use sqlx::{AssertSqlSafe, Row as _};

use crate::StoreError;
use crate::access_log::{AccessEntity, AccessRecord, InsertRecords as _};
use crate::backend::{Store, on_pool};

/// A source's latest report.
#[derive(Debug, Clone)]
pub struct SourceStatusRow {
    pub name: String,
    pub body: String,
    /// When the core received it, microseconds since the epoch.
    pub reported_at: i64,
}

impl Store {
    /// Replaces the report of source `name`; `access`, the request's access record,
    /// commits in the same transaction (with the source as what was changed).
    pub async fn put_source_status(
        &self,
        tenant: &str,
        name: &str,
        body: &str,
        reported_at: i64,
        access: Option<&AccessRecord>,
    ) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO source_status (tenant, name, body, reported_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (tenant, name) \
             DO UPDATE SET body = excluded.body, reported_at = excluded.reported_at";
        let _turn = self.writer_turn().await;
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(AssertSqlSafe(SQL))
                .bind(tenant)
                .bind(name)
                .bind(body)
                .bind(reported_at)
                .execute(&mut *tx)
                .await?;
            if let Some(access) = access {
                let mut record = access.clone();
                record.entities.push(AccessEntity {
                    reference: format!("source/{name}"),
                    version: None,
                    visit: None,
                    changed: true,
                });
                std::slice::from_ref(&record).insert_records(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Every source's latest report, by name.
    pub async fn source_statuses(&self, tenant: &str) -> Result<Vec<SourceStatusRow>, StoreError> {
        const SQL: &str = "SELECT name, body, reported_at FROM source_status \
             WHERE tenant = $1 ORDER BY name";
        let mut out = Vec::new();
        on_pool!(self, pool => {
            let rows = sqlx::query(AssertSqlSafe(SQL))
                .bind(tenant)
                .fetch_all(pool)
                .await?;
            for row in rows {
                out.push(SourceStatusRow {
                    name: row.try_get("name")?,
                    body: row.try_get("body")?,
                    reported_at: row.try_get("reported_at")?,
                });
            }
        });
        Ok(out)
    }
}
