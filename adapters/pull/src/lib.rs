//! The pull adapter: reads a Lifecare-style export page by page from its
//! modified-since cursor ([`export::Export`]) and says each record in FHIR
//! ([`map`]). The kit's runner does the rest: push, cursor, retry, quarantine.

pub mod export;
pub mod map;

pub use export::Export;
