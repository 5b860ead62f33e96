//! The durable position of each stream an adapter reads.
//!
//! One small JSON file per adapter (`{"stream": "cursor", ...}`), replaced atomically:
//! written to a temporary file beside it, flushed to disk, renamed over the old one and
//! the directory flushed, so that a crash at any moment leaves either the old or the
//! new positions — never a torn file. The runner saves a stream's cursor only after the
//! core acknowledged everything read before it, so a restart re-reads at most one page
//! and the conditional updates make that replay a no-op.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tokio::io::AsyncWriteExt as _;
use tokio::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum CursorError {
    #[error("cannot read the cursor file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the cursor file {path} is not a JSON object of strings: {source}")]
    Corrupt {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot write the cursor file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub struct CursorStore {
    path: PathBuf,
    positions: Mutex<BTreeMap<String, String>>,
}

impl CursorStore {
    /// Opens the store at `path`; a missing file means every stream starts from the
    /// beginning. A corrupt file is an error, not a silent restart from zero.
    pub async fn open(path: impl Into<PathBuf>) -> Result<CursorStore, CursorError> {
        let path = path.into();
        let positions = match tokio::fs::read(&path).await {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| CursorError::Corrupt {
                path: path.clone(),
                source,
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(source) => return Err(CursorError::Read { path, source }),
        };
        Ok(CursorStore {
            path,
            positions: Mutex::new(positions),
        })
    }

    /// The saved cursor of `stream`, or `None` to start from the beginning.
    pub async fn get(&self, stream: &str) -> Option<String> {
        self.positions.lock().await.get(stream).cloned()
    }

    /// All saved positions (for the status endpoint and tests).
    pub async fn all(&self) -> BTreeMap<String, String> {
        self.positions.lock().await.clone()
    }

    /// Saves `cursor` for `stream`, durably, before returning.
    pub async fn save(&self, stream: &str, cursor: &str) -> Result<(), CursorError> {
        let mut positions = self.positions.lock().await;
        if positions.get(stream).map(String::as_str) == Some(cursor) {
            return Ok(());
        }
        let mut next = positions.clone();
        next.insert(stream.to_owned(), cursor.to_owned());
        write_atomically(&self.path, &next)
            .await
            .map_err(|source| CursorError::Write {
                path: self.path.clone(),
                source,
            })?;
        *positions = next;
        Ok(())
    }
}

async fn write_atomically(
    path: &Path,
    positions: &BTreeMap<String, String>,
) -> std::io::Result<()> {
    let text = serde_json::to_vec_pretty(positions).map_err(std::io::Error::other)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    tokio::fs::create_dir_all(&dir).await?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "cursor".into());
    let temp = dir.join(format!(".{file_name}.tmp"));
    let mut file = tokio::fs::File::create(&temp).await?;
    file.write_all(&text).await?;
    file.sync_all().await?;
    drop(file);
    tokio::fs::rename(&temp, path).await?;
    // The rename itself is durable only once the directory is flushed.
    tokio::fs::File::open(&dir).await?.sync_all().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("ohjaamo-cursor-{}-{name}.json", std::process::id()))
    }

    #[tokio::test]
    async fn positions_survive_a_reopen() {
        let path = temp_path("reopen");
        let _ = std::fs::remove_file(&path);
        let store = CursorStore::open(&path).await.unwrap();
        assert_eq!(store.get("units").await, None);
        store
            .save("units", "2026-11-29T10:00:00Z#17")
            .await
            .unwrap();
        store.save("beds", "42").await.unwrap();
        drop(store);
        let again = CursorStore::open(&path).await.unwrap();
        assert_eq!(
            again.get("units").await.as_deref(),
            Some("2026-11-29T10:00:00Z#17")
        );
        assert_eq!(again.get("beds").await.as_deref(), Some("42"));
        std::fs::remove_file(&path).unwrap();
    }

    #[tokio::test]
    async fn a_corrupt_file_is_an_error_not_a_restart() {
        let path = temp_path("corrupt");
        std::fs::write(&path, b"{\"units\": ").unwrap();
        let error = CursorStore::open(&path).await.err().expect("an error");
        assert!(matches!(error, CursorError::Corrupt { .. }), "{error}");
        std::fs::remove_file(&path).unwrap();
    }
}
