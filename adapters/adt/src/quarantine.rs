//! Messages that cannot be applied: kept, never dropped.
//!
//! Each is appended as one JSON line to the quarantine file (received time, reason,
//! control id, the message bytes in hex), logged at warn with the reason, and counted
//! (`ohjaamo_adapter_quarantined_total{source}`). The PID segment is blanked before
//! the message is kept: the identity code and name are never needed to see why a
//! message failed. A message too broken to find its segments is kept whole, so the
//! file must be protected like the feed itself.

use std::path::PathBuf;

use serde_json::json;
use tokio::io::AsyncWriteExt as _;
use tokio::sync::Mutex;

pub struct Quarantine {
    path: PathBuf,
    source: String,
    /// One writer at a time, so lines never interleave.
    file: Mutex<()>,
}

impl Quarantine {
    pub fn new(path: PathBuf, source: &str) -> Quarantine {
        Quarantine {
            path,
            source: source.to_owned(),
            file: Mutex::new(()),
        }
    }

    /// Keeps `raw` with `reason`. An error writing the file is returned: the caller
    /// must then not acknowledge the message, so that it is not lost.
    pub async fn put(&self, control_id: &str, reason: &str, raw: &[u8]) -> std::io::Result<()> {
        tracing::warn!(source = %self.source, control_id, reason, "message quarantined");
        metrics::counter!("ohjaamo_adapter_quarantined_total", "source" => self.source.clone())
            .increment(1);
        let line = json!({
            "received_at": jiff::Timestamp::now().to_string(),
            "source": self.source,
            "control_id": control_id,
            "reason": reason,
            "message_hex": hex::encode(without_pid(raw)),
        });
        let _turn = self.file.lock().await;
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .await?;
        file.write_all(format!("{line}\n").as_bytes()).await?;
        file.sync_data().await
    }

    /// The quarantined messages, oldest first, as written (for inspection).
    pub async fn list(&self) -> std::io::Result<Vec<serde_json::Value>> {
        let text = match tokio::fs::read_to_string(&self.path).await {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        Ok(text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect())
    }
}

/// The message with its PID segment's fields removed (segments end in CR or LF).
fn without_pid(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    for segment in raw.split_inclusive(|b| *b == b'\r' || *b == b'\n') {
        if segment.starts_with(b"PID") {
            out.extend_from_slice(b"PID|(removed)");
            if let Some(end) = segment.last().filter(|b| **b == b'\r' || **b == b'\n') {
                out.push(*end);
            }
        } else {
            out.extend_from_slice(segment);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_is_blanked() {
        let raw = b"MSH|^~\\&|A\rPID|1||010190-900P||Meik\xe4l\xe4inen\rPV1|1|I\r";
        let kept = without_pid(raw);
        assert_eq!(kept, b"MSH|^~\\&|A\rPID|(removed)\rPV1|1|I\r");
    }
}
