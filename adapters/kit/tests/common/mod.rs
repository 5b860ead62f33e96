//! What the authentication tests share: a core that trusts the test issuer, a
//! source that is slow enough to outlive a token, and reading the core with a token.

#![allow(dead_code)] // each test binary uses part of it

use std::time::Duration;

use ohjaamo_adapter_kit::source::Record;
use ohjaamo_adapter_kit::testing::issuer::{AUDIENCE, TestIssuer};
use ohjaamo_adapter_kit::testing::{Core, TENANT};
use ohjaamo_adapter_kit::{Kind, Mapped, Page, PullError, PullSource, SourceIds, Upsert};
use serde_json::{Value, json};

pub const ROOT: &str = "1.2.246.10.1234567.10";

/// What an adapter's token carries at the test issuer: the core's audience, the
/// organisation, and the scopes of a source adapter.
pub fn adapter_claims() -> Value {
    json!({
        "aud": AUDIENCE,
        "organization": TENANT,
        "scope": "system/*.cus system/ohjaamo.sources.write",
    })
}

/// A core on a free port that trusts `issuer`.
pub async fn core_for(issuer: &TestIssuer) -> Core {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Core::start_with(listener, issuer.core_config()).await
}

/// `GET {root}{path}` with a reader's token of the issuer; the JSON answer.
pub async fn read(core: &Core, issuer: &TestIssuer, path: &str) -> Value {
    let token = issuer.sign(
        json!({
            "aud": AUDIENCE,
            "organization": TENANT,
            "scope": "system/*.rs system/ohjaamo.sources.read",
        }),
        Duration::from_secs(60),
    );
    let root = core.base.trim_end_matches("/fhir");
    let response = reqwest::Client::new()
        .get(format!("{root}{path}"))
        .bearer_auth(token)
        .header("x-ohjaamo-organization", TENANT)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

/// How many units (Locations) the core has.
pub async fn units(core: &Core, issuer: &TestIssuer) -> u64 {
    read(core, issuer, "/fhir/Location?_summary=count").await["total"]
        .as_u64()
        .unwrap()
}

/// A source of `pages` pages of one ward each, every fetch taking `pace`: a sync
/// over it lasts `pages × pace`.
pub struct Paced {
    pub ids: SourceIds,
    pub pages: usize,
    pub pace: Duration,
}

impl PullSource for Paced {
    fn streams(&self) -> Vec<String> {
        vec!["paikat".into()]
    }

    async fn fetch(&self, _stream: &str, cursor: Option<&str>) -> Result<Page, PullError> {
        tokio::time::sleep(self.pace).await;
        let done: usize = cursor.map_or(0, |c| c.parse().unwrap());
        let next = done + 1;
        Ok(Page {
            records: vec![Record {
                key: format!("U{next}"),
                body: json!({ "nimi": format!("Osasto {next}") }),
            }],
            next_cursor: Some(next.to_string()),
            more: next < self.pages,
        })
    }

    fn map(&self, _stream: &str, record: &Record) -> Mapped {
        Mapped::Upserts(vec![Upsert::put(
            self.ids.conditional(Kind::Unit, &record.key),
            json!({
                "resourceType": "Location",
                "identifier": [self.ids.identifier(Kind::Unit, &record.key)],
                "status": "active",
                "name": record.body["nimi"],
                "physicalType": {"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/location-physical-type",
                    "code": "wa"}]},
            }),
        )])
    }
}

/// A fresh path in the temporary folder.
pub fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("ohjaamo-kit-auth-{}-{name}", uuid::Uuid::now_v7()))
}
