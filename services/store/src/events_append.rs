//! Appending events inside an open write transaction, under the tenant's gap-free
//! sequence.
//!
//! The sequence row is updated last, just before commit: its row lock serialises the
//! tenant's writers, so it is held for as short a time as possible.

use sqlx::{Postgres, Sqlite, Transaction};

use crate::StoreError;
use crate::events::EventTrace;

/// An event to append; the sequence is given at append time.
#[derive(Debug, Clone)]
pub(crate) struct NewEvent {
    /// `resource` or `picture`.
    pub kind: &'static str,
    pub unit: String,
    pub rtype: String,
    pub id: String,
    pub version: i64,
    pub operation: &'static str,
    pub body: String,
}

const TAKE_NUMBERS: &str = "INSERT INTO event_sequence (tenant, last) VALUES ($1, $2) \
     ON CONFLICT (tenant) DO UPDATE SET last = event_sequence.last + EXCLUDED.last \
     RETURNING last";

/// Takes `n` sequence numbers for `tenant` in `tx` and answers the last one (the same
/// statement on both backends).
macro_rules! take_numbers {
    ($tx:expr, $tenant:expr, $n:expr) => {{
        let last: i64 = sqlx::query_scalar(TAKE_NUMBERS)
            .bind($tenant)
            .bind($n)
            .fetch_one(&mut **$tx)
            .await?;
        last
    }};
}

/// Appending to the outbox inside a transaction, per backend. Returns the last
/// sequence number taken (the first is `last - events.len() + 1`).
pub(crate) trait AppendEvents<Tx> {
    async fn append_events(
        &self,
        tx: &mut Tx,
        tenant: &str,
        occurred_at: i64,
        trace: &EventTrace,
    ) -> Result<i64, StoreError>;
}

impl AppendEvents<Transaction<'_, Postgres>> for [NewEvent] {
    async fn append_events(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        tenant: &str,
        occurred_at: i64,
        trace: &EventTrace,
    ) -> Result<i64, StoreError> {
        let n = self.len() as i64;
        let last = take_numbers!(tx, tenant, n);
        let first = last - n + 1;
        sqlx::query(
            "INSERT INTO outbox (tenant, sequence, occurred_at, kind, unit, rtype, id, version, \
             operation, body, traceparent, tracestate) \
             SELECT $1, s, $2, k, u, t, i, v, o, b, $3, $4 FROM UNNEST($5::bigint[], $6::text[], \
             $7::text[], $8::text[], $9::text[], $10::bigint[], $11::text[], $12::text[]) \
             AS e(s, k, u, t, i, v, o, b)",
        )
        .bind(tenant)
        .bind(occurred_at)
        .bind(&trace.traceparent)
        .bind(&trace.tracestate)
        .bind((first..=last).collect::<Vec<i64>>())
        .bind(self.iter().map(|e| e.kind).collect::<Vec<_>>())
        .bind(self.iter().map(|e| e.unit.as_str()).collect::<Vec<_>>())
        .bind(self.iter().map(|e| e.rtype.as_str()).collect::<Vec<_>>())
        .bind(self.iter().map(|e| e.id.as_str()).collect::<Vec<_>>())
        .bind(self.iter().map(|e| e.version).collect::<Vec<_>>())
        .bind(self.iter().map(|e| e.operation).collect::<Vec<_>>())
        .bind(self.iter().map(|e| e.body.as_str()).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
        // Delivered at commit to every replica's listener (`notify`).
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(crate::notify::CHANNEL)
            .bind(format!("{tenant}:{last}"))
            .execute(&mut **tx)
            .await?;
        Ok(last)
    }
}

impl AppendEvents<Transaction<'_, Sqlite>> for [NewEvent] {
    async fn append_events(
        &self,
        tx: &mut Transaction<'_, Sqlite>,
        tenant: &str,
        occurred_at: i64,
        trace: &EventTrace,
    ) -> Result<i64, StoreError> {
        let n = self.len() as i64;
        let last = take_numbers!(tx, tenant, n);
        for (sequence, e) in (last - n + 1..).zip(self) {
            sqlx::query(
                "INSERT INTO outbox (tenant, sequence, occurred_at, kind, unit, rtype, id, \
                 version, operation, body, traceparent, tracestate) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(tenant)
            .bind(sequence)
            .bind(occurred_at)
            .bind(e.kind)
            .bind(e.unit.as_str())
            .bind(e.rtype.as_str())
            .bind(e.id.as_str())
            .bind(e.version)
            .bind(e.operation)
            .bind(e.body.as_str())
            .bind(&trace.traceparent)
            .bind(&trace.tracestate)
            .execute(&mut **tx)
            .await?;
        }
        Ok(last)
    }
}
