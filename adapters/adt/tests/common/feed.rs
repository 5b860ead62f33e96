//! An adapter listening on a free port, and a sender to talk MLLP to it.

use std::sync::Arc;
use std::time::Duration;

use jiff::tz::TimeZone;
use ohjaamo_adapter_adt::core_client::CoreClient;
use ohjaamo_adapter_adt::{AdtAdapter, Backoff, Limits, Quarantine, SourceIds, serve};
use ohjaamo_adapter_kit::CoreAuth;
use ohjaamo_adapter_kit::testing::TENANT;
use ohjaamo_hl7::mllp::{read_frame, write_frame};
use ohjaamo_hl7::{AckBuilder, MllpDecoder};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::ROOT;

pub struct Adapter {
    pub addr: std::net::SocketAddr,
    pub quarantine: std::path::PathBuf,
    _stop: watch::Sender<bool>,
}

impl Drop for Adapter {
    fn drop(&mut self) {
        remove_quarantine(&self.quarantine);
    }
}

/// A fresh quarantine file name in the temporary folder.
pub fn quarantine_file() -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "ohjaamo-quarantine-{}.jsonl",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ))
}

/// Removes a quarantine file and its lock files.
pub fn remove_quarantine(path: &std::path::Path) {
    for suffix in ["", ".lock", ".replay.lock"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// The adapter as the command builds it, pushing to `core` (`host:port`) and
/// quarantining to `quarantine`.
pub fn adt_adapter(core: std::net::SocketAddr, quarantine: std::path::PathBuf) -> AdtAdapter {
    adt_adapter_as(core, quarantine, CoreAuth::none())
}

/// [`adt_adapter`] sending the tokens of `auth`.
pub fn adt_adapter_as(
    core: std::net::SocketAddr,
    quarantine: std::path::PathBuf,
    auth: CoreAuth,
) -> AdtAdapter {
    let client = CoreClient::new(
        &format!("http://{core}/fhir"),
        TENANT,
        &format!("urn:oid:{ROOT}.8"),
        Duration::from_secs(5),
    )
    .unwrap()
    .with_auth(auth);
    AdtAdapter::new(
        client,
        SourceIds::new(ROOT),
        TimeZone::get("Europe/Helsinki").unwrap(),
        AckBuilder::new("OHJAAMO", "PPSHP"),
        Quarantine::new(quarantine, "adt"),
        Backoff {
            base: Duration::from_millis(50),
            max: Duration::from_millis(300),
        },
    )
}

/// An adapter listening on a free port and pushing to `core` (`host:port`).
pub async fn adapter(core: std::net::SocketAddr) -> Adapter {
    adapter_with(core, Limits::default()).await
}

/// [`adapter`] within `limits`.
pub async fn adapter_with(core: std::net::SocketAddr, limits: Limits) -> Adapter {
    listening(core, |a| a.with_limits(limits)).await
}

/// [`adapter`] as `configure` makes it (a visit-key rule, an answer to unused types).
pub async fn listening(
    core: std::net::SocketAddr,
    configure: impl FnOnce(AdtAdapter) -> AdtAdapter,
) -> Adapter {
    let quarantine = quarantine_file();
    let adapter = configure(adt_adapter(core, quarantine.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(serve(listener, Arc::new(adapter), "adt", stopped));
    Adapter {
        addr,
        quarantine,
        _stop: stop,
    }
}

/// An ADT message of visit `V-<control>` in bed `bed` of ward K2.
pub fn hl7(trigger: &str, control: &str, bed: &str) -> Vec<u8> {
    format!(
        "MSH|^~\\&|LIFECARE|OYS|OHJAAMO|PPSHP|202603150800||ADT^{trigger}|{control}|P|2.3\r\
         EVN|{trigger}|202603150800\r\
         PID|1||010190-900P^^^^NNFIN||Meikäläinen^Matti\r\
         PV1|1|I|K2^1^{bed}^OYS||||||||||||||||V-{control}\r"
    )
    .into_bytes()
}

/// The message with `from` replaced by `to`.
pub fn edit(message: Vec<u8>, from: &str, to: &str) -> Vec<u8> {
    String::from_utf8(message)
        .unwrap()
        .replace(from, to)
        .into_bytes()
}

pub struct Sender {
    pub stream: TcpStream,
    decoder: MllpDecoder,
}

impl Sender {
    pub async fn connect(addr: std::net::SocketAddr) -> Sender {
        Sender {
            stream: TcpStream::connect(addr).await.unwrap(),
            decoder: MllpDecoder::new(1 << 20),
        }
    }

    pub async fn send(&mut self, payload: &[u8]) {
        write_frame(&mut self.stream, payload).await.unwrap();
    }

    /// Sends `payload` and answers the whole ACK, which must come within `wait`.
    pub async fn exchange(&mut self, payload: &[u8], wait: Duration) -> String {
        self.send(payload).await;
        self.ack_text(wait).await.expect("an ACK")
    }

    /// Sends `payload` (the message `what` with MSH-10 `control`) and expects `AA`.
    pub async fn accepted(&mut self, payload: &[u8], control: &str, what: &str, wait: Duration) {
        let ack = self.exchange(payload, wait).await;
        assert!(
            ack.contains(&format!("MSA|AA|{control}")),
            "{what} {control}: {ack}"
        );
    }

    /// The next ACK's MSA-1 (AA, AE, AR), or `None` if none came within `wait`.
    pub async fn ack(&mut self, wait: Duration) -> Option<String> {
        Some(self.ack_segments(wait).await?.0)
    }

    /// The next ACK whole (segments end in CR); `None` when none came within `wait`.
    pub async fn ack_text(&mut self, wait: Duration) -> Option<String> {
        let frame = tokio::time::timeout(wait, read_frame(&mut self.stream, &mut self.decoder))
            .await
            .ok()?
            .ok()??;
        Some(String::from_utf8_lossy(&frame.payload).into_owned())
    }

    /// The next ACK's MSA-1 and MSA-2 (the control id it answers); `None` also when the
    /// adapter closed or reset the connection instead of answering.
    pub async fn ack_segments(&mut self, wait: Duration) -> Option<(String, String)> {
        let text = self.ack_text(wait).await?;
        let msa = text.split('\r').find(|s| s.starts_with("MSA"))?;
        let mut fields = msa.split('|').skip(1);
        Some((fields.next()?.to_owned(), fields.next()?.to_owned()))
    }

    /// Whether the adapter closed the connection within `wait` (the read ends).
    pub async fn closed_within(&mut self, wait: Duration) -> bool {
        let mut buf = [0u8; 64];
        use tokio::io::AsyncReadExt as _;
        matches!(
            tokio::time::timeout(wait, self.stream.read(&mut buf)).await,
            Ok(Ok(0) | Err(_))
        )
    }
}
