//! The pull adapter: reads a Lifecare-style export page by page from its
//! modified-since cursor ([`export::Export`]) and says each record in FHIR
//! ([`map`]). The kit's runner does the rest: push, cursor, retry, quarantine.
//! [`command`] is the adapter's settings and its entry point for the `ohjaamo` binary
//! ([`Pull`]).

pub mod command;
pub mod export;
pub mod map;

pub use command::{Pull, PullArgs};
pub use export::Export;
