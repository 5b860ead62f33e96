//! Where a stream stands, as the one string the kit's cursor store keeps per stream.
//!
//! Between rounds it is only `since`: the newest `meta.lastUpdated` of everything
//! read so far, so that the next round asks `_lastUpdated=gt<since>`. During a
//! traversal (a search followed through its `next` links, or an `$export`'s files
//! read line by line) it also says where the traversal is, so that a restart goes on
//! from the page it stopped at; `since` moves only when a traversal is complete,
//! because the upstream's pages are not in `lastUpdated` order and a record older than
//! one already seen may still be on a later page.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Position {
    /// Everything updated up to this instant is read (RFC 3339); `None`: nothing yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// The next page of the traversal under way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    /// The newest `lastUpdated` seen in the traversal under way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<String>,
    /// The place in an `$export`'s files, during an initial load through Bulk Data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bulk: Option<BulkPlace>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkPlace {
    /// The export's files of this type, in order.
    pub files: Vec<String>,
    /// The file being read, and the byte offset of its next line.
    pub file: usize,
    pub offset: u64,
    /// The export's `transactionTime`: `since` once the files are read.
    pub transaction_time: String,
}

impl Position {
    /// The saved text of a cursor; a cursor that is not a position of ours is an
    /// error (a cursor file of another adapter), not a silent restart.
    pub fn parse(text: &str) -> Result<Position, String> {
        serde_json::from_str(text)
            .map_err(|e| format!("the saved cursor {text:?} is not a FHIR source position: {e}"))
    }

    pub fn text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A traversal is complete: everything up to `high` (or what `since` was) is read.
    pub fn finished(&self, page_high: Option<&str>) -> Position {
        Position {
            since: newest([self.since.as_deref(), self.high.as_deref(), page_high]),
            ..Position::default()
        }
    }

    /// The traversal goes on at `next`, having seen up to `page_high` on this page.
    pub fn going_on(&self, next: String, page_high: Option<&str>) -> Position {
        Position {
            since: self.since.clone(),
            next: Some(next),
            high: newest([self.high.as_deref(), page_high, None]),
            bulk: None,
        }
    }
}

/// The newest of some instants, as UTC RFC 3339 text; unparsable ones are ignored.
pub fn newest<'a>(instants: impl IntoIterator<Item = Option<&'a str>>) -> Option<String> {
    instants
        .into_iter()
        .flatten()
        .filter_map(|t| t.parse::<jiff::Timestamp>().ok())
        .max()
        .map(|t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_moves_only_when_a_traversal_is_complete() {
        let start = Position {
            since: Some("2026-12-01T10:00:00Z".into()),
            ..Position::default()
        };
        let mid = start.going_on("https://u/next".into(), Some("2026-12-01T12:00:00+02:00"));
        assert_eq!(mid.since.as_deref(), Some("2026-12-01T10:00:00Z"));
        assert_eq!(mid.high.as_deref(), Some("2026-12-01T10:00:00Z"));
        let mid = mid.going_on(
            "https://u/next2".into(),
            Some("2026-12-01T10:30:00.123456Z"),
        );
        assert_eq!(mid.high.as_deref(), Some("2026-12-01T10:30:00.123456Z"));
        let done = mid.finished(Some("2026-12-01T10:20:00Z"));
        assert_eq!(
            done,
            Position {
                since: Some("2026-12-01T10:30:00.123456Z".into()),
                ..Position::default()
            }
        );
        assert_eq!(Position::parse(&done.text()).unwrap(), done);
    }

    #[test]
    fn a_cursor_of_another_adapter_is_an_error() {
        let error = Position::parse("1234").unwrap_err();
        assert!(error.contains("not a FHIR source position"), "{error}");
        assert_eq!(Position::default().finished(None), Position::default());
    }
}
