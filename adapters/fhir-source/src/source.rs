//! The upstream as the kit's [`PullSource`]: one stream per type (`Location`, ...)
//! read by search, and with deletes read from history one more per type
//! (`Location/_history`), whose DELETE entries retire what they name.
//!
//! A stream's first page is `Type?_lastUpdated=gt<since>&_count=<n>`; the next pages
//! are the upstream's own `next` links, followed as given. A traversal whose next link
//! was already followed, or whose pages repeat the page before, is a paging loop: the
//! pull stops with an error that says so (the runner reports it and tries the stream
//! again after its backoff) instead of reading the same pages for ever. A saved next
//! link the upstream no longer takes (paging state expired after a restart) restarts
//! the traversal from `since`.
//!
//! With [`crate::bulk::Bulk`] set, a type with no position yet is loaded from the
//! upstream's `$export` instead of searched.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use ohjaamo_adapter_kit::source::Record;
use ohjaamo_adapter_kit::{Mapped, Page, PullError, PullSource};
use serde_json::Value;

use crate::bulk::Bulk;
use crate::map::Mapping;
use crate::position::{Position, newest};
use crate::upstream::{Upstream, UpstreamError};

/// Consecutive pages with a next link but nothing on them before the traversal
/// counts as making no progress.
const MAX_EMPTY_PAGES: usize = 5;

/// Where deletes are learnt from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Deletes {
    /// `Type/_history?_since=`: DELETE entries retire (the upstream must offer
    /// type-level history), and `entered-in-error` in search results does too.
    History,
    /// Only a status `entered-in-error` in search results (for upstreams without
    /// history, such as Epic's).
    Status,
}

pub struct FhirSource {
    upstream: Arc<Upstream>,
    mapping: Mapping,
    types: Vec<String>,
    deletes: Deletes,
    page_size: usize,
    bulk: Option<Bulk>,
    /// Per type: search parameters added to every first page (an upstream that will
    /// not search a type unconstrained, as Epic's Appointment search wants a date or
    /// a patient).
    queries: HashMap<String, String>,
    /// Per stream: the links followed and the last page's entries in the traversal
    /// under way (for loop detection; reset at each traversal's first page).
    traversals: Mutex<HashMap<String, Traversal>>,
    /// Per type: the upstream's time when its first full read began, where its
    /// history starts when it has no position of its own yet.
    history_start: Mutex<HashMap<String, String>>,
}

#[derive(Default)]
struct Traversal {
    followed: HashSet<String>,
    last_page: Vec<(String, String)>,
    empty_pages: usize,
}

impl FhirSource {
    pub fn new(
        upstream: Arc<Upstream>,
        mapping: Mapping,
        types: Vec<String>,
        deletes: Deletes,
        page_size: usize,
        bulk: Option<Bulk>,
    ) -> FhirSource {
        FhirSource {
            upstream,
            mapping,
            types,
            deletes,
            page_size: page_size.max(1),
            bulk,
            queries: HashMap::new(),
            traversals: Mutex::default(),
            history_start: Mutex::default(),
        }
    }

    /// Adds `query` (`name=value&...`, as the upstream takes it) to every first page
    /// of `rtype`'s search.
    pub fn with_query(mut self, rtype: &str, query: &str) -> FhirSource {
        self.queries
            .insert(rtype.to_owned(), query.trim_matches('&').to_owned());
        self
    }

    fn first_search_url(&self, rtype: &str, since: Option<&str>) -> String {
        let mut url = format!("{}/{rtype}?", self.upstream.base());
        if let Some(query) = self.queries.get(rtype).filter(|q| !q.is_empty()) {
            url.push_str(&format!("{query}&"));
        }
        if let Some(since) = since {
            url.push_str(&format!("_lastUpdated=gt{}&", encode(since)));
        }
        url.push_str(&format!("_count={}", self.page_size));
        url
    }

    fn first_history_url(&self, rtype: &str, since: Option<&str>) -> String {
        let mut url = format!("{}/{rtype}/_history?", self.upstream.base());
        if let Some(since) = since {
            url.push_str(&format!("_since={}&", encode(since)));
        }
        url.push_str(&format!("_count={}", self.page_size));
        url
    }

    async fn content_page(
        &self,
        rtype: &str,
        position: Option<Position>,
    ) -> Result<Page, PullError> {
        if let Some(bulk) = &self.bulk
            && position.as_ref().is_none_or(|p| p.bulk.is_some())
        {
            let page = bulk.page(rtype, position.and_then(|p| p.bulk)).await?;
            if let Some(start) = bulk.transaction_time() {
                self.note_history_start(rtype, start);
            }
            return Ok(page);
        }
        let position = position.unwrap_or_default();
        let stream = rtype.to_owned();
        let (bundle, date, position) = self
            .bundle(&stream, position, |since| {
                self.first_search_url(rtype, since)
            })
            .await?;
        if position.next.is_none()
            && position.since.is_none()
            && let Some(date) = date
        {
            self.note_history_start(rtype, date.to_string());
        }
        let mut records = Vec::new();
        let mut times: Vec<Option<&str>> = Vec::new();
        for entry in entries(&bundle) {
            let resource = &entry["resource"];
            match resource["resourceType"].as_str() {
                Some(t) if t == rtype => {
                    times.push(resource["meta"]["lastUpdated"].as_str());
                    records.push(Record {
                        key: resource["id"].as_str().unwrap_or("(no id)").to_owned(),
                        body: resource.clone(),
                    });
                }
                Some("OperationOutcome") => log_outcome(rtype, resource),
                _ => {} // an _include the upstream added on its own
            }
        }
        let high = newest(times);
        self.page(&stream, &bundle, position, records, high)
    }

    async fn history_page(
        &self,
        rtype: &str,
        position: Option<Position>,
    ) -> Result<Page, PullError> {
        let stream = format!("{rtype}/_history");
        let mut position = position.unwrap_or_default();
        if position.since.is_none() && position.next.is_none() {
            position.since = self.history_start(rtype);
        }
        let (bundle, _, position) = self
            .bundle(&stream, position, |since| {
                self.first_history_url(rtype, since)
            })
            .await?;
        let mut records = Vec::new();
        let mut times: Vec<Option<&str>> = Vec::new();
        // `_since` is inclusive: the versions at `since` itself were read last time.
        let since: Option<jiff::Timestamp> = position.since.as_deref().and_then(|s| s.parse().ok());
        for entry in entries(&bundle) {
            let at = entry["response"]["lastModified"]
                .as_str()
                .or(entry["resource"]["meta"]["lastUpdated"].as_str());
            times.push(at);
            let seen = since.is_some_and(|since| {
                at.and_then(|t| t.parse::<jiff::Timestamp>().ok())
                    .is_some_and(|t| t <= since)
            });
            if seen || entry["request"]["method"] != "DELETE" {
                continue;
            }
            let url = entry["request"]["url"].as_str().unwrap_or("");
            let id = crate::map::parse_reference(url)
                .filter(|(t, _)| t == rtype)
                .map(|(_, id)| id);
            records.push(Record {
                key: id.clone().unwrap_or_else(|| format!("(DELETE {url})")),
                body: serde_json::json!({"deleted": id, "request": entry["request"]}),
            });
        }
        let high = newest(times);
        self.page(&stream, &bundle, position, records, high)
    }

    /// The Bundle at the position's next link, or the traversal's first page; a next
    /// link the upstream refuses (expired paging) starts the traversal again.
    async fn bundle(
        &self,
        stream: &str,
        position: Position,
        first: impl Fn(Option<&str>) -> String,
    ) -> Result<(Value, Option<jiff::Timestamp>, Position), PullError> {
        let url = match &position.next {
            Some(next) => next.clone(),
            None => {
                self.traversals_mut()
                    .insert(stream.to_owned(), Traversal::default());
                first(position.since.as_deref())
            }
        };
        let (bundle, date, position) = match self.upstream.get_json(stream, &url).await {
            Ok((bundle, date)) => (bundle, date, position),
            Err(UpstreamError::Refused { status, .. }) if position.next.is_some() => {
                tracing::warn!(
                    stream,
                    status,
                    "the upstream refuses a saved next link; reading this stream again from its cursor"
                );
                let restart = Position {
                    since: position.since.clone(),
                    ..Position::default()
                };
                self.traversals_mut()
                    .insert(stream.to_owned(), Traversal::default());
                let (bundle, date) = self
                    .upstream
                    .get_json(stream, &first(restart.since.as_deref()))
                    .await?;
                (bundle, date, restart)
            }
            Err(e) => return Err(e.into()),
        };
        if bundle["resourceType"] != "Bundle" {
            return Err(PullError::Unusable(format!(
                "{stream}: the upstream answered a {} where a Bundle was due",
                bundle["resourceType"]
                    .as_str()
                    .unwrap_or("non-FHIR document")
            )));
        }
        Ok((bundle, date, position))
    }

    /// The page of `records`, with the position after it; a paging loop is an error.
    fn page(
        &self,
        stream: &str,
        bundle: &Value,
        position: Position,
        records: Vec<Record>,
        high: Option<String>,
    ) -> Result<Page, PullError> {
        let next = bundle["link"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|l| l["relation"] == "next")
            .and_then(|l| l["url"].as_str())
            .map(str::to_owned);
        let Some(next) = next else {
            return Ok(Page {
                records,
                next_cursor: Some(position.finished(high.as_deref()).text()),
                more: false,
            });
        };
        self.check_progress(stream, &next, &records)?;
        Ok(Page {
            next_cursor: Some(position.going_on(next, high.as_deref()).text()),
            records,
            more: true,
        })
    }

    fn check_progress(
        &self,
        stream: &str,
        next: &str,
        records: &[Record],
    ) -> Result<(), PullError> {
        let mut traversals = self.traversals_mut();
        let traversal = traversals.entry(stream.to_owned()).or_default();
        let page: Vec<(String, String)> = records
            .iter()
            .map(|r| {
                (
                    r.key.clone(),
                    r.body["meta"]["versionId"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned(),
                )
            })
            .collect();
        let problem = if !traversal.followed.insert(next.to_owned()) {
            Some(format!(
                "{stream}: paging loop: the upstream's next link {next} was already followed in this read; stopping this read"
            ))
        } else if !page.is_empty() && page == traversal.last_page {
            Some(format!(
                "{stream}: paging loop: the page before {next} repeats the page before it ({} entries); stopping this read",
                page.len()
            ))
        } else if page.is_empty() {
            traversal.empty_pages += 1;
            (traversal.empty_pages >= MAX_EMPTY_PAGES).then(|| {
                format!(
                    "{stream}: paging makes no progress: {MAX_EMPTY_PAGES} pages in a row with nothing on them and still a next link ({next}); stopping this read"
                )
            })
        } else {
            traversal.empty_pages = 0;
            None
        };
        traversal.last_page = page;
        if let Some(problem) = problem {
            metrics::counter!("ohjaamo_fhir_source_paging_loops_total", "stream" => stream.to_owned())
                .increment(1);
            // The next attempt starts the loop detection afresh: a fixed upstream
            // gets through, a broken one is caught again.
            traversals.remove(stream);
            return Err(PullError::Unusable(problem));
        }
        Ok(())
    }

    fn traversals_mut(&self) -> std::sync::MutexGuard<'_, HashMap<String, Traversal>> {
        self.traversals.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn note_history_start(&self, rtype: &str, at: String) {
        self.history_start
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(rtype.to_owned())
            .or_insert(at);
    }

    fn history_start(&self, rtype: &str) -> Option<String> {
        self.history_start
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(rtype)
            .cloned()
    }
}

impl PullSource for FhirSource {
    fn streams(&self) -> Vec<String> {
        let mut streams = Vec::new();
        for t in &self.types {
            streams.push(t.clone());
            if self.deletes == Deletes::History {
                streams.push(format!("{t}/_history"));
            }
        }
        streams
    }

    async fn fetch(&self, stream: &str, cursor: Option<&str>) -> Result<Page, PullError> {
        let position = cursor
            .map(Position::parse)
            .transpose()
            .map_err(PullError::Unusable)?;
        match stream.split_once('/') {
            Some((rtype, "_history")) => self.history_page(rtype, position).await,
            _ => self.content_page(stream, position).await,
        }
    }

    /// Locations name their parents (`partOf`) and Encounters theirs (`partOf`):
    /// their pages are stored one after another. The other types refer only to types
    /// read before them, and their pages go to the core concurrently.
    fn in_order(&self, stream: &str) -> bool {
        matches!(stream, "Location" | "Encounter")
    }

    fn map(&self, stream: &str, record: &Record) -> Mapped {
        match stream.split_once('/') {
            Some((rtype, "_history")) => match record.body["deleted"].as_str() {
                Some(id) => self.mapping.deleted(rtype, id),
                None => Mapped::Unmappable(format!("a DELETE entry that names no {rtype}")),
            },
            _ => match record.body["unparsable"].as_str() {
                Some(why) => Mapped::Unmappable(format!("not a JSON resource: {why}")),
                None => self.mapping.resource(stream, &record.body),
            },
        }
    }
}

/// The Bundle's entries.
fn entries(bundle: &Value) -> impl Iterator<Item = &Value> {
    bundle["entry"].as_array().into_iter().flatten()
}

/// A search's OperationOutcome entry (Epic adds them for warnings): logged.
fn log_outcome(rtype: &str, outcome: &Value) {
    for issue in outcome["issue"].as_array().into_iter().flatten() {
        let text = issue["diagnostics"]
            .as_str()
            .or(issue["details"]["text"].as_str())
            .unwrap_or("");
        tracing::info!(stream = rtype, severity = %issue["severity"], text, "the upstream's search outcome");
    }
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
