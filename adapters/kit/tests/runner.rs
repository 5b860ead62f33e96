//! The pull runner against a real in-process core: records stored, the unmappable and
//! the refused quarantined, tombstones retiring what was stored, transient failures
//! retried without moving the cursor, and the cursor saved only after the core
//! acknowledged.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use ohjaamo_adapter_kit::source::Record;
use ohjaamo_adapter_kit::testing::Core;
use ohjaamo_adapter_kit::{
    Backoff, CursorStore, Kind, Mapped, Page, PullError, PullRunner, PullSource, PushClient,
    Quarantine, RunnerConfig, SourceIds, Upsert,
};
use serde_json::{Value, json};
use tokio::sync::watch;

const ROOT: &str = "1.2.246.10.1234567.10";
const PHYSICAL: &str = "http://terminology.hl7.org/CodeSystem/location-physical-type";

/// The cursor a fetch is expected from, and what it answers.
type Answer = (Option<&'static str>, Result<Page, PullError>);

/// A source whose answers are scripted: each fetch takes the next answer and checks
/// that the runner asked from the cursor the script expects.
struct Scripted {
    ids: SourceIds,
    answers: Mutex<VecDeque<Answer>>,
}

fn record(key: &str, body: Value) -> Record {
    Record {
        key: key.into(),
        body,
    }
}

fn page(records: Vec<Record>, next: &str, more: bool) -> Page {
    Page {
        records,
        next_cursor: Some(next.into()),
        more,
    }
}

impl PullSource for Scripted {
    fn streams(&self) -> Vec<String> {
        vec!["paikat".into()]
    }

    async fn fetch(&self, _stream: &str, cursor: Option<&str>) -> Result<Page, PullError> {
        let Some((expected, answer)) = self.answers.lock().unwrap().pop_front() else {
            return Ok(Page {
                records: vec![],
                next_cursor: None,
                more: false,
            });
        };
        assert_eq!(cursor, expected, "the runner asked from the wrong cursor");
        answer
    }

    fn map(&self, _stream: &str, record: &Record) -> Mapped {
        let body = &record.body;
        if body["poistettu"] == true {
            return Mapped::Upserts(vec![Upsert::retire(
                self.ids.conditional(Kind::BedPlace, &record.key),
                "status",
                json!("inactive"),
            )]);
        }
        let Some(name) = body["nimi"].as_str() else {
            return Mapped::Unmappable("nimi (name) is missing".into());
        };
        let (kind, code) = match body["tyyppi"].as_str() {
            Some("osasto") => (Kind::Unit, "wa"),
            _ => (Kind::BedPlace, "bd"),
        };
        let mut location = json!({
            "resourceType": "Location",
            "identifier": [self.ids.identifier(kind, &record.key)],
            "status": "active",
            "name": name,
            "physicalType": {"coding": [{"system": PHYSICAL, "code": code}]},
        });
        if let Some(parent) = body["osasto"].as_str() {
            location["partOf"] = self.ids.reference(Kind::Unit, parent);
        }
        Mapped::Upserts(vec![Upsert::put(
            self.ids.conditional(kind, &record.key),
            location,
        )])
    }
}

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("ohjaamo-kit-{}-{name}", uuid_like()))
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

fn fast() -> Backoff {
    Backoff {
        base: Duration::from_millis(10),
        max: Duration::from_millis(50),
    }
}

async fn runner(
    core_base: &str,
    script: Vec<Answer>,
    cursor_file: &std::path::Path,
    quarantine_file: &std::path::Path,
) -> PullRunner<Scripted> {
    let source = Scripted {
        ids: SourceIds::new(ROOT),
        answers: Mutex::new(script.into()),
    };
    let push = PushClient::new(
        core_base,
        ohjaamo_adapter_kit::testing::TENANT,
        "test",
        Duration::from_secs(5),
        fast(),
    )
    .unwrap();
    PullRunner::new(
        source,
        push,
        CursorStore::open(cursor_file).await.unwrap(),
        Quarantine::new(quarantine_file.to_owned(), "test"),
        RunnerConfig {
            name: "test".into(),
            poll_interval: Duration::from_millis(20),
            backoff: fast(),
            push_concurrency: 2,
        },
    )
}

#[tokio::test]
async fn pages_are_stored_bad_records_kept_and_the_cursor_follows_the_core() {
    let core = Core::start().await;
    let cursors = temp("cursor.json");
    let kept = temp("quarantine.jsonl");
    let script = vec![
        // A failing pull first: retried from the same (empty) cursor.
        (
            None,
            Err(PullError::Unusable("<html> instead of JSON".into())),
        ),
        (
            None,
            Ok(page(
                vec![
                    record("OS5", json!({"tyyppi": "osasto", "nimi": "Osasto 5"})),
                    record("OS5-1", json!({"nimi": "Paikka 1", "osasto": "OS5"})),
                    record("OS5-2", json!({"osasto": "OS5"})), // no name: unmappable
                    record("OS5-3", json!({"nimi": "Paikka 3"})), // a bed in no ward: refused
                ],
                "c1",
                true,
            )),
        ),
        (
            Some("c1"),
            Ok(page(
                vec![
                    record("OS5-4", json!({"nimi": "Paikka 4", "osasto": "OS5"})),
                    record("OS5-1", json!({"poistettu": true})),
                    record("EI-OLE", json!({"poistettu": true})), // never stored: no-op
                ],
                "c2",
                false,
            )),
        ),
    ];
    let runner = runner(&core.base, script, &cursors, &kept).await;
    let (_tx, mut shutdown) = watch::channel(false);
    runner.sync_once(&mut shutdown).await.unwrap();

    let beds = core
        .search("Location", &format!("identifier=urn:oid:{ROOT}.4|OS5-1"))
        .await;
    assert_eq!(beds.len(), 1);
    assert_eq!(
        beds[0]["status"], "inactive",
        "the tombstone retired the bed"
    );
    assert_eq!(beds[0]["name"], "Paikka 1", "retiring keeps the rest");
    let four = core
        .search("Location", &format!("identifier=urn:oid:{ROOT}.4|OS5-4"))
        .await;
    assert_eq!(four.len(), 1);
    assert!(
        core.search("Location", &format!("identifier=urn:oid:{ROOT}.4|OS5-3"))
            .await
            .is_empty()
    );

    let quarantined = Quarantine::new(kept.clone(), "test").list().await.unwrap();
    let keys: Vec<&str> = quarantined
        .iter()
        .map(|q| q["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["OS5-2", "OS5-3"]);
    assert!(quarantined[0]["reason"].as_str().unwrap().contains("nimi"));
    assert!(
        quarantined[1]["reason"]
            .as_str()
            .unwrap()
            .contains("refused"),
        "{}",
        quarantined[1]
    );
    assert_eq!(quarantined[1]["record"]["nimi"], "Paikka 3");

    let saved = CursorStore::open(&cursors).await.unwrap();
    assert_eq!(saved.get("paikat").await.as_deref(), Some("c2"));
    let status = runner.status();
    let status = status.lock().unwrap()["paikat"].clone();
    assert_eq!(status.records_quarantined, 2);
    assert!(status.last_success.is_some());

    let _ = std::fs::remove_file(&cursors);
    let _ = std::fs::remove_file(&kept);
}

#[tokio::test]
async fn the_cursor_waits_while_the_core_is_down() {
    // Reserve a port, then start the core on it only after the runner has tried.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let cursors = temp("cursor-down.json");
    let kept = temp("quarantine-down.jsonl");
    let script = vec![(
        None,
        Ok(page(
            vec![record(
                "OS7",
                json!({"tyyppi": "osasto", "nimi": "Osasto 7"}),
            )],
            "after-os7",
            false,
        )),
    )];
    let base = format!("http://{addr}/fhir");
    let runner = runner(&base, script, &cursors, &kept).await;
    let (stop, mut shutdown) = watch::channel(false);

    let sync = tokio::spawn(async move {
        let result = runner.sync_once(&mut shutdown).await;
        (runner, result)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        CursorStore::open(&cursors)
            .await
            .unwrap()
            .get("paikat")
            .await,
        None,
        "no cursor before the core acknowledged"
    );
    let core = Core::start_on(tokio::net::TcpListener::bind(addr).await.unwrap()).await;
    let (_runner, result) = tokio::time::timeout(Duration::from_secs(10), sync)
        .await
        .expect("the push settles once the core is up")
        .unwrap();
    result.unwrap();
    drop(stop);
    assert_eq!(
        core.search("Location", &format!("identifier=urn:oid:{ROOT}.2|OS7"))
            .await
            .len(),
        1
    );
    assert_eq!(
        CursorStore::open(&cursors)
            .await
            .unwrap()
            .get("paikat")
            .await
            .as_deref(),
        Some("after-os7")
    );
    let _ = std::fs::remove_file(&cursors);
    let _ = std::fs::remove_file(&kept);
}
