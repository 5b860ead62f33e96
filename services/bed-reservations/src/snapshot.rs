//! Taking the snapshot: `GET /picture?kind=ward` from the core, retried until it
//! answers (the replica is useless without it, and the queue keeps the events
//! meanwhile).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::replica::{Replica, Ward, lock};
use crate::settings::Settings;

pub struct Snapshots {
    http: reqwest::Client,
    url: String,
    organization: String,
}

impl Snapshots {
    pub fn new(settings: &Settings) -> Snapshots {
        Snapshots {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap_or_default(),
            url: format!("{}/picture?kind=ward", settings.core.trim_end_matches('/')),
            organization: settings.organization.clone(),
        }
    }

    /// Loads a snapshot into `replica`, retrying until the core answers.
    pub async fn take(&self, replica: &Mutex<Replica>) {
        let mut pause = Duration::from_millis(200);
        loop {
            match self.fetch().await {
                Ok(Snapshot {
                    sequence,
                    epoch,
                    wards,
                }) => {
                    tracing::info!(sequence, epoch, wards = wards.len(), "snapshot loaded");
                    lock(replica).load_snapshot(sequence, &epoch, wards);
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?pause, "cannot take a snapshot from the core");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(10));
                }
            }
        }
    }

    async fn fetch(&self) -> Result<Snapshot, String> {
        let response = self
            .http
            .get(&self.url)
            .header("X-Ohjaamo-Organization", &self.organization)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("GET {} answered {}", self.url, response.status()));
        }
        let body: Value = response.json().await.map_err(|e| e.to_string())?;
        parse_snapshot(&body)
    }
}

/// A snapshot as read: the sequence and epoch it is as of, and the wards.
#[derive(Debug)]
pub struct Snapshot {
    pub sequence: u64,
    /// Empty from a core before epochs.
    pub epoch: String,
    pub wards: BTreeMap<String, Ward>,
}

/// A `GET /picture` body as the replica's wards. Figures that do not read as the
/// picture's ward figures (a field missing or renamed) fail the snapshot, which is
/// then retried: never a ward of zeros.
pub fn parse_snapshot(body: &Value) -> Result<Snapshot, String> {
    let sequence = body["sequence"]
        .as_u64()
        .ok_or("the snapshot has no sequence")?;
    let epoch = match &body["epoch"] {
        Value::Null => String::new(),
        Value::String(epoch) => epoch.clone(),
        other => return Err(format!("the snapshot's epoch is not text: {other}")),
    };
    let mut wards = BTreeMap::new();
    for unit in body["units"].as_array().into_iter().flatten() {
        let (Some(id), Some(unit_sequence)) = (unit["id"].as_str(), unit["sequence"].as_u64())
        else {
            return Err(format!("a snapshot unit without id or sequence: {unit}"));
        };
        let figures = ohjaamo_picture::WardFigures::deserialize(&unit["figures"])
            .map_err(|e| format!("the figures of ward {id} in the snapshot: {e}"))?;
        wards.insert(
            id.to_owned(),
            Ward {
                name: unit["name"].as_str().unwrap_or_default().to_owned(),
                sequence: unit_sequence,
                figures: figures.into(),
            },
        );
    }
    Ok(Snapshot {
        sequence,
        epoch,
        wards,
    })
}
