//! Records that cannot be mapped or are refused by the core: kept, never dropped.
//!
//! Each is appended as one JSON line to the adapter's quarantine file (when, which
//! source and stream, the record's key, the reason, and the record itself), logged at
//! warn with the reason and counted (`ohjaamo_adapter_quarantined_total{source}`).
//! Callers remove personal data the reason does not need before handing a record
//! over (the ADT adapter blanks the PID segment), but the file must still be protected
//! like the feed itself.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt as _;
use tokio::sync::Mutex;

pub struct Quarantine {
    path: PathBuf,
    source: String,
    /// One writer at a time, so lines never interleave.
    file: Mutex<()>,
    kept: AtomicU64,
}

/// What a quarantined record was.
pub enum Payload<'a> {
    /// Raw bytes (an HL7 message), kept as hex so any encoding survives.
    Bytes(&'a [u8]),
    /// A JSON record of a pulled export.
    Json(&'a Value),
}

impl Quarantine {
    pub fn new(path: PathBuf, source: &str) -> Quarantine {
        Quarantine {
            path,
            source: source.to_owned(),
            file: Mutex::new(()),
            kept: AtomicU64::new(0),
        }
    }

    /// The file the records go to (the adapters' `/status` names it).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records kept by this process (the file also holds earlier runs').
    pub fn kept(&self) -> u64 {
        self.kept.load(Ordering::Relaxed)
    }

    /// Keeps a record. An error writing the file is returned: the caller must then not
    /// acknowledge or move past the record, so that it is not lost.
    pub async fn put(
        &self,
        stream: &str,
        key: &str,
        reason: &str,
        payload: Payload<'_>,
    ) -> std::io::Result<()> {
        tracing::warn!(source = %self.source, stream, key, reason, "record quarantined");
        metrics::counter!("ohjaamo_adapter_quarantined_total", "source" => self.source.clone())
            .increment(1);
        let mut line = json!({
            "received_at": jiff::Timestamp::now().to_string(),
            "source": self.source,
            "stream": stream,
            "key": key,
            "reason": reason,
        });
        match payload {
            Payload::Bytes(bytes) => line["message_hex"] = Value::String(hex::encode(bytes)),
            Payload::Json(record) => line["record"] = record.clone(),
        }
        let _turn = self.file.lock().await;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(dir).await?;
        }
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .await?;
        file.write_all(format!("{line}\n").as_bytes()).await?;
        file.sync_data().await?;
        self.kept.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// The quarantined records, oldest first, as written (for inspection).
    pub async fn list(&self) -> std::io::Result<Vec<Value>> {
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
