//! The state every request handler and background task shares.

use std::sync::Arc;

use ohjaamo_store::Store;

use crate::audit::group_commit::AccessLog;
use crate::auth::settings::AuthMode;
use crate::auth::verify::Verifier;
use crate::base::admission::Admission;
use crate::base::config::Config;
use crate::base::derived::Derived;
use crate::base::fanout::{Fanout, Followed};
use crate::ops::relay_status::RelayStatus;

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    pub config: Arc<Config>,
    /// What the relay to the bus is doing (for `/readyz` and `/metrics`).
    pub relay: Arc<RelayStatus>,
    /// Bed-hold writes take turns on it (`write::holds`).
    pub hold_lock: Arc<tokio::sync::Mutex<()>>,
    /// Turns true when the server starts its graceful shutdown: live streams end then
    /// (their clients resume elsewhere), instead of holding the shutdown open.
    pub stopping: Arc<tokio::sync::watch::Sender<bool>>,
    /// Requests in flight, per organisation, and bodies being read (`http::admission`).
    pub admission: Arc<Admission>,
    /// One follower of the event log per organisation, shared by its `/stream` clients.
    pub streams: Arc<Fanout<Followed>>,
    /// Occupancy derivations take turns per stay and note what they derived.
    pub derived: Arc<Derived>,
    /// The bearer-token verifier, or `None` when authentication is off (`--auth none`).
    pub auth: Option<Arc<Verifier>>,
    /// The access log's writer, or `None` when it is off (`--access-log off`).
    pub access_log: Option<AccessLog>,
}

impl AppState {
    pub fn new(store: Arc<Store>, config: Config) -> AppState {
        let auth = match &config.auth {
            AuthMode::None => None,
            AuthMode::Oidc(settings) => Some(Arc::new(Verifier::new(settings.clone()))),
        };
        AppState {
            auth,
            access_log: config
                .access_log
                .enabled
                .then(|| AccessLog::new(store.clone())),
            admission: Arc::new(Admission::new(config.admission)),
            streams: Arc::new(Fanout::new(config.streams)),
            store,
            config: Arc::new(config),
            relay: Arc::default(),
            hold_lock: Arc::default(),
            stopping: Arc::new(tokio::sync::watch::Sender::new(false)),
            derived: Arc::default(),
        }
    }
}
