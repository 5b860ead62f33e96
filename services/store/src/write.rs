//! Applying writes: one database transaction for a whole request, whether it is a
//! single update or a 1,000-entry Bundle.
//!
//! The transaction first locks and loads the state (version, hash, deleted) of every
//! resource the writes may touch, then plans every write in memory in order — so a
//! later entry sees what an earlier one did — and finally writes the planned rows in
//! bulk. Identical content is a no-op: no version, no history row.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::Value;
use sqlx::{AssertSqlSafe, Row as _};

use crate::access_log::{AccessEntity, AccessRecord, InsertRecords as _};
use crate::backend::on_pool;
use crate::error::Attempts;
use crate::events::EventTrace;
use crate::events_append::AppendEvents as _;
use crate::labels;
use crate::model::*;
use crate::sql::{IN_LIST_CHUNK, Sql, bind_all};
use crate::stamp::{now_micros, stamp};
use crate::write_bulk::{PlannedRows, VersionRow, WriteRows as _};
use crate::{Store, StoreError};

/// How often a write that collided with a concurrent one is tried again.
const MAX_ATTEMPTS: u32 = 5;

/// One write's result: done, or refused for a reason the client can act on.
pub type WriteResult = Result<Written, WriteRefusal>;

#[derive(Debug, Clone)]
struct State {
    version: i64,
    last_updated: i64,
    hash: String,
    deleted: bool,
    /// `meta.security` of the version, read only where a write may carry it over
    /// (`labels`).
    labels: Option<Value>,
}

type Key = (&'static str, String);

impl Store {
    /// Applies `ops` in order in one transaction, appending one event per new version
    /// to the outbox in the same transaction. With `atomic`, any refusal rolls
    /// everything back (and the refusals are returned); without it, refused writes
    /// are skipped and the rest committed.
    ///
    /// `access` is the request's access record: when given, it is inserted in the same
    /// transaction, with what was written as its entities, whenever the transaction
    /// commits — a committed change cannot lose its record.
    pub async fn apply(
        &self,
        tenant: &str,
        ops: &[WriteOp],
        atomic: bool,
        trace: &EventTrace,
        access: Option<&AccessRecord>,
    ) -> Result<Vec<WriteResult>, StoreError> {
        let mut attempt = 1;
        loop {
            match self.apply_once(tenant, ops, atomic, trace, access).await {
                Err(e) if e.is_retryable() && attempt < MAX_ATTEMPTS => {
                    tracing::debug!(attempt, error = %e, "write collided with a concurrent one; retrying");
                    tokio::time::sleep(Duration::from_millis(5 << attempt)).await;
                    attempt += 1;
                }
                Err(e) if e.is_retryable() => {
                    return Err(StoreError::Contention(Attempts(attempt)));
                }
                Ok(results) => {
                    self.note_written(results.iter().filter(|r| r.is_ok()).count());
                    return Ok(results);
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn apply_once(
        &self,
        tenant: &str,
        ops: &[WriteOp],
        atomic: bool,
        trace: &EventTrace,
        access: Option<&AccessRecord>,
    ) -> Result<Vec<WriteResult>, StoreError> {
        let _turn = self.writer_turn().await;
        let postgres = self.is_postgres();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;

            // Conditional updates: serialise writers of the same identifier, then
            // find what each identifier names now.
            let idents = identifier_keys(ops);
            if postgres && !idents.is_empty() {
                let mut locks: Vec<i64> = idents.iter().map(|k| lock_key(tenant, k)).collect();
                locks.sort_unstable();
                locks.dedup();
                let mut sql = Sql::new("SELECT pg_advisory_xact_lock(k) FROM (VALUES ");
                for (i, k) in locks.iter().enumerate() {
                    if i > 0 {
                        sql.push(", ");
                    }
                    sql.push("(").int(*k).push("::bigint)");
                }
                sql.push(") AS l(k) ORDER BY k");
                bind_all!(sqlx::query(AssertSqlSafe(sql.text)), &sql.binds)
                    .fetch_all(&mut *tx)
                    .await?;
            }
            let mut by_identifier: HashMap<IdentKey, Vec<String>> =
                idents.iter().map(|k| (k.clone(), Vec::new())).collect();
            for (rtype, sql) in identifier_queries(tenant, &idents) {
                let rows = bind_all!(sqlx::query(AssertSqlSafe(sql.text)), &sql.binds)
                    .fetch_all(&mut *tx)
                    .await?;
                for row in rows {
                    let (system, code, id): (String, String, String) =
                        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
                    collect_identifier_match(&mut by_identifier, rtype, system, code, id);
                }
            }

            // Lock and load the state of everything that may be touched.
            let mut wanted: HashMap<&'static str, Vec<String>> = HashMap::new();
            for op in ops {
                if let WriteTarget::Id(id) | WriteTarget::New(id) = &op.target {
                    wanted.entry(op.rtype).or_default().push(id.clone());
                }
            }
            for (key, ids) in &by_identifier {
                wanted.entry(key.0).or_default().extend(ids.iter().cloned());
            }
            let mut states: HashMap<Key, State> = HashMap::new();
            let unlabelled = unlabelled_puts(ops);
            for (rtype, mut ids) in wanted {
                ids.sort_unstable();
                ids.dedup();
                // The content only of versions with labels, only for types a write
                // without labels of its own puts: what `labels` may carry over.
                let labels_column = if unlabelled.contains(rtype) {
                    "CASE WHEN content LIKE '%\"security\"%' THEN content END"
                } else {
                    "NULL"
                };
                for chunk in ids.chunks(IN_LIST_CHUNK) {
                    let mut sql = Sql::new(&format!(
                        "SELECT id, version, last_updated, hash, deleted, {labels_column} \
                         FROM resource WHERE tenant = "
                    ));
                    sql.text(tenant).push(" AND rtype = ").text(rtype);
                    sql.push(" AND id IN ").text_list(chunk);
                    if postgres {
                        sql.push(" ORDER BY id FOR UPDATE");
                    }
                    let rows = bind_all!(sqlx::query(AssertSqlSafe(sql.text)), &sql.binds)
                        .fetch_all(&mut *tx)
                        .await?;
                    for row in rows {
                        states.insert(
                            (rtype, row.try_get(0)?),
                            State {
                                version: row.try_get(1)?,
                                last_updated: row.try_get(2)?,
                                hash: row.try_get(3)?,
                                deleted: row.try_get(4)?,
                                labels: row
                                    .try_get::<Option<String>, _>(5)?
                                    .and_then(|text| stored_labels(&text)),
                            },
                        );
                    }
                }
            }

            let (results, rows) = plan(ops, states, by_identifier, now_micros())?;
            if atomic && results.iter().any(Result::is_err) {
                tx.rollback().await?;
                return Ok(results);
            }
            rows.write(&mut tx, tenant).await?;
            if let Some(access) = access {
                let record = with_written(access, ops, &results);
                std::slice::from_ref(&record).insert_records(&mut *tx).await?;
            }
            if !rows.is_empty() {
                // Last, so that the sequence row is locked for as short a time as can be.
                rows.events()
                    .append_events(&mut tx, tenant, rows.occurred_at(), trace)
                    .await?;
            }
            tx.commit().await?;
            if !rows.is_empty() {
                self.signal_events();
            }
            Ok(results)
        })
    }
}

/// `access` with what `results` wrote as its changed entities (the stay's visit
/// identifier for an Encounter).
fn with_written(access: &AccessRecord, ops: &[WriteOp], results: &[WriteResult]) -> AccessRecord {
    let mut record = access.clone();
    if let [Ok(written)] = results {
        record.status = single_write_status(&record.interaction, written).unwrap_or(record.status);
    }
    for (op, result) in ops.iter().zip(results) {
        let Ok(written) = result else { continue };
        let content = match &op.action {
            Action::Put(content) => Some(&content.resource),
            Action::Delete => None,
        };
        record.entities.push(AccessEntity {
            reference: format!("{}/{}", written.rtype, written.id),
            version: Some(written.version),
            visit: content.and_then(|c| visit_identifier(written.rtype, c)),
            changed: true,
        });
    }
    record
}

/// The HTTP status a lone create, update or delete answers once committed (what
/// `http::fhir` answers for it): the record says what the client was told. `None` for
/// a Bundle's entries (the Bundle answers 200).
fn single_write_status(interaction: &str, written: &Written) -> Option<u16> {
    match (interaction, written.status) {
        ("create" | "update", WriteStatus::Created) => Some(201),
        ("create" | "update", _) => Some(200),
        ("delete", WriteStatus::AlreadyAbsent) if written.version == 0 => Some(404),
        ("delete", _) => Some(204),
        _ => None,
    }
}

/// The patient-visit identifier of an Encounter (`system|value` of its first
/// identifier with a value).
pub fn visit_identifier(rtype: &str, resource: &Value) -> Option<String> {
    if rtype != "Encounter" {
        return None;
    }
    resource["identifier"].as_array()?.iter().find_map(|i| {
        let value = i["value"].as_str()?;
        Some(format!("{}|{value}", i["system"].as_str().unwrap_or("")))
    })
}

/// The types that a put without `meta.security` of its own writes.
fn unlabelled_puts(ops: &[WriteOp]) -> HashSet<&'static str> {
    ops.iter()
        .filter(
            |op| matches!(&op.action, Action::Put(c) if labels::labels_of(&c.resource).is_none()),
        )
        .map(|op| op.rtype)
        .collect()
}

/// The `meta.security` of a stored version's JSON, if it has labels.
fn stored_labels(content: &str) -> Option<Value> {
    let resource: Value = serde_json::from_str(content).ok()?;
    labels::labels_of(&resource).map(|l| Value::Array(l.clone()))
}

/// `(resource type, identifier system, identifier code)` of a conditional update;
/// no system matches any system.
pub type IdentKey = (&'static str, Option<String>, String);

impl Store {
    /// The ids of the current resources carrying each identifier, in bulk: a
    /// 500-entry Bundle of conditional updates costs one query, not 500.
    pub async fn resolve_identifiers(
        &self,
        tenant: &str,
        keys: &[IdentKey],
    ) -> Result<HashMap<IdentKey, Vec<String>>, StoreError> {
        let mut found: HashMap<IdentKey, Vec<String>> =
            keys.iter().map(|k| (k.clone(), Vec::new())).collect();
        for (rtype, sql) in identifier_queries(tenant, keys) {
            for row in self.fetch_text_rows(sql, 3).await? {
                if let Ok([system, code, id]) = <[String; 3]>::try_from(row) {
                    collect_identifier_match(&mut found, rtype, system, code, id);
                }
            }
        }
        Ok(found)
    }
}

/// Queries (one per type and chunk of codes) for the identifier rows of `keys`,
/// each with the type it asks for.
fn identifier_queries(tenant: &str, keys: &[IdentKey]) -> Vec<(&'static str, Sql)> {
    let mut by_type: HashMap<&'static str, Vec<String>> = HashMap::new();
    for (rtype, _, code) in keys {
        by_type.entry(rtype).or_default().push(code.clone());
    }
    let mut queries = Vec::new();
    for (rtype, mut codes) in by_type {
        codes.sort_unstable();
        codes.dedup();
        for chunk in codes.chunks(IN_LIST_CHUNK) {
            let mut sql = Sql::new("SELECT system, code, id FROM search_token WHERE tenant = ");
            sql.text(tenant).push(" AND rtype = ").text(rtype);
            sql.push(" AND param = 'identifier' AND code IN ")
                .text_list(chunk);
            queries.push((rtype, sql));
        }
    }
    queries
}

/// Files one identifier row of `rtype` under the keys it answers: the exact system,
/// and "any system". Looked up, not searched: a Bundle of updates brings a thousand
/// rows for a thousand keys.
fn collect_identifier_match(
    found: &mut HashMap<IdentKey, Vec<String>>,
    rtype: &'static str,
    system: String,
    code: String,
    id: String,
) {
    for key in [(rtype, None, code.clone()), (rtype, Some(system), code)] {
        if let Some(ids) = found.get_mut(&key)
            && !ids.contains(&id)
        {
            ids.push(id.clone());
        }
    }
}

fn identifier_keys(ops: &[WriteOp]) -> Vec<IdentKey> {
    let mut keys: Vec<IdentKey> = ops
        .iter()
        .filter_map(|op| match &op.target {
            WriteTarget::Identifier { system, code, .. } => {
                Some((op.rtype, system.clone(), code.clone()))
            }
            _ => None,
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// A stable 64-bit key for PostgreSQL's advisory lock on one identifier (FNV-1a).
fn lock_key(tenant: &str, key: &IdentKey) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let parts = [
        tenant,
        key.0,
        key.1.as_deref().unwrap_or("*"),
        key.2.as_str(),
    ];
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// Decides, in order, what every write does, given the state at the start of the
/// transaction; returns the results and the rows to write.
fn plan(
    ops: &[WriteOp],
    states: HashMap<Key, State>,
    by_identifier: HashMap<IdentKey, Vec<String>>,
    now: i64,
) -> Result<(Vec<WriteResult>, PlannedRows), StoreError> {
    let mut planner = Planner {
        states,
        by_identifier,
        planned_here: HashSet::new(),
        rows: PlannedRows::default(),
        now,
    };
    let mut results = Vec::with_capacity(ops.len());
    for op in ops {
        results.push(planner.write(op)?);
    }
    Ok((results, planner.rows))
}

/// The state as the writes planned so far leave it, and the rows they will write: each
/// write is planned against it, so a later entry of a request sees what an earlier one
/// did.
struct Planner {
    states: HashMap<Key, State>,
    by_identifier: HashMap<IdentKey, Vec<String>>,
    /// Ids this request itself created by identifier (a later entry may name them).
    planned_here: HashSet<String>,
    rows: PlannedRows,
    now: i64,
}

impl Planner {
    /// Plans one write: which resource it names, whether its `If-Match` holds, then the
    /// put or the delete. An `Err` fails the whole request; an `Ok(Err)` refuses this
    /// write alone.
    fn write(&mut self, op: &WriteOp) -> Result<WriteResult, StoreError> {
        let id = match self.target(op)? {
            Ok(id) => id,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let current = self.states.get(&(op.rtype, id.clone())).cloned();
        if let Some(expected) = op.if_match {
            let live_version = current.as_ref().filter(|s| !s.deleted).map(|s| s.version);
            if live_version != Some(expected) {
                return Ok(Err(WriteRefusal::VersionMismatch {
                    rtype: op.rtype,
                    id,
                    expected,
                    current: live_version,
                }));
            }
        }
        let written = match &op.action {
            Action::Put(content) => self.put(op.rtype, id, current, content)?,
            Action::Delete => self.delete(op.rtype, id, current)?,
        };
        Ok(Ok(written))
    }

    /// The id `op` writes to. A conditional update takes what its identifier names: the
    /// one match, or its planned `new_id` when nothing (not even an earlier entry of this
    /// request) has the identifier yet; several matches refuse the write.
    fn target(&mut self, op: &WriteOp) -> Result<Result<String, WriteRefusal>, StoreError> {
        let (system, code, new_id) = match &op.target {
            WriteTarget::Id(id) | WriteTarget::New(id) => return Ok(Ok(id.clone())),
            WriteTarget::Identifier {
                system,
                code,
                new_id,
            } => (system, code, new_id),
        };
        let key = (op.rtype, system.clone(), code.clone());
        let matches = self.by_identifier.entry(key).or_default();
        match matches.len() {
            0 => {
                // Later entries of this request naming the same identifier find this
                // resource.
                matches.push(new_id.clone());
                self.planned_here.insert(new_id.clone());
                Ok(Ok(new_id.clone()))
            }
            // The caller planned `new_id` for an identifier nobody had; someone else
            // took it meanwhile.
            1 if matches[0] != *new_id && !self.planned_here.contains(&matches[0]) => Err(
                StoreError::Stale(format!("{} with identifier {}", op.rtype, code)),
            ),
            1 => Ok(Ok(matches[0].clone())),
            count => Ok(Err(WriteRefusal::MultipleMatches {
                rtype: op.rtype,
                identifier: match system {
                    Some(s) => format!("{s}|{code}"),
                    None => code.clone(),
                },
                count,
            })),
        }
    }

    /// A put: unchanged when the live version has the same content, otherwise a new
    /// version (the first, or one after the current or deleted one).
    fn put(
        &mut self,
        rtype: &'static str,
        id: String,
        current: Option<State>,
        content: &NewContent,
    ) -> Result<Written, StoreError> {
        let live_labels = current
            .as_ref()
            .filter(|s| !s.deleted)
            .and_then(|s| s.labels.as_ref());
        let carried = labels::carried_over(content, live_labels);
        let content = carried.as_ref().unwrap_or(content);
        if let Some(state) = current
            .as_ref()
            .filter(|s| !s.deleted && s.hash == content.hash)
        {
            return Ok(Written {
                rtype,
                id,
                version: state.version,
                last_updated: state.last_updated,
                status: WriteStatus::Unchanged,
                content: None,
            });
        }
        let now = self.now;
        let version = current.as_ref().map_or(1, |s| s.version + 1);
        let text = stamp(&content.resource, &id, version, now)
            .map_err(|e| unserialisable(rtype, &id, e))?;
        self.rows.put(
            VersionRow {
                rtype,
                id: id.clone(),
                version,
                last_updated: now,
                deleted: false,
                hash: content.hash.clone(),
                content: text.clone(),
            },
            &content.index,
            current.is_some(),
        );
        self.states.insert(
            (rtype, id.clone()),
            State {
                version,
                last_updated: now,
                hash: content.hash.clone(),
                deleted: false,
                labels: labels::labels_of(&content.resource).map(|l| Value::Array(l.clone())),
            },
        );
        let created = current.as_ref().is_none_or(|s| s.deleted);
        Ok(Written {
            rtype,
            id,
            version,
            last_updated: now,
            status: if created {
                WriteStatus::Created
            } else {
                WriteStatus::Updated
            },
            content: Some(text),
        })
    }

    /// A delete: a tombstone version of a live resource; nothing to do for one that is
    /// absent or already deleted.
    fn delete(
        &mut self,
        rtype: &'static str,
        id: String,
        current: Option<State>,
    ) -> Result<Written, StoreError> {
        let now = self.now;
        let Some(state) = current.as_ref().filter(|s| !s.deleted) else {
            return Ok(Written {
                rtype,
                id,
                version: current.as_ref().map_or(0, |s| s.version),
                last_updated: current.as_ref().map_or(now, |s| s.last_updated),
                status: WriteStatus::AlreadyAbsent,
                content: None,
            });
        };
        let version = state.version + 1;
        let tombstone = serde_json::json!({ "resourceType": rtype });
        let text =
            stamp(&tombstone, &id, version, now).map_err(|e| unserialisable(rtype, &id, e))?;
        self.rows.put(
            VersionRow {
                rtype,
                id: id.clone(),
                version,
                last_updated: now,
                deleted: true,
                hash: String::new(),
                content: text,
            },
            &[],
            true,
        );
        self.states.insert(
            (rtype, id.clone()),
            State {
                version,
                last_updated: now,
                hash: String::new(),
                deleted: true,
                labels: None,
            },
        );
        Ok(Written {
            rtype,
            id,
            version,
            last_updated: now,
            status: WriteStatus::Deleted,
            content: None,
        })
    }
}

/// A resource whose JSON cannot be written out (cannot happen with JSON that was
/// parsed: its keys are strings).
fn unserialisable(rtype: &str, id: &str, e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("{rtype}/{id} cannot be serialised: {e}"))
}
