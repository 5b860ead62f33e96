//! What the binary gives the components it runs: the stop signal, and the process's
//! one metrics recorder (the core's), which adapters serve at their own `/metrics`.

use std::sync::Arc;

use ohjaamo_adapter_kit::Process;
use tokio::sync::watch;

/// A watch channel that turns true on SIGTERM or Ctrl-C.
pub fn shutdown_channel() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        ohjaamo_core::http::server::shutdown_signal().await;
        let _ = tx.send(true);
    });
    rx
}

/// The process an adapter runs in. Installs the metrics recorder first: counts made
/// before a recorder exists are lost.
pub fn adapter_process() -> Process {
    let recorder = ohjaamo_core::ops::observe::handle();
    Process {
        shutdown: shutdown_channel(),
        metrics: Arc::new(move || {
            recorder.run_upkeep();
            recorder.render()
        }),
    }
}
