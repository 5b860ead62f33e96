//! The initial load through FHIR Bulk Data `$export` (Bulk Data Access IG v2).
//!
//! Kick-off: `GET <base>/<export path>?_type=Location,Schedule,...` with `Prefer:
//! respond-async` and `Accept: application/fhir+json`; the upstream answers 202 and
//! the status URL in `Content-Location`. The status URL is polled: 202 means still
//! running (the wait is its `Retry-After`, its `X-Progress` is shown in the
//! adapter's status), 200 brings the manifest, whose `output` lists one or more
//! NDJSON files per type. Each file is downloaded to the export folder (with the
//! token when the manifest says `requiresAccessToken`), then read page by page like
//! a search: the stream's position says which file and which byte, so a restart goes
//! on where it stopped. When a type's files are read its position becomes the
//! manifest's `transactionTime`, and from then on the type is searched with
//! `_lastUpdated=gt<transactionTime>`. One export serves every type that starts
//! with it. The downloaded files are kept (a folder per export, named by its
//! `transactionTime`) so that a restart resumes where it stopped; once every type
//! has moved on to search they may be removed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ohjaamo_adapter_kit::source::Record;
use ohjaamo_adapter_kit::{Backoff, Page, PullError};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, AsyncSeekExt as _, AsyncWriteExt as _};
use tokio::sync::OnceCell;

use crate::position::{BulkPlace, Position};
use crate::upstream::{Upstream, UpstreamError, header};

/// Status polls a transient failure may interrupt before the export is given up
/// (and started again at the next try).
const MAX_POLL_FAILURES: u32 = 10;
/// The wait between status polls when the upstream names none.
const DEFAULT_POLL_WAIT: Duration = Duration::from_secs(2);

/// One export, for the types that start with it.
pub struct Bulk {
    upstream: Arc<Upstream>,
    dir: PathBuf,
    path: String,
    types: Vec<String>,
    page_size: usize,
    backoff: Backoff,
    manifest: OnceCell<Manifest>,
}

#[derive(Debug, Clone)]
struct Manifest {
    transaction_time: String,
    files: BTreeMap<String, Vec<String>>,
}

impl Bulk {
    /// `path` is the kick-off relative to the base: `$export` (system level) or
    /// `Group/<id>/$export` (what Epic offers); `dir` holds the downloaded files.
    pub fn new(
        upstream: Arc<Upstream>,
        dir: PathBuf,
        path: &str,
        types: Vec<String>,
        page_size: usize,
        backoff: Backoff,
    ) -> Bulk {
        Bulk {
            upstream,
            dir,
            path: path.trim_start_matches('/').to_owned(),
            types,
            page_size: page_size.max(1),
            backoff,
            manifest: OnceCell::new(),
        }
    }

    /// The export's `transactionTime`, once it is known.
    pub fn transaction_time(&self) -> Option<String> {
        self.manifest.get().map(|m| m.transaction_time.clone())
    }

    /// The page of `rtype` at `place` (`None`: its first page, exporting first if no
    /// export has run in this process).
    pub async fn page(&self, rtype: &str, place: Option<BulkPlace>) -> Result<Page, PullError> {
        let place = match place {
            Some(p) if p.files.iter().all(|f| Path::new(f).exists()) => p,
            Some(_) | None => {
                if place.is_some() {
                    tracing::warn!(
                        stream = rtype,
                        "the export's files are gone; exporting again"
                    );
                }
                let manifest = self.manifest.get_or_try_init(|| self.export()).await?;
                BulkPlace {
                    files: manifest.files.get(rtype).cloned().unwrap_or_default(),
                    file: 0,
                    offset: 0,
                    transaction_time: manifest.transaction_time.clone(),
                }
            }
        };
        self.read(rtype, place).await
    }

    /// Up to a page of lines from `place` on.
    async fn read(&self, rtype: &str, mut place: BulkPlace) -> Result<Page, PullError> {
        let mut records = Vec::new();
        while records.len() < self.page_size && place.file < place.files.len() {
            let path = &place.files[place.file];
            let unreadable = |e: std::io::Error| {
                PullError::Unavailable(format!("{rtype}: cannot read the export file {path}: {e}"))
            };
            let mut file = tokio::fs::File::open(path).await.map_err(unreadable)?;
            file.seek(std::io::SeekFrom::Start(place.offset))
                .await
                .map_err(unreadable)?;
            let mut lines = tokio::io::BufReader::new(file);
            let mut line = String::new();
            loop {
                if records.len() >= self.page_size {
                    break;
                }
                line.clear();
                let n = lines.read_line(&mut line).await.map_err(unreadable)?;
                if n == 0 {
                    place.file += 1;
                    place.offset = 0;
                    break;
                }
                place.offset += n as u64;
                if line.trim().is_empty() {
                    continue;
                }
                let body: Value = serde_json::from_str(&line).unwrap_or_else(|e| {
                    serde_json::json!({"unparsable": format!("line at byte {} of {path}: {e}", place.offset - n as u64)})
                });
                records.push(Record {
                    key: body["id"].as_str().unwrap_or("(no id)").to_owned(),
                    body,
                });
            }
        }
        let done = place.file >= place.files.len();
        let position = if done {
            Position {
                since: Some(place.transaction_time.clone()),
                ..Position::default()
            }
        } else {
            Position {
                bulk: Some(place),
                ..Position::default()
            }
        };
        Ok(Page {
            records,
            next_cursor: Some(position.text()),
            more: !done,
        })
    }

    /// Kick-off, polling and download: the manifest with local files.
    async fn export(&self) -> Result<Manifest, PullError> {
        let kick_off = format!(
            "{}/{}?_type={}",
            self.upstream.base(),
            self.path,
            self.types.join(",")
        );
        tracing::info!(url = %kick_off, "initial load through $export: kicking off");
        let http = self.upstream.http();
        let response = self
            .upstream
            .send("$export kick-off", true, || {
                http.get(&kick_off)
                    .header("accept", "application/fhir+json")
                    .header("prefer", "respond-async")
            })
            .await?;
        let Some(status_url) = header(&response, "content-location") else {
            return Err(PullError::Unusable(format!(
                "$export kick-off: the upstream answered {} without a Content-Location status URL",
                response.status()
            )));
        };
        let manifest = self.poll(&status_url).await?;
        let transaction_time = manifest["transactionTime"]
            .as_str()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
            .ok_or_else(|| {
                PullError::Unusable("$export: the manifest has no transactionTime".into())
            })?
            .to_string();
        for error in manifest["error"].as_array().into_iter().flatten() {
            tracing::warn!(url = %error["url"], "the export reports errors in an OperationOutcome file");
        }
        let with_token = manifest["requiresAccessToken"].as_bool().unwrap_or(true);
        let dir = self.dir.join(transaction_time.replace(':', "-"));
        tokio::fs::create_dir_all(&dir).await.map_err(|e| {
            PullError::Unavailable(format!(
                "cannot make the export folder {}: {e}",
                dir.display()
            ))
        })?;
        let mut files: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (n, output) in manifest["output"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let (Some(rtype), Some(url)) = (output["type"].as_str(), output["url"].as_str()) else {
                continue;
            };
            if !self.types.iter().any(|t| t == rtype) {
                continue;
            }
            let path = dir.join(format!("{n:04}-{rtype}.ndjson"));
            self.download(url, &path, with_token).await?;
            files
                .entry(rtype.to_owned())
                .or_default()
                .push(path.display().to_string());
        }
        // The upstream may now drop its copy (best effort: the files are here).
        let _ = self
            .upstream
            .send("$export clean-up", true, || http.delete(&status_url))
            .await;
        self.upstream.faults().set_progress(None);
        tracing::info!(files = files.values().map(Vec::len).sum::<usize>(), %transaction_time, "the export is downloaded");
        Ok(Manifest {
            transaction_time,
            files,
        })
    }

    /// Polls the status URL until the manifest comes.
    async fn poll(&self, status_url: &str) -> Result<Value, PullError> {
        let http = self.upstream.http();
        let mut failures = 0;
        loop {
            let answer = self
                .upstream
                .send("$export status", true, || {
                    http.get(status_url).header("accept", "application/json")
                })
                .await;
            let response = match answer {
                Ok(r) => r,
                Err(UpstreamError::Transient(why)) if failures < MAX_POLL_FAILURES => {
                    tracing::warn!(%why, "the export's status poll failed; polling again");
                    tokio::time::sleep(self.backoff.delay(failures)).await;
                    failures += 1;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            if response.status() == reqwest::StatusCode::ACCEPTED {
                let progress = header(&response, "x-progress");
                tracing::info!(
                    progress = progress.as_deref().unwrap_or(""),
                    "the export is running"
                );
                self.upstream.faults().set_progress(progress);
                let wait = header(&response, "retry-after")
                    .and_then(|v| crate::upstream::retry_after(&v))
                    .unwrap_or(DEFAULT_POLL_WAIT);
                tokio::time::sleep(wait).await;
                continue;
            }
            return response.json().await.map_err(|e| {
                PullError::Unusable(format!("$export status: the manifest is not JSON: {e}"))
            });
        }
    }

    /// Streams `url` to `path`.
    async fn download(&self, url: &str, path: &Path, with_token: bool) -> Result<(), PullError> {
        let http = self.upstream.http();
        let mut response = self
            .upstream
            .send("$export download", with_token, || {
                http.get(url).header("accept", "application/fhir+ndjson")
            })
            .await?;
        let failed = |e: String| {
            PullError::Unavailable(format!("downloading {url} to {}: {e}", path.display()))
        };
        let mut file = tokio::fs::File::create(path)
            .await
            .map_err(|e| failed(e.to_string()))?;
        while let Some(chunk) = response.chunk().await.map_err(|e| failed(e.to_string()))? {
            file.write_all(&chunk)
                .await
                .map_err(|e| failed(e.to_string()))?;
        }
        file.sync_all().await.map_err(|e| failed(e.to_string()))
    }
}

/// Whether the upstream's CapabilityStatement offers `$export`: an operation named
/// `export` (or `group-export`, `patient-export`) at the server level or on any type.
pub fn offers_export(capability: &Value) -> bool {
    let named_export = |op: &Value| {
        op["name"]
            .as_str()
            .is_some_and(|n| n == "export" || n.ends_with("-export"))
            || op["definition"]
                .as_str()
                .is_some_and(|d| d.ends_with("/export") || d.ends_with("-export"))
    };
    capability["rest"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|rest| {
            rest["operation"]
                .as_array()
                .into_iter()
                .flatten()
                .any(named_export)
                || rest["resource"].as_array().into_iter().flatten().any(|r| {
                    r["operation"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(named_export)
                })
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_capability_statement_says_whether_export_is_offered() {
        let with = json!({"rest": [{"mode": "server", "operation": [
            {"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"}]}]});
        assert!(offers_export(&with));
        let on_group = json!({"rest": [{"resource": [{"type": "Group", "operation": [
            {"name": "group-export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export"}]}]}]});
        assert!(offers_export(&on_group));
        let without = json!({"rest": [{"resource": [{"type": "Slot", "interaction": [{"code": "search-type"}]}]}]});
        assert!(!offers_export(&without));
        assert!(!offers_export(&json!({})));
    }
}
