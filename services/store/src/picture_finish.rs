//! The statements that finish a deriver's lease: each changed unit picture stored with
//! a new picture event naming the unit's previous one, and the cursor moved — one
//! transaction.
//!
//! Taking the sequence numbers locks the organisation's `event_sequence` row until
//! commit, and every writer of the organisation waits on it; so on PostgreSQL
//! everything after that is one statement per table (arrays unnested), not one per
//! picture.

use std::collections::HashMap;

use sqlx::{Postgres, Sqlite, Transaction};

use crate::StoreError;
use crate::events::EventTrace;
use crate::events_append::{AppendEvents as _, NewEvent};
use crate::stamp::now_micros;

/// A unit's new picture, to store and announce.
#[derive(Debug, Clone, PartialEq)]
pub struct PictureUpdate {
    pub unit: String,
    /// `ward`, `operating-room`, `recovery-unit`, `equipment`, `staff`.
    pub kind: String,
    /// The whole picture as JSON.
    pub body: String,
}

/// `(kind, unit)` → the sequence of the unit's stored picture.
type Previous = HashMap<(String, String), i64>;

/// The picture events of `pictures`, each carrying (as its version) the sequence of
/// its unit's previous picture event, 0 for a unit's first.
fn picture_events(pictures: &[&PictureUpdate], previous: &Previous) -> Vec<NewEvent> {
    pictures
        .iter()
        .map(|p| NewEvent {
            kind: "picture",
            unit: p.unit.clone(),
            rtype: p.kind.clone(),
            id: p.unit.clone(),
            version: previous
                .get(&(p.kind.clone(), p.unit.clone()))
                .copied()
                .unwrap_or(0),
            operation: "",
            body: p.body.clone(),
        })
        .collect()
}

/// One picture per `(kind, unit)`, the last given: a unit's picture is announced once
/// per round.
fn latest_per_unit(pictures: &[PictureUpdate]) -> Vec<&PictureUpdate> {
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<&PictureUpdate> = pictures
        .iter()
        .rev()
        .filter(|p| seen.insert((p.kind.as_str(), p.unit.as_str())))
        .collect();
    out.reverse();
    out
}

/// Moves `reader`'s cursor to `to` in `tx` (the same statement on both backends).
macro_rules! move_cursor {
    ($tx:expr, $tenant:expr, $reader:expr, $to:expr) => {
        sqlx::query("UPDATE outbox_cursor SET sequence = $3 WHERE tenant = $1 AND reader = $2")
            .bind($tenant)
            .bind($reader)
            .bind($to)
            .execute(&mut **$tx)
            .await?
    };
}

pub(crate) async fn finish_pg(
    tx: &mut Transaction<'static, Postgres>,
    tenant: &str,
    reader: &str,
    to: i64,
    pictures: &[PictureUpdate],
    trace: &EventTrace,
) -> Result<(), StoreError> {
    let pictures = latest_per_unit(pictures);
    if !pictures.is_empty() {
        let kinds: Vec<&str> = pictures.iter().map(|p| p.kind.as_str()).collect();
        let units: Vec<&str> = pictures.iter().map(|p| p.unit.as_str()).collect();
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT p.kind, p.unit, p.sequence FROM picture_unit p \
             JOIN UNNEST($2::text[], $3::text[]) AS w(k, u) ON p.kind = w.k AND p.unit = w.u \
             WHERE p.tenant = $1",
        )
        .bind(tenant)
        .bind(&kinds)
        .bind(&units)
        .fetch_all(&mut **tx)
        .await?;
        let previous: Previous = rows
            .into_iter()
            .map(|(kind, unit, sequence)| ((kind, unit), sequence))
            .collect();
        let events = picture_events(&pictures, &previous);
        let last = events[..]
            .append_events(tx, tenant, now_micros(), trace)
            .await?;
        let first = last - events.len() as i64 + 1;
        sqlx::query(
            "INSERT INTO picture_unit (tenant, unit, kind, sequence, body) \
             SELECT $1, u, k, s, b FROM UNNEST($2::text[], $3::text[], $4::bigint[], $5::text[]) \
             AS w(u, k, s, b) ON CONFLICT (tenant, kind, unit) DO UPDATE \
             SET sequence = EXCLUDED.sequence, body = EXCLUDED.body",
        )
        .bind(tenant)
        .bind(&units)
        .bind(&kinds)
        .bind((first..=last).collect::<Vec<i64>>())
        .bind(pictures.iter().map(|p| p.body.as_str()).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    move_cursor!(tx, tenant, reader, to);
    Ok(())
}

/// SQLite: the same, a statement per picture (in process, no round trips to save).
pub(crate) async fn finish_sqlite(
    tx: &mut Transaction<'_, Sqlite>,
    tenant: &str,
    reader: &str,
    to: i64,
    pictures: &[PictureUpdate],
    trace: &EventTrace,
) -> Result<(), StoreError> {
    let pictures = latest_per_unit(pictures);
    if !pictures.is_empty() {
        let mut previous = Previous::new();
        for p in &pictures {
            let sequence: Option<i64> = sqlx::query_scalar(
                "SELECT sequence FROM picture_unit WHERE tenant = $1 AND kind = $2 AND unit = $3",
            )
            .bind(tenant)
            .bind(p.kind.as_str())
            .bind(p.unit.as_str())
            .fetch_optional(&mut **tx)
            .await?;
            if let Some(sequence) = sequence {
                previous.insert((p.kind.clone(), p.unit.clone()), sequence);
            }
        }
        let events = picture_events(&pictures, &previous);
        let last = events[..]
            .append_events(tx, tenant, now_micros(), trace)
            .await?;
        let first = last - events.len() as i64 + 1;
        for (sequence, p) in (first..).zip(&pictures) {
            sqlx::query(
                "INSERT INTO picture_unit (tenant, unit, kind, sequence, body) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant, kind, unit) DO UPDATE \
                 SET sequence = EXCLUDED.sequence, body = EXCLUDED.body",
            )
            .bind(tenant)
            .bind(&p.unit)
            .bind(&p.kind)
            .bind(sequence)
            .bind(&p.body)
            .execute(&mut **tx)
            .await?;
        }
    }
    move_cursor!(tx, tenant, reader, to);
    Ok(())
}
