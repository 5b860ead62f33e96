//! `ohjaamo adapter-adt replay-quarantine`: quarantined messages sent through the
//! mapping to the core again, once what made them fail is fixed (the mapping, the
//! core, the master data the export brings).
//!
//! Each entry is settled exactly as the listener settles a message: what the core
//! takes now leaves the quarantine; what still fails stays, with the new reason. The
//! quarantine keeps only the fields the mapping reads, and the mapping never needed
//! the patient: the stay is found by its visit number (PV1-19), which is kept, so a
//! replay writes the same stay the message would have. Its limits:
//!
//! - the event is applied to the stay as it is *now*: a transfer replayed after later
//!   moves of the stay is added after them, so replay in the order received (`--all`
//!   does) and look at the stay afterwards;
//! - entries kept only in part (a message over the size limit: its start) or only as a
//!   diagnostic, and entries written before entries had ids, cannot be replayed;
//! - the core must be reachable: an entry whose core stays unavailable for a minute
//!   stays, with that as its reason.
//!
//! Only one replay of a quarantine runs at a time (the kit's replay lock); the
//! adapter may keep running and appending meanwhile.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context as _;
use ohjaamo_adapter_kit::quarantine::Settled;
use serde_json::Value;
use tokio::sync::watch;

use crate::adapter::AdtAdapter;
use crate::settle::Outcome;

/// Which quarantined messages to replay.
#[derive(clap::Args, Debug)]
#[group(required = true, multiple = false)]
pub struct ReplayArgs {
    /// The entry with this id (its `id` in the quarantine file).
    #[arg(long)]
    pub id: Option<String>,
    /// Every replayable entry, oldest first.
    #[arg(long)]
    pub all: bool,
}

/// How long one entry waits for an unavailable core before it is left as it is.
const PATIENCE: Duration = Duration::from_secs(60);

/// Replays the entries `which` names; an error when any of them still fails or
/// could not be replayed, so a script notices.
pub async fn run(
    adapter: &AdtAdapter,
    which: ReplayArgs,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let quarantine = &adapter.quarantine;
    let lock = quarantine.lock_for_replay()?;
    let entries = quarantine
        .list()
        .await
        .with_context(|| format!("cannot read {}", quarantine.path().display()))?;
    let chosen: Vec<&Value> = match &which.id {
        Some(id) => {
            let found: Vec<&Value> = entries.iter().filter(|e| e["id"] == *id).collect();
            anyhow::ensure!(
                !found.is_empty(),
                "no entry {id} in {}",
                quarantine.path().display()
            );
            found
        }
        None => entries.iter().collect(),
    };
    let mut outcomes = HashMap::new();
    let mut not_replayable = 0;
    for entry in chosen {
        if *stop.borrow() {
            break;
        }
        let (id, raw) = match replayable(entry) {
            Ok(found) => found,
            Err(why) => {
                println!(
                    "{}: not replayed: {why}",
                    entry["id"].as_str().unwrap_or("-")
                );
                not_replayable += 1;
                continue;
            }
        };
        let settled = match replay_one(adapter, &raw, &mut stop).await {
            Some(Outcome::Stored(_)) => Settled::Replayed,
            Some(failed) => Settled::Failed(failed.failure().unwrap_or_default()),
            None => Settled::Failed(format!(
                "replay: the core did not take the message within {}s",
                PATIENCE.as_secs()
            )),
        };
        match &settled {
            Settled::Replayed => println!("{id}: replayed, removed from the quarantine"),
            Settled::Failed(reason) => println!("{id}: still fails, kept: {reason}"),
        }
        outcomes.insert(id.to_owned(), settled);
    }
    let failed = outcomes
        .values()
        .filter(|s| matches!(s, Settled::Failed(_)))
        .count();
    let replayed = outcomes.len() - failed;
    quarantine
        .settle(&lock, outcomes)
        .await
        .with_context(|| format!("cannot rewrite {}", quarantine.path().display()))?;
    println!("replayed {replayed}, still failing {failed}, not replayable {not_replayable}");
    anyhow::ensure!(
        failed + not_replayable == 0,
        "{} entries stay in the quarantine",
        failed + not_replayable
    );
    Ok(())
}

/// The entry's id and message, or why it cannot be replayed.
fn replayable(entry: &Value) -> Result<(&str, Vec<u8>), &'static str> {
    let id = entry["id"]
        .as_str()
        .ok_or("written before quarantine entries had ids")?;
    let hex = entry["message_hex"]
        .as_str()
        .ok_or("only the start of the message or a diagnostic was kept (too large or not HL7)")?;
    let raw = hex::decode(hex).map_err(|_| "its message_hex is not hex")?;
    Ok((id, raw))
}

/// Settles one message, waiting at most [`PATIENCE`] for an unavailable core;
/// `None` when it did not settle by then or the process is stopping.
async fn replay_one(
    adapter: &AdtAdapter,
    raw: &[u8],
    stop: &mut watch::Receiver<bool>,
) -> Option<Outcome> {
    // `settle` gives up when this turns true; it never does, the timeout and the
    // process's stop below end the wait instead.
    let (_keep, mut never) = watch::channel(false);
    tokio::select! {
        outcome = adapter.settle(raw, &mut never) => outcome,
        _ = tokio::time::sleep(PATIENCE) => None,
        _ = stop.changed() => None,
    }
}
