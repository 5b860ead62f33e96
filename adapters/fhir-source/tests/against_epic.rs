//! The FHIR source against recorded Bundles in Epic's shape (tests/fixtures/epic):
//! opaque ids, absolute references, OperationOutcome entries in a searchset, a
//! session-bound next link. With faults: a revoked token (renewed once), a token that
//! stays refused (reported to the core with the reason), 429 with Retry-After (waited
//! out as asked), 5xx (backed off), a paging loop (stopped with an error that says
//! so), and the initial load through Bulk Data `$export`.

mod common;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser as _;
use common::fake::{Fake, Fault, Script};
use common::{Options, by_upstream_id, setup};
use ohjaamo_adapter_fhir_source::FhirSourceArgs;
use ohjaamo_adapter_kit::auth::{ClientConfig, Credentials, Secret, SecretMethod, TokenEndpoint};
use ohjaamo_adapter_kit::testing::{Core, TENANT};
use ohjaamo_adapter_kit::{Adapter as _, CoreAuth, Process, PullSource as _};
use serde_json::Value;

fn client(fake: &Fake) -> CoreAuth {
    CoreAuth::client_of(
        ClientConfig {
            endpoint: TokenEndpoint::Url(fake.token_url.clone()),
            client_id: "ohjaamo".into(),
            credentials: Credentials::Secret {
                secret: Secret::new("s"),
                method: SecretMethod::Basic,
            },
            scope: Some("system/Location.rs system/Slot.rs".into()),
        },
        "upstream",
    )
    .unwrap()
}

fn faults(list: &[(&str, Vec<Fault>)]) -> HashMap<String, VecDeque<Fault>> {
    list.iter()
        .map(|(p, f)| (format!("/api/FHIR/R4/{p}"), f.iter().cloned().collect()))
        .collect()
}

/// What every Epic-shaped load leaves in the core.
async fn assert_loaded(core: &Core) {
    assert_eq!(core.search("Location", "").await.len(), 3);
    let ward = by_upstream_id(core, "Location", "eIScgYOmw7Hs2nJ4qWB0xBQ3").await;
    let bed = by_upstream_id(core, "Location", "eBed4A01.nXx9uY3oJ2sQ3").await;
    assert_eq!(
        bed["partOf"]["reference"],
        format!("Location/{}", ward["id"].as_str().unwrap()),
        "an absolute reference is rewritten"
    );
    assert!(
        ward["identifier"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["system"] == "urn:oid:1.2.246.10.1234567.10.2" && i["value"] == "1000401"),
        "the department's OID is mapped by configuration: {ward}"
    );
    let schedule = by_upstream_id(core, "Schedule", "eSch4A.lQ9dG0").await;
    assert_eq!(
        schedule["actor"][1]["type"], "Practitioner",
        "a Practitioner is a logical reference: {schedule}"
    );
    let slot = by_upstream_id(core, "Slot", "eSlot.A1").await;
    assert_eq!(
        slot["schedule"]["reference"],
        format!("Schedule/{}", schedule["id"].as_str().unwrap())
    );
    let appointment = by_upstream_id(core, "Appointment", "eApptCSN.9yD7dQ3").await;
    let patient = &appointment["participant"][0]["actor"];
    assert!(
        patient.get("display").is_none() && patient["type"] == "Patient",
        "no patient name here: {patient}"
    );
    assert_eq!(
        appointment["slot"][0]["reference"],
        format!("Slot/{}", slot["id"].as_str().unwrap())
    );
    let encounter = by_upstream_id(core, "Encounter", "eEncHosp.3xA0").await;
    assert_eq!(
        encounter["location"][0]["location"]["reference"],
        format!("Location/{}", bed["id"].as_str().unwrap())
    );
    assert!(encounter["subject"].get("display").is_none());
    // The entered-in-error Slot was never here: retiring it wrote nothing.
    assert!(
        core.search(
            "Slot",
            &format!("identifier={}|eSlot.A3", common::id_system("Slot"))
        )
        .await
        .is_empty()
    );
}

#[tokio::test]
async fn epic_bundles_through_a_revoked_token_429_and_5xx() {
    let fake = Fake::start(Script {
        faults: faults(&[
            ("Schedule", vec![Fault::TooMany(2)]),
            ("Slot", vec![Fault::Status(503), Fault::Status(500)]),
        ]),
        refused_tokens: vec!["t1".into()],
        ..Script::default()
    })
    .await;
    let core = Core::start().await;
    let s = setup(
        &fake.base,
        &core,
        Options {
            auth: client(&fake),
            deletes: ohjaamo_adapter_fhir_source::Deletes::Status,
            headers: Vec::new(),
            queries: vec![("Appointment", "date=ge2026-11-01&service-category=surgery")],
            ..Options::default()
        },
    )
    .await;
    s.sync().await;
    assert_loaded(&core).await;
    assert_eq!(s.quarantined(), Vec::<Value>::new());

    let seen = fake.seen();
    // The revoked token: one 401, one renewal, the same request again.
    assert_eq!(fake.tokens_issued(), 2);
    let upstream: Vec<_> = seen
        .iter()
        .filter(|r| !r.path.ends_with("/token"))
        .collect();
    let first = upstream[0];
    assert_eq!(
        (first.status, first.authorization.as_deref()),
        (401, Some("Bearer t1"))
    );
    let again = upstream[1];
    assert_eq!(
        (again.path.as_str(), again.query.as_str(), again.status),
        (first.path.as_str(), first.query.as_str(), 200)
    );
    assert_eq!(again.authorization.as_deref(), Some("Bearer t2"));
    // 429: the next request came after exactly the Retry-After (and not much later).
    let schedules: Vec<_> = seen
        .iter()
        .filter(|r| r.path.ends_with("/Schedule"))
        .collect();
    assert_eq!(schedules[0].status, 429);
    let waited = schedules[1].at.duration_since(schedules[0].at);
    assert!(
        waited >= Duration::from_secs(2) && waited < Duration::from_millis(3500),
        "{waited:?}"
    );
    // 5xx: backed off and tried again until it answered.
    let slots: Vec<u16> = seen
        .iter()
        .filter(|r| r.path.ends_with("/Slot"))
        .map(|r| r.status)
        .collect();
    assert_eq!(slots, [503, 500, 200, 200]);
    assert!(
        seen.iter()
            .any(|r| r.query.contains("sessionID=16-A5C9E2B1F0D34E0C8B7A&page=2")),
        "the next link is followed as given"
    );

    assert_eq!(
        fake.last("/Appointment").query,
        "date=ge2026-11-01&service-category=surgery&_count=2",
        "a type's own search parameters"
    );
    // The next round asks only for what changed since the newest lastUpdated.
    s.sync().await;
    let last = fake.last("/Slot");
    assert!(
        last.query
            .contains("_lastUpdated=gt2026-11-20T06%3A31%3A00Z"),
        "{}",
        last.query
    );
}

#[tokio::test]
async fn a_paging_loop_stops_the_read_with_a_clear_error() {
    let fake = Fake::start(Script {
        paging_loop: true,
        ..Script::default()
    })
    .await;
    let core = Core::start().await;
    let s = setup(&fake.base, &core, Options::default()).await;
    let source = ohjaamo_adapter_fhir_source::FhirSource::new(
        s.upstream.clone(),
        ohjaamo_adapter_fhir_source::map::Mapping {
            ids: ohjaamo_adapter_fhir_source::map::IdSystems::new(common::ID_ROOT),
            systems: Vec::new(),
            skip_systems: Vec::new(),
        },
        vec!["Slot".into()],
        ohjaamo_adapter_fhir_source::Deletes::Status,
        2,
        None,
    );
    let mut cursor: Option<String> = None;
    let mut error = None;
    for _ in 0..6 {
        match source.fetch("Slot", cursor.as_deref()).await {
            Ok(page) => cursor = page.next_cursor,
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        }
    }
    let error = error.expect("the loop is caught");
    assert!(
        error.contains("paging loop") && error.contains("sessionID=16-9F21"),
        "{error}"
    );
}

#[derive(clap::Parser)]
struct Command {
    #[command(flatten)]
    args: FhirSourceArgs,
}

#[tokio::test]
async fn a_token_that_stays_refused_is_reported_to_the_core() {
    let fake = Fake::start(Script {
        refuse_all: true,
        ..Script::default()
    })
    .await;
    let core = Core::start().await;
    let dir = common::temp("refused");
    let path = |n: &str| dir.join(n).display().to_string();
    let args = Command::try_parse_from([
        "adapter-fhir-source",
        "--core",
        &core.base,
        "--organization",
        TENANT,
        "--upstream",
        &fake.base,
        "--upstream-token-url",
        &fake.token_url,
        "--upstream-client-id",
        "ohjaamo",
        "--upstream-client-secret",
        "s",
        "--initial-load",
        "search",
        "--poll-interval",
        "0.1",
        "--retry-max",
        "0.2",
        "--report-interval",
        "0.5",
        "--cursor-file",
        &path("cursor.json"),
        "--quarantine-file",
        &path("q.jsonl"),
        "--export-dir",
        &path("export"),
        "--admin-listen",
        "127.0.0.1:0",
    ])
    .unwrap()
    .args;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let adapter = tokio::spawn(ohjaamo_adapter_fhir_source::FhirSourceAdapter::run(
        args,
        Process {
            shutdown: stopped,
            metrics: Arc::new(String::new),
        },
    ));
    let mut report = Value::Null;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let sources = core.get_root("sources").await;
        report = sources["sources"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["name"] == "fhir-source")
            .cloned()
            .unwrap_or(Value::Null);
        if report["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("401"))
        {
            break;
        }
    }
    stop.send(true).unwrap();
    adapter.await.unwrap().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let error = report["lastError"].as_str().unwrap_or_default();
    assert!(
        error.contains("refused the access token (401) after one renewal"),
        "{report}"
    );
    assert!(report["lastSuccess"].is_null(), "{report}");
}

#[tokio::test]
async fn the_initial_load_goes_through_export_when_offered() {
    let fake = Fake::start(Script {
        export: true,
        export_polls: 2,
        ..Script::default()
    })
    .await;
    let core = Core::start().await;
    let export_dir = common::temp("export");
    let s = setup(
        &fake.base,
        &core,
        Options {
            export: Some("Group/eHospitalAll/$export"),
            export_dir: export_dir.clone(),
            deletes: ohjaamo_adapter_fhir_source::Deletes::Status,
            headers: Vec::new(),
            page_size: 2,
            ..Options::default()
        },
    )
    .await;
    s.sync().await;
    assert_loaded(&core).await;
    let seen = fake.seen();
    let kick_off = seen
        .iter()
        .find(|r| r.path.ends_with("/$export"))
        .expect("a kick-off");
    assert_eq!(
        kick_off.query,
        "_type=Location,Schedule,Slot,Appointment,Encounter"
    );
    let polls: Vec<_> = seen
        .iter()
        .filter(|r| r.path.ends_with("/bulk-status/1") && r.method == "GET")
        .collect();
    assert_eq!(
        polls.iter().map(|p| p.status).collect::<Vec<_>>(),
        [202, 202, 200]
    );
    assert!(
        polls[1].at.duration_since(polls[0].at) >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert!(
        seen.iter().all(|r| !r.path.ends_with("/Slot")),
        "no search during the export load"
    );
    // Afterwards the types are searched from the export's transactionTime.
    s.sync().await;
    let search = fake.last("/Slot");
    assert!(
        search
            .query
            .contains("_lastUpdated=gt2026-11-20T08%3A00%3A00Z"),
        "{}",
        search.query
    );
    let _ = std::fs::remove_dir_all(&export_dir);
}
