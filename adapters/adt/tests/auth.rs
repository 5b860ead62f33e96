//! The ADT adapter as an OAuth client of a real issuer, writing to a real core that
//! checks its tokens: while the core refuses the adapter's token (the issuer hands out
//! tokens for another audience), the message's ACK is held — renewed once per
//! attempt, backed off, nothing quarantined — and once the issuer is fixed the same
//! message is stored and acknowledged `AA` on the same connection.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::feed::{Sender, adt_adapter_as, hl7, quarantine_file, remove_quarantine};
use common::*;
use ohjaamo_adapter_kit::auth::{ClientConfig, Credentials, Secret, SecretMethod, TokenEndpoint};
use ohjaamo_adapter_kit::testing::TENANT;
use ohjaamo_adapter_kit::testing::issuer::{AUDIENCE, TestIssuer};
use ohjaamo_adapter_kit::{CoreAuth, PushFeed as _};
use serde_json::json;
use tokio::sync::watch;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_the_core_refuses_the_token_the_ack_is_held_then_the_message_is_stored() {
    let Some(issuer) = TestIssuer::launch() else {
        return;
    };
    let claims = |audience: &str| {
        json!({
            "aud": audience,
            "organization": TENANT,
            "scope": "system/*.cruds system/ohjaamo.sources.write system/ohjaamo.restricted.read",
        })
    };
    issuer.client("adt", "adt-secret", claims("another-service"), None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let core = Core::start_with(listener, issuer.core_config()).await;
    let core = core.with_token(issuer.sign(claims(AUDIENCE), Duration::from_secs(300)));
    seed_beds(&core).await;

    let auth = CoreAuth::client(ClientConfig {
        endpoint: TokenEndpoint::Issuer(issuer.url.clone()),
        client_id: "adt".into(),
        credentials: Credentials::Secret {
            secret: Secret::new("adt-secret"),
            method: SecretMethod::Basic,
        },
        scope: None,
    })
    .unwrap();
    let quarantine = quarantine_file();
    let adapter = Arc::new(adt_adapter_as(core.addr, quarantine.clone(), auth.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (_stop, stopped) = watch::channel(false);
    tokio::spawn(ohjaamo_adapter_kit::feed::serve(
        listener,
        adapter.clone(),
        "adt",
        stopped,
    ));

    let mut sender = Sender::connect(addr).await;
    sender.send(&hl7("A01", "Q1", "K2-1-1")).await;
    assert_eq!(
        sender.ack(Duration::from_millis(1500)).await,
        None,
        "the ACK is held"
    );
    let (grants, rejections) = auth.counts();
    assert!(
        rejections >= 2 && grants >= 2,
        "{grants} tokens, {rejections} refusals"
    );
    assert!(stay(&core, "V-Q1").await.is_none());
    assert_eq!(adapter.quarantine().kept(), 0, "nothing quarantined");

    issuer.client("adt", "adt-secret", claims(AUDIENCE), None);
    assert_eq!(
        sender.ack(Duration::from_secs(10)).await.as_deref(),
        Some("AA")
    );
    assert!(stay(&core, "V-Q1").await.is_some());
    assert_eq!(adapter.quarantine().kept(), 0);
    remove_quarantine(&quarantine);
}
