//! How a pushed feed takes its connections: from which addresses ([`allow`]), and
//! over TLS or plain TCP ([`tls`]).
//!
//! Both are checked before the feed sees a byte: an address outside the allow-list
//! is closed as soon as it is accepted, and a TLS handshake that fails (no client
//! certificate, one the CA did not sign, not TLS at all) ends the connection. Each
//! refusal is logged with the peer and counted in
//! `ohjaamo_adapter_connections_refused_total{source,reason}`.
//!
//! | file | what |
//! | --- | --- |
//! | `allow` | the allow-list of sender addresses |
//! | `tls` | the rustls server configuration from PEM files |

pub mod allow;
pub mod tls;

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

pub use allow::AllowList;
pub use tls::TlsFiles;

/// The most a TLS handshake may take; a sender that stalls in it is cut off.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A byte stream of one sender: plain TCP or TLS over it.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// One sender's connection, let in.
pub struct Connection {
    pub peer: SocketAddr,
    pub io: Box<dyn Stream>,
}

/// What a listener's intake is set to, as plain values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntakeConfig {
    /// Unset: plain TCP (for a sidecar that terminates TLS).
    pub tls: Option<TlsFiles>,
    /// Empty: every address.
    pub allow: AllowList,
}

/// The intake, ready: its allow-list and TLS acceptor.
#[derive(Clone, Default)]
pub struct Intake {
    allow: AllowList,
    tls: Option<TlsAcceptor>,
    mutual: bool,
}

impl Intake {
    /// Plain TCP from every address.
    pub fn plain() -> Intake {
        Intake::default()
    }

    /// Reads the TLS files; an error names the file that is wrong.
    pub fn new(config: &IntakeConfig) -> anyhow::Result<Intake> {
        Ok(Intake {
            allow: config.allow.clone(),
            tls: config.tls.as_ref().map(tls::acceptor).transpose()?,
            mutual: config.tls.as_ref().is_some_and(|t| t.client_ca.is_some()),
        })
    }

    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// The settings in one line, for the log at start.
    pub fn describe(&self) -> String {
        let transport = match (&self.tls, self.mutual) {
            (None, _) => "plain TCP",
            (Some(_), false) => "TLS",
            (Some(_), true) => "TLS with client certificates checked against the CA",
        };
        let from = if self.allow.is_empty() {
            "every address".to_owned()
        } else {
            self.allow.describe()
        };
        format!("{transport}, from {from}")
    }

    /// Whether a sender at `peer` may connect at all.
    pub fn allows(&self, peer: &SocketAddr) -> bool {
        self.allow.allows(peer.ip())
    }

    /// The connection as the feed reads it: after the TLS handshake when TLS is on.
    pub async fn open(&self, stream: TcpStream, peer: SocketAddr) -> Result<Connection, String> {
        let io: Box<dyn Stream> = match &self.tls {
            None => Box::new(stream),
            Some(acceptor) => {
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => Box::new(tls),
                    Ok(Err(e)) => return Err(format!("TLS handshake failed: {e}")),
                    Err(_) => return Err("TLS handshake took too long".into()),
                }
            }
        };
        Ok(Connection { peer, io })
    }
}
