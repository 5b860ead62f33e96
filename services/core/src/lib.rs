//! The Ohjaamo core: the FHIR R4 REST API over the versioned store.
//!
//! A request flows `http` → `pipeline` (writes) or `search` (reads) → the store.
//! What is searchable is declared once in `registry`; the CapabilityStatement, the
//! index extraction and the search parser all read it.

pub mod capability;
pub mod codes;
pub mod composite;
pub mod config;
pub mod element_dates;
pub mod error;
pub mod extract;
pub mod fhir_time;
mod follow;
pub mod holds;
pub mod http;
pub mod ingest;
pub mod json_shape;
pub mod normalize;
pub mod observe;
pub mod occupancy;
pub mod picture;
pub mod pipeline;
pub mod references;
pub mod registry;
pub mod relay;
pub mod retention;
pub mod rules;
pub mod search;
pub mod server;
pub mod sources;
pub mod stream;
pub mod trace_context;
pub mod web;

use std::sync::Arc;

use ohjaamo_store::Store;

pub use config::Config;

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    pub config: Arc<Config>,
    /// What the relay to the bus is doing (for `/readyz` and `/metrics`).
    pub relay: Arc<relay::RelayStatus>,
    /// Bed-hold writes take turns on it (`holds`).
    pub hold_lock: Arc<tokio::sync::Mutex<()>>,
    /// Turns true when the server starts its graceful shutdown: live streams end then
    /// (their clients resume elsewhere), instead of holding the shutdown open.
    pub stopping: Arc<tokio::sync::watch::Sender<bool>>,
}

impl AppState {
    pub fn new(store: Arc<Store>, config: Config) -> AppState {
        AppState {
            store,
            config: Arc::new(config),
            relay: Arc::default(),
            hold_lock: Arc::default(),
            stopping: Arc::new(tokio::sync::watch::Sender::new(false)),
        }
    }
}

/// The core's background work: the picture deriver, the capacity reports and the relay
/// to the bus. Dropping
/// it stops both (what they had not finished is redone from the log on the next start).
pub struct Background {
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Background {
    /// Starts the deriver, the capacity reports, the relay (publishing to `bus`) and the
    /// log's retention.
    pub fn start(
        state: &AppState,
        bus: relay::Bus,
        deriver: picture::deriver::DeriverOptions,
    ) -> Background {
        Background {
            tasks: vec![
                tokio::spawn(picture::reports::run(
                    state.clone(),
                    deriver.report_interval,
                )),
                tokio::spawn(picture::deriver::run(state.clone(), deriver)),
                tokio::spawn(relay::run(state.clone(), bus)),
                tokio::spawn(retention::run(state.clone())),
            ],
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
