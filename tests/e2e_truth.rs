//! End to end, across processes: the simulator lives a scripted day with faults
//! switched on while the ADT adapter and the pull adapter feed a core on PostgreSQL;
//! the pull adapter, the ADT adapter and the core are each killed (SIGKILL) and
//! restarted mid-day. Afterwards every bed, stay, booking and operation in the core
//! equals the simulator's `/truth`, with no duplicates.
//!
//! Needs PostgreSQL (`OHJAAMO_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`, for administration; the test creates
//! and drops its own database). Without a server it is skipped loudly, or fails when
//! `CI=true`.

use std::time::{Duration, Instant};

use ohjaamo_simulator::verify::{self, CoreReader, Scope};
use serde_json::Value;

const TENANT: &str = "1.2.246.10.1234567";
const ROOT: &str = "1.2.246.10.1234567.10";

mod support;

use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_arrives_whole_through_faults_and_restarts() {
    let Some(db) = Database::create().await else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("ohjaamo-e2e-{}", db.name));
    std::fs::create_dir_all(&dir).unwrap();
    let (core_port, sim_port, mllp_port) = (free_port(), free_port(), free_port());
    let (adt_admin, pull_admin) = (free_port(), free_port());
    let core_base = format!("http://127.0.0.1:{core_port}/fhir");
    let sim_base = format!("http://127.0.0.1:{sim_port}");

    let mut core = start_core("core", &dir, core_port, &db, &[]).await;
    let sim = Proc::start(
        "simulator",
        &dir,
        strings(&[
            "simulate",
            "--listen",
            &format!("127.0.0.1:{sim_port}"),
            "--speed",
            "0",
            "--seed",
            "5",
            // The night of the autumn daylight-saving change, and the day after.
            "--start",
            "2026-10-24T20:00:00Z",
            "--adt-target",
            &format!("127.0.0.1:{mllp_port}"),
            "--fault-http-error-rate",
            "0.05",
            "--fault-html-rate",
            "0.03",
            "--fault-half-page-rate",
            "0.03",
            "--fault-malformed-rate",
            "0.05",
            "--fault-timeout-rate",
            "0.02",
            "--fault-garbage-mllp-rate",
            "0.05",
            "--fault-drop-mllp-every",
            "9",
        ]),
    );
    wait_for(&format!("{sim_base}/health"), "the simulator").await;
    let common = [
        "--core",
        core_base.as_str(),
        "--organization",
        TENANT,
        "--source-oid-root",
        ROOT,
        "--retry-max",
        "1",
    ];
    let mut pull_args = strings(&[
        "adapter-pull",
        "--export",
        &sim_base,
        "--poll-interval",
        "0.2",
        "--page-size",
        "200",
        "--timeout",
        "1",
    ]);
    pull_args.extend(strings(&common));
    pull_args.extend(strings(&[
        "--cursor-file",
        dir.join("cursor.json").to_str().unwrap(),
        "--quarantine-file",
        dir.join("pull-quarantine.jsonl").to_str().unwrap(),
        "--admin-listen",
        &format!("127.0.0.1:{pull_admin}"),
    ]));
    let mut pull = Proc::start("pull", &dir, pull_args);
    let mut adt_args = strings(&["adapter-adt", "--listen", &format!("127.0.0.1:{mllp_port}")]);
    adt_args.extend(strings(&common));
    adt_args.extend(strings(&[
        "--quarantine-file",
        dir.join("adt-quarantine.jsonl").to_str().unwrap(),
        "--admin-listen",
        &format!("127.0.0.1:{adt_admin}"),
    ]));
    let mut adt = Proc::start("adt", &dir, adt_args);

    // The day, half an hour at a time, with a kill and restart of each of the three.
    let http = reqwest::Client::new();
    for step in 0..48 {
        let answer = http
            .post(format!("{sim_base}/ohjaus/eteenpain?minuutit=30"))
            .send()
            .await
            .expect("the simulator answers");
        assert!(answer.status().is_success());
        tokio::time::sleep(Duration::from_millis(150)).await;
        match step {
            12 => pull.restart(),
            20 => adt.restart(),
            30 => {
                core.kill();
                tokio::time::sleep(Duration::from_secs(1)).await;
                core.restart();
                wait_for(
                    &format!("http://127.0.0.1:{core_port}/readyz"),
                    "the restarted core",
                )
                .await;
            }
            _ => {}
        }
    }

    // Then everything settles: the feed sent, the export read, the core equal.
    let reader = CoreReader::new(&core_base, TENANT, ROOT);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last: Vec<String> = vec!["not compared yet".into()];
    let mut truth = Value::Null;
    while Instant::now() < deadline {
        truth = http
            .get(format!("{sim_base}/truth"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if truth["lahettamatta_adt"] == 0 {
            last = verify::differences(&reader, &truth, Scope::ExportAndStays)
                .await
                .unwrap_or_else(|e| vec![e]);
            if last.is_empty() {
                break;
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    if !last.is_empty() {
        eprintln!(
            "database {} and files in {} are kept for inspection",
            db.name,
            dir.display()
        );
        for p in [&core, &sim, &pull, &adt] {
            eprintln!("--- {} ---\n{}", p.name, p.tail());
        }
        panic!(
            "the core differs from the truth ({} differences; ADT feed {}):\n{}",
            last.len(),
            truth["adt_syote"],
            last.iter().take(30).cloned().collect::<Vec<_>>().join("\n")
        );
    }
    let stays = truth["hoitojaksot"].as_array().map_or(0, Vec::len);
    assert!(stays > 50, "a busy day: {stays} stays");
    // What the adapters quarantined is only what the faults broke on purpose.
    for (file, expected) in [
        ("pull-quarantine.jsonl", "VIRHE-"),
        ("adt-quarantine.jsonl", ""),
    ] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
        for line in text.lines() {
            let kept: Value = serde_json::from_str(line).unwrap();
            if file.starts_with("pull") {
                assert!(
                    kept["key"].as_str().unwrap().starts_with(expected),
                    "{kept}"
                );
            } else {
                assert!(
                    kept["reason"].as_str().unwrap().starts_with("unparseable"),
                    "{kept}"
                );
            }
        }
    }
    drop((core, sim, pull, adt));
    db.drop_it().await;
    let _ = std::fs::remove_dir_all(&dir);
}
