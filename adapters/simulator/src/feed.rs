//! The ADT feed: messages in order over MLLP, each resent until it is acknowledged.
//!
//! The sender takes the oldest message of the world's outbox, sends it and waits for
//! the ACK; only then is the message removed. No ACK in time, a closed connection or
//! a refused connect: reconnect after a pause and send the same message again — as
//! Lifecare-style senders do, so a receiver must treat replays as no-ops.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ohjaamo_hl7::mllp::{read_frame, write_frame};
use ohjaamo_hl7::{Message, MllpDecoder};
use serde::Serialize;
use tokio::net::TcpStream;
use tokio::sync::{Mutex, watch};

use crate::faults::{Dice, Faults};
use crate::world::World;

const ACK_TIMEOUT: Duration = Duration::from_secs(10);

/// What the feed has done, for `/truth` and the logs.
#[derive(Debug, Default, Serialize)]
pub struct FeedCounts {
    pub sent: AtomicU64,
    pub accepted: AtomicU64,
    pub errors: AtomicU64,
    pub rejected: AtomicU64,
    pub resent: AtomicU64,
    pub garbage_sent: AtomicU64,
    /// Milliseconds from a message being made to its `AA`, the latest samples.
    #[serde(skip)]
    lags: std::sync::Mutex<VecDeque<u64>>,
}

/// How many lag samples are kept.
const LAG_SAMPLES: usize = 10_000;

impl FeedCounts {
    fn record_lag(&self, made: std::time::Instant) {
        let mut lags = self.lags.lock().unwrap_or_else(|e| e.into_inner());
        if lags.len() == LAG_SAMPLES {
            lags.pop_front();
        }
        lags.push_back(made.elapsed().as_millis() as u64);
    }

    pub fn reset_lag(&self) {
        self.lags.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// `{n, p50, p99, max}` of the kept lag samples, in milliseconds.
    pub fn lag_summary(&self) -> serde_json::Value {
        let mut lags: Vec<u64> = self
            .lags
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .copied()
            .collect();
        lags.sort_unstable();
        let at = |q: f64| -> Option<u64> {
            let i = ((lags.len() as f64 - 1.0) * q).round() as usize;
            lags.get(i).copied()
        };
        serde_json::json!({"n": lags.len(), "p50": at(0.5), "p99": at(0.99), "max": lags.last()})
    }
}

/// Sends the outbox of `world` to `target` until `shutdown`.
pub async fn run(
    world: Arc<Mutex<World>>,
    target: String,
    faults: Faults,
    dice: Arc<Dice>,
    counts: Arc<FeedCounts>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut pause = Duration::from_millis(100);
    let mut since_drop = 0u32;
    loop {
        if *shutdown.borrow() {
            return;
        }
        let stream = match TcpStream::connect(&target).await {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!(%target, error = %e, "ADT receiver not reachable");
                if wait(&mut shutdown, pause).await {
                    return;
                }
                pause = (pause * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        pause = Duration::from_millis(100);
        tracing::info!(%target, "ADT feed connected");
        let (mut reader, mut writer) = stream.into_split();
        let mut decoder = MllpDecoder::new(1 << 20);
        loop {
            let next = world.lock().await.outbox.front().cloned();
            let Some(message) = next else {
                if wait(&mut shutdown, Duration::from_millis(20)).await {
                    return;
                }
                continue;
            };
            if dice.roll(faults.garbage_mllp_rate) {
                counts.garbage_sent.fetch_add(1, Ordering::Relaxed);
                let garbage = b"GARBAGE\x00\xff not an HL7 message".to_vec();
                if write_frame(&mut writer, &garbage).await.is_err() {
                    break;
                }
                // Its NAK (or nothing) is read and ignored.
                let _ =
                    tokio::time::timeout(ACK_TIMEOUT, read_frame(&mut reader, &mut decoder)).await;
            }
            if write_frame(&mut writer, &message.bytes).await.is_err() {
                break;
            }
            counts.sent.fetch_add(1, Ordering::Relaxed);
            since_drop += 1;
            if faults.drop_mllp_every > 0 && since_drop >= faults.drop_mllp_every {
                since_drop = 0;
                counts.resent.fetch_add(1, Ordering::Relaxed);
                tracing::info!("fault: dropping the MLLP connection before the ACK");
                break;
            }
            let ack = match tokio::time::timeout(ACK_TIMEOUT, read_frame(&mut reader, &mut decoder))
                .await
            {
                Ok(Ok(Some(frame))) => frame.payload,
                _ => {
                    counts.resent.fetch_add(1, Ordering::Relaxed);
                    break;
                }
            };
            let code = Message::parse(&ack)
                .ok()
                .and_then(|m| m.get("MSA-1").map(|c| c.into_owned()))
                .unwrap_or_default();
            match code.as_str() {
                "AA" | "CA" => {
                    counts.record_lag(message.made);
                    counts.accepted.fetch_add(1, Ordering::Relaxed)
                }
                "AE" | "CE" => counts.errors.fetch_add(1, Ordering::Relaxed),
                _ => counts.rejected.fetch_add(1, Ordering::Relaxed),
            };
            if !matches!(code.as_str(), "AA" | "CA") {
                tracing::warn!(ack = %code, "the receiver did not accept an ADT message");
            }
            world.lock().await.outbox.pop_front();
        }
        if wait(&mut shutdown, pause).await {
            return;
        }
    }
}

/// Sleeps; true when shutting down.
async fn wait(shutdown: &mut watch::Receiver<bool>, pause: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(pause) => *shutdown.borrow(),
        _ = shutdown.changed() => true,
    }
}
