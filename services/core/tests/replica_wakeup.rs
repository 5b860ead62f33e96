//! Replicas wake each other: a write committed through one core replica wakes the log
//! readers (relay, picture deriver, `/stream` followers) of another replica on the same
//! PostgreSQL database through `LISTEN/NOTIFY`, instead of at their next poll. Without
//! the notification the second store's signal would only ever move for its own
//! commits, so this test fails if the notification is not sent or not listened for.

mod common;

use std::time::{Duration, Instant};

use ohjaamo_store::Store;

use common::{Backend, Harness, location};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_on_one_replica_wakes_the_readers_of_another() {
    let Some(h) = Harness::start(Backend::Postgres, ohjaamo_core::Config::default()).await else {
        return;
    };
    let other = Store::connect(&h.database_url(), 2)
        .await
        .expect("a second replica's store");
    let mut signal = other.event_signal();
    // The listener wakes its readers once when it starts listening.
    tokio::time::timeout(Duration::from_secs(10), signal.changed())
        .await
        .expect("the second replica listens")
        .expect("the signal lives");
    signal.borrow_and_update();

    for round in 0..3 {
        let written = Instant::now();
        h.put_resource(&location(&format!("w{round}"), "Osasto", "wa", None))
            .await;
        tokio::time::timeout(Duration::from_secs(5), signal.changed())
            .await
            .unwrap_or_else(|_| panic!("round {round}: the other replica was not woken"))
            .expect("the signal lives");
        eprintln!(
            "round {round}: woken within {:.1} ms of the write's start (HTTP included)",
            written.elapsed().as_secs_f64() * 1e3
        );
        signal.borrow_and_update();
    }
    other.close().await;
    h.finish().await;
}
