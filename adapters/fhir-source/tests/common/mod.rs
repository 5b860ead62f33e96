//! What both suites share: a FHIR source and its runner pushing into a real
//! in-process core.

#![allow(dead_code)]

pub mod fake;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ohjaamo_adapter_fhir_source::bulk::Bulk;
use ohjaamo_adapter_fhir_source::map::{IdSystems, Mapping};
use ohjaamo_adapter_fhir_source::upstream::Upstream;
use ohjaamo_adapter_fhir_source::{Deletes, FhirSource};
use ohjaamo_adapter_kit::testing::{Core, TENANT};
use ohjaamo_adapter_kit::{
    Backoff, CoreAuth, CursorStore, PullRunner, PushClient, Quarantine, RunnerConfig,
};
use tokio::sync::watch;

/// The id root of the upstream's logical ids in these tests.
pub const ID_ROOT: &str = "1.2.246.10.1234567.10.20";

pub fn fast() -> Backoff {
    Backoff {
        base: Duration::from_millis(5),
        max: Duration::from_millis(40),
    }
}

pub fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("ohjaamo-fhirsrc-{}-{name}", uuid::Uuid::now_v7()))
}

/// The system of upstream `rtype`'s logical ids here.
pub fn id_system(rtype: &str) -> String {
    IdSystems::new(ID_ROOT).identifier(rtype, "x")["system"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub struct Setup {
    pub runner: PullRunner<FhirSource>,
    pub upstream: Arc<Upstream>,
    pub cursor: PathBuf,
    pub quarantine: PathBuf,
    pub stop: watch::Sender<bool>,
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.cursor);
        let _ = std::fs::remove_file(&self.quarantine);
    }
}

pub struct Options {
    pub page_size: usize,
    pub deletes: Deletes,
    pub auth: CoreAuth,
    pub headers: Vec<String>,
    /// `Some(kick-off path)`: the initial load through `$export`.
    pub export: Option<&'static str>,
    pub export_dir: PathBuf,
    /// Search parameters added per type.
    pub queries: Vec<(&'static str, &'static str)>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            page_size: 2,
            deletes: Deletes::History,
            auth: CoreAuth::none(),
            headers: vec![format!("X-Ohjaamo-Organization: {TENANT}")],
            export: None,
            export_dir: temp("export"),
            queries: Vec::new(),
        }
    }
}

pub const TYPES: [&str; 5] = ["Location", "Schedule", "Slot", "Appointment", "Encounter"];

pub async fn setup(upstream_base: &str, core: &Core, options: Options) -> Setup {
    let (stop, stopped) = watch::channel(false);
    let upstream = Arc::new(
        Upstream::new(
            upstream_base,
            options.auth,
            Duration::from_secs(10),
            Duration::from_secs(30),
            stopped,
        )
        .unwrap()
        .with_headers(&options.headers)
        .unwrap(),
    );
    let types: Vec<String> = TYPES.iter().map(|t| (*t).to_owned()).collect();
    let bulk = options.export.map(|path| {
        Bulk::new(
            upstream.clone(),
            options.export_dir.clone(),
            path,
            types.clone(),
            options.page_size,
            fast(),
        )
    });
    let mapping = Mapping {
        ids: IdSystems::new(ID_ROOT),
        systems: vec![(
            "urn:oid:1.2.840.114350.1.13.0.1.7.2.686980".into(),
            "urn:oid:1.2.246.10.1234567.10.2".into(),
        )],
        skip_systems: vec![ohjaamo_adapter_fhir_source::command::OHJAAMO_DERIVED_SYSTEM.into()],
    };
    let mut source = FhirSource::new(
        upstream.clone(),
        mapping,
        types,
        options.deletes,
        options.page_size,
        bulk,
    );
    for (rtype, query) in options.queries {
        source = source.with_query(rtype, query);
    }
    let cursor = temp("cursor.json");
    let quarantine = temp("quarantine.jsonl");
    let push = PushClient::new(
        &core.base,
        TENANT,
        "fhir-source",
        Duration::from_secs(30),
        fast(),
    )
    .unwrap();
    let runner = PullRunner::new(
        source,
        push,
        CursorStore::open(&cursor).await.unwrap(),
        Quarantine::new(quarantine.clone(), "fhir-source"),
        RunnerConfig {
            name: "fhir-source".into(),
            poll_interval: Duration::from_millis(50),
            backoff: fast(),
            push_concurrency: 2,
        },
    );
    Setup {
        runner,
        upstream,
        cursor,
        quarantine,
        stop,
    }
}

impl Setup {
    /// One round over every stream, within a minute.
    pub async fn sync(&self) {
        let mut shutdown = self.stop.subscribe();
        tokio::time::timeout(
            Duration::from_secs(60),
            self.runner.sync_once(&mut shutdown),
        )
        .await
        .expect("a round within a minute")
        .expect("a round without error");
    }

    /// The quarantined lines.
    pub fn quarantined(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.quarantine)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// The one resource of `rtype` here with upstream id `id`.
pub async fn by_upstream_id(core: &Core, rtype: &str, id: &str) -> serde_json::Value {
    let found = core
        .search(rtype, &format!("identifier={}|{id}", id_system(rtype)))
        .await;
    assert_eq!(found.len(), 1, "{rtype} {id}: {found:?}");
    found[0].clone()
}
