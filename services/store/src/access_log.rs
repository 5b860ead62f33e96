//! The access log (käyttöloki): who read or changed what, when, from where, and how
//! it ended — one record per request.
//!
//! A write's record is inserted by [`Store::apply`] in the write's own transaction (see
//! [`insert_records`]), so a committed change always has its record and a rolled-back
//! one never does. Reads' records go in through [`Store::append_access`], which the
//! core calls in groups (one transaction for all requests waiting at that moment)
//! before the answers are sent. Nothing here updates or deletes a record; the
//! database's triggers refuse it too (migration 0011), except [`Store::prune_access`],
//! which removes records past the retention period and logs that it did.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sqlx::{AssertSqlSafe, Row as _};

use crate::StoreError;
use crate::backend::{Db, Store, on_pool};
use crate::sql::{Sql, bind_all, like_escape};

/// Entity rows per INSERT statement (7 values each, well below either backend's limit
/// of bound values).
const ENTITY_ROWS_PER_STATEMENT: usize = 1_000;

/// One request's access record: everything but what it touched lives in the JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccessRecord {
    /// When the request came in, microseconds since the Unix epoch.
    pub recorded: i64,
    /// The organisation it acted for; empty when it named none it could act for.
    pub tenant: String,
    /// The organisation the request asked for (`X-Ohjaamo-Organization`) when that is
    /// not the one it acted for — a refusal's record keeps what was tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_tenant: Option<String>,
    /// The token's `sub`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The token's client id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The token's display name (`name`), for reading the log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_name: Option<String>,
    /// The scopes the token carried: its role.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// What was done: a FHIR interaction (`read`, `search-type`, `create`, …) or one of
    /// the server's own (`picture`, `stream`, `sources-read`, `sources-write`).
    pub interaction: String,
    pub method: String,
    pub path: String,
    /// The query string, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// The client's address (through a trusted proxy, the address it forwarded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    pub request_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    /// The HTTP status answered.
    pub status: u16,
    /// Why it failed, in the words the client was told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// What the request read or changed.
    #[serde(skip)]
    pub entities: Vec<AccessEntity>,
}

/// A resource a request read or changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessEntity {
    /// `Type/id`.
    pub reference: String,
    pub version: Option<i64>,
    /// The patient-visit identifier of a stay (`system|value` of an Encounter's first
    /// identifier).
    pub visit: Option<String>,
    /// Changed (created, updated, deleted) rather than read.
    pub changed: bool,
}

/// A stored record and its number.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAccess {
    pub id: i64,
    pub record: AccessRecord,
}

/// Which records to read, newest first unless `oldest_first`.
#[derive(Debug, Clone, Default)]
pub struct AccessFilter {
    /// One organisation's records; `None` for every organisation's (the export).
    pub tenant: Option<String>,
    /// Recorded at or after, microseconds.
    pub from: Option<i64>,
    /// Recorded before, microseconds.
    pub until: Option<i64>,
    /// The subject or the client id.
    pub agent: Option<String>,
    /// A `Type/id` the record touched.
    pub entity: Option<String>,
    /// A patient-visit identifier (`system|value`, or a bare value for any system).
    pub visit: Option<String>,
    /// Records numbered past this one in the reading order (paging).
    pub after_id: Option<i64>,
    pub oldest_first: bool,
    pub limit: usize,
}

impl Store {
    /// Appends `records` in one transaction (a group commit): durable when this
    /// returns. Returns their numbers.
    pub async fn append_access(&self, records: &[AccessRecord]) -> Result<Vec<i64>, StoreError> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let _turn = self.writer_turn().await;
        // One record (a sequential client's read) on PostgreSQL: its statement is its
        // own transaction, one round trip.
        if let (Db::Postgres(pool), [_]) = (&self.db, records) {
            let mut conn = pool.acquire().await?;
            return records.insert_records(&mut *conn).await;
        }
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let ids = records.insert_records(&mut *tx).await?;
            tx.commit().await?;
            Ok(ids)
        })
    }

    /// Reads records as `filter` says, each with what it touched.
    pub async fn access_records(
        &self,
        filter: &AccessFilter,
    ) -> Result<Vec<StoredAccess>, StoreError> {
        let query = select_records(filter);
        let mut out: Vec<StoredAccess> = Vec::new();
        on_pool!(self, pool => {
            let rows = bind_all!(sqlx::query(AssertSqlSafe(query.text)), &query.binds)
                .fetch_all(pool)
                .await?;
            for row in rows {
                let text: String = row.try_get(1)?;
                let record: AccessRecord = serde_json::from_str(&text)
                    .map_err(|e| StoreError::Corrupt(format!("access record: {e}")))?;
                out.push(StoredAccess { id: row.try_get(0)?, record });
            }
            if !out.is_empty() {
                let mut sql = Sql::new(
                    "SELECT record_id, reference, version, visit, changed FROM access_log_entity \
                     WHERE record_id IN (",
                );
                for (i, stored) in out.iter().enumerate() {
                    if i > 0 {
                        sql.push(", ");
                    }
                    sql.int(stored.id);
                }
                sql.push(") ORDER BY record_id, reference");
                let rows = bind_all!(sqlx::query(AssertSqlSafe(sql.text)), &sql.binds)
                    .fetch_all(pool)
                    .await?;
                let position: HashMap<i64, usize> =
                    out.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
                for row in rows {
                    let record_id: i64 = row.try_get(0)?;
                    let entity = AccessEntity {
                        reference: row.try_get(1)?,
                        version: row.try_get(2)?,
                        visit: row.try_get(3)?,
                        changed: row.try_get(4)?,
                    };
                    if let Some(&i) = position.get(&record_id) {
                        out[i].record.entities.push(entity);
                    }
                }
            }
        });
        Ok(out)
    }

    /// Deletes the records of every organisation recorded before `before` (the
    /// retention period), and appends `pruning` — the record of this pruning, told how
    /// many went — in the same transaction. Returns how many were deleted.
    pub async fn prune_access(
        &self,
        before: i64,
        mut pruning: AccessRecord,
    ) -> Result<u64, StoreError> {
        let _turn = self.writer_turn().await;
        let deleted;
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query("INSERT INTO access_log_prune_gate (opened) VALUES ($1)")
                .bind(pruning.recorded)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "DELETE FROM access_log_entity WHERE record_id IN \
                 (SELECT id FROM access_log WHERE recorded < $1)",
            )
            .bind(before)
            .execute(&mut *tx)
            .await?;
            deleted = sqlx::query("DELETE FROM access_log WHERE recorded < $1")
                .bind(before)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query("DELETE FROM access_log_prune_gate")
                .execute(&mut *tx)
                .await?;
            pruning.outcome = Some(format!(
                "{deleted} access records recorded before {} deleted (retention)",
                crate::stamp::format_instant(before)
            ));
            std::slice::from_ref(&pruning).insert_records(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(deleted)
    }
}

/// Inserting records and their entities on a connection, per backend; answers their
/// numbers. On PostgreSQL each record is one statement of fixed text (the record, and
/// its entities from arrays through `UNNEST`): one round trip, one prepared statement
/// whatever the number of entities, so it can also run alone as its own transaction.
pub(crate) trait InsertRecords<Conn> {
    async fn insert_records(&self, conn: &mut Conn) -> Result<Vec<i64>, StoreError>;
}

/// The record's row and its entities' rows in one statement (PostgreSQL).
const INSERT_RECORD_WITH_ENTITIES: &str = "WITH record AS ( \
     INSERT INTO access_log (tenant, recorded, subject, client_id, interaction, status, record) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id), \
     entities AS (INSERT INTO access_log_entity (record_id, tenant, reference, version, visit, \
     changed) SELECT record.id, $1, e.reference, e.version, e.visit, e.changed FROM record, \
     UNNEST($8::text[], $9::bigint[], $10::text[], $11::boolean[]) \
     AS e(reference, version, visit, changed)) \
     SELECT id FROM record";

impl InsertRecords<sqlx::PgConnection> for [AccessRecord] {
    async fn insert_records(&self, conn: &mut sqlx::PgConnection) -> Result<Vec<i64>, StoreError> {
        let mut ids = Vec::with_capacity(self.len());
        for record in self {
            let json = record_json(record)?;
            let entities = &record.entities;
            let id: i64 = sqlx::query_scalar(INSERT_RECORD_WITH_ENTITIES)
                .bind(record.tenant.as_str())
                .bind(record.recorded)
                .bind(record.subject.as_deref())
                .bind(record.client_id.as_deref())
                .bind(record.interaction.as_str())
                .bind(i32::from(record.status))
                .bind(json)
                .bind(column(entities, |e| e.reference.as_str()))
                .bind(column(entities, |e| e.version))
                .bind(column(entities, |e| e.visit.as_deref()))
                .bind(column(entities, |e| e.changed))
                .fetch_one(&mut *conn)
                .await?;
            ids.push(id);
        }
        Ok(ids)
    }
}

impl InsertRecords<sqlx::SqliteConnection> for [AccessRecord] {
    async fn insert_records(
        &self,
        conn: &mut sqlx::SqliteConnection,
    ) -> Result<Vec<i64>, StoreError> {
        let mut ids = Vec::with_capacity(self.len());
        for record in self {
            let insert = record_insert(record)?;
            let id: i64 = bind_all!(
                sqlx::query_scalar(AssertSqlSafe(insert.text)),
                &insert.binds
            )
            .fetch_one(&mut *conn)
            .await?;
            for insert in entity_inserts(id, record) {
                bind_all!(sqlx::query(AssertSqlSafe(insert.text)), &insert.binds)
                    .execute(&mut *conn)
                    .await?;
            }
            ids.push(id);
        }
        Ok(ids)
    }
}

/// One field of every entity: a column for `UNNEST`.
fn column<'a, T>(entities: &'a [AccessEntity], field: impl Fn(&'a AccessEntity) -> T) -> Vec<T> {
    entities.iter().map(field).collect()
}

/// The record as stored: everything but its entities, as JSON.
fn record_json(record: &AccessRecord) -> Result<String, StoreError> {
    serde_json::to_string(record).map_err(|e| StoreError::Corrupt(format!("access record: {e}")))
}

/// The INSERT of one record, answering its number (SQLite).
fn record_insert(record: &AccessRecord) -> Result<Sql, StoreError> {
    let json = record_json(record)?;
    let mut sql = Sql::new(
        "INSERT INTO access_log (tenant, recorded, subject, client_id, interaction, status, \
         record) VALUES (",
    );
    sql.text(record.tenant.as_str())
        .push(", ")
        .int(record.recorded)
        .push(", ")
        .maybe_text(record.subject.as_deref())
        .push(", ")
        .maybe_text(record.client_id.as_deref())
        .push(", ")
        .text(record.interaction.as_str())
        .push(", ")
        .int(i64::from(record.status))
        .push(", ")
        .text(json)
        .push(") RETURNING id");
    Ok(sql)
}

/// The INSERTs of a record's entities, in statements of bounded size (SQLite).
fn entity_inserts(record_id: i64, record: &AccessRecord) -> Vec<Sql> {
    record
        .entities
        .chunks(ENTITY_ROWS_PER_STATEMENT)
        .map(|chunk| {
            let mut sql = Sql::new(
                "INSERT INTO access_log_entity (record_id, tenant, reference, version, visit, \
                 changed) VALUES ",
            );
            for (i, e) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.push("(")
                    .int(record_id)
                    .push(", ")
                    .text(record.tenant.as_str())
                    .push(", ")
                    .text(e.reference.as_str())
                    .push(", ")
                    .maybe_int(e.version)
                    .push(", ")
                    .maybe_text(e.visit.as_deref())
                    .push(", ")
                    .boolean(e.changed)
                    .push(")");
            }
            sql
        })
        .collect()
}

/// The SELECT of `id, record` for a filter.
fn select_records(filter: &AccessFilter) -> Sql {
    let mut sql = Sql::new("SELECT id, record FROM access_log WHERE 1 = 1");
    if let Some(tenant) = &filter.tenant {
        sql.push(" AND tenant = ").text(tenant.as_str());
    }
    if let Some(from) = filter.from {
        sql.push(" AND recorded >= ").int(from);
    }
    if let Some(until) = filter.until {
        sql.push(" AND recorded < ").int(until);
    }
    if let Some(agent) = &filter.agent {
        sql.push(" AND (subject = ")
            .text(agent.as_str())
            .push(" OR client_id = ")
            .text(agent.as_str())
            .push(")");
    }
    let entity_scope = |sql: &mut Sql| {
        if let Some(tenant) = &filter.tenant {
            sql.push(" AND tenant = ").text(tenant.as_str());
        }
    };
    if let Some(entity) = &filter.entity {
        sql.push(" AND id IN (SELECT record_id FROM access_log_entity WHERE reference = ")
            .text(entity.as_str());
        entity_scope(&mut sql);
        sql.push(")");
    }
    if let Some(visit) = &filter.visit {
        sql.push(" AND id IN (SELECT record_id FROM access_log_entity WHERE ");
        if visit.contains('|') {
            sql.push("visit = ").text(visit.as_str());
        } else {
            // Any system: the value after the last bar (values have none of their own
            // in the identifiers this server keeps; a system may).
            sql.push("visit LIKE ")
                .text(format!("%|{}", like_escape(visit)));
            sql.push(" ESCAPE '\\'");
        }
        entity_scope(&mut sql);
        sql.push(")");
    }
    if let Some(after) = filter.after_id {
        let op = if filter.oldest_first { " > " } else { " < " };
        sql.push(" AND id").push(op).int(after);
    }
    let order = if filter.oldest_first { "ASC" } else { "DESC" };
    sql.push(&format!(" ORDER BY id {order} LIMIT "))
        .int(filter.limit.max(1) as i64);
    sql
}
