//! The versioned resource store.
//!
//! PostgreSQL in production, a SQLite file as the embedded default; both through sqlx
//! with their own migrations. The store keeps the current version of every resource,
//! every version ever written, and search indexes of the current versions — all
//! scoped by tenant, which every method takes first so that no query can forget it.
//!
//! It speaks in the terms of [`model`], never FHIR: the core decides what a resource
//! is indexed by and what a search means; the store makes it durable and fast.

pub mod access_log;
mod backend;
mod bounded;
mod cursor;
mod epoch;
mod error;
mod events;
mod events_append;
mod exclusive;
pub mod labels;
mod local_leases;
pub mod model;
mod notify;
mod picture_finish;
mod read;
mod search;
mod source_status;
mod sql;
mod stamp;
mod statistics;
mod write;
mod write_bulk;

pub use access_log::{AccessEntity, AccessFilter, AccessRecord, StoredAccess};
pub use backend::{Store, StoreOptions};
pub use cursor::{CursorLease, StoredPicture};
pub use error::StoreError;
pub use events::{EventBody, EventFilter, EventTrace, Operation, StoredEvent};
pub use exclusive::ExclusiveLock;
pub use model::*;
pub use picture_finish::PictureUpdate;
pub use read::HistoryScope;
pub use source_status::SourceStatusRow;
pub use stamp::format_instant;
pub use write::{IdentKey, WriteResult, visit_identifier};
