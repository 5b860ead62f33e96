//! `GET /stream`: snapshot, then picture events; resume with `Last-Event-ID`;
//! `resync` when the log no longer reaches back, its epoch changed, or the client falls
//! too far behind.

#[macro_use]
mod common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use serde_json::Value;

/// One Server-Sent Event.
#[derive(Debug)]
struct Sse {
    event: String,
    /// The sequence part of the event's id (`<sequence>@<epoch>`).
    id: Option<i64>,
    /// The whole id, as a client sends it back in `Last-Event-ID`.
    raw_id: Option<String>,
    data: Value,
}

/// A live-stream connection read event by event.
struct Client {
    response: reqwest::Response,
    buffer: String,
}

impl Client {
    async fn open(h: &Harness, query: &str, last_event_id: Option<&str>) -> Client {
        let root = h.url("").trim_end_matches("/fhir").to_owned();
        let mut request = reqwest::Client::new().get(format!("{root}/stream{query}"));
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = request.send().await.expect("GET /stream");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()["content-type"],
            "text/event-stream",
            "the stream's content type"
        );
        Client {
            response,
            buffer: String::new(),
        }
    }

    /// The next event (heartbeat comments skipped); `None` when the server ended the
    /// stream.
    async fn next(&mut self) -> Option<Sse> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = Sse {
                    event: "message".into(),
                    id: None,
                    raw_id: None,
                    data: Value::Null,
                };
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event.event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("id:") {
                        let id = v.trim();
                        event.id = id.split('@').next().and_then(|s| s.parse().ok());
                        event.raw_id = Some(id.to_owned());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if data.is_empty() && event.id.is_none() {
                    continue; // a heartbeat comment
                }
                event.data = serde_json::from_str(&data).unwrap_or(Value::Null);
                return Some(event);
            }
            let chunk = tokio::time::timeout(Duration::from_secs(20), self.response.chunk())
                .await
                .expect("an event within 20 s")
                .expect("reading the stream")?;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The next event that is not an unrelated picture.
    async fn next_of(&mut self, kind: &str) -> Sse {
        loop {
            let e = self.next().await.expect("the stream ended");
            if e.event == kind {
                return e;
            }
        }
    }
}

/// Ward w1 with bed b1, its picture derived.
async fn ward_with_a_bed(h: &Harness) {
    h.seed(&[
        location("w1", "Osasto 1", "wa", None),
        location("b1", "Vuode 1", "bd", Some("w1")),
    ])
    .await;
    h.wait_for_pictures().await;
}

fn beds_total(unit: &Value) -> i64 {
    unit["figures"]["bedsTotal"].as_i64().unwrap_or(-1)
}

both_backends!(snapshot_then_events_then_resume);
async fn snapshot_then_events_then_resume(h: &Harness) {
    ward_with_a_bed(h).await;

    let mut client = Client::open(h, "?kind=ward", None).await;
    let snapshot = client.next().await.expect("a snapshot");
    assert_eq!(snapshot.event, "snapshot");
    assert_eq!(snapshot.id, snapshot.data["sequence"].as_i64());
    let epoch = snapshot.data["epoch"]
        .as_str()
        .expect("the snapshot's epoch");
    assert!(!epoch.is_empty());
    assert_eq!(
        snapshot.raw_id.as_deref(),
        Some(format!("{}@{epoch}", snapshot.id.unwrap()).as_str())
    );
    let unit = &snapshot.data["units"][0];
    assert_eq!(beds_total(unit), 1);

    h.put_resource(&location("b2", "Vuode 2", "bd", Some("w1")))
        .await;
    let change = client.next_of("picture").await;
    assert_eq!(beds_total(&change.data), 2);
    assert!(change.id.unwrap() > snapshot.id.unwrap());
    assert_eq!(change.data["epoch"].as_str(), Some(epoch));
    assert_eq!(change.data["previous"], unit["sequence"]);
    drop(client);

    // Away for a while: what happened meanwhile arrives on resume, without a snapshot.
    h.put_resource(&location("b3", "Vuode 3", "bd", Some("w1")))
        .await;
    let id = change.raw_id.clone().unwrap();
    let mut client = Client::open(h, "", Some(&id)).await;
    let missed = client.next().await.expect("the missed change");
    assert_eq!(missed.event, "picture", "{missed:?}");
    assert_eq!(beds_total(&missed.data), 3);
    assert_eq!(missed.data["previous"].as_i64(), change.id);
    drop(client);

    // A bare sequence, as clients from before epochs send, resumes too.
    let bare = change.id.unwrap().to_string();
    let mut client = Client::open(h, "", Some(&bare)).await;
    assert_eq!(client.next().await.unwrap().event, "picture");
}

both_backends!(a_new_epoch_resyncs_connected_and_resuming_clients);
async fn a_new_epoch_resyncs_connected_and_resuming_clients(h: &Harness) {
    ward_with_a_bed(h).await;
    let mut client = Client::open(h, "?kind=ward", None).await;
    let snapshot = client.next_of("snapshot").await;
    let old_epoch = snapshot.data["epoch"].as_str().unwrap().to_owned();
    let old_id = snapshot.raw_id.clone().unwrap();

    // What an operator runs after restoring a backup: sequence numbers the client
    // holds may come again, so it must not go on from them.
    let new_epoch = h.store().new_log_epoch().await.expect("a new epoch");
    assert_ne!(new_epoch, old_epoch);
    h.put_resource(&location("b2", "Vuode 2", "bd", Some("w1")))
        .await;
    let told = client.next().await.expect("an event");
    assert_eq!(told.event, "resync", "{told:?}");
    assert!(
        told.data["reason"]
            .as_str()
            .unwrap()
            .contains("history changed"),
        "{told:?}"
    );
    assert!(
        client.next().await.is_none(),
        "the stream ends after resync"
    );

    // Resuming with an id of the old epoch: resync, then a snapshot of the new one.
    let mut client = Client::open(h, "", Some(&old_id)).await;
    assert_eq!(client.next().await.unwrap().event, "resync");
    let snapshot = client.next_of("snapshot").await;
    assert_eq!(snapshot.data["epoch"].as_str(), Some(new_epoch.as_str()));

    // An id with an empty epoch is refused.
    let root = h.url("").trim_end_matches("/fhir").to_owned();
    let r = h
        .send(
            h.client
                .get(format!("{root}/stream"))
                .header("Last-Event-ID", "5@"),
        )
        .await;
    r.assert_outcome(StatusCode::BAD_REQUEST);
}

both_backends!(a_resume_the_log_cannot_serve_starts_over);
async fn a_resume_the_log_cannot_serve_starts_over(h: &Harness) {
    h.put_resource(&location("w1", "Osasto 1", "wa", None))
        .await;
    h.wait_for_pictures().await;
    let mut client = Client::open(h, "", Some("999999")).await;
    assert_eq!(client.next().await.unwrap().event, "resync");
    let snapshot = client.next().await.unwrap();
    assert_eq!(snapshot.event, "snapshot");
    assert_eq!(snapshot.data["units"][0]["id"], "w1");

    // Garbage is refused with an OperationOutcome, not a stream.
    let root = h.url("").trim_end_matches("/fhir").to_owned();
    let r = h
        .send(
            h.client
                .get(format!("{root}/stream"))
                .header("Last-Event-ID", "yesterday"),
        )
        .await;
    r.assert_outcome(StatusCode::BAD_REQUEST);
    let r = h.get_absolute(&format!("{root}/stream?kind=zoo")).await;
    r.assert_outcome(StatusCode::BAD_REQUEST);
}

both_backends!(
    a_client_too_far_behind_is_told_to_resync_and_dropped,
    ohjaamo_core::Config {
        stream_max_lag: 5,
        ..ohjaamo_core::Config::default()
    }
);
async fn a_client_too_far_behind_is_told_to_resync_and_dropped(h: &Harness) {
    h.put_resource(&location("w1", "Osasto 1", "wa", None))
        .await;
    h.wait_for_pictures().await;
    let mut client = Client::open(h, "", None).await;
    assert_eq!(client.next().await.unwrap().event, "snapshot");
    let beds: Vec<Value> = (0..30)
        .map(|n| location(&format!("b{n}"), "Vuode", "bd", Some("w1")))
        .collect();
    h.seed(&beds).await;
    let resync = client.next_of("resync").await;
    assert!(
        resync.data["reason"].as_str().unwrap().contains("behind"),
        "{resync:?}"
    );
    assert!(
        client.next().await.is_none(),
        "the stream ends after resync"
    );
}

both_backends!(
    a_resume_from_before_what_is_kept_starts_over,
    ohjaamo_core::Config {
        event_retention: std::time::Duration::ZERO,
        ..ohjaamo_core::Config::default()
    }
);
async fn a_resume_from_before_what_is_kept_starts_over(h: &Harness) {
    h.put_resource(&location("w1", "Osasto 1", "wa", None))
        .await;
    h.put_resource(&location("b1", "Vuode 1", "bd", Some("w1")))
        .await;
    h.wait_for_pictures().await;
    // Wait for the relay too: only what every reader has passed may go.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let last = h.store().last_sequence("default").await.unwrap();
    loop {
        h.prune_now().await;
        if h.store()
            .first_sequence("default")
            .await
            .unwrap()
            .is_none_or(|f| f > last)
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the log was not pruned"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut client = Client::open(h, "", Some("1")).await;
    assert_eq!(client.next().await.unwrap().event, "resync");
    let snapshot = client.next().await.unwrap();
    assert_eq!(snapshot.event, "snapshot");
    assert_eq!(beds_total(&snapshot.data["units"][0]), 1);
}

both_backends!(
    clients_share_a_follower_within_their_caps,
    ohjaamo_core::Config {
        streams: ohjaamo_core::base::fanout::FanoutLimits {
            max_clients: 3,
            max_clients_per_organization: 2,
            buffer: 64,
        },
        ..ohjaamo_core::Config::default()
    }
);
/// Two displays of one organisation get the same changes (from the one follower); a
/// third of that organisation, and a fourth client in all, are refused with 503 until
/// a place frees.
async fn clients_share_a_follower_within_their_caps(h: &Harness) {
    h.seed(&[location("w1", "Osasto 1", "wa", None)]).await;
    h.wait_for_pictures().await;
    let root = h.url("").trim_end_matches("/fhir").to_owned();
    let mut first = Client::open(h, "?kind=ward", None).await;
    let mut second = Client::open(h, "?kind=ward", None).await;
    assert_eq!(first.next().await.unwrap().event, "snapshot");
    assert_eq!(second.next().await.unwrap().event, "snapshot");

    let refused = h.get_absolute(&format!("{root}/stream")).await;
    refused.assert_outcome(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.header("retry-after"), Some("1"));
    let other = reqwest::Client::new()
        .get(format!("{root}/stream"))
        .header(TENANT, "other-organization")
        .send()
        .await
        .unwrap();
    assert_eq!(
        other.status(),
        StatusCode::OK,
        "another organisation has room"
    );
    let in_all = reqwest::Client::new()
        .get(format!("{root}/stream"))
        .header(TENANT, "third-organization")
        .send()
        .await
        .unwrap();
    assert_eq!(
        in_all.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "the server is full"
    );
    drop(other);

    h.put_resource(&location("b1", "Vuode 1", "bd", Some("w1")))
        .await;
    let (a, b) = (
        first.next_of("picture").await,
        second.next_of("picture").await,
    );
    assert_eq!((a.id, beds_total(&a.data)), (b.id, 1));

    drop(first);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let r = reqwest::Client::new()
            .get(format!("{root}/stream"))
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::OK {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the place never freed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
