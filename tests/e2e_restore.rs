//! A restore from a backup, end to end: the core's database goes back to a copy taken
//! earlier, the operator runs `ohjaamo store new-epoch` as the runbook says, and the
//! writes that follow reuse sequence numbers the reference consumer has already
//! applied. The consumer must see the new epoch, take a new snapshot and end equal to
//! `GET /picture` — deduplicating by sequence alone, it would drop those writes and
//! keep showing beds that no longer exist.
//!
//! Needs PostgreSQL and RabbitMQ (see `support`); skipped loudly without them, fails
//! without them when `CI=true`.

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::{Connection as _, Executor as _, PgConnection};
use support::*;

async fn put(http: &reqwest::Client, core: &str, organization: &str, resource: &Value) {
    let url = format!(
        "{core}/fhir/{}/{}",
        resource["resourceType"].as_str().unwrap(),
        resource["id"].as_str().unwrap()
    );
    let r = http
        .put(&url)
        .header("X-Ohjaamo-Organization", organization)
        .header("Content-Type", "application/fhir+json")
        .json(resource)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "PUT {url}: {}", r.status());
}

/// Beds of ward `w1`.
async fn add_beds(http: &reqwest::Client, core: &str, organization: &str, beds: &[&str]) {
    for bed in beds {
        put(
            http,
            core,
            organization,
            &location(bed, "bd", Some("w1"), false),
        )
        .await;
    }
}

/// `GET url` as JSON; the test fails when it does not answer.
async fn get_ok(http: &reqwest::Client, url: &str, organization: &str) -> Value {
    get_json(http, url, organization)
        .await
        .unwrap_or_else(|| panic!("GET {url} did not answer 2xx with JSON"))
}

/// Waits until the consumer holds ward `w1` with `beds` beds and the core's picture
/// says the same; answers the consumer's `/status`.
async fn wait_for_beds(
    http: &reqwest::Client,
    (core, consumer): (&str, &str),
    organization: &str,
    beds: u64,
    procs: &[&Proc],
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    let (mut picture, mut wards) = (Value::Null, Value::Null);
    while Instant::now() < deadline {
        picture = get_ok(http, &format!("{core}/picture?kind=ward"), organization).await;
        wards = get_ok(http, &format!("{consumer}/wards"), organization).await;
        let of = |body: &Value| body["units"][0]["figures"]["bedsTotal"].as_u64();
        if of(&picture) == Some(beds) && of(&wards) == Some(beds) {
            return get_ok(http, &format!("{consumer}/status"), organization).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for p in procs {
        eprintln!("--- {} ---\n{}", p.name, p.tail());
    }
    panic!("expected {beds} beds in both:\npicture: {picture}\nconsumer: {wards}");
}

/// `CREATE DATABASE … TEMPLATE …`, retried while the killed core's connections are
/// still being closed by the server.
async fn copy_database(admin: &mut PgConnection, to: &str, from: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let sql = format!("CREATE DATABASE {to} TEMPLATE {from}");
        match admin.execute(sqlx::AssertSqlSafe(sql)).await {
            Ok(_) => return,
            Err(e) if Instant::now() < deadline => {
                eprintln!("copying {from} to {to}: {e}; retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("cannot copy {from} to {to}: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restore_and_new_epoch_the_consumer_resyncs_instead_of_dropping_writes() {
    let Some(db) = Database::create().await else {
        return;
    };
    let Some(bus_url) = broker_url() else {
        db.drop_it().await;
        return;
    };
    let admin_url = std::env::var("OHJAAMO_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let mut admin = PgConnection::connect(&admin_url).await.unwrap();
    let backup = format!("{}_backup", db.name);
    let unique = db.name.trim_start_matches("ohjaamo_e2e_").to_owned();
    let organization = format!("1.2.246.10.{}", unique.replace('_', ""));
    let queue = format!("e2e-restore-{unique}");
    let dir = std::env::temp_dir().join(format!("ohjaamo-e2e-restore-{unique}"));
    std::fs::create_dir_all(&dir).unwrap();
    let (core_port, consumer_port) = (free_port(), free_port());
    let core_root = format!("http://127.0.0.1:{core_port}");
    let consumer_root = format!("http://127.0.0.1:{consumer_port}");
    let roots = (core_root.as_str(), consumer_root.as_str());
    let http = reqwest::Client::new();

    let mut core = start_core("core", &dir, core_port, &db, &["--bus-url", &bus_url]).await;
    let consumer = start_consumer(
        &dir,
        &core_root,
        &organization,
        &bus_url,
        &queue,
        consumer_port,
    )
    .await;

    put(
        &http,
        &core_root,
        &organization,
        &location("w1", "wa", None, false),
    )
    .await;
    add_beds(&http, &core_root, &organization, &["b1", "b2"]).await;
    let status = wait_for_beds(&http, roots, &organization, 2, &[&core, &consumer]).await;
    let epoch_before = status["replica"]["epoch"].as_str().unwrap().to_owned();
    assert!(!epoch_before.is_empty(), "{status}");

    // The backup, taken with the core stopped.
    core.kill();
    copy_database(&mut admin, &backup, &db.name).await;

    // Life goes on after the backup: two more beds, applied by the consumer.
    core.spawn();
    wait_for(&format!("{core_root}/readyz"), "the core").await;
    add_beds(&http, &core_root, &organization, &["b3", "b4"]).await;
    let status = wait_for_beds(&http, roots, &organization, 4, &[&core, &consumer]).await;
    let seen_before_restore = status["replica"]["wards"]["w1"]["sequence"]
        .as_u64()
        .unwrap();

    // The database is lost and restored from the backup; the runbook's command.
    core.kill();
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {} WITH (FORCE)",
            db.name
        )))
        .await
        .unwrap();
    copy_database(&mut admin, &db.name, &backup).await;
    let output = std::process::Command::new(BIN)
        .args(["store", "new-epoch", "--database-url", &db.url()])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    // The epoch is the last line (logs go to stdout too).
    let stdout = String::from_utf8_lossy(&output.stdout);
    let new_epoch = stdout.lines().last().unwrap_or_default().trim().to_owned();
    assert_ne!(new_epoch, epoch_before);

    // A different change after the restore: one bed, under sequence numbers the
    // consumer has already applied (b3 and b4 had them).
    core.spawn();
    wait_for(&format!("{core_root}/readyz"), "the core").await;
    put(
        &http,
        &core_root,
        &organization,
        &location("b5", "bd", Some("w1"), false),
    )
    .await;
    let status = wait_for_beds(&http, roots, &organization, 3, &[&core, &consumer]).await;
    let picture = get_ok(
        &http,
        &format!("{core_root}/picture?kind=ward"),
        &organization,
    )
    .await;
    let reused = picture["units"][0]["sequence"].as_u64().unwrap();
    assert!(
        reused <= seen_before_restore,
        "the restored log gave out sequence {reused} again (the consumer had seen up to \
         {seen_before_restore}): without the epoch it would have been dropped"
    );
    assert_eq!(status["replica"]["epoch"], new_epoch.as_str(), "{status}");
    assert_eq!(picture["epoch"], new_epoch.as_str());
    assert_eq!(status["replica"]["appliedTwice"], 0, "{status}");

    drop((core, consumer));
    let _ = admin
        .execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {backup} WITH (FORCE)"
        )))
        .await;
    delete_queue(&bus_url, &queue).await;
    db.drop_it().await;
    let _ = std::fs::remove_dir_all(&dir);
}
