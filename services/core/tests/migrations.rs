//! Migrations over data an older schema wrote: the rows are put in by hand as the
//! migrations before the one under test left them, then the core starts on the
//! database (applying the rest) and is searched through its API.

mod common;

use common::{Backend, Harness, TestDb};
use serde_json::json;
use sqlx::Connection as _;

/// 2026-03-29T04:00:00Z in microseconds, and the hour after it.
const START: i64 = 1_774_756_800_000_000;
const END: i64 = START + 3_600_000_000;

/// A Slot of bed-1 as the store kept it before migration 0006: its `start` twice,
/// once plain and once under the composite name `start@Schedule/bed-1`, plus an
/// Encounter date row that has no scope and must stay as it is.
fn rows_before_0006(tenant: &str) -> Vec<String> {
    let slot = json!({
        "resourceType": "Slot", "id": "s1",
        "meta": {"versionId": "1", "lastUpdated": "2026-03-01T00:00:00Z"},
        "schedule": {"reference": "Schedule/bed-1"}, "status": "busy",
        "start": "2026-03-29T04:00:00Z", "end": "2026-03-29T05:00:00Z"
    })
    .to_string();
    let stored = format!(
        "INSERT INTO resource (tenant, rtype, id, version, last_updated, deleted, hash, content) \
         VALUES ('{tenant}', 'Slot', 's1', 1, 1772323200000000, FALSE, 'h1', '{slot}')"
    );
    let history = format!(
        "INSERT INTO resource_history (tenant, rtype, id, version, last_updated, deleted, content) \
         VALUES ('{tenant}', 'Slot', 's1', 1, 1772323200000000, FALSE, '{slot}')"
    );
    let date = |rtype: &str, id: &str, param: &str| {
        format!(
            "INSERT INTO search_date (tenant, rtype, id, param, lo, hi) \
             VALUES ('{tenant}', '{rtype}', '{id}', '{param}', {START}, {END})"
        )
    };
    vec![
        stored,
        history,
        format!(
            "INSERT INTO search_reference (tenant, rtype, id, param, target_type, target_id) \
             VALUES ('{tenant}', 'Slot', 's1', 'schedule', 'Schedule', 'bed-1')"
        ),
        date("Slot", "s1", "start"),
        date("Slot", "s1", "start@Schedule/bed-1"),
        date("Encounter", "e1", "date"),
    ]
}

/// Applies the migrations up to `last` and runs `statements` on the database.
async fn prepare(db: &TestDb, last: i64, statements: &[String]) {
    macro_rules! on {
        ($conn:ty, $url:expr, $migrations:literal) => {{
            let mut conn = <$conn>::connect(&$url).await.expect("connect");
            sqlx::migrate!($migrations)
                .run_to(last, &mut conn)
                .await
                .expect("the older migrations");
            for sql in statements {
                sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .execute(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
            }
            conn.close().await.ok();
        }};
    }
    match db.backend() {
        // The file does not exist yet: `mode=rwc` creates it.
        Backend::Sqlite => on!(
            sqlx::SqliteConnection,
            format!("{}?mode=rwc", db.url()),
            "../store/migrations/sqlite"
        ),
        Backend::Postgres => on!(sqlx::PgConnection, db.url(), "../store/migrations/postgres"),
    }
}

/// Every row `sql` selects, on either backend.
async fn rows<T>(url: &str, backend: Backend, sql: &str) -> Vec<T>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + Send
        + Unpin,
{
    macro_rules! on {
        ($conn:ty) => {{
            let mut conn = <$conn>::connect(url).await.expect("connect");
            let rows = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .fetch_all(&mut conn)
                .await
                .expect(sql);
            conn.close().await.ok();
            rows
        }};
    }
    match backend {
        Backend::Sqlite => on!(sqlx::SqliteConnection),
        Backend::Postgres => on!(sqlx::PgConnection),
    }
}

/// `(rtype, id, param, scope)` of every date row.
async fn date_rows(url: &str, backend: Backend) -> Vec<(String, String, String, Option<String>)> {
    let sql = "SELECT rtype, id, param, scope FROM search_date ORDER BY rtype, id, param, scope";
    rows(url, backend, sql).await
}

async fn composite_rows_become_scopes(backend: Backend) {
    let config = ohjaamo_core::Config::default();
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    prepare(&db, 5, &rows_before_0006(&config.default_tenant)).await;
    let h = Harness::start_on(db, config).await;

    let scoped = |id: &str| {
        (
            "Slot".to_owned(),
            id.to_owned(),
            "start".to_owned(),
            Some("Schedule/bed-1".to_owned()),
        )
    };
    let encounter = (
        "Encounter".to_owned(),
        "e1".to_owned(),
        "date".to_owned(),
        None,
    );
    assert_eq!(
        date_rows(&h.database_url(), backend).await,
        vec![encounter.clone(), scoped("s1")],
        "one scoped start row per Slot, other rows untouched"
    );

    // A Slot written now sits beside the migrated one, and both searches find both.
    h.put_resource(&json!({"resourceType": "Location", "id": "bed-1", "status": "active"}))
        .await;
    h.put_resource(&json!({
        "resourceType": "Schedule", "id": "bed-1",
        "actor": [{"reference": "Location/bed-1"}]
    }))
    .await;
    h.put_resource(&json!({
        "resourceType": "Slot", "id": "s2",
        "schedule": {"reference": "Schedule/bed-1"}, "status": "busy-tentative",
        "start": "2026-03-29T06:00:00Z", "end": "2026-03-29T07:00:00Z"
    }))
    .await;
    assert_eq!(
        date_rows(&h.database_url(), backend).await,
        vec![encounter, scoped("s1"), scoped("s2")]
    );
    let day = [
        ("start", "ge2026-03-29T00:00:00Z"),
        ("start", "lt2026-03-30T00:00:00Z"),
    ];
    let bed_day = [day[0], day[1], ("schedule", "Schedule/bed-1")];
    h.assert_search("Slot", &bed_day, &["s1", "s2"]).await;
    h.assert_search("Slot", &day, &["s1", "s2"]).await;
    let other_bed = [day[0], day[1], ("schedule", "Schedule/bed-2")];
    h.assert_search("Slot", &other_bed, &[]).await;
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn composite_rows_become_scopes_sqlite() {
    composite_rows_become_scopes(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn composite_rows_become_scopes_postgres() {
    composite_rows_become_scopes(Backend::Postgres).await;
}

/// Two Devices as the store kept them before migration 0007: every version in the
/// history, the current one (d1's version 2, d2's version 1) also in `resource`.
fn rows_before_0007(tenant: &str) -> Vec<String> {
    let device = |id: &str, version: i64, serial: &str| {
        json!({
            "resourceType": "Device", "id": id,
            "meta": {"versionId": version.to_string(), "lastUpdated": "2026-03-01T00:00:00Z"},
            "serialNumber": serial
        })
        .to_string()
    };
    let history = |id: &str, version: i64, serial: &str| {
        format!(
            "INSERT INTO resource_history (tenant, rtype, id, version, last_updated, deleted, content) \
             VALUES ('{tenant}', 'Device', '{id}', {version}, {}, FALSE, '{}')",
            1_772_323_200_000_000 + version,
            device(id, version, serial)
        )
    };
    let current = |id: &str, version: i64, serial: &str| {
        format!(
            "INSERT INTO resource (tenant, rtype, id, version, last_updated, deleted, hash, content) \
             VALUES ('{tenant}', 'Device', '{id}', {version}, {}, FALSE, 'h-{id}', '{}')",
            1_772_323_200_000_000 + version,
            device(id, version, serial)
        )
    };
    vec![
        history("d1", 1, "A1"),
        history("d1", 2, "A2"),
        current("d1", 2, "A2"),
        history("d2", 1, "B1"),
        current("d2", 1, "B1"),
    ]
}

/// `(id, version)` of every row of the history table.
async fn history_rows(url: &str, backend: Backend) -> Vec<(String, i64)> {
    rows(
        url,
        backend,
        "SELECT id, version FROM resource_history ORDER BY id, version",
    )
    .await
}

/// The serial numbers of `Device/{id}`'s versions, newest first, from `_history`.
async fn serials_in_history(h: &Harness, id: &str) -> Vec<String> {
    let bundle = h.read(&format!("Device/{id}/_history")).await;
    let entries = bundle["entry"].as_array().cloned().unwrap_or_default();
    assert_eq!(bundle["total"].as_u64(), Some(entries.len() as u64));
    entries
        .iter()
        .map(|e| {
            e["resource"]["serialNumber"]
                .as_str()
                .unwrap_or("(deleted)")
                .to_owned()
        })
        .collect()
}

async fn history_keeps_superseded_versions(backend: Backend) {
    let config = ohjaamo_core::Config::default();
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    prepare(&db, 6, &rows_before_0007(&config.default_tenant)).await;
    let h = Harness::start_on(db, config).await;
    let url = h.database_url();
    let row = |id: &str, version: i64| (id.to_owned(), version);

    assert_eq!(
        history_rows(&url, backend).await,
        vec![row("d1", 1)],
        "the copies of the current versions are gone from the history table"
    );
    // Every version still reads, current or superseded.
    assert_eq!(h.read("Device/d1/_history/1").await["serialNumber"], "A1");
    assert_eq!(h.read("Device/d1/_history/2").await["serialNumber"], "A2");
    assert_eq!(h.read("Device/d2/_history/1").await["serialNumber"], "B1");
    assert_eq!(serials_in_history(&h, "d1").await, ["A2", "A1"]);

    // An update moves the version it replaces into the history table.
    h.put_resource(&json!({"resourceType": "Device", "id": "d2", "serialNumber": "B2"}))
        .await;
    assert_eq!(
        history_rows(&url, backend).await,
        vec![row("d1", 1), row("d2", 1)]
    );
    assert_eq!(h.read("Device/d2/_history/1").await["serialNumber"], "B1");
    assert_eq!(serials_in_history(&h, "d2").await, ["B2", "B1"]);

    // So does a deletion; the deletion itself is the current row and answers 410.
    assert_eq!(
        h.delete("Device/d1").await.status,
        reqwest::StatusCode::NO_CONTENT
    );
    assert_eq!(
        history_rows(&url, backend).await,
        vec![row("d1", 1), row("d1", 2), row("d2", 1)]
    );
    h.get("Device/d1/_history/3")
        .await
        .assert_outcome(reqwest::StatusCode::GONE);
    assert_eq!(
        serials_in_history(&h, "d1").await,
        ["(deleted)", "A2", "A1"]
    );

    // A resource new to the store has no history row at all.
    h.put_resource(&json!({"resourceType": "Device", "id": "d3", "serialNumber": "C1"}))
        .await;
    assert_eq!(history_rows(&url, backend).await.len(), 3);
    assert_eq!(h.read("Device/d3/_history/1").await["serialNumber"], "C1");
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn history_keeps_superseded_versions_sqlite() {
    history_keeps_superseded_versions(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn history_keeps_superseded_versions_postgres() {
    history_keeps_superseded_versions(Backend::Postgres).await;
}

/// Two Slots of bed-1 as the store kept them before migration 0008: scoped `start`
/// rows without `scope_until`. s1 ends at END, s2 a quarter second after END, written
/// with an offset.
fn rows_before_0008(tenant: &str) -> Vec<String> {
    let mut statements = Vec::new();
    for (id, start, end) in [
        ("s1", "2026-03-29T04:00:00Z", "2026-03-29T05:00:00Z"),
        (
            "s2",
            "2026-03-29T07:00:00+03:00",
            "2026-03-29T08:00:00.250+03:00",
        ),
    ] {
        let slot = json!({
            "resourceType": "Slot", "id": id,
            "meta": {"versionId": "1", "lastUpdated": "2026-03-01T00:00:00Z"},
            "schedule": {"reference": "Schedule/bed-1"}, "status": "busy",
            "start": start, "end": end
        });
        statements.push(format!(
            "INSERT INTO resource (tenant, rtype, id, version, last_updated, deleted, hash, content) \
             VALUES ('{tenant}', 'Slot', '{id}', 1, 1772323200000000, FALSE, 'h-{id}', '{slot}')"
        ));
        statements.push(format!(
            "INSERT INTO search_reference (tenant, rtype, id, param, target_type, target_id) \
             VALUES ('{tenant}', 'Slot', '{id}', 'schedule', 'Schedule', 'bed-1')"
        ));
        statements.push(format!(
            "INSERT INTO search_date (tenant, rtype, id, param, lo, hi, scope) \
             VALUES ('{tenant}', 'Slot', '{id}', 'start', {START}, {}, 'Schedule/bed-1')",
            START + 1_000_000
        ));
    }
    statements
}

async fn scoped_rows_learn_their_end(backend: Backend) {
    let config = ohjaamo_core::Config::default();
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    prepare(&db, 7, &rows_before_0008(&config.default_tenant)).await;
    let h = Harness::start_on(db, config).await;
    let until: Vec<(String, Option<i64>)> = rows(
        &h.database_url(),
        backend,
        "SELECT id, scope_until FROM search_date ORDER BY id",
    )
    .await;
    // PostgreSQL reads the end to the microsecond, SQLite to the millisecond and adds
    // one: at the end or at most a millisecond after it, never before.
    let s2_end = END + 250_000;
    for ((id, got), end) in until.iter().zip([END, s2_end]) {
        let got = got.expect("every scoped row has scope_until");
        assert!((end..=end + 1_000).contains(&got), "{id}: {got} for {end}");
    }
    assert_eq!(until.len(), 2);

    let during = |at: i64| h.slots_during(&["bed-1"], (at, at));
    assert_eq!(during(END - 1).await, ["s1", "s2"]);
    assert_eq!(during(END + 2_000).await, ["s2"]);
    assert!(during(s2_end + 2_000).await.is_empty());
    // The bed-and-day search runs on the rebuilt scope index.
    let bed_day = [
        ("start", "ge2026-03-29T00:00:00Z"),
        ("start", "lt2026-03-30T00:00:00Z"),
        ("schedule", "Schedule/bed-1"),
    ];
    h.assert_search("Slot", &bed_day, &["s1", "s2"]).await;
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scoped_rows_learn_their_end_sqlite() {
    scoped_rows_learn_their_end(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scoped_rows_learn_their_end_postgres() {
    scoped_rows_learn_their_end(Backend::Postgres).await;
}
