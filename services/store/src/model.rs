//! The store's vocabulary: what a write asks for, what it produced, what a search
//! filters on. The core translates FHIR into these; the store never parses FHIR.

use std::borrow::Cow;

use serde_json::Value;

/// One value a resource is found by. The core extracts these from a resource with
/// its search-parameter registry; the store keeps them in one table per kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    /// A search parameter's name, or `<param>:identifier` for the identifier of a
    /// reference (see the core's `extract`).
    pub param: Cow<'static, str>,
    pub value: IndexValue,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexValue {
    /// A code, with its system ("" when the source gave none).
    Token { system: String, code: String },
    /// A reference to another resource, split so that `actor=123` (id only) and
    /// `actor=Location/123` are both a plain index lookup.
    Reference {
        target_type: String,
        target_id: String,
    },
    /// The range a date, dateTime, instant or Period denotes: microseconds since the
    /// epoch, `lo` inclusive, `hi` exclusive. `scope` is a reference target
    /// (`Schedule/s1`) the value is also found under, so that "this target's values in
    /// this range" is one index range (the core's `composite` module sets it).
    Date {
        lo: i64,
        hi: i64,
        scope: Option<DateScope>,
    },
    /// A string, both as given and case- and accent-folded for the default search.
    String { normalized: String, exact: String },
}

/// Where a scoped date value is also found, and until when its resource lasts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateScope {
    /// The reference target, `Schedule/s1`.
    pub target: String,
    /// Microseconds since the epoch: the resource's end (a Slot's `end`), and never
    /// before the date value's own `hi`. "What is on this Schedule now" reads only the
    /// rows that last past now, however long the Schedule's history
    /// ([`crate::Store::scoped_during`], on an index by scope and `until`).
    pub until: i64,
}

/// The new content of a resource: its JSON (with `id`, without `meta.versionId` and
/// `meta.lastUpdated`, which the store assigns), the hash that decides whether it
/// differs from the stored version, and its search index.
#[derive(Debug, Clone)]
pub struct NewContent {
    pub resource: Value,
    pub hash: String,
    pub index: Vec<IndexEntry>,
}

/// Which resource a write goes to.
#[derive(Debug, Clone)]
pub enum WriteTarget {
    /// A known id (update, delete, or create with a client-chosen id).
    Id(String),
    /// A create with a server-assigned id the caller generated.
    New(String),
    /// A conditional update: the resource whose `identifier` is `system|code`.
    /// No match creates `new_id`; several matches refuse the write.
    Identifier {
        system: Option<String>,
        code: String,
        new_id: String,
    },
}

#[derive(Debug, Clone)]
pub enum Action {
    Put(Box<NewContent>),
    Delete,
}

#[derive(Debug, Clone)]
pub struct WriteOp {
    pub rtype: &'static str,
    pub target: WriteTarget,
    pub action: Action,
    /// `If-Match`: the version the writer last saw.
    pub if_match: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteStatus {
    Created,
    Updated,
    /// Identical content: no new version was written.
    Unchanged,
    Deleted,
    /// A delete of something that did not exist or was already deleted.
    AlreadyAbsent,
}

/// What a write did; `content` is the stored JSON text of the resulting version
/// (absent for deletions).
#[derive(Debug, Clone)]
pub struct Written {
    pub rtype: &'static str,
    pub id: String,
    pub version: i64,
    pub last_updated: i64,
    pub status: WriteStatus,
    pub content: Option<String>,
}

/// Why one write was refused; the rest of a batch goes on, a transaction rolls back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteRefusal {
    #[error("{rtype}/{id} is {}, not at version {expected} named in If-Match", describe_version(*current))]
    VersionMismatch {
        rtype: &'static str,
        id: String,
        expected: i64,
        current: Option<i64>,
    },
    #[error(
        "{count} {rtype} resources have identifier {identifier}; a conditional update needs at most one"
    )]
    MultipleMatches {
        rtype: &'static str,
        identifier: String,
        count: usize,
    },
}

fn describe_version(current: Option<i64>) -> String {
    match current {
        Some(v) => format!("at version {v}"),
        None => "deleted or does not exist".to_owned(),
    }
}

/// A stored version of a resource as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredVersion {
    pub rtype: String,
    pub id: String,
    pub version: i64,
    pub last_updated: i64,
    pub deleted: bool,
    pub content: String,
}

/// A search, already translated from FHIR parameters by the core.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub rtype: &'static str,
    /// All must hold.
    pub filters: Vec<Filter>,
    pub sort: Vec<SortKey>,
    pub count: usize,
    pub offset: usize,
    pub with_total: bool,
    /// Only count (`_summary=count`).
    pub count_only: bool,
}

/// One search parameter; its alternatives (comma-separated values) are OR-ed.
#[derive(Debug, Clone)]
pub enum Filter {
    Id(Vec<String>),
    LastUpdated(Vec<DateCondition>),
    Token {
        param: &'static str,
        any_of: Vec<TokenMatch>,
        /// `:not` — resources with no matching value.
        negate: bool,
    },
    Reference {
        param: &'static str,
        any_of: Vec<ReferenceMatch>,
    },
    Date {
        param: &'static str,
        /// Only values indexed under this reference target (`Schedule/s1`); see
        /// [`IndexValue::Date`].
        scope: Option<String>,
        any_of: Vec<DateCondition>,
        /// Every resource has at most one value of `param`, so several date filters
        /// on it must hold for that one value: they are checked together, on one
        /// index row, which lets the index bound the range from both sides.
        single_valued: bool,
    },
    String {
        param: &'static str,
        any_of: Vec<StringMatch>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenMatch {
    /// `None`: any system; `Some("")`: explicitly no system (`|code`).
    pub system: Option<String>,
    /// `None`: any code of the system (`system|`).
    pub code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceMatch {
    /// `None` when the search value gave only an id.
    pub target_type: Option<String>,
    pub target_id: String,
}

/// A date comparison: `prefix` applied between the search range `[lo, hi)` and each
/// indexed range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateCondition {
    pub prefix: DatePrefix,
    pub lo: i64,
    pub hi: i64,
}

/// The R4 date prefixes the store can evaluate in SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatePrefix {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Sa,
    Eb,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringMatch {
    pub value: String,
    pub mode: StringMode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringMode {
    /// Default: starts with, ignoring case and accents (`value` already folded).
    StartsWith,
    /// `:contains`, ignoring case and accents (`value` already folded).
    Contains,
    /// `:exact`: the whole string, as given.
    Exact,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    pub by: SortBy,
    pub descending: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortBy {
    Id,
    LastUpdated,
    Date(&'static str),
    String(&'static str),
    Token(&'static str),
}

/// One page of search results.
#[derive(Debug, Clone, Default)]
pub struct SearchPage {
    pub matches: Vec<StoredVersion>,
    pub total: Option<u64>,
}
