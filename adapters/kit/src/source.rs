//! The one trait a pulled source implements.
//!
//! In the spirit of vector's sources: a source knows how to read its system and how to
//! say each record in FHIR; everything else — pushing to the core, keeping the cursor,
//! retrying, quarantining — is the kit's [`crate::PullRunner`], the same for every
//! source. A source keeps no state of its own between pulls; its position is the
//! cursor the runner hands back.

use std::future::Future;

use serde_json::Value;

use crate::push::Upsert;

/// One page of one stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub records: Vec<Record>,
    /// The cursor to save once every record of this page is settled. `None` keeps the
    /// current one (nothing new).
    pub next_cursor: Option<String>,
    /// Whether another page follows right away.
    pub more: bool,
}

/// A record as the source gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The source's key, for logs and the quarantine.
    pub key: String,
    pub body: Value,
}

/// Why a pull failed. Every kind is retried with backoff; the cursor stays where it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PullError {
    /// Network, timeout, 5xx.
    #[error("the source is unavailable: {0}")]
    Unavailable(String),
    /// The answer is not what the export promises (HTML, half a page, wrong shape).
    #[error("the source's answer is unusable: {0}")]
    Unusable(String),
}

/// What a record maps to.
#[derive(Debug, Clone, PartialEq)]
pub enum Mapped {
    /// Resources to write, parents before children.
    Upserts(Vec<Upsert>),
    /// The record can never be mapped as it is: quarantine it with this reason.
    Unmappable(String),
}

pub trait PullSource: Send + Sync {
    /// The streams of the source, in the order they are synced (parents first, so that
    /// conditional references from later streams find their targets).
    fn streams(&self) -> Vec<String>;

    /// The page after `cursor` (`None`: from the beginning).
    fn fetch(
        &self,
        stream: &str,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Page, PullError>> + Send;

    /// The FHIR writes one record stands for.
    fn map(&self, stream: &str, record: &Record) -> Mapped;

    /// Whether the pages of `stream` must be stored one after another: records of the
    /// stream refer to each other (a Location `partOf` another), and a later page
    /// stored before an earlier one would name a parent the core does not have yet.
    /// Otherwise pages are pushed concurrently.
    fn in_order(&self, _stream: &str) -> bool {
        false
    }
}
