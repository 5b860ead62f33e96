//! `GET /stream`: the live picture as Server-Sent Events, for web displays.
//!
//! The same protocol as the bus (docs/bus-contract.md): a `snapshot` event (the
//! pictures and the sequence they are as of), then one `picture` event per changed
//! unit with `id:` = `<sequence>@<epoch>`. A client that reconnects sends
//! `Last-Event-ID` and gets what it missed from the event log, without a new snapshot;
//! if the log no longer reaches back that far, or its epoch is no longer the log's
//! (a restore or a failover may have given its sequence numbers out again), it gets
//! `resync` and a fresh snapshot. A connected client whose epoch the log leaves gets
//! `resync` too.
//!
//! The stream reads the log (not the bus), so every replica serves it and a resume
//! works whichever replica the client reaches. A client catches up from the log on its
//! own (its snapshot, or what it missed since `Last-Event-ID`); from then on the
//! clients of one organisation share one follower of the log (`base::fanout`), which
//! reads each new event once for all of them. Events are produced into a small bounded
//! channel: a client that does not read stops its producer, which gives up after
//! `stream_send_timeout`; one that falls more than its buffer behind the follower, or
//! more than `stream_max_lag` events behind while catching up, is sent `resync` and
//! dropped — a slow display never grows the server's memory, and can always start
//! over. The number of clients is capped in total and per organisation (503 beyond).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use ohjaamo_store::{EventBody, EventFilter, StoredEvent};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use crate::auth::scopes::Permission;
use crate::base::error::ApiError;
use crate::base::fanout::{Followed, Full};
use crate::base::state::AppState;
use crate::http::context::Ctx;
use crate::http::picture::{PictureFilter, snapshot};

/// Events read from the log per query.
const PAGE: i64 = 500;
/// Events buffered between the producer and the connection.
const BUFFER: usize = 64;
/// How often the log is looked at without a signal (other replicas' writes).
const POLL: Duration = Duration::from_millis(500);

#[derive(Debug, Deserialize)]
pub struct StreamQuery {
    #[serde(flatten)]
    filter: PictureFilter,
    /// Resume after this event (as `Last-Event-ID`, for clients that cannot set
    /// headers).
    after: Option<String>,
}

/// Where a reconnecting client resumes: after `sequence`, in `epoch` if it says
/// (`<sequence>@<epoch>`; a bare sequence, as clients from before epochs send, is
/// taken to be of the current epoch).
#[derive(Debug, Clone, PartialEq)]
struct Resume {
    after: i64,
    epoch: Option<String>,
}

impl Resume {
    fn parse(text: &str) -> Result<Resume, ApiError> {
        let (sequence, epoch) = match text.split_once('@') {
            Some((sequence, epoch)) => (sequence, Some(epoch.to_owned())),
            None => (text, None),
        };
        let after = sequence.parse::<i64>().ok().filter(|n| *n >= 0);
        match after {
            Some(after) if epoch.as_deref() != Some("") => Ok(Resume { after, epoch }),
            _ => Err(ApiError::BadRequest(format!(
                "Last-Event-ID {text:?}: expected the id of the last event received \
                 (<sequence>@<epoch>)"
            ))),
        }
    }
}

/// An event's SSE id: its sequence and the log's epoch.
fn event_id(sequence: i64, epoch: &str) -> String {
    format!("{sequence}@{epoch}")
}

pub async fn handler(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Query(query): Query<StreamQuery>,
) -> Result<Response, ApiError> {
    ctx.access.require_permission(Permission::PictureRead)?;
    ctx.access.require_unit(query.filter.unit.as_deref())?;
    crate::audit::note::unit(query.filter.unit.as_deref());
    query.filter.check()?;
    let resume = headers
        .get("last-event-id")
        .map(|v| v.to_str().unwrap_or("\u{fffd}").to_owned())
        .or(query.after.clone());
    let resume = match resume.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(Resume::parse(text)?),
    };
    // Where a new follower starts: read before joining, so that what the client
    // catches up on from the log and what the follower sends overlap.
    let (epoch, reached) = state
        .store
        .within_epoch(|| state.store.last_sequence(&ctx.tenant))
        .await?;
    let joined = state.streams.join(&ctx.tenant).map_err(|full| {
        metrics::counter!("ohjaamo_stream_clients_refused_total").increment(1);
        ApiError::Throttled(match full {
            Full::Server => "the server has as many live-stream clients as it takes".into(),
            Full::Organization => {
                "this organisation has as many live-stream clients as it may".into()
            }
        })
    })?;
    if let Some(sender) = joined.start_follower {
        let start = (Arc::from(epoch.as_str()), reached);
        tokio::spawn(follow(state.clone(), ctx.tenant.clone(), start, sender));
    }
    let (tx, mut rx) = mpsc::channel::<Event>(BUFFER);
    let slot = joined.slot;
    tokio::spawn(produce(
        state.clone(),
        ctx.tenant.clone(),
        query.filter,
        (resume, epoch),
        tx,
        joined.receiver,
    ));
    metrics::gauge!("ohjaamo_stream_clients").increment(1.0);
    let events = futures_util::stream::poll_fn(move |cx| {
        rx.poll_recv(cx).map(|e| e.map(Ok::<_, Infallible>))
    });
    let events = ClientGuard {
        events: Box::pin(events),
        _slot: slot,
    };
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(state.config.stream_heartbeat))
        .into_response())
}

/// Counts the client out when its connection ends (and gives up its place).
struct ClientGuard<S> {
    events: std::pin::Pin<Box<S>>,
    _slot: crate::base::fanout::ClientSlot,
}

impl<S: futures_util::Stream> futures_util::Stream for ClientGuard<S> {
    type Item = S::Item;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<S::Item>> {
        self.events.as_mut().poll_next(cx)
    }
}

impl<S> Drop for ClientGuard<S> {
    fn drop(&mut self) {
        metrics::gauge!("ohjaamo_stream_clients").decrement(1.0);
    }
}

/// Why a producer stopped early.
enum Stop {
    /// The client went away or stopped reading.
    Client,
    Failed(String),
}

async fn produce(
    state: AppState,
    tenant: String,
    filter: PictureFilter,
    start: (Option<Resume>, String),
    tx: mpsc::Sender<Event>,
    live: broadcast::Receiver<Followed>,
) {
    let mut stopping = state.stopping.subscribe();
    let events = stream_events(&state, &tenant, &filter, start, &tx, live);
    let result = tokio::select! {
        result = events => result,
        // The server is stopping: end the stream; the client resumes with
        // Last-Event-ID wherever it reconnects.
        _ = stopping.wait_for(|stop| *stop) => Ok(()),
    };
    match result {
        Ok(()) | Err(Stop::Client) => {}
        Err(Stop::Failed(e)) => {
            tracing::warn!(error = %e, "live stream stopped");
            let _ = tx
                .send(resync_event(&format!(
                    "the server could not read the log: {e}"
                )))
                .await;
        }
    }
}

/// One client's stream: its snapshot or catch-up from `resume`, then the live events.
/// `current` is the log's epoch as read when the client joined (with the position its
/// organisation's follower starts from).
async fn stream_events(
    state: &AppState,
    tenant: &str,
    filter: &PictureFilter,
    (resume, current): (Option<Resume>, String),
    tx: &mpsc::Sender<Event>,
    mut live: broadcast::Receiver<Followed>,
) -> Result<(), Stop> {
    let failed = |e: &dyn std::fmt::Display| Stop::Failed(e.to_string());
    let resumable = match &resume {
        Some(Resume {
            epoch: Some(epoch), ..
        }) if *epoch != current => {
            let reason = "the event log's history changed since (a restore or a database \
                          failover); starting from a new snapshot";
            send(state, tx, resync_event(reason)).await?;
            None
        }
        Some(resume) => {
            let after = resume.after;
            if reaches_back(state, tenant, after)
                .await
                .map_err(|e| failed(&e))?
            {
                Some(after)
            } else {
                let reason = format!(
                    "events after {after} are no longer kept; starting from a new snapshot"
                );
                send(state, tx, resync_event(&reason)).await?;
                None
            }
        }
        None => None,
    };
    let (mut position, epoch) = match resumable {
        Some(after) => (after, current),
        None => {
            let body = snapshot(state, tenant, filter)
                .await
                .map_err(|e| failed(&e))?;
            let sequence = body["sequence"].as_i64().unwrap_or(0);
            let epoch = body["epoch"].as_str().unwrap_or_default().to_owned();
            send(
                state,
                tx,
                Event::default()
                    .event("snapshot")
                    .id(event_id(sequence, &epoch))
                    .data(body.to_string()),
            )
            .await?;
            (sequence, epoch)
        }
    };
    // Catch up from the log to now, on this client's own reads.
    let mut last_sent = std::time::Instant::now();
    loop {
        let (read_epoch, (events, last)) = read_round(state, tenant, position)
            .await
            .map_err(|e| failed(&e))?;
        if read_epoch != epoch {
            return epoch_left(state, tx).await;
        }
        if last - position > state.config.stream_max_lag {
            return fell_behind(state, tx, last - position).await;
        }
        for event in &events {
            if let Some(sse) = picture_event(event, &epoch, filter) {
                send(state, tx, sse).await?;
                last_sent = std::time::Instant::now();
            }
        }
        // Past everything read, including other kinds of events in between.
        position = events.last().map_or(last.max(position), |e| e.sequence);
        if (events.len() as i64) < PAGE {
            break;
        }
    }
    // Then live, from the organisation's shared follower.
    loop {
        let heartbeat_due =
            tokio::time::Instant::from_std(last_sent) + state.config.stream_heartbeat;
        tokio::select! {
            item = live.recv() => match item {
                Ok(
                    Followed::Event { epoch: followed, .. }
                    | Followed::Reached { epoch: followed, .. },
                ) if *followed != *epoch => return epoch_left(state, tx).await,
                Ok(Followed::Event { last, .. } | Followed::Reached { last, .. })
                    if last - position > state.config.stream_max_lag =>
                {
                    return fell_behind(state, tx, last - position).await;
                }
                Ok(Followed::Event { event, .. }) if event.sequence > position => {
                    position = event.sequence;
                    if let Some(sse) = picture_event(&event, &epoch, filter) {
                        send(state, tx, sse).await?;
                        last_sent = std::time::Instant::now();
                    }
                }
                Ok(Followed::Reached { last, .. }) => position = position.max(last),
                Ok(Followed::Event { .. }) => {} // caught up on it from the log already
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    return fell_behind(state, tx, i64::try_from(missed).unwrap_or(i64::MAX)).await;
                }
                Err(broadcast::error::RecvError::Closed) => {
                    return Err(Stop::Failed("the log follower stopped".into()));
                }
            },
            () = tokio::time::sleep_until(heartbeat_due) => {
                let heartbeat = heartbeat_event(state.config.clock.now(), position, &epoch);
                send(state, tx, heartbeat).await?;
                last_sent = std::time::Instant::now();
            }
            () = tx.closed() => return Err(Stop::Client),
        }
    }
}

/// Tells a client it fell `behind` events behind and ends its stream; it reconnects
/// for a new snapshot.
async fn fell_behind(state: &AppState, tx: &mpsc::Sender<Event>, behind: i64) -> Result<(), Stop> {
    metrics::counter!("ohjaamo_stream_clients_dropped_total").increment(1);
    send(
        state,
        tx,
        resync_event(&format!(
            "this client fell {behind} events behind; reconnect for a new snapshot"
        )),
    )
    .await?;
    Ok(())
}

/// Ends a client's stream because the log's epoch is no longer the one its state is
/// from: the sequence numbers it holds may have been given out again.
async fn epoch_left(state: &AppState, tx: &mpsc::Sender<Event>) -> Result<(), Stop> {
    metrics::counter!("ohjaamo_stream_clients_dropped_total").increment(1);
    let reason = "the event log's history changed (a restore or a database failover); \
                  reconnect for a new snapshot";
    send(state, tx, resync_event(reason)).await
}

/// The follower of one organisation's log: reads each new picture event once and
/// sends it to every client of the organisation, until none is left or the server
/// stops. A failed read is retried on the next round (the clients wait meanwhile).
/// When the log's epoch changes it goes on from the new log's end and says so (its
/// clients, all of the old epoch, resync).
async fn follow(
    state: AppState,
    tenant: String,
    (mut epoch, mut position): (Arc<str>, i64),
    sender: broadcast::Sender<Followed>,
) {
    let store = &state.store;
    let mut signal = store.event_signal();
    let mut stopping = state.stopping.subscribe();
    let mut failing = false;
    loop {
        match read_round(&state, &tenant, position).await {
            Ok((read_epoch, (_, last))) if *read_epoch != *epoch => {
                failing = false;
                tracing::warn!(organization = %tenant, epoch = %read_epoch, "the event log's epoch changed; live-stream clients resync");
                epoch = Arc::from(read_epoch.as_str());
                position = last;
                let epoch = epoch.clone();
                let _ = sender.send(Followed::Reached { last, epoch });
            }
            Ok((_, (events, last))) => {
                failing = false;
                let full_page = events.len() as i64 == PAGE;
                for event in events {
                    position = event.sequence;
                    let event = Arc::new(event);
                    let epoch = epoch.clone();
                    let _ = sender.send(Followed::Event { event, last, epoch });
                }
                if full_page {
                    continue;
                }
                // Read to the end: other kinds of events up to `last` are passed too.
                if last > position {
                    position = last;
                    let epoch = epoch.clone();
                    let _ = sender.send(Followed::Reached { last, epoch });
                }
            }
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, organization = %tenant, "the live-stream follower cannot read the log; retrying");
            }
            Err(_) => {}
        }
        if sender.receiver_count() == 0 && state.streams.leave_if_idle(&tenant, &sender) {
            return;
        }
        tokio::select! {
            _ = signal.changed() => {}
            () = tokio::time::sleep(POLL) => {}
            _ = stopping.wait_for(|stop| *stop) => {
                state.streams.forget(&tenant, &sender);
                return;
            }
        }
    }
}

/// The log's epoch, a page of the picture events after `position` and the log's last
/// sequence as it was before they were read.
async fn read_round(
    state: &AppState,
    tenant: &str,
    position: i64,
) -> Result<(String, (Vec<StoredEvent>, i64)), ohjaamo_store::StoreError> {
    let store = &state.store;
    store
        .within_epoch(|| async move {
            let last = store.last_sequence(tenant).await?;
            let events = store
                .events_after(tenant, position, PAGE, EventFilter::Pictures)
                .await?;
            Ok((events, last))
        })
        .await
}

/// Whether the log still holds every event after `after`.
async fn reaches_back(
    state: &AppState,
    tenant: &str,
    after: i64,
) -> Result<bool, ohjaamo_store::StoreError> {
    let last = state.store.last_sequence(tenant).await?;
    if after > last {
        return Ok(false); // from another database, or the future: start over
    }
    Ok(match state.store.first_sequence(tenant).await? {
        Some(first) => after + 1 >= first,
        None => after == last,
    })
}

async fn send(state: &AppState, tx: &mpsc::Sender<Event>, event: Event) -> Result<(), Stop> {
    match tx
        .send_timeout(event, state.config.stream_send_timeout)
        .await
    {
        Ok(()) => Ok(()),
        Err(mpsc::error::SendTimeoutError::Timeout(_)) => {
            metrics::counter!("ohjaamo_stream_clients_dropped_total").increment(1);
            tracing::info!("a live-stream client stopped reading; dropping it");
            Err(Stop::Client)
        }
        Err(mpsc::error::SendTimeoutError::Closed(_)) => Err(Stop::Client),
    }
}

/// Says "still here, nothing changed, as of `sequence`": SSE comments (the keep-alive)
/// are invisible to a browser's EventSource, and a wall display must be able to tell
/// a quiet hospital from a dead connection. `time` is the core's now, which the
/// displays set their clocks by.
fn heartbeat_event(now: jiff::Timestamp, sequence: i64, epoch: &str) -> Event {
    Event::default()
        .event("heartbeat")
        .data(json!({ "time": now.to_string(), "sequence": sequence, "epoch": epoch }).to_string())
}

fn resync_event(reason: &str) -> Event {
    Event::default()
        .event("resync")
        .data(json!({ "reason": reason }).to_string())
}

/// The SSE event of a picture change `filter` wants.
fn picture_event(event: &StoredEvent, epoch: &str, filter: &PictureFilter) -> Option<Event> {
    let EventBody::Picture { body, previous, .. } = &event.body else {
        return None;
    };
    let mut body: Value = serde_json::from_str(body).ok()?;
    if !filter.wants(&body) {
        return None;
    }
    body["sequence"] = json!(event.sequence);
    body["previous"] = json!(previous);
    body["epoch"] = json!(epoch);
    body["occurredAt"] = json!(event.occurred_at_text());
    Some(
        Event::default()
            .event("picture")
            .id(event_id(event.sequence, epoch))
            .data(body.to_string()),
    )
}
