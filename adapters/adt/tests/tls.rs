//! The MLLP listener with TLS and an allow-list, over real sockets to the real
//! adapter and core: certificates made at test time (rcgen), a sender with a
//! certificate the configured CA signed gets its ACK; one whose certificate another
//! CA signed, or that has none, is refused in the handshake and nothing reaches the
//! core; an address outside the allow-list is closed before a byte is read.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use common::feed::{adt_adapter, hl7, quarantine_file, remove_quarantine};
use common::*;
use ohjaamo_adapter_kit::feed::serve_with;
use ohjaamo_adapter_kit::intake::{Intake, IntakeConfig, TlsFiles};
use ohjaamo_hl7::MllpDecoder;
use ohjaamo_hl7::mllp::{read_frame, write_frame};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::net::TcpStream;
use tokio::sync::watch;

/// A CA of the test's own.
fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

/// A certificate `ca` signed for `names`, for a server or a client.
fn leaf(
    ca: &CertifiedIssuer<'static, KeyPair>,
    names: &[&str],
    purpose: ExtendedKeyUsagePurpose,
) -> (CertificateDer<'static>, KeyPair, String) {
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(DnType::CommonName, names[0]);
    params.extended_key_usages = vec![purpose];
    let cert = params.signed_by(&key, ca).unwrap();
    (cert.der().clone(), key, cert.pem())
}

/// The listener's files in a fresh folder: its certificate, key and client CA.
struct Files {
    dir: PathBuf,
    tls: TlsFiles,
    ca: CertifiedIssuer<'static, KeyPair>,
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn files() -> Files {
    let dir = quarantine_file().with_extension("tls");
    std::fs::create_dir_all(&dir).unwrap();
    let ca = ca("Ohjaamo test CA");
    let (_, key, server_pem) = leaf(
        &ca,
        &["localhost", "127.0.0.1"],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let tls = TlsFiles {
        cert_chain: dir.join("adt.crt"),
        key: dir.join("adt.key"),
        client_ca: Some(dir.join("senders-ca.crt")),
    };
    std::fs::write(&tls.cert_chain, server_pem).unwrap();
    std::fs::write(&tls.key, key.serialize_pem()).unwrap();
    std::fs::write(tls.client_ca.as_ref().unwrap(), ca.pem()).unwrap();
    Files { dir, tls, ca }
}

/// The adapter serving `intake` on a free port, writing to `core`.
async fn listen(
    core: &Core,
    intake: IntakeConfig,
) -> (std::net::SocketAddr, watch::Sender<bool>, PathBuf) {
    let quarantine = quarantine_file();
    let adapter = adt_adapter(core.addr, quarantine.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = watch::channel(false);
    let intake = Intake::new(&intake).unwrap();
    tokio::spawn(serve_with(
        listener,
        Arc::new(adapter),
        "adt",
        intake,
        stopped,
    ));
    (addr, stop, quarantine)
}

/// Sends `message` over TLS (trusting `ca`, presenting `client` if any) and
/// answers the ACK's MSA-1; `Err` with why when the sender got none.
async fn send_over_tls(
    addr: std::net::SocketAddr,
    ca: &CertifiedIssuer<'static, KeyPair>,
    client: Option<(CertificateDer<'static>, KeyPair, String)>,
    message: &[u8],
) -> Result<String, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match client {
        Some((cert, key, _)) => {
            let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
            builder.with_client_auth_cert(vec![cert], key).unwrap()
        }
        None => builder.with_no_client_auth(),
    };
    let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    write_frame(&mut tls, message)
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut decoder = MllpDecoder::new(1 << 20);
    let frame = tokio::time::timeout(Duration::from_secs(10), read_frame(&mut tls, &mut decoder))
        .await
        .map_err(|_| "no answer within 10 s".to_owned())?
        .map_err(|e| format!("read: {e}"))?
        .ok_or("closed without an ACK")?;
    let text = String::from_utf8_lossy(&frame.payload).into_owned();
    let msa = text
        .split('\r')
        .find(|s| s.starts_with("MSA"))
        .ok_or("no MSA")?;
    Ok(msa.split('|').nth(1).unwrap_or("").to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_with_a_certificate_of_the_ca_is_acknowledged_over_tls() {
    let core = Core::start().await;
    seed_beds(&core).await;
    let files = files();
    let intake = IntakeConfig {
        tls: Some(files.tls.clone()),
        allow: "127.0.0.0/8".parse().unwrap(),
    };
    let (addr, _stop, quarantine) = listen(&core, intake).await;
    let sender = leaf(
        &files.ca,
        &["lifecare.sairaala.example"],
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    let ack = send_over_tls(addr, &files.ca, Some(sender), &hl7("A01", "T1", "K2-1-1")).await;
    assert_eq!(ack.as_deref(), Ok("AA"));
    assert!(stay(&core, "V-T1").await.is_some(), "the core has the stay");
    remove_quarantine(&quarantine);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_without_a_certificate_of_the_ca_is_refused_and_nothing_reaches_the_core() {
    let core = Core::start().await;
    seed_beds(&core).await;
    let files = files();
    let intake = IntakeConfig {
        tls: Some(files.tls.clone()),
        allow: Default::default(),
    };
    let (addr, _stop, quarantine) = listen(&core, intake).await;
    let stranger_ca = ca("Someone else's CA");
    let stranger = leaf(
        &stranger_ca,
        &["intruder.example"],
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    let refused = send_over_tls(addr, &files.ca, Some(stranger), &hl7("A01", "T2", "K2-1-1")).await;
    assert!(refused.is_err(), "a certificate of another CA: {refused:?}");
    let anonymous = send_over_tls(addr, &files.ca, None, &hl7("A01", "T3", "K2-1-1")).await;
    assert!(anonymous.is_err(), "no certificate: {anonymous:?}");
    assert!(stay(&core, "V-T2").await.is_none() && stay(&core, "V-T3").await.is_none());

    // The same listener still serves a sender the CA vouches for.
    let sender = leaf(
        &files.ca,
        &["lifecare.sairaala.example"],
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    let ack = send_over_tls(addr, &files.ca, Some(sender), &hl7("A01", "T4", "K2-1-1")).await;
    assert_eq!(ack.as_deref(), Ok("AA"));
    remove_quarantine(&quarantine);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_outside_the_allow_list_is_closed_unread() {
    let core = Core::start().await;
    seed_beds(&core).await;
    let intake = IntakeConfig {
        tls: None,
        allow: "192.0.2.0/24,10.9.9.9".parse().unwrap(),
    };
    let (addr, _stop, quarantine) = listen(&core, intake).await;
    let mut sender = common::feed::Sender::connect(addr).await;
    assert!(
        sender.closed_within(Duration::from_secs(5)).await,
        "closed at once"
    );
    assert_eq!(sender.ack(Duration::from_millis(500)).await, None);

    // The same adapter with the loopback on the list takes the message.
    let allowed = IntakeConfig {
        tls: None,
        allow: "192.0.2.0/24,127.0.0.1".parse().unwrap(),
    };
    let (addr, _stop_allowed, quarantine_allowed) = listen(&core, allowed).await;
    let mut sender = common::feed::Sender::connect(addr).await;
    sender.send(&hl7("A01", "T5", "K2-1-1")).await;
    assert_eq!(
        sender.ack(Duration::from_secs(10)).await.as_deref(),
        Some("AA")
    );
    remove_quarantine(&quarantine);
    remove_quarantine(&quarantine_allowed);
}
