//! PostgreSQL's planner statistics follow the store's growth, so that searches keep
//! starting from the selective index even when autovacuum is slow or off.

#[macro_use]
mod common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::{Connection as _, PgConnection};

/// When `resource` was last analysed (by anyone other than autovacuum).
async fn last_analyze(db: &mut PgConnection) -> Option<String> {
    sqlx::query_scalar(
        "SELECT last_analyze::text FROM pg_stat_user_tables WHERE relname = 'resource'",
    )
    .fetch_one(db)
    .await
    .expect("pg_stat_user_tables")
}

/// Waits up to 30 s for `last_analyze` to differ from `before`.
async fn analysed_after(db: &mut PgConnection, before: Option<&str>) -> Option<String> {
    for _ in 0..300 {
        let now = last_analyze(db).await;
        if now.is_some() && now.as_deref() != before {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

both_backends!(statistics_follow_growth);
async fn statistics_follow_growth(h: &Harness) {
    if h.backend != Backend::Postgres {
        return; // SQLite has no background statistics to keep.
    }
    let mut db = PgConnection::connect(&h.database_url())
        .await
        .expect("connect to the test database");
    // A store that was never analysed is analysed when the core starts.
    let at_start = analysed_after(&mut db, None)
        .await
        .expect("the core analyses a never-analysed store at start-up");

    seed_bed_schedule(h, "sch").await;
    for chunk in 0..3 {
        let entries: Vec<Value> = (0..1000)
            .map(|i| {
                let n = chunk * 1000 + i;
                let start = "2026-01-01T00:00:00Z".parse::<jiff::Timestamp>().unwrap()
                    + jiff::SignedDuration::from_hours(n);
                let end = start + jiff::SignedDuration::from_mins(30);
                let mut s = json!({
                    "resourceType": "Slot",
                    "schedule": { "reference": "Schedule/sch" },
                    "status": "busy",
                    "start": start.to_string(),
                    "end": end.to_string()
                });
                s["identifier"] = json!([{ "system": ID_SYSTEM, "value": format!("S-{n}") }]);
                conditional_put_entry(&s, ID_SYSTEM, &format!("S-{n}"))
            })
            .collect();
        let r = h.post("", &batch(entries)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    analysed_after(&mut db, Some(&at_start))
        .await
        .expect("3,000 new rows trigger a refresh of the statistics");
    let estimate: f32 =
        sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE relname = 'resource'")
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert!(estimate >= 2000.0, "the planner sees the rows: {estimate}");
    db.close().await.ok();
}
