//! The pull adapter between the simulator's export and a real core: after a sync the
//! core holds every unit, bed place, room, device, shift and operation of the truth;
//! after a simulated day and another sync it still does, tombstones included; with
//! the export failing in every way it knows, it still gets there and quarantines only
//! the malformed records.

use std::sync::Arc;
use std::time::Duration;

use jiff::tz::TimeZone;
use ohjaamo_adapter_kit::testing::{Core, TENANT};
use ohjaamo_adapter_kit::{
    Backoff, CursorStore, PullRunner, PushClient, Quarantine, RunnerConfig, SourceIds,
};
use ohjaamo_adapter_pull::Export;
use ohjaamo_simulator::verify::{self, CoreReader, Scope};
use ohjaamo_simulator::{Faults, SimConfig, Simulator, Size, World};
use serde_json::Value;
use tokio::sync::{Mutex, watch};

const ROOT: &str = "1.2.246.10.1234567.10";

struct Setup {
    core: Core,
    world: Arc<Mutex<World>>,
    runner: PullRunner<Export>,
    quarantine: std::path::PathBuf,
    _stop: watch::Sender<bool>,
}

async fn setup(faults: Faults) -> Setup {
    let core = Core::start().await;
    let size = Size {
        hospitals: 1,
        wards_per_hospital: 2,
        beds_per_ward: 8,
        over_capacity_per_ward: 1,
        theatres: 2,
        recovery_bays: 3,
        rehabilitation_beds: 6,
        equipment: 6,
        clinic_rooms: 2,
        days_ahead: 2,
    };
    let simulator = Simulator::new(SimConfig {
        seed: 11,
        size,
        start: "2026-11-30T05:00:00Z".parse().unwrap(),
        zone: TimeZone::get("Europe/Helsinki").unwrap(),
        speed: 0.0,
        adt_target: None,
        faults,
    });
    let world = simulator.world.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let export_base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(simulator.serve(listener, stopped));

    let unique = format!(
        "{}-{}",
        std::process::id(),
        jiff::Timestamp::now().as_nanosecond()
    );
    let cursor = std::env::temp_dir().join(format!("ohjaamo-pull-{unique}.json"));
    let quarantine = std::env::temp_dir().join(format!("ohjaamo-pull-{unique}.jsonl"));
    let fast = Backoff {
        base: Duration::from_millis(5),
        max: Duration::from_millis(40),
    };
    let export = Export::new(
        &export_base,
        SourceIds::new(ROOT),
        40,
        Duration::from_millis(800),
    )
    .unwrap();
    let push = PushClient::new(&core.base, TENANT, "pull", Duration::from_secs(30), fast).unwrap();
    let runner = PullRunner::new(
        export,
        push,
        CursorStore::open(&cursor).await.unwrap(),
        Quarantine::new(quarantine.clone(), "pull"),
        RunnerConfig {
            name: "pull".into(),
            poll_interval: Duration::from_millis(50),
            backoff: fast,
            push_concurrency: 2,
        },
    );
    Setup {
        core,
        world,
        runner,
        quarantine,
        _stop: stop,
    }
}

/// Every difference between the truth and the core's export resources.
async fn differences(core: &Core, truth: &Value) -> Vec<String> {
    let reader = CoreReader::new(&core.base, TENANT, ROOT);
    verify::differences(&reader, truth, Scope::Export)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_sync_brings_the_truth_and_a_day_later_still_does() {
    let s = setup(Faults::default()).await;
    let (_tx, mut shutdown) = watch::channel(false);
    s.runner.sync_once(&mut shutdown).await.unwrap();
    let truth = s.world.lock().await.truth();
    assert_eq!(differences(&s.core, &truth).await, Vec::<String>::new());

    // A simulated day: operations run, beds close, shifts are deleted.
    ohjaamo_simulator::life::advance_by(&mut *s.world.lock().await, 30 * 60);
    s.runner.sync_once(&mut shutdown).await.unwrap();
    let truth = s.world.lock().await.truth();
    assert_eq!(differences(&s.core, &truth).await, Vec::<String>::new());
    let quarantined = Quarantine::new(s.quarantine.clone(), "pull")
        .list()
        .await
        .unwrap();
    assert!(quarantined.is_empty(), "{quarantined:?}");
    let _ = std::fs::remove_file(&s.quarantine);
}

#[tokio::test]
async fn a_failing_export_is_retried_and_malformed_records_are_kept() {
    let faults = Faults {
        http_error_rate: 0.15,
        timeout_rate: 0.05,
        html_rate: 0.1,
        half_page_rate: 0.1,
        malformed_rate: 0.5,
        ..Faults::default()
    };
    let s = setup(faults).await;
    let (_tx, mut shutdown) = watch::channel(false);
    s.runner.sync_once(&mut shutdown).await.unwrap();
    ohjaamo_simulator::life::advance_by(&mut *s.world.lock().await, 12 * 60);
    s.runner.sync_once(&mut shutdown).await.unwrap();
    let truth = s.world.lock().await.truth();
    assert_eq!(differences(&s.core, &truth).await, Vec::<String>::new());
    let quarantined = Quarantine::new(s.quarantine.clone(), "pull")
        .list()
        .await
        .unwrap();
    let status = s.runner.status();
    assert!(
        !quarantined.is_empty(),
        "the malformed records are kept: {:?}",
        status.lock().unwrap()
    );
    for q in &quarantined {
        assert!(
            q["key"].as_str().unwrap().starts_with("VIRHE-"),
            "only malformed records: {q}"
        );
    }
    let status = s.runner.status();
    let errors = status
        .lock()
        .unwrap()
        .values()
        .filter(|s| s.records_quarantined > 0)
        .count();
    assert!(errors > 0);
    let _ = std::fs::remove_file(&s.quarantine);
}
