//! The quarantine file: entries with stable ids, settled after a replay while others
//! are appended, and one replay at a time.

use std::collections::HashMap;
use std::path::PathBuf;

use ohjaamo_adapter_kit::Quarantine;
use ohjaamo_adapter_kit::quarantine::{Payload, Settled};

/// A quarantine file of its own in the temporary folder, removed at the end.
struct File(PathBuf);

impl File {
    fn new(name: &str) -> File {
        File(std::env::temp_dir().join(format!(
            "ohjaamo-kit-quarantine-{name}-{}.jsonl",
            std::process::id()
        )))
    }
}

impl Drop for File {
    fn drop(&mut self) {
        for suffix in ["", ".lock", ".replay.lock"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

#[tokio::test]
async fn entries_have_ids_and_a_replay_settles_them() {
    let file = File::new("settle");
    let quarantine = Quarantine::new(file.0.clone(), "adt");
    let first = quarantine
        .put("adt", "M1", "unmappable", Payload::Bytes(b"MSH|1"))
        .await
        .unwrap();
    let second = quarantine
        .put("adt", "M2", "refused", Payload::Bytes(b"MSH|2"))
        .await
        .unwrap();
    quarantine
        .put("adt", "", "broken", Payload::Diagnostic("12 bytes"))
        .await
        .unwrap();
    assert_ne!(first, second);
    let listed = quarantine.list().await.unwrap();
    assert_eq!(listed[0]["id"], first.as_str());
    assert_eq!(listed[2]["diagnostic"], "12 bytes");
    assert!(listed[2].get("message_hex").is_none());

    let lock = quarantine.lock_for_replay().unwrap();
    // An entry appended while the replay runs (the adapter goes on).
    let later = quarantine
        .put("adt", "M4", "later", Payload::Prefix(b"MSH|4"))
        .await
        .unwrap();
    let outcomes = HashMap::from([
        (first.clone(), Settled::Replayed),
        (second.clone(), Settled::Failed("still refused".into())),
    ]);
    quarantine.settle(&lock, outcomes.clone()).await.unwrap();
    let listed = quarantine.list().await.unwrap();
    let ids: Vec<&str> = listed.iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!(ids.len(), 3, "{listed:?}");
    assert!(!ids.contains(&first.as_str()), "the replayed entry is gone");
    assert!(ids.contains(&later.as_str()), "the later entry is kept");
    assert_eq!(listed[0]["id"], second.as_str(), "ids do not change");
    assert_eq!(listed[0]["reason"], "still refused");
    assert_eq!(listed[0]["previous_reason"], "refused");
    assert_eq!(listed[0]["replay_attempts"], 1);
    assert_eq!(listed[2]["message_prefix_hex"], hex::encode(b"MSH|4"));

    // Failing again counts again.
    quarantine.settle(&lock, outcomes).await.unwrap();
    assert_eq!(quarantine.list().await.unwrap()[0]["replay_attempts"], 2);
}

#[tokio::test]
async fn one_replay_at_a_time() {
    let file = File::new("lock");
    let one = Quarantine::new(file.0.clone(), "adt");
    let other = Quarantine::new(file.0.clone(), "adt");
    let held = one.lock_for_replay().unwrap();
    let refused = other.lock_for_replay().unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::WouldBlock);
    assert!(refused.to_string().contains("another replay"), "{refused}");
    drop(held);
    other
        .lock_for_replay()
        .expect("free again once the first is done");
}

#[tokio::test]
async fn lines_that_are_not_json_survive_a_rewrite() {
    let file = File::new("garbled");
    std::fs::write(&file.0, "{not json\n").unwrap();
    let quarantine = Quarantine::new(file.0.clone(), "adt");
    let id = quarantine
        .put("adt", "M1", "x", Payload::Bytes(b"MSH|1"))
        .await
        .unwrap();
    let lock = quarantine.lock_for_replay().unwrap();
    quarantine
        .settle(&lock, HashMap::from([(id, Settled::Replayed)]))
        .await
        .unwrap();
    assert_eq!(std::fs::read_to_string(&file.0).unwrap(), "{not json\n");
}
