//! The access log (käyttöloki), on both backends: every request that reads or changes
//! data leaves exactly its record — who, what, when, from where, how it ended — a
//! write's record commits with the write or not at all, a read whose record cannot be
//! written is not answered, and nothing can change or delete a record but the
//! retention pruning, which logs itself.

#[macro_use]
mod common;

use ohjaamo_store::StoredAccess;
use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::Connection as _;

use common::{Backend, Harness, TENANT, batch, location, put_entry, schedule};

/// Records written after record `after` (0 for all), oldest first.
async fn records_after(h: &Harness, after: i64) -> Vec<StoredAccess> {
    h.access_records_after(after).await
}

/// A URL under the core's root (`/picture`, `/livez`), not under `/fhir`.
fn root(h: &Harness, path: &str) -> String {
    format!("{}{path}", h.base.trim_end_matches("/fhir"))
}

async fn last_record(h: &Harness) -> i64 {
    records_after(h, 0).await.last().map_or(0, |s| s.id)
}

/// Runs raw SQL on the test database (a test's own trigger, an attempt to tamper).
async fn execute(h: &Harness, sql: &str) -> Result<(), sqlx::Error> {
    let url = h.database_url();
    match h.backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&url).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&mut c)
                .await?;
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&url).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&mut c)
                .await?;
        }
    }
    Ok(())
}

/// `(interaction, status, entities as "Type/id" with a `*` when changed)` of records.
fn summary(records: &[StoredAccess]) -> Vec<(String, u16, Vec<String>)> {
    records
        .iter()
        .map(|s| {
            let entities = s
                .record
                .entities
                .iter()
                .map(|e| {
                    let mark = if e.changed { "*" } else { "" };
                    format!("{}{mark}", e.reference)
                })
                .collect();
            (s.record.interaction.clone(), s.record.status, entities)
        })
        .collect()
}

fn stay(id: &str, visit: &str) -> serde_json::Value {
    json!({
        "resourceType": "Encounter",
        "id": id,
        "identifier": [{"system": "urn:oid:1.2.246.10.1.visit", "value": visit}],
        "status": "in-progress",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
        "location": [{"location": {"reference": "Location/w1"}, "status": "active"}],
    })
}

async fn every_interaction_leaves_exactly_its_record(h: &Harness) {
    h.put_resource(&location("w1", "Osasto 1", "wa", None))
        .await;
    let start = last_record(h).await;

    let ok = |status: StatusCode| status.is_success();
    assert!(ok(h
        .put("/Encounter/e1", &stay("e1", "V-1001"))
        .await
        .status));
    assert!(ok(h.get("/Encounter/e1").await.status));
    assert!(ok(h.get("/Encounter/e1/_history/1").await.status));
    assert!(ok(h.get("/Encounter?status=in-progress").await.status));
    assert!(ok(h.get("/Encounter/e1/_history").await.status));
    assert_eq!(
        h.get("/Encounter/nobody").await.status,
        StatusCode::NOT_FOUND
    );
    let r = h
        .post(
            "",
            &batch(vec![
                put_entry(&schedule("s1", "Location/w1")),
                json!({
                    "request": {"method": "GET", "url": "Location/w1"}
                }),
            ]),
        )
        .await;
    assert!(ok(r.status), "{}", r.text);
    assert!(ok(h.delete("/Schedule/s1").await.status));
    assert!(ok(h
        .get_absolute(&root(h, "/picture?unit=w1"))
        .await
        .status));
    let report = json!({
        "kind": "pull", "quarantined": 0,
        "staleAfterSeconds": 600.0, "reportIntervalSeconds": 10.0
    });
    let r = h
        .send(h.client.put(root(h, "/sources/pull")).json(&report))
        .await;
    assert!(ok(r.status), "{}", r.text);
    assert!(ok(h.get_absolute(&root(h, "/sources")).await.status));

    let records = records_after(h, start).await;
    let got = summary(&records);
    let want: Vec<(&str, u16, Vec<&str>)> = vec![
        ("update", 201, vec!["Encounter/e1*"]),
        ("read", 200, vec!["Encounter/e1"]),
        ("vread", 200, vec!["Encounter/e1"]),
        ("search-type", 200, vec!["Encounter/e1"]),
        ("history-instance", 200, vec!["Encounter/e1"]),
        ("read", 404, vec![]),
        // The batch's write commits its record; its GET entry, evaluated after the
        // commit, leaves one more.
        ("batch", 200, vec!["Schedule/s1*"]),
        ("batch", 200, vec!["Location/w1"]),
        ("delete", 204, vec!["Schedule/s1*"]),
        ("picture", 200, vec!["Location/w1"]),
        // A source's report is a write: its record commits with it.
        ("sources-write", 200, vec!["source/pull*"]),
        ("sources-read", 200, vec![]),
    ];
    let want: Vec<(String, u16, Vec<String>)> = want
        .into_iter()
        .map(|(i, s, e)| (i.to_owned(), s, e.into_iter().map(str::to_owned).collect()))
        .collect();
    assert_eq!(got, want);

    // Who, when, from where: an unauthenticated core knows the address and the
    // organisation; every record has a request id, and a write's carries the stay's
    // visit identifier.
    for s in &records {
        assert_eq!(s.record.tenant, "default");
        assert_eq!(s.record.address.as_deref(), Some("127.0.0.1"));
        assert!(!s.record.request_id.is_empty());
        assert!(s.record.recorded > 1_700_000_000_000_000);
    }
    assert_eq!(
        records[0].record.entities[0].visit.as_deref(),
        Some("urn:oid:1.2.246.10.1.visit|V-1001")
    );
    assert_eq!(
        records[1].record.entities[0].visit.as_deref(),
        Some("urn:oid:1.2.246.10.1.visit|V-1001")
    );
    assert_eq!(
        records[3].record.query.as_deref(),
        Some("status=in-progress")
    );
    // The routes that hold no organisation's data leave none.
    let before = last_record(h).await;
    h.get("/metadata").await;
    h.get_absolute(&root(h, "/livez")).await;
    assert_eq!(last_record(h).await, before);
}
both_backends!(every_interaction_leaves_exactly_its_record);

/// A write and its record are one transaction: when the record cannot be inserted,
/// the write is not committed either (so a crash after a commit cannot lose a record:
/// there is no moment when the write is durable and its record is not).
async fn a_write_whose_record_fails_is_not_committed(h: &Harness) {
    let trigger = match h.backend {
        Backend::Sqlite => {
            "CREATE TRIGGER refuse_doomed BEFORE INSERT ON access_log \
             WHEN NEW.record LIKE '%doomed%' BEGIN SELECT RAISE(ABORT, 'test refuses'); END;"
        }
        Backend::Postgres => {
            "CREATE FUNCTION refuse_doomed() RETURNS trigger AS $$ BEGIN \
             IF NEW.record LIKE '%doomed%' THEN RAISE EXCEPTION 'test refuses'; END IF; \
             RETURN NEW; END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER refuse_doomed BEFORE INSERT ON access_log \
             FOR EACH ROW EXECUTE FUNCTION refuse_doomed();"
        }
    };
    execute(h, trigger)
        .await
        .expect("the test's trigger installs");

    let r = h
        .put("/Location/doomed", &location("doomed", "X", "wa", None))
        .await;
    assert!(r.status.is_server_error(), "{}: {}", r.status, r.text);
    let stored = h
        .store()
        .read("default", "Location", "doomed")
        .await
        .expect("reads");
    assert!(
        stored.is_none(),
        "the write was committed without its record"
    );

    // A read whose record cannot be written is not answered: 503, no data.
    h.put_resource(&location("w2", "Osasto 2", "wa", None))
        .await;
    let r = h.get("/Location/w2?doomed=1").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
    assert!(!r.text.contains("Osasto 2"), "{}", r.text);
}
both_backends!(a_write_whose_record_fails_is_not_committed);

/// Records cannot be changed or deleted: not through the API (405), not even with SQL
/// (the triggers refuse); only the retention pruning deletes, and it logs itself.
async fn records_are_append_only_and_pruning_logs_itself(h: &Harness) {
    h.put_resource(&location("w1", "Osasto 1", "wa", None))
        .await;
    h.get("/Location/w1").await;
    let records = records_after(h, 0).await;
    assert!(records.len() >= 2);
    let first = records[0].id;

    for method in [Method::PUT, Method::DELETE, Method::POST, Method::PATCH] {
        let r = h
            .send(h.request(method.clone(), &format!("/AuditEvent/{first}")))
            .await;
        assert!(
            matches!(
                r.status,
                StatusCode::METHOD_NOT_ALLOWED | StatusCode::UNSUPPORTED_MEDIA_TYPE
            ),
            "{method} answered {}",
            r.status
        );
    }
    // The refused attempts are logged too.
    let records = records_after(h, 0).await;
    assert_eq!(records.len(), 6);
    assert!(records[2..].iter().all(|s| s.record.status == 405));
    assert!(
        execute(h, "UPDATE access_log SET status = 200")
            .await
            .is_err()
    );
    assert!(execute(h, "DELETE FROM access_log").await.is_err());
    assert!(execute(h, "DELETE FROM access_log_entity").await.is_err());
    assert!(
        execute(h, "UPDATE access_log_entity SET reference = 'x'")
            .await
            .is_err()
    );
    if h.backend == Backend::Postgres {
        assert!(execute(h, "TRUNCATE access_log CASCADE").await.is_err());
    }
    assert_eq!(records_after(h, 0).await.len(), records.len());

    // Pruning everything recorded before now deletes them all and leaves its record.
    let pruning = ohjaamo_store::AccessRecord {
        recorded: jiff::Timestamp::now().as_microsecond(),
        interaction: "access-log-prune".into(),
        request_id: "prune-1".into(),
        status: 200,
        ..Default::default()
    };
    let deleted = h
        .store()
        .prune_access(pruning.recorded, pruning)
        .await
        .expect("pruning works");
    assert_eq!(deleted as usize, records.len());
    let left = records_after(h, 0).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].record.interaction, "access-log-prune");
    assert!(
        left[0]
            .record
            .outcome
            .as_deref()
            .unwrap_or("")
            .starts_with(&format!("{deleted} access records")),
        "{:?}",
        left[0].record.outcome
    );
    // And the gate closed behind it.
    assert!(execute(h, "DELETE FROM access_log").await.is_err());
}
both_backends!(records_are_append_only_and_pruning_logs_itself);

/// The auditor's view: `/fhir/AuditEvent` finds records by stay, entity, agent and
/// date, one AuditEvent per stay touched.
async fn the_log_is_searchable_as_audit_events(h: &Harness) {
    h.put_resource(&location("w1", "Osasto 1", "wa", None))
        .await;
    h.put("/Encounter/e1", &stay("e1", "V-1")).await;
    h.put("/Encounter/e2", &stay("e2", "V-2")).await;
    h.get("/Encounter?status=in-progress").await;

    let by_visit = h.get("/AuditEvent?entity-identifier=V-2").await;
    assert_eq!(by_visit.status, StatusCode::OK, "{}", by_visit.text);
    let events = by_visit.body["entry"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    // The write of e2 and the search that returned both stays: two records, and of
    // the search's AuditEvents (one per stay) both come with their record.
    let subtypes: Vec<String> = events
        .iter()
        .map(|e| {
            e["resource"]["subtype"][0]["code"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    assert!(subtypes.contains(&"update".to_owned()), "{subtypes:?}");
    assert!(subtypes.contains(&"search-type".to_owned()), "{subtypes:?}");
    let patient_query = events.iter().find(|e| {
        e["resource"]["meta"]["profile"][0]
            .as_str()
            .is_some_and(|p| p.ends_with("PatientQuery"))
            && e["resource"].to_string().contains("V-2")
    });
    assert!(patient_query.is_some(), "{}", by_visit.text);

    let by_entity = h.get("/AuditEvent?entity=Encounter/e1&_count=1").await;
    assert_eq!(by_entity.status, StatusCode::OK, "{}", by_entity.text);
    let next = by_entity.body["link"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["relation"] == "next")
        .map(|l| l["url"].as_str().unwrap().to_owned())
        .expect("a next page");
    assert!(h.get_absolute(&next).await.status.is_success());

    let future = h.get("/AuditEvent?date=gt2100-01-01").await;
    assert_eq!(future.body["entry"].as_array().map_or(0, Vec::len), 0);
    let hour = jiff::SignedDuration::from_hours(1);
    let now = jiff::Timestamp::now();
    let window = format!(
        "date=ge{}&date=lt{}",
        (now - hour).strftime("%Y-%m-%dT%H:%M:%SZ"),
        (now + hour).strftime("%Y-%m-%dT%H:%M:%SZ")
    );
    let r = h.get(&format!("/AuditEvent?{window}")).await;
    assert!(
        r.body["entry"].as_array().map_or(0, Vec::len) >= 4,
        "{}",
        r.text
    );
    let r = h.get(&format!("/AuditEvent?{window}&agent=nobody")).await;
    assert_eq!(r.body["entry"].as_array().map_or(0, Vec::len), 0);
    assert_eq!(
        h.get("/AuditEvent?subject=x").await.status,
        StatusCode::BAD_REQUEST
    );

    // One AuditEvent by id, and each is R4.
    let id = events[0]["resource"]["id"].as_str().unwrap().to_owned();
    let one = h.get(&format!("/AuditEvent/{id}")).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    ohjaamo_fhir::check_r4_structure(one.body.clone()).expect("an R4 AuditEvent");
    assert_eq!(
        h.get("/AuditEvent/999999").await.status,
        StatusCode::NOT_FOUND
    );

    // Another organisation's auditor sees none of it.
    let other = h
        .send(
            h.request(Method::GET, "/AuditEvent?entity-identifier=V-2")
                .header(TENANT, "other-org"),
        )
        .await;
    assert_eq!(
        other.body["entry"].as_array().map_or(0, Vec::len),
        0,
        "{}",
        other.text
    );
}
both_backends!(the_log_is_searchable_as_audit_events);
