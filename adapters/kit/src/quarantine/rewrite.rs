//! Settling quarantined entries after a replay, beside an adapter that may still be
//! appending to the same file.
//!
//! Two OS file locks (released by the OS when their holder exits, so a crash leaves
//! none behind): `<file>.replay.lock` is held for a whole replay, so two replays
//! never run at once (the second is refused at once rather than waiting: two
//! operators replaying the same entries would write each stay twice); `<file>.lock`
//! is held only while a line is appended or the file rewritten, so the rewrite —
//! read, change, write a new file, rename it over the old — cannot lose a line the
//! adapter appends meanwhile.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

/// What a replay made of one entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// The core took it now: the entry leaves the quarantine.
    Replayed,
    /// It failed again, for this reason: the entry stays, with the new reason.
    Failed(String),
}

/// Held while a replay runs; dropping it lets the next one start.
#[derive(Debug)]
pub struct ReplayLock {
    _file: File,
}

/// Takes the replay lock of the quarantine at `path`, or fails at once
/// (`WouldBlock`) when another replay holds it.
pub(super) fn replay_lock(path: &Path) -> std::io::Result<ReplayLock> {
    let lock_path = beside(path, ".replay.lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)?;
    match file.try_lock() {
        Ok(()) => Ok(ReplayLock { _file: file }),
        Err(TryLockError::WouldBlock) => Err(std::io::Error::new(
            std::io::ErrorKind::WouldBlock,
            format!(
                "another replay of {} is running (it holds {})",
                path.display(),
                lock_path.display()
            ),
        )),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

/// Rewrites the file with `outcomes` applied (see [`super::Quarantine::settle`]).
pub(super) fn rewrite(path: &Path, outcomes: &HashMap<String, Settled>) -> std::io::Result<()> {
    let _lock = lock_file(path)?;
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let now = jiff::Timestamp::now().to_string();
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut entry: Value = match serde_json::from_str(line) {
            Ok(entry) => entry,
            Err(_) => {
                out.push_str(line);
                out.push('\n');
                continue;
            }
        };
        match entry["id"].as_str().and_then(|id| outcomes.get(id)) {
            Some(Settled::Replayed) => continue,
            Some(Settled::Failed(reason)) => {
                let attempts = entry["replay_attempts"].as_u64().unwrap_or(0) + 1;
                entry["previous_reason"] = entry["reason"].take();
                entry["reason"] = json!(reason);
                entry["replayed_at"] = json!(now);
                entry["replay_attempts"] = json!(attempts);
            }
            None => {}
        }
        out.push_str(&entry.to_string());
        out.push('\n');
    }
    let temporary = beside(path, ".rewrite");
    let mut file = File::create(&temporary)?;
    // The new file is as private as the old: it holds the same kind of data.
    file.set_permissions(std::fs::metadata(path)?.permissions())?;
    file.write_all(out.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)?;
    // The rename itself is durable only once the folder is synced.
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    File::open(dir)?.sync_all()
}

/// Waits for and takes the lock on `<file>.lock` (appends and rewrites).
pub(super) fn lock_file(path: &Path) -> std::io::Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(beside(path, ".lock"))?;
    file.lock()?;
    Ok(file)
}

/// `path` with `suffix` added to its file name.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}
