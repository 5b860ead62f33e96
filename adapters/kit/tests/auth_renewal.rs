//! Adapters as OAuth clients of a real issuer (oauth2-mock-server) writing to a real
//! core that checks their tokens: a sync that outlives its tokens renews them
//! before they expire and is never refused, health reports carry the token, and a
//! core that refuses the token makes the adapter renew it once per attempt and back
//! off — its cursor stays and nothing is quarantined — until the issuer's tokens are
//! good again.

mod common;

use std::time::Duration;

use common::*;
use ohjaamo_adapter_kit::auth::{ClientConfig, Credentials, Secret, SecretMethod, TokenEndpoint};
use ohjaamo_adapter_kit::testing::TENANT;
use ohjaamo_adapter_kit::testing::issuer::TestIssuer;
use ohjaamo_adapter_kit::{
    Backoff, CoreAuth, CursorStore, PullRunner, PushClient, Quarantine, ReportTarget, RunnerConfig,
    SourceIds, report_until,
};
use serde_json::json;
use tokio::sync::watch;

const CLIENT: &str = "pull-test";
const SECRET: &str = "s3cret:with/odd+chars";

fn client(issuer: &TestIssuer, method: SecretMethod) -> CoreAuth {
    CoreAuth::client(ClientConfig {
        endpoint: TokenEndpoint::Issuer(issuer.url.clone()),
        client_id: CLIENT.into(),
        credentials: Credentials::Secret {
            secret: Secret::new(SECRET),
            method,
        },
        scope: Some("system/*.cus system/ohjaamo.sources.write".into()),
    })
    .unwrap()
}

async fn runner(
    core_base: &str,
    auth: CoreAuth,
    source: Paced,
    backoff: Backoff,
) -> (PullRunner<Paced>, std::path::PathBuf) {
    let (cursor, kept) = (temp("cursor.json"), temp("quarantine.jsonl"));
    let push = PushClient::new(core_base, TENANT, CLIENT, Duration::from_secs(5), backoff)
        .unwrap()
        .with_auth(auth);
    let runner = PullRunner::new(
        source,
        push,
        CursorStore::open(&cursor).await.unwrap(),
        Quarantine::new(kept.clone(), CLIENT),
        RunnerConfig {
            name: CLIENT.into(),
            poll_interval: Duration::from_secs(60),
            backoff,
            push_concurrency: 1,
        },
    );
    (runner, cursor)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_outliving_its_tokens_renews_them_before_they_expire() {
    let Some(issuer) = TestIssuer::launch() else {
        return;
    };
    // Tokens of two seconds; the core allows no leeway on exp.
    issuer.client(
        CLIENT,
        SECRET,
        adapter_claims(),
        Some(Duration::from_secs(2)),
    );
    let core = core_for(&issuer).await;
    let auth = client(&issuer, SecretMethod::Basic);
    let source = Paced {
        ids: SourceIds::new(ROOT),
        pages: 12,
        pace: Duration::from_millis(600),
    };
    let (runner, cursor) = runner(&core.base, auth.clone(), source, Backoff::default()).await;
    let (_stop, mut shutdown) = watch::channel(false);
    let started = std::time::Instant::now();
    runner.sync_once(&mut shutdown).await.unwrap();
    let elapsed = started.elapsed();
    assert!(
        elapsed > Duration::from_secs(7),
        "the sync outlived three tokens"
    );

    let positions = CursorStore::open(&cursor).await.unwrap().all().await;
    assert_eq!(positions.get("paikat").map(String::as_str), Some("12"));
    assert_eq!(units(&core, &issuer).await, 12);
    let (grants, rejections) = auth.counts();
    // A token is renewed 1.6 s after it was issued: about one per 1.6 s of sync,
    // not one per push.
    let most = (elapsed.as_secs_f64() / 1.6).ceil() as u64 + 1;
    assert!(
        (3..=most.min(11)).contains(&grants),
        "renewed as tokens aged, cached in between: {grants} tokens for 12 pushes in {elapsed:?}"
    );
    assert_eq!(
        rejections, 0,
        "renewed before expiry: the core never refused one"
    );
    let asked = issuer.grants();
    assert_eq!(asked.len() as u64, grants, "{asked:?}");
    assert!(
        asked
            .iter()
            .all(|g| g["method"] == "client_secret_basic" && g["granted"] == true),
        "{asked:?}"
    );
    let _ = std::fs::remove_file(cursor);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_carry_the_token_and_name_the_client() {
    let Some(issuer) = TestIssuer::launch() else {
        return;
    };
    issuer.client(CLIENT, SECRET, adapter_claims(), None);
    let core = core_for(&issuer).await;
    let auth = client(&issuer, SecretMethod::Post);
    let (stop, stopped) = watch::channel(false);
    let target = ReportTarget {
        core: core.base.clone(),
        organization: TENANT.into(),
        name: CLIENT.into(),
        interval: Duration::from_millis(200),
        auth: auth.clone(),
    };
    let reports = tokio::spawn(report_until(
        target,
        || ohjaamo_adapter_kit::Health::default().report("pull", 600.0, 0.2),
        stopped,
    ));
    let mut named = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let sources = read(&core, &issuer, "/sources").await;
        if sources["sources"].to_string().contains(CLIENT) {
            named = true;
            break;
        }
    }
    stop.send(true).unwrap();
    reports.await.unwrap();
    assert!(named, "the core took the adapter's report");
    assert_eq!(auth.counts(), (1, 0), "one token served every report");
    assert_eq!(issuer.grants()[0]["method"], "client_secret_post");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_renewed_once_then_the_push_backs_off_and_the_cursor_stays() {
    let Some(issuer) = TestIssuer::launch() else {
        return;
    };
    // The issuer hands out tokens for another audience: the core refuses each.
    let mut wrong = adapter_claims();
    wrong["aud"] = json!("some-other-service");
    issuer.client(CLIENT, SECRET, wrong, None);
    let core = core_for(&issuer).await;
    let auth = client(&issuer, SecretMethod::Basic);
    // One page: one push, whose attempts the counts below follow.
    let source = Paced {
        ids: SourceIds::new(ROOT),
        pages: 1,
        pace: Duration::ZERO,
    };
    let backoff = Backoff {
        base: Duration::from_millis(100),
        max: Duration::from_millis(300),
    };
    let (runner, cursor) = runner(&core.base, auth.clone(), source, backoff).await;
    let runner = std::sync::Arc::new(runner);
    let (_stop, mut shutdown) = watch::channel(false);
    let sync = {
        let runner = runner.clone();
        tokio::spawn(async move { runner.sync_once(&mut shutdown).await })
    };
    tokio::time::sleep(Duration::from_secs(2)).await;

    assert!(!sync.is_finished(), "the push waits for a good token");
    let (grants, rejections) = auth.counts();
    assert!(
        rejections >= 4,
        "tried and backed off more than once: {rejections}"
    );
    // Each attempt: refused, one renewal, refused again, then the backoff.
    assert!(
        rejections.abs_diff(2 * (grants - 1)) <= 1,
        "one renewal per refused attempt: {grants} tokens, {rejections} refusals"
    );
    assert!(
        CursorStore::open(&cursor)
            .await
            .unwrap()
            .all()
            .await
            .is_empty(),
        "the cursor has not moved"
    );
    assert_eq!(
        runner.quarantine().kept(),
        0,
        "a refused credential is not the record's fault"
    );
    let stored = runner
        .streams()
        .get("paikat")
        .map_or(0, |s| s.records_stored);
    assert_eq!(stored, 0);

    // The issuer is fixed: the next attempt renews into a good token and goes on.
    issuer.client(CLIENT, SECRET, adapter_claims(), None);
    tokio::time::timeout(Duration::from_secs(10), sync)
        .await
        .expect("the sync ends once tokens are good")
        .unwrap()
        .unwrap();
    let positions = CursorStore::open(&cursor).await.unwrap().all().await;
    assert_eq!(positions.get("paikat").map(String::as_str), Some("1"));
    assert_eq!(units(&core, &issuer).await, 1);
    assert_eq!(runner.quarantine().kept(), 0);
    let _ = std::fs::remove_file(cursor);
}
