//! The plumbing around an adapter, against a real in-process core: while the
//! adapter's work runs, its admin server answers `/livez`, `/status` and `/metrics`
//! and its health reaches the core's `/sources`; on shutdown both stop and `run_with`
//! returns.

use std::sync::Arc;
use std::time::Duration;

use ohjaamo_adapter_kit::process::run_with;
use ohjaamo_adapter_kit::testing::{Core, TENANT};
use ohjaamo_adapter_kit::{CoreTarget, Health, Observed, Plumbing, Process};
use serde_json::{Value, json};
use tokio::sync::watch;

struct Fixed;

impl Observed for Fixed {
    fn status(&self) -> Value {
        json!({"source": "fixed", "streams": {}})
    }

    fn health(&self) -> Health {
        Health {
            last_success: Some(jiff::Timestamp::now().to_string()),
            last_error: None,
            lag_seconds: Some(0.25),
            quarantined: 3,
            data_quality_marks: 1,
        }
    }
}

async fn free_port() -> std::net::SocketAddr {
    let probe = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    probe.local_addr().unwrap()
}

/// GETs `url` until it answers (the admin server starts beside the work).
async fn get(http: &reqwest::Client, url: &str) -> (reqwest::StatusCode, String) {
    for _ in 0..100 {
        if let Ok(r) = http
            .get(url)
            .header("x-ohjaamo-organization", TENANT)
            .send()
            .await
        {
            return (r.status(), r.text().await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} never answered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_server_and_the_reports_run_beside_the_work_until_shutdown() {
    let core = Core::start().await;
    let admin = free_port().await;
    let (stop, shutdown) = watch::channel(false);
    let process = Process {
        shutdown: shutdown.clone(),
        metrics: Arc::new(|| "ohjaamo_adapter_pushed_total 7\n".to_owned()),
    };
    let plumbing = Plumbing {
        name: "fixed",
        target: CoreTarget {
            core: core.base.clone(),
            organization: TENANT.into(),
            source_oid_root: "1.2.246.10.1234567.10".into(),
            retry_max: 1.0,
            report_interval: 0.5,
            stale_after: None,
            auth: Default::default(),
        },
        admin_listen: admin,
        stale_after: 60.0,
        auth: Default::default(),
    };
    let work = {
        let mut shutdown = shutdown.clone();
        async move {
            let _ = shutdown.wait_for(|s| *s).await;
            Ok(())
        }
    };
    let running = tokio::spawn(run_with(plumbing, Arc::new(Fixed), work, process));

    let http = reqwest::Client::new();
    assert_eq!(get(&http, &format!("http://{admin}/livez")).await.1, "ok");
    let (status, body) = get(&http, &format!("http://{admin}/status")).await;
    assert!(status.is_success());
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["source"],
        "fixed"
    );
    let (_, metrics) = get(&http, &format!("http://{admin}/metrics")).await;
    assert_eq!(metrics, "ohjaamo_adapter_pushed_total 7\n");

    let sources = format!("http://{}/sources", core.addr);
    let mut reported = Value::Null;
    for _ in 0..40 {
        let (_, body) = get(&http, &sources).await;
        reported = serde_json::from_str(&body).unwrap();
        if reported["sources"][0]["name"] == "fixed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let source = &reported["sources"][0];
    assert_eq!(source["name"], "fixed", "{reported}");
    assert_eq!(source["kind"], "fixed");
    assert_eq!(source["quarantined"], 3);
    assert_eq!(source["dataQualityMarks"], 1, "marks reach /sources");
    assert_eq!(source["lagSeconds"], 0.25);
    assert_eq!(source["stale"], false, "{reported}");

    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("run_with returns on shutdown")
        .unwrap()
        .unwrap();
    assert!(
        http.get(format!("http://{admin}/livez"))
            .send()
            .await
            .is_err(),
        "the admin server stopped"
    );
}
