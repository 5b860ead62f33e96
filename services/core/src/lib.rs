//! The Ohjaamo core: the FHIR R4 REST API over the versioned store, the situational
//! picture derived from what was written, and the event log that carries both out.
//!
//! # The folders are the stages of the flow
//!
//! A request comes in at the API surface and goes down towards the store; what was
//! written comes back up as events, pictures and live streams. Each folder is one
//! stage, listed here from the top of the flow to its bottom:
//!
//! | folder     | stage |
//! | ---------- | ----- |
//! | `http`     | the API surface: the router, every handler (`/fhir`, `/picture`, `/stream`, `/sources`, the web pages) and the request context |
//! | `picture`  | the situational picture, derived from the log by the deriver, and the capacity reports |
//! | `log`      | the event log's readers: the loop they share, the relay to the bus, the occupancy follower, retention |
//! | `write`    | the one write path: validation, references, rules, bed holds, occupancy, the store's transaction |
//! | `search`   | what is searchable (`registry`), index extraction, FHIR dates, references, the search query |
//! | `base`     | what every stage shares: the error type, the configuration, `AppState`, the FHIR media type |
//! | `audit`    | the access log: the request's record as it runs, the group commit, AuditEvents |
//! | `auth`     | who the caller is: the issuer's keys, bearer-token verification, SMART scopes |
//! | `ops`      | observability: metrics, trace context, the relay's status |
//!
//! **The layering rule:** a file imports only from its own folder or from folders
//! below it in this table, never from a folder above it. Inside a folder there is no
//! import circle either: a `mod.rs` declares its files and re-exports nothing its
//! children use, and what two files share lives in a leaf file both import (e.g.
//! `write::entry`, imported by the front door and by the holds and occupancy it calls).
//! `lib.rs` itself is the top: it wires the background tasks and re-exports the two
//! names a binary starts from ([`AppState`], [`Config`]); no file of the crate imports it.
//!
//! The workspace's `tests/house` reads this table and holds every import to it.

pub mod audit;
pub mod auth;
pub mod base;
pub mod http;
pub mod log;
pub mod ops;
pub mod picture;
pub mod search;
pub mod write;

pub use base::config::Config;
pub use base::state::AppState;

use log::{relay, retention};

/// The core's background work: the picture deriver, the capacity reports, the relay
/// to the bus, the occupancy follower and the log's retention. Dropping it stops them
/// (what they had not finished is redone from the log on the next start).
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
                tokio::spawn(log::occupancy::run(state.clone(), deriver.poll)),
                tokio::spawn(picture::deriver::run(state.clone(), deriver)),
                tokio::spawn(relay::run(state.clone(), bus)),
                tokio::spawn(retention::run(state.clone())),
                tokio::spawn(log::access_retention::run(state.clone())),
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
