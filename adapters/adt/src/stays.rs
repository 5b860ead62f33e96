//! The requests beyond one stay's read and write (`core_client`): every stay with a
//! key (a merge re-keys them all), a write by id (a re-keyed stay no longer has the
//! key it is found by), and a transaction of several stays (a swap moves two
//! patients at once, or neither). Each goes through [`CoreClient::send`] like the read
//! and write of one stay.

use serde_json::{Value, json};

use crate::core_client::{CoreClient, CoreError, StoredStay, classify, written};

/// One stay's write in a transaction: its key, the Encounter, the version it was
/// read at (`None`: created).
pub struct StayWrite<'a> {
    pub key: &'a str,
    pub encounter: &'a Value,
    pub version: Option<&'a str>,
}

impl CoreClient {
    /// Every stay with `key` among its identifiers (up to 100).
    pub async fn stays_with(&self, key: &str) -> Result<Vec<(String, StoredStay)>, CoreError> {
        let url = url::Url::parse_with_params(
            &format!("{}/Encounter", self.fhir_base),
            &[
                ("identifier", self.identifier(key)),
                ("_count", "100".to_owned()),
            ],
        )
        .map_err(|e| CoreError::Refused(format!("cannot build the core URL: {e}")))?;
        let response = self
            .send(|| {
                self.http
                    .get(url.clone())
                    .header("accept", "application/fhir+json")
            })
            .await?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(classify(status, &body));
        }
        Ok(body["entry"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| {
                let encounter = e.get("resource")?.clone();
                let id = encounter["id"].as_str()?.to_owned();
                let version = encounter["meta"]["versionId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                Some((id, StoredStay { encounter, version }))
            })
            .collect())
    }

    /// Writes the stay `id` over version `version`.
    pub async fn write_by_id(
        &self,
        id: &str,
        encounter: &Value,
        version: &str,
    ) -> Result<(), CoreError> {
        let url = format!("{}/Encounter/{id}", self.fhir_base);
        let body = encounter.to_string();
        let response = self
            .send(|| {
                self.http
                    .put(&url)
                    .header("content-type", "application/fhir+json")
                    .header("if-match", format!("W/\"{version}\""))
                    .body(body.clone())
            })
            .await?;
        written(response).await
    }

    /// Writes `stays` in one FHIR transaction: all of them, or none.
    pub async fn write_together(&self, stays: &[StayWrite<'_>]) -> Result<(), CoreError> {
        let entries: Vec<Value> = stays
            .iter()
            .map(|s| {
                let mut request = json!({
                    "method": "PUT",
                    "url": format!(
                        "Encounter?identifier={}",
                        url::form_urlencoded::byte_serialize(self.identifier(s.key).as_bytes())
                            .collect::<String>()
                    ),
                });
                if let Some(v) = s.version {
                    request["ifMatch"] = json!(format!("W/\"{v}\""));
                }
                json!({ "resource": s.encounter, "request": request })
            })
            .collect();
        self.transaction(entries).await
    }
}
