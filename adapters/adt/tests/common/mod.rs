//! A real core served in-process over a temporary SQLite file, for the adapter's
//! tests, and fixtures for the beds its messages name.

#![allow(dead_code)] // each test binary uses part of it

use std::sync::Arc;

use ohjaamo_core::{AppState, Config};
use ohjaamo_store::Store;
use reqwest::StatusCode;
use serde_json::{Value, json};

pub const ROOT: &str = "1.2.246.10.1234567.10";
pub const TENANT: &str = "1.2.246.10.1234567";

pub struct Core {
    pub addr: std::net::SocketAddr,
    pub base: String,
    http: reqwest::Client,
    file: std::path::PathBuf,
}

impl Core {
    pub async fn start() -> Core {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Core::start_on(listener).await
    }

    /// Serves on `listener` (a port chosen beforehand).
    pub async fn start_on(listener: tokio::net::TcpListener) -> Core {
        let file = std::env::temp_dir().join(format!("ohjaamo-adt-{}.db", uuid::Uuid::now_v7()));
        let store = Store::connect(&format!("sqlite:{}", file.display()), 4)
            .await
            .expect("a SQLite store");
        let state = AppState {
            store: Arc::new(store),
            config: Arc::new(Config::default()),
        };
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, ohjaamo_core::server::app(state))
                .await
                .unwrap()
        });
        Core {
            addr,
            base: format!("http://{addr}/fhir"),
            http: reqwest::Client::new(),
            file,
        }
    }

    pub async fn put(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let r = self
            .http
            .put(format!("{}/{path}", self.base))
            .header("x-ohjaamo-organization", TENANT)
            .header("content-type", "application/fhir+json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn stay(&self, visit: &str) -> Option<Value> {
        let r: Value = self
            .http
            .get(format!(
                "{}/Encounter?identifier=urn:oid:{ROOT}.8|{visit}",
                self.base
            ))
            .header("x-ohjaamo-organization", TENANT)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["entry"][0].get("resource").cloned()
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.file.display()));
        }
    }
}

pub fn location(id: &str, key: &str, physical: &str, part_of: Option<&str>) -> Value {
    let arc = if physical == "bd" { 4 } else { 2 };
    let mut l = json!({
        "resourceType": "Location", "id": id, "status": "active", "name": id,
        "identifier": [{ "system": format!("urn:oid:{ROOT}.{arc}"), "value": key }],
        "physicalType": { "coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/location-physical-type",
            "code": physical }] }
    });
    if let Some(parent) = part_of {
        l["partOf"] = json!({ "reference": format!("Location/{parent}") });
    }
    l
}

/// The ward K2 with beds K2-1-1 and K2-1-2.
pub async fn seed_beds(core: &Core) {
    for l in [
        location("k2", "K2", "wa", None),
        location("k2-1", "K2-1-1", "bd", Some("k2")),
        location("k2-2", "K2-1-2", "bd", Some("k2")),
    ] {
        let (status, body) = core
            .put(&format!("Location/{}", l["id"].as_str().unwrap()), &l)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
}
