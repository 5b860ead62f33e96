//! Writing the rows a transaction planned: in bulk (`UNNEST` arrays) on PostgreSQL,
//! row by row on SQLite, where a statement costs microseconds, not a round trip.

use std::collections::{HashMap, HashSet};

use sqlx::{Postgres, Sqlite, Transaction};

use crate::StoreError;
use crate::events::Operation;
use crate::events_append::NewEvent;
use crate::model::{IndexEntry, IndexValue};

/// One new version of a resource.
#[derive(Debug, Clone)]
pub(crate) struct VersionRow {
    pub rtype: &'static str,
    pub id: String,
    pub version: i64,
    pub last_updated: i64,
    pub deleted: bool,
    pub hash: String,
    pub content: String,
}

/// Everything a transaction writes: every new version (each one an event), the last
/// version of each resource for the current table, and that version's index.
///
/// `resource_history` holds superseded versions only (the current one is the
/// `resource` row; readers see both through the `resource_version` view): a new
/// resource costs one row with its JSON, not two. A resource that existed before has
/// its old current row copied into the history before the row is overwritten.
#[derive(Debug, Default)]
pub(crate) struct PlannedRows {
    /// Every new version, in the order they were written.
    history: Vec<VersionRow>,
    /// Index into `history` of each resource's latest version.
    latest: HashMap<(&'static str, String), usize>,
    /// Index entries of each resource's latest version.
    index: HashMap<(&'static str, String), Vec<IndexEntry>>,
    /// Resources that existed before this transaction: their old index rows go, and
    /// their old `resource` row is copied into the history.
    replaced: Vec<(&'static str, String)>,
}

impl PlannedRows {
    pub fn put(&mut self, row: VersionRow, index: &[IndexEntry], existed: bool) {
        let key = (row.rtype, row.id.clone());
        if existed && !self.latest.contains_key(&key) {
            self.replaced.push(key.clone());
        }
        self.history.push(row);
        self.latest.insert(key.clone(), self.history.len() - 1);
        self.index.insert(key, index.to_vec());
    }

    /// The latest version of each resource, split into resources new to the store
    /// (inserted: a concurrent create of the same id fails on the primary key and the
    /// write is retried) and resources that existed before (updated in place, after
    /// their old row went to the history).
    fn current_rows(&self) -> CurrentRows<'_> {
        let replaced: HashSet<(&str, &str)> = self
            .replaced
            .iter()
            .map(|(t, i)| (*t, i.as_str()))
            .collect();
        let mut positions: Vec<usize> = self.latest.values().copied().collect();
        positions.sort_unstable();
        let mut rows = CurrentRows::default();
        for row in positions.into_iter().map(|i| &self.history[i]) {
            if replaced.contains(&(row.rtype, row.id.as_str())) {
                rows.existing.push(row);
            } else {
                rows.new.push(row);
            }
        }
        rows
    }

    /// The new versions that a later one of the same transaction supersedes: they go
    /// straight to the history.
    fn superseded_here(&self) -> Vec<&VersionRow> {
        let latest: HashSet<usize> = self.latest.values().copied().collect();
        (0..self.history.len())
            .filter(|i| !latest.contains(i))
            .map(|i| &self.history[i])
            .collect()
    }

    /// One resource-change event per new version, in the order they were written.
    pub fn events(&self) -> Vec<NewEvent> {
        self.history
            .iter()
            .map(|r| NewEvent {
                kind: "resource",
                unit: String::new(),
                rtype: r.rtype.to_owned(),
                id: r.id.clone(),
                version: r.version,
                operation: Operation::of_version(r.version, r.deleted).as_str(),
                body: String::new(),
            })
            .collect()
    }

    /// When the changes happened: the latest new version's time.
    pub fn occurred_at(&self) -> i64 {
        self.history
            .iter()
            .map(|r| r.last_updated)
            .max()
            .unwrap_or(0)
    }

    /// Whether the transaction writes anything (and so appends events).
    pub fn is_empty(&self) -> bool {
        self.history.is_empty()
    }

    /// The index rows of the latest versions, split by table.
    fn index_rows(&self) -> IndexColumns {
        let mut cols = IndexColumns::default();
        for ((rtype, id), entries) in &self.index {
            for entry in entries {
                cols.push(rtype, id, entry);
            }
        }
        cols
    }
}

/// The latest versions of a transaction's resources, by whether a row exists.
#[derive(Default)]
struct CurrentRows<'a> {
    new: Vec<&'a VersionRow>,
    existing: Vec<&'a VersionRow>,
}

/// Column arrays of one index table: who (`rtype`, `id`, `param`) and the table's
/// two value columns, ready to bind as PostgreSQL arrays.
struct Columns<A, B> {
    rtype: Vec<String>,
    id: Vec<String>,
    param: Vec<String>,
    a: Vec<A>,
    b: Vec<B>,
}

impl<A, B> Default for Columns<A, B> {
    fn default() -> Self {
        Columns {
            rtype: Vec::new(),
            id: Vec::new(),
            param: Vec::new(),
            a: Vec::new(),
            b: Vec::new(),
        }
    }
}

impl<A, B> Columns<A, B> {
    fn push(&mut self, rtype: &str, id: &str, param: &str, a: A, b: B) {
        self.rtype.push(rtype.to_owned());
        self.id.push(id.to_owned());
        self.param.push(param.to_owned());
        self.a.push(a);
        self.b.push(b);
    }

    fn len(&self) -> usize {
        self.rtype.len()
    }
}

/// The four index tables' columns.
#[derive(Default)]
struct IndexColumns {
    token: Columns<String, String>,
    reference: Columns<String, String>,
    date: Columns<i64, i64>,
    /// Each date row's scope and how long its resource lasts, beside `date`.
    date_scope: Vec<Option<String>>,
    date_scope_until: Vec<Option<i64>>,
    string: Columns<String, String>,
}

impl IndexColumns {
    fn push(&mut self, rtype: &str, id: &str, entry: &IndexEntry) {
        let p = entry.param.as_ref();
        match &entry.value {
            IndexValue::Token { system, code } => {
                self.token.push(rtype, id, p, system.clone(), code.clone())
            }
            IndexValue::Reference {
                target_type,
                target_id,
            } => self
                .reference
                .push(rtype, id, p, target_type.clone(), target_id.clone()),
            IndexValue::Date { lo, hi, scope } => {
                self.date.push(rtype, id, p, *lo, *hi);
                self.date_scope
                    .push(scope.as_ref().map(|s| s.target.clone()));
                self.date_scope_until.push(scope.as_ref().map(|s| s.until));
            }
            IndexValue::String { normalized, exact } => {
                self.string
                    .push(rtype, id, p, normalized.clone(), exact.clone())
            }
        }
    }

    /// The three tables whose value columns are both text: name and column names.
    fn text_tables(
        &self,
    ) -> [(
        &'static str,
        &'static str,
        &'static str,
        &Columns<String, String>,
    ); 3] {
        [
            ("search_token", "system", "code", &self.token),
            (
                "search_reference",
                "target_type",
                "target_id",
                &self.reference,
            ),
            ("search_string", "normalized", "exact", &self.string),
        ]
    }
}

const INDEX_TABLES: [&str; 4] = [
    "search_token",
    "search_reference",
    "search_date",
    "search_string",
];

/// Writing planned rows inside an open transaction, per backend.
pub(crate) trait WriteRows<Tx> {
    async fn write(&self, tx: &mut Tx, tenant: &str) -> Result<(), StoreError>;
}

impl WriteRows<Transaction<'_, Postgres>> for PlannedRows {
    async fn write(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        tenant: &str,
    ) -> Result<(), StoreError> {
        if self.history.is_empty() {
            return Ok(());
        }
        if !self.replaced.is_empty() {
            let (types, ids): (Vec<&str>, Vec<&str>) =
                self.replaced.iter().map(|(t, i)| (*t, i.as_str())).unzip();
            for table in INDEX_TABLES {
                let sql = format!(
                    "DELETE FROM {table} WHERE tenant = $1 AND (rtype, id) IN \
                     (SELECT * FROM UNNEST($2::text[], $3::text[]))"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(tenant)
                    .bind(&types)
                    .bind(&ids)
                    .execute(&mut **tx)
                    .await?;
            }
            // The rows were locked when the transaction read them (FOR UPDATE). A
            // version may be in the history already: a replica of a release before
            // migration 0007 wrote it there too, during a rolling upgrade.
            sqlx::query(
                "INSERT INTO resource_history (tenant, rtype, id, version, last_updated, deleted, content) \
                 SELECT tenant, rtype, id, version, last_updated, deleted, content FROM resource \
                 WHERE tenant = $1 AND (rtype, id) IN (SELECT * FROM UNNEST($2::text[], $3::text[])) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(tenant)
            .bind(&types)
            .bind(&ids)
            .execute(&mut **tx)
            .await?;
        }
        // Each statement takes the same eight arrays (the history has no hash column
        // and leaves that one out).
        let current = self.current_rows();
        for (rows, sql) in [
            (
                current.new,
                "INSERT INTO resource (tenant, rtype, id, version, last_updated, deleted, hash, content) \
                 SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bool[], $7::text[], $8::text[])",
            ),
            (
                current.existing,
                "UPDATE resource r SET version = u.version, last_updated = u.last_updated, \
                 deleted = u.deleted, hash = u.hash, content = u.content \
                 FROM UNNEST($2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bool[], $7::text[], $8::text[]) \
                 AS u(rtype, id, version, last_updated, deleted, hash, content) \
                 WHERE r.tenant = $1 AND r.rtype = u.rtype AND r.id = u.id",
            ),
            (
                self.superseded_here(),
                "INSERT INTO resource_history (tenant, rtype, id, version, last_updated, deleted, content) \
                 SELECT $1, rtype, id, version, last_updated, deleted, content \
                 FROM UNNEST($2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bool[], $7::text[], $8::text[]) \
                 AS u(rtype, id, version, last_updated, deleted, hash, content)",
            ),
        ] {
            if rows.is_empty() {
                continue;
            }
            sqlx::query(sql)
                .bind(tenant)
                .bind(rows.iter().map(|r| r.rtype).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.version).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.last_updated).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.deleted).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.hash.as_str()).collect::<Vec<_>>())
                .bind(rows.iter().map(|r| r.content.as_str()).collect::<Vec<_>>())
                .execute(&mut **tx)
                .await?;
        }

        let cols = self.index_rows();
        let text_table = |table: &str, c3: &str, c4: &str| {
            format!(
                "INSERT INTO {table} (tenant, rtype, id, param, {c3}, {c4}) \
                 SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])"
            )
        };
        for (table, c3, c4, t) in cols.text_tables() {
            if t.len() == 0 {
                continue;
            }
            sqlx::query(sqlx::AssertSqlSafe(text_table(table, c3, c4)))
                .bind(tenant)
                .bind(&t.rtype)
                .bind(&t.id)
                .bind(&t.param)
                .bind(&t.a)
                .bind(&t.b)
                .execute(&mut **tx)
                .await?;
        }
        let d = &cols.date;
        if d.len() > 0 {
            sqlx::query(
                "INSERT INTO search_date (tenant, rtype, id, param, lo, hi, scope, scope_until) \
                 SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[], $8::bigint[])",
            )
            .bind(tenant)
            .bind(&d.rtype)
            .bind(&d.id)
            .bind(&d.param)
            .bind(&d.a)
            .bind(&d.b)
            .bind(&cols.date_scope)
            .bind(&cols.date_scope_until)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }
}

/// `sql` on SQLite with a version row's first six columns bound as `$1`…`$6`
/// (tenant, rtype, id, version, last_updated, deleted); the caller binds the rest.
fn version_row<'q>(
    sql: &'static str,
    tenant: &'q str,
    r: &'q VersionRow,
) -> sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments> {
    sqlx::query(sql)
        .bind(tenant)
        .bind(r.rtype)
        .bind(r.id.as_str())
        .bind(r.version)
        .bind(r.last_updated)
        .bind(r.deleted)
}

impl WriteRows<Transaction<'_, Sqlite>> for PlannedRows {
    async fn write(
        &self,
        tx: &mut Transaction<'_, Sqlite>,
        tenant: &str,
    ) -> Result<(), StoreError> {
        for (rtype, id) in &self.replaced {
            for table in INDEX_TABLES {
                let sql =
                    format!("DELETE FROM {table} WHERE tenant = $1 AND rtype = $2 AND id = $3");
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(tenant)
                    .bind(*rtype)
                    .bind(id.as_str())
                    .execute(&mut **tx)
                    .await?;
            }
            sqlx::query(
                "INSERT INTO resource_history (tenant, rtype, id, version, last_updated, deleted, content) \
                 SELECT tenant, rtype, id, version, last_updated, deleted, content FROM resource \
                 WHERE tenant = $1 AND rtype = $2 AND id = $3 ON CONFLICT DO NOTHING",
            )
            .bind(tenant)
            .bind(*rtype)
            .bind(id.as_str())
            .execute(&mut **tx)
            .await?;
        }
        let current = self.current_rows();
        for (rows, sql) in [
            (
                &current.new,
                "INSERT INTO resource (tenant, rtype, id, version, last_updated, deleted, hash, content) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            ),
            (
                &current.existing,
                "UPDATE resource SET version = $4, last_updated = $5, deleted = $6, hash = $7, \
                 content = $8 WHERE tenant = $1 AND rtype = $2 AND id = $3",
            ),
        ] {
            for r in rows {
                version_row(sql, tenant, r)
                    .bind(r.hash.as_str())
                    .bind(r.content.as_str())
                    .execute(&mut **tx)
                    .await?;
            }
        }
        for r in self.superseded_here() {
            let sql = "INSERT INTO resource_history (tenant, rtype, id, version, last_updated, deleted, content) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)";
            version_row(sql, tenant, r)
                .bind(r.content.as_str())
                .execute(&mut **tx)
                .await?;
        }
        let cols = self.index_rows();
        for (table, c3, c4, t) in [
            ("search_token", "system", "code", &cols.token),
            (
                "search_reference",
                "target_type",
                "target_id",
                &cols.reference,
            ),
            ("search_string", "normalized", "exact", &cols.string),
        ] {
            let sql = format!(
                "INSERT INTO {table} (tenant, rtype, id, param, {c3}, {c4}) VALUES ($1, $2, $3, $4, $5, $6)"
            );
            for n in 0..t.len() {
                sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .bind(tenant)
                    .bind(t.rtype[n].as_str())
                    .bind(t.id[n].as_str())
                    .bind(t.param[n].as_str())
                    .bind(t.a[n].as_str())
                    .bind(t.b[n].as_str())
                    .execute(&mut **tx)
                    .await?;
            }
        }
        let d = &cols.date;
        for n in 0..d.len() {
            sqlx::query(
                "INSERT INTO search_date (tenant, rtype, id, param, lo, hi, scope, scope_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(tenant)
            .bind(d.rtype[n].as_str())
            .bind(d.id[n].as_str())
            .bind(d.param[n].as_str())
            .bind(d.a[n])
            .bind(d.b[n])
            .bind(cols.date_scope[n].as_deref())
            .bind(cols.date_scope_until[n])
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }
}
