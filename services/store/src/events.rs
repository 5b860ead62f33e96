//! The event log (outbox): what a committed change tells the world, in the order it
//! happened.
//!
//! Writes append their events in their own transaction (see `write_bulk`), numbered by
//! a gap-free sequence per tenant, so an event exists exactly when its change does.
//! Readers — the relay to the bus, the picture deriver, the live stream — read the log
//! in sequence order from a position they keep themselves.

use sqlx::Row as _;

use crate::StoreError;
use crate::backend::on_pool;
use crate::stamp::format_instant;

/// The W3C trace context of the request that caused a change, carried by its events so
/// that a consumer's work joins the same trace. Empty strings when there was none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventTrace {
    pub traceparent: String,
    pub tracestate: String,
}

/// What happened to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }

    fn parse(text: &str) -> Operation {
        match text {
            "create" => Operation::Create,
            "delete" => Operation::Delete,
            _ => Operation::Update,
        }
    }

    /// The operation a new version stands for.
    pub(crate) fn of_version(version: i64, deleted: bool) -> Operation {
        if deleted {
            Operation::Delete
        } else if version == 1 {
            Operation::Create
        } else {
            Operation::Update
        }
    }
}

/// One event of the log.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub sequence: i64,
    /// Microseconds since the epoch, when the change was committed.
    pub occurred_at: i64,
    /// The unit the event concerns, empty when none.
    pub unit: String,
    pub trace: EventTrace,
    pub body: EventBody,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EventBody {
    /// A resource version was written. `json` is the version's FHIR JSON, `None` for a
    /// deletion.
    Resource {
        rtype: String,
        id: String,
        version: i64,
        operation: Operation,
        json: Option<String>,
    },
    /// A unit's picture changed; `body` is the whole new picture as JSON, `previous`
    /// the sequence of the unit's previous picture event (0 for its first).
    Picture {
        unit_kind: String,
        unit: String,
        body: String,
        previous: i64,
    },
}

impl StoredEvent {
    pub fn occurred_at_text(&self) -> String {
        format_instant(self.occurred_at)
    }
}

/// The kinds of event a reader wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventFilter {
    All,
    /// Resource changes only, without their JSON (the picture deriver needs to know
    /// what changed, not how).
    ResourceKeys,
    /// Every event, resource changes without their JSON: for a reader that wants the
    /// whole log in order but reads the few bodies it needs itself (the picture
    /// deriver, which during an initial load would otherwise fetch and parse every
    /// Slot only to learn its Schedule, which the index already has).
    Keys,
    Pictures,
}

impl crate::Store {
    /// The last sequence number given out for `tenant` (0 before the first event).
    pub async fn last_sequence(&self, tenant: &str) -> Result<i64, StoreError> {
        on_pool!(self, pool => {
            let last: Option<i64> = sqlx::query_scalar(
                "SELECT last FROM event_sequence WHERE tenant = $1",
            )
            .bind(tenant)
            .fetch_optional(pool)
            .await?;
            Ok(last.unwrap_or(0))
        })
    }

    /// The last sequence committed at or before `at` (microseconds), if the log still
    /// reaches back that far.
    pub async fn sequence_at(&self, tenant: &str, at: i64) -> Result<Option<i64>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_scalar(
                "SELECT MAX(sequence) FROM outbox WHERE tenant = $1 AND occurred_at <= $2",
            )
            .bind(tenant)
            .bind(at)
            .fetch_one(pool)
            .await?)
        })
    }

    /// Tenants with at least one event, for readers that serve every tenant.
    pub async fn event_tenants(&self) -> Result<Vec<(String, i64)>, StoreError> {
        on_pool!(self, pool => {
            let rows = sqlx::query("SELECT tenant, last FROM event_sequence ORDER BY tenant")
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect()
        })
    }

    /// The oldest sequence still in the log (events before it were pruned), or `None`
    /// when the log of `tenant` is empty.
    pub async fn first_sequence(&self, tenant: &str) -> Result<Option<i64>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_scalar("SELECT MIN(sequence) FROM outbox WHERE tenant = $1")
                .bind(tenant)
                .fetch_one(pool)
                .await?)
        })
    }

    /// Up to `limit` events of `tenant` after `after`, in sequence order.
    pub async fn events_after(
        &self,
        tenant: &str,
        after: i64,
        limit: i64,
        filter: EventFilter,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let kind_clause = match filter {
            EventFilter::All | EventFilter::Keys => "",
            EventFilter::ResourceKeys => " AND o.kind = 'resource'",
            EventFilter::Pictures => " AND o.kind = 'picture'",
        };
        let with_json = filter == EventFilter::All;
        // A scalar look-up rather than a join: during a rolling upgrade from before
        // migration 0007 a version may be both current and in the history, and an
        // event must still come out once.
        let json_column = if with_json {
            "CASE WHEN o.kind = 'resource' AND o.operation <> 'delete' THEN \
             (SELECT v.content FROM resource_version v WHERE v.tenant = o.tenant \
             AND v.rtype = o.rtype AND v.id = o.id AND v.version = o.version LIMIT 1) END"
        } else {
            "NULL"
        };
        let sql = format!(
            "SELECT o.sequence, o.occurred_at, o.kind, o.unit, o.rtype, o.id, o.version, \
             o.operation, o.body, o.traceparent, o.tracestate, {json_column} \
             FROM outbox o WHERE o.tenant = $1 AND o.sequence > $2{kind_clause} \
             ORDER BY o.sequence LIMIT $3"
        );
        on_pool!(self, pool => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(tenant)
                .bind(after)
                .bind(limit)
                .fetch_all(pool)
                .await?;
            let mut events = Vec::with_capacity(rows.len());
            for row in rows {
                let kind: String = row.try_get(2)?;
                let rtype: String = row.try_get(4)?;
                let id: String = row.try_get(5)?;
                let body = if kind == "picture" {
                    EventBody::Picture {
                        unit_kind: rtype,
                        unit: id,
                        body: row.try_get(8)?,
                        previous: row.try_get(6)?,
                    }
                } else {
                    let operation: String = row.try_get(7)?;
                    EventBody::Resource {
                        rtype,
                        id,
                        version: row.try_get(6)?,
                        operation: Operation::parse(&operation),
                        json: row.try_get(11)?,
                    }
                };
                events.push(StoredEvent {
                    sequence: row.try_get(0)?,
                    occurred_at: row.try_get(1)?,
                    unit: row.try_get(3)?,
                    trace: EventTrace {
                        traceparent: row.try_get(9)?,
                        tracestate: row.try_get(10)?,
                    },
                    body,
                });
            }
            Ok(events)
        })
    }

    /// Deletes events of `tenant` older than `before` (microseconds) that every reader
    /// has passed; returns how many went. The log is kept for a while after that so
    /// that a display can resume with `Last-Event-ID` after a short absence.
    pub async fn prune_events(&self, tenant: &str, before: i64) -> Result<u64, StoreError> {
        let _turn = self.writer_turn().await;
        on_pool!(self, pool => {
            let done = sqlx::query(
                "DELETE FROM outbox WHERE tenant = $1 AND occurred_at < $2 \
                 AND sequence <= (SELECT COALESCE(MIN(sequence), 0) FROM outbox_cursor WHERE tenant = $1)",
            )
            .bind(tenant)
            .bind(before)
            .execute(pool)
            .await?;
            Ok(done.rows_affected())
        })
    }

    /// A receiver that changes whenever events were committed by this process; readers
    /// wait on it instead of polling fast (and poll slowly for other replicas' events).
    pub fn event_signal(&self) -> tokio::sync::watch::Receiver<u64> {
        self.events_committed.subscribe()
    }

    pub(crate) fn signal_events(&self) {
        self.events_committed.send_modify(|n| *n += 1);
    }
}
