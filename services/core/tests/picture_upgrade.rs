//! Pictures stored before the API took one casing (snake_case figures, `free_now`)
//! are rewritten by the deriver's first round after a start: `GET /picture` serves
//! camelCase from then on, and the rewrite is announced as a picture event.

#[macro_use]
mod common;

use common::*;
use serde_json::{Value, json};
use sqlx::Connection as _;

/// The figures as the previous version stored them.
fn snake_case(figures: &Value) -> Value {
    let name = |camel: &str| {
        camel.chars().fold(String::new(), |mut out, c| {
            if c.is_ascii_uppercase() {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            out
        })
    };
    let map = figures.as_object().expect("ward figures are an object");
    Value::Object(map.iter().map(|(k, v)| (name(k), v.clone())).collect())
}

async fn ward_picture(h: &Harness) -> Value {
    let root = h.url("").trim_end_matches("/fhir").to_owned();
    let r = h.get_absolute(&format!("{root}/picture?kind=ward")).await;
    r.body["units"][0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_picture_stored_in_snake_case_is_rewritten_after_a_start() {
    let db = TestDb::create(Backend::Sqlite)
        .await
        .expect("a SQLite file");
    let h = Harness::start_on(db, ohjaamo_core::Config::default()).await;
    h.seed(&[
        location("ward", "Osasto 1", "wa", None),
        location("b1", "b1", "bd", Some("ward")),
        location("b2", "b2", "bd", Some("ward")),
    ])
    .await;
    h.wait_for_pictures().await;
    let current = ward_picture(&h).await;
    assert_eq!(current["figures"]["freeNow"], 2, "{current}");

    // The stored picture as the previous version wrote it.
    let mut old = current.clone();
    old.as_object_mut().unwrap().remove("sequence");
    old["figures"] = snake_case(&current["figures"]);
    assert_eq!(old["figures"]["free_now"], 2, "{old}");
    let url = h.database_url();
    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("UPDATE picture_unit SET body = ? WHERE kind = 'ward' AND unit = 'ward'")
        .bind(old.to_string())
        .execute(&mut db)
        .await
        .unwrap();
    db.close().await.unwrap();
    assert_eq!(ward_picture(&h).await["figures"], old["figures"]);
    let tenant = ohjaamo_core::Config::default().default_tenant;
    let before = h.store().last_sequence(&tenant).await.unwrap();

    // Restarted: the first round recomputes every unit and stores what differs.
    let h = Harness::start_on(h.stop().await, ohjaamo_core::Config::default()).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let rewritten = loop {
        let picture = ward_picture(&h).await;
        if picture["figures"].get("freeNow").is_some() || std::time::Instant::now() > deadline {
            break picture;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(rewritten["figures"], current["figures"], "{rewritten}");
    assert!(
        rewritten["sequence"].as_i64().unwrap() > before,
        "the rewrite is announced as a new picture event: {rewritten}"
    );
    h.finish().await;
}

#[test]
fn snake_case_names_are_the_previous_version_s() {
    assert_eq!(
        snake_case(&json!({"overCapacityPatients": 1, "patients": 2})),
        json!({"over_capacity_patients": 1, "patients": 2})
    );
}
