//! Records that cannot be mapped or are refused by the core: kept, never dropped.
//!
//! Each is appended as one JSON line to the adapter's quarantine file (its `id`, when,
//! which source and stream, the record's key, the reason, and what is kept of the
//! record), logged at warn with the reason and counted
//! (`ohjaamo_adapter_quarantined_total{source}`). Callers keep only what the reason
//! and a replay need (the ADT adapter: the fields its mapping reads, never the
//! patient's identity); the file must still be protected like the feed itself.
//!
//! The id is a UUIDv7, stable for the entry's life, so a replay ([`rewrite`]) can name
//! one entry and settle it while the adapter goes on appending. Every append and
//! every rewrite takes an OS lock on `<file>.lock`, so a replay in another process
//! never loses a line the adapter is writing.

mod rewrite;

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Value, json};
use tokio::sync::Mutex;

pub use rewrite::{ReplayLock, Settled};

pub struct Quarantine {
    path: PathBuf,
    source: String,
    /// One writer of this process at a time, so lines never interleave.
    file: Mutex<()>,
    kept: AtomicU64,
}

/// What a quarantined record was.
pub enum Payload<'a> {
    /// A message as bytes (an HL7 message), kept as hex (`message_hex`) so any
    /// encoding survives. A replay reads it.
    Bytes(&'a [u8]),
    /// The start of a message too large to keep whole (`message_prefix_hex`): enough
    /// to see what it was, never replayed (its end is missing).
    Prefix(&'a [u8]),
    /// Input too broken to keep even in part: a description of it (`diagnostic`).
    Diagnostic(&'a str),
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

    /// Keeps a record and answers its id. An error writing the file is returned: the
    /// caller must then not acknowledge or move past the record, so that it is not lost.
    pub async fn put(
        &self,
        stream: &str,
        key: &str,
        reason: &str,
        payload: Payload<'_>,
    ) -> std::io::Result<String> {
        tracing::warn!(source = %self.source, stream, key, reason, "record quarantined");
        metrics::counter!("ohjaamo_adapter_quarantined_total", "source" => self.source.clone())
            .increment(1);
        let id = uuid::Uuid::now_v7().to_string();
        let mut line = json!({
            "id": id,
            "received_at": jiff::Timestamp::now().to_string(),
            "source": self.source,
            "stream": stream,
            "key": key,
            "reason": reason,
        });
        match payload {
            Payload::Bytes(bytes) => line["message_hex"] = Value::String(hex::encode(bytes)),
            Payload::Prefix(bytes) => {
                line["message_prefix_hex"] = Value::String(hex::encode(bytes));
            }
            Payload::Diagnostic(text) => line["diagnostic"] = Value::String(text.to_owned()),
            Payload::Json(record) => line["record"] = record.clone(),
        }
        let _turn = self.file.lock().await;
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || append(&path, &format!("{line}\n")))
            .await
            .map_err(std::io::Error::other)??;
        self.kept.fetch_add(1, Ordering::Relaxed);
        Ok(id)
    }

    /// Takes the replay lock of this quarantine, or fails at once (`WouldBlock`)
    /// when another replay holds it.
    pub fn lock_for_replay(&self) -> std::io::Result<ReplayLock> {
        rewrite::replay_lock(&self.path)
    }

    /// Rewrites the file with `outcomes` applied (by entry id): replayed entries are
    /// removed, failed ones keep their place with the new reason, the time of the
    /// replay and how many replays they failed. Entries not named, and lines that are
    /// not JSON, are kept as they are — including any appended during the replay.
    pub async fn settle(
        &self,
        _replay: &ReplayLock,
        outcomes: HashMap<String, Settled>,
    ) -> std::io::Result<()> {
        let path = self.path.clone();
        let _turn = self.file.lock().await;
        tokio::task::spawn_blocking(move || rewrite::rewrite(&path, &outcomes))
            .await
            .map_err(std::io::Error::other)?
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

/// Appends `line` to the file at `path` under its lock, synced to disk.
fn append(path: &Path, line: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let _lock = rewrite::lock_file(path)?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(line.as_bytes())?;
    file.sync_data()
}
