//! Reads by id, by version, history, and the small lookups the core's business rules
//! and `_include` need.

use std::collections::HashSet;

use sqlx::{AssertSqlSafe, Row as _};

use crate::backend::on_pool;
use crate::sql::{IN_LIST_CHUNK, Sql, bind_all, stored_version};
use crate::{Store, StoreError, StoredVersion};

const VERSION_COLUMNS: &str = "rtype, id, version, last_updated, deleted, content";

/// Which versions a history request lists.
#[derive(Debug, Clone, Copy)]
pub enum HistoryScope<'a> {
    Instance { rtype: &'a str, id: &'a str },
    Type { rtype: &'a str },
}

impl Store {
    /// The current version of a resource, deleted or not (a deleted one answers 410).
    pub async fn read(
        &self,
        tenant: &str,
        rtype: &str,
        id: &str,
    ) -> Result<Option<StoredVersion>, StoreError> {
        let mut sql = Sql::new(&format!(
            "SELECT {VERSION_COLUMNS} FROM resource WHERE tenant = "
        ));
        sql.text(tenant)
            .push(" AND rtype = ")
            .text(rtype)
            .push(" AND id = ")
            .text(id);
        self.fetch_versions(sql).await.map(|mut v| v.pop())
    }

    /// One version from the history.
    pub async fn read_version(
        &self,
        tenant: &str,
        rtype: &str,
        id: &str,
        version: i64,
    ) -> Result<Option<StoredVersion>, StoreError> {
        let mut sql = Sql::new(&format!(
            "SELECT {VERSION_COLUMNS} FROM resource_version WHERE tenant = "
        ));
        sql.text(tenant)
            .push(" AND rtype = ")
            .text(rtype)
            .push(" AND id = ")
            .text(id);
        sql.push(" AND version = ").int(version);
        self.fetch_versions(sql).await.map(|mut v| v.pop())
    }

    /// A page of history, newest first, with the total number of versions in scope.
    pub async fn history(
        &self,
        tenant: &str,
        scope: HistoryScope<'_>,
        since: Option<i64>,
        count: usize,
        offset: usize,
    ) -> Result<(Vec<StoredVersion>, u64), StoreError> {
        let mut filter = Sql::new(" FROM resource_version WHERE tenant = ");
        filter.text(tenant);
        match scope {
            HistoryScope::Instance { rtype, id } => {
                filter
                    .push(" AND rtype = ")
                    .text(rtype)
                    .push(" AND id = ")
                    .text(id);
            }
            HistoryScope::Type { rtype } => {
                filter.push(" AND rtype = ").text(rtype);
            }
        }
        if let Some(since) = since {
            filter.push(" AND last_updated >= ").int(since);
        }
        let mut count_sql = Sql::new("SELECT COUNT(*)");
        count_sql.push(&filter.text);
        count_sql.binds = filter.binds.clone();
        let total = self.fetch_count(count_sql).await?;

        let mut sql = Sql::new(&format!("SELECT {VERSION_COLUMNS}"));
        sql.push(&filter.text);
        sql.binds = filter.binds;
        sql.push(" ORDER BY last_updated DESC, id, version DESC LIMIT ")
            .int(to_i64(count))
            .push(" OFFSET ")
            .int(to_i64(offset));
        Ok((self.fetch_versions(sql).await?, total))
    }

    /// The current, non-deleted versions of the given resources (missing ones are
    /// left out), for `_include` and for checking that references resolve.
    pub async fn read_many(
        &self,
        tenant: &str,
        rtype: &str,
        ids: &[String],
    ) -> Result<Vec<StoredVersion>, StoreError> {
        let mut found = Vec::new();
        for chunk in ids.chunks(IN_LIST_CHUNK) {
            let mut sql = Sql::new(&format!(
                "SELECT {VERSION_COLUMNS} FROM resource WHERE tenant = "
            ));
            sql.text(tenant).push(" AND rtype = ").text(rtype);
            sql.push(" AND deleted = FALSE AND id IN ").text_list(chunk);
            found.extend(self.fetch_versions(sql).await?);
        }
        Ok(found)
    }

    /// Several versions at once, `(id, version)` each (missing ones are left out): a
    /// batch of changes' previous versions in one query per chunk, not one each.
    pub async fn read_versions(
        &self,
        tenant: &str,
        rtype: &str,
        wanted: &[(String, i64)],
    ) -> Result<Vec<StoredVersion>, StoreError> {
        let mut found = Vec::new();
        for chunk in wanted.chunks(200) {
            let mut sql = Sql::new(&format!(
                "SELECT {VERSION_COLUMNS} FROM resource_version WHERE tenant = "
            ));
            sql.text(tenant)
                .push(" AND rtype = ")
                .text(rtype)
                .push(" AND (");
            for (n, (id, version)) in chunk.iter().enumerate() {
                if n > 0 {
                    sql.push(" OR ");
                }
                sql.push("(id = ")
                    .text(id.clone())
                    .push(" AND version = ")
                    .int(*version)
                    .push(")");
            }
            sql.push(")");
            found.extend(self.fetch_versions(sql).await?);
        }
        Ok(found)
    }

    /// Every `rtype` resource as it was at `at` (microseconds): for each id, the last
    /// version written at or before it, unless that version is a deletion. Reads the
    /// type's whole history up to `at`: for answering "as of" questions, not for hot
    /// paths.
    pub async fn versions_as_of(
        &self,
        tenant: &str,
        rtype: &str,
        at: i64,
    ) -> Result<Vec<StoredVersion>, StoreError> {
        let mut sql = Sql::new(
            "SELECT h.rtype, h.id, h.version, h.last_updated, h.deleted, h.content \
             FROM resource_version h JOIN (SELECT id, MAX(version) AS version \
             FROM resource_version WHERE tenant = ",
        );
        sql.text(tenant).push(" AND rtype = ").text(rtype);
        sql.push(" AND last_updated <= ").int(at);
        sql.push(" GROUP BY id) latest ON h.id = latest.id AND h.version = latest.version WHERE h.tenant = ");
        sql.text(tenant).push(" AND h.rtype = ").text(rtype);
        sql.push(" AND h.deleted = FALSE");
        self.fetch_versions(sql).await
    }

    /// Which of `ids` exist (current and not deleted) as `rtype`.
    pub async fn existing_ids(
        &self,
        tenant: &str,
        rtype: &str,
        ids: &[String],
    ) -> Result<HashSet<String>, StoreError> {
        let mut found = HashSet::new();
        for chunk in ids.chunks(IN_LIST_CHUNK) {
            let mut sql = Sql::new("SELECT id FROM resource WHERE tenant = ");
            sql.text(tenant).push(" AND rtype = ").text(rtype);
            sql.push(" AND deleted = FALSE AND id IN ").text_list(chunk);
            on_pool!(self, pool => {
                let rows = bind_all!(sqlx::query(AssertSqlSafe(sql.text)), &sql.binds)
                    .fetch_all(pool)
                    .await?;
                for row in rows {
                    found.insert(row.try_get::<String, _>(0)?);
                }
            });
        }
        Ok(found)
    }

    /// The ids of current `rtype` resources carrying identifier `system|code` (any
    /// system when `system` is `None`).
    pub async fn ids_by_identifier(
        &self,
        tenant: &str,
        rtype: &str,
        system: Option<&str>,
        code: &str,
    ) -> Result<Vec<String>, StoreError> {
        self.ids_by_token(tenant, rtype, "identifier", system, code)
            .await
    }

    /// The ids of current `rtype` resources whose token parameter `param` holds
    /// `system|code` (any system when `system` is `None`).
    pub async fn ids_by_token(
        &self,
        tenant: &str,
        rtype: &str,
        param: &str,
        system: Option<&str>,
        code: &str,
    ) -> Result<Vec<String>, StoreError> {
        let mut sql = Sql::new("SELECT DISTINCT id FROM search_token WHERE tenant = ");
        sql.text(tenant).push(" AND rtype = ").text(rtype);
        sql.push(" AND param = ").text(param);
        sql.push(" AND code = ").text(code);
        if let Some(system) = system {
            sql.push(" AND system = ").text(system);
        }
        sql.push(" ORDER BY id");
        self.fetch_strings(sql).await
    }

    /// The references a resource's search parameter `param` points to, as
    /// `(source id, target type, target id)`.
    pub async fn references_from(
        &self,
        tenant: &str,
        rtype: &str,
        ids: &[String],
        param: &str,
    ) -> Result<Vec<(String, String, String)>, StoreError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(IN_LIST_CHUNK) {
            let mut sql =
                Sql::new("SELECT id, target_type, target_id FROM search_reference WHERE tenant = ");
            sql.text(tenant).push(" AND rtype = ").text(rtype);
            sql.push(" AND param = ")
                .text(param)
                .push(" AND id IN ")
                .text_list(chunk);
            for row in self.fetch_text_rows(sql, 3).await? {
                if let Ok([id, target_type, target_id]) = <[String; 3]>::try_from(row) {
                    out.push((id, target_type, target_id));
                }
            }
        }
        Ok(out)
    }

    /// The ids of current `rtype` resources whose reference parameter `param` points
    /// at `target_type/target_id` (e.g. the Schedules whose actor is a bed).
    pub async fn ids_referring(
        &self,
        tenant: &str,
        rtype: &str,
        param: &str,
        target_type: &str,
        target_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        let links = self
            .referring_many(tenant, rtype, param, target_type, &[target_id.to_owned()])
            .await?;
        Ok(links.into_iter().map(|(id, _)| id).collect())
    }

    /// For many targets at once: `(id, target id)` of the current `rtype` resources
    /// whose reference parameter `param` points at `target_type/<one of target_ids>`.
    pub async fn referring_many(
        &self,
        tenant: &str,
        rtype: &str,
        param: &str,
        target_type: &str,
        target_ids: &[String],
    ) -> Result<Vec<(String, String)>, StoreError> {
        self.referring(tenant, (rtype, param, target_type), target_ids, None)
            .await
    }

    /// [`Store::referring_many`] of the resources whose date parameter `date_param`
    /// overlaps `[from, to]` (microseconds): a unit's bookings around now, not its
    /// whole history and future.
    #[allow(clippy::too_many_arguments)]
    pub async fn referring_many_during(
        &self,
        tenant: &str,
        rtype: &str,
        param: &str,
        target_type: &str,
        target_ids: &[String],
        date_param: &str,
        (from, to): (i64, i64),
    ) -> Result<Vec<(String, String)>, StoreError> {
        let during = Some((date_param, from, to));
        self.referring(tenant, (rtype, param, target_type), target_ids, during)
            .await
    }

    /// The query of both: search_reference rows in chunks of `target_ids`, joined
    /// with the date index when `during` is given, sorted.
    async fn referring(
        &self,
        tenant: &str,
        (rtype, param, target_type): (&str, &str, &str),
        target_ids: &[String],
        during: Option<(&str, i64, i64)>,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut out = Vec::new();
        for chunk in target_ids.chunks(IN_LIST_CHUNK) {
            let mut sql = Sql::new("SELECT DISTINCT r.id, r.target_id FROM search_reference r");
            if during.is_some() {
                sql.push(
                    " JOIN search_date d ON d.tenant = r.tenant AND d.rtype = r.rtype \
                     AND d.id = r.id",
                );
            }
            sql.push(" WHERE r.tenant = ").text(tenant);
            sql.push(" AND r.rtype = ").text(rtype);
            sql.push(" AND r.param = ").text(param);
            sql.push(" AND r.target_type = ").text(target_type);
            sql.push(" AND r.target_id IN ").text_list(chunk);
            if let Some((date_param, from, to)) = during {
                sql.push(" AND d.param = ").text(date_param);
                sql.push(" AND d.hi >= ").int(from);
                sql.push(" AND d.lo <= ").int(to);
            }
            for row in self.fetch_text_rows(sql, 2).await? {
                if let Ok([id, target_id]) = <[String; 2]>::try_from(row) {
                    out.push((id, target_id));
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// The ids of the current `rtype` resources whose date parameter `param` is
    /// scoped under one of `scopes` (`Schedule/s1`, see [`DateScope`]) and that may
    /// overlap `[from, to]` (microseconds): they start by `to` and last past `from`.
    /// What is on a bed now, read from the index rows of the Slots that have not ended
    /// rather than from every Slot its Schedule ever had. A row can last a little past
    /// its resource's true end (see [`DateScope::until`]): callers check the times.
    ///
    /// [`DateScope`]: crate::DateScope
    /// [`DateScope::until`]: crate::DateScope::until
    pub async fn scoped_during(
        &self,
        tenant: &str,
        (rtype, param): (&str, &str),
        scopes: &[String],
        (from, to): (i64, i64),
    ) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for chunk in scopes.chunks(IN_LIST_CHUNK) {
            let mut sql = Sql::new("SELECT d.id FROM search_date d WHERE d.tenant = ");
            sql.text(tenant);
            sql.push(" AND d.rtype = ").text(rtype);
            sql.push(" AND d.param = ").text(param);
            sql.push(" AND d.scope IN ").text_list(chunk);
            sql.push(" AND d.scope_until > ").int(from);
            sql.push(" AND d.lo <= ").int(to);
            out.extend(self.fetch_strings(sql).await?);
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Every `target_type` id that current `rtype` resources' reference parameter
    /// `param` points at (e.g. the units that have Devices).
    pub async fn reference_targets(
        &self,
        tenant: &str,
        rtype: &str,
        param: &str,
        target_type: &str,
    ) -> Result<Vec<String>, StoreError> {
        let mut sql = Sql::new("SELECT DISTINCT target_id FROM search_reference WHERE tenant = ");
        sql.text(tenant).push(" AND rtype = ").text(rtype);
        sql.push(" AND param = ").text(param);
        sql.push(" AND target_type = ").text(target_type);
        sql.push(" ORDER BY target_id");
        Ok(self
            .fetch_text_rows(sql, 1)
            .await?
            .into_iter()
            .filter_map(|row| row.into_iter().next())
            .collect())
    }

    /// The rows of a query whose first `columns` columns are text.
    pub(crate) async fn fetch_text_rows(
        &self,
        sql: Sql,
        columns: usize,
    ) -> Result<Vec<Vec<String>>, StoreError> {
        let mut out = Vec::new();
        on_pool!(self, pool => {
            let rows = bind_all!(sqlx::query(AssertSqlSafe(sql.text)), &sql.binds)
                .fetch_all(pool)
                .await?;
            for row in rows {
                out.push((0..columns).map(|i| row.try_get(i)).collect::<Result<Vec<String>, _>>()?);
            }
        });
        Ok(out)
    }

    /// The codes a resource's token parameter `param` holds, as `(system, code)`.
    pub async fn tokens_of(
        &self,
        tenant: &str,
        rtype: &str,
        id: &str,
        param: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let mut sql = Sql::new("SELECT system, code FROM search_token WHERE tenant = ");
        sql.text(tenant)
            .push(" AND rtype = ")
            .text(rtype)
            .push(" AND id = ")
            .text(id);
        sql.push(" AND param = ").text(param);
        let mut out = Vec::new();
        on_pool!(self, pool => {
            let rows = bind_all!(sqlx::query(AssertSqlSafe(sql.text)), &sql.binds)
                .fetch_all(pool)
                .await?;
            for row in rows {
                out.push((row.try_get(0)?, row.try_get(1)?));
            }
        });
        Ok(out)
    }

    pub(crate) async fn fetch_versions(&self, sql: Sql) -> Result<Vec<StoredVersion>, StoreError> {
        let mut out = Vec::new();
        on_pool!(self, pool => {
            let rows = bind_all!(sqlx::query(AssertSqlSafe(sql.text)), &sql.binds)
                .fetch_all(pool)
                .await?;
            for row in rows {
                out.push(stored_version!(row));
            }
        });
        Ok(out)
    }

    pub(crate) async fn fetch_count(&self, sql: Sql) -> Result<u64, StoreError> {
        let count: i64 = on_pool!(self, pool => {
            bind_all!(sqlx::query_scalar(AssertSqlSafe(sql.text)), &sql.binds)
                .fetch_one(pool)
                .await?
        });
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn fetch_strings(&self, sql: Sql) -> Result<Vec<String>, StoreError> {
        let strings: Vec<String> = on_pool!(self, pool => {
            bind_all!(sqlx::query_scalar(AssertSqlSafe(sql.text)), &sql.binds)
                .fetch_all(pool)
                .await?
        });
        Ok(strings)
    }
}

/// Page sizes and offsets are bounded by the API; saturate rather than wrap.
pub(crate) fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
