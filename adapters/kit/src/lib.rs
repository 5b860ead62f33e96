//! The adapter kit: what every Ohjaamo adapter shares.
//!
//! An adapter is a [`source::PullSource`] (or, for pushed feeds such as HL7 over MLLP,
//! a [`feed::PushFeed`]) that maps source records to FHIR and hands them to the
//! [`push::PushClient`], which writes them to the core as `batch` Bundles of
//! conditional updates by identifier. Progress is kept in the [`cursor::CursorStore`]
//! and moves only after the core acknowledged; what cannot be mapped goes to the
//! [`quarantine::Quarantine`]; transient failures are retried with [`backoff::Backoff`].
//! [`ids::SourceIds`] names the identifier systems of one source.
//!
//! The kit also owns the adapter as a process ([`process`]): the one trait the
//! `ohjaamo` binary calls ([`process::Adapter`]), the settings every adapter shares
//! ([`target::CoreTarget`]), its admin server ([`admin`]: `/livez`, `/status`,
//! `/metrics`) and its health reports to the core ([`report`], [`health`]). Every
//! request to the core carries the adapter's access token ([`auth`]), and a pushed
//! feed's listener takes TLS and an allow-list of senders ([`intake`]).

pub mod admin;
pub mod auth;
pub mod backoff;
pub mod cursor;
pub mod feed;
pub mod health;
pub mod ids;
pub mod intake;
pub mod process;
pub mod push;
pub mod quarantine;
pub mod report;
pub mod runner;
pub mod source;
pub mod target;
#[cfg(feature = "testing")]
pub mod testing;

pub use auth::{ClientConfig, CoreAuth};
pub use backoff::Backoff;
pub use cursor::CursorStore;
pub use feed::PushFeed;
pub use health::{Health, Observed};
pub use ids::{Kind, SourceIds};
pub use process::{Adapter, Plumbing, Process, run_feed, run_pull};
pub use push::{EntryOutcome, PushClient, PushError, Upsert};
pub use quarantine::Quarantine;
pub use report::{Delivery, ReportTarget, SourceReport, report_until};
pub use runner::{PullRunner, RunnerConfig};
pub use source::{Mapped, Page, PullError, PullSource};
pub use target::CoreTarget;
