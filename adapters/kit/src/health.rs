//! What a running adapter tells about itself: the document its `/status` answers and
//! the health it reports to the core (`PUT /sources/{name}`).
//!
//! A pull source's health is read from its runner's streams, a push feed's from its
//! [`Delivery`]; either way the kit turns it into the one [`SourceReport`].

use std::collections::BTreeMap;

use serde_json::{Value, json};

use ohjaamo_adapter_contract::bounded_error;

use crate::report::{Delivery, SourceReport};
use crate::runner::{PullRunner, StreamStatus};
use crate::source::PullSource;

/// What an adapter knows of its own freshness, for the core.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Health {
    /// When the source last delivered something the core stored (RFC 3339).
    pub last_success: Option<String>,
    pub last_error: Option<String>,
    pub lag_seconds: Option<f64>,
    /// Records quarantined since the adapter started.
    pub quarantined: u64,
    /// Records applied with a data-quality mark since the adapter started.
    pub data_quality_marks: u64,
}

impl Health {
    /// The report of source kind `kind`, stale after `stale_after` seconds without a
    /// delivery, sent every `interval` seconds.
    pub fn report(self, kind: &str, stale_after: f64, interval: f64) -> SourceReport {
        SourceReport {
            kind: kind.to_owned(),
            last_success: self.last_success,
            last_error: self.last_error.as_deref().map(bounded_error),
            lag_seconds: self.lag_seconds,
            quarantined: self.quarantined,
            data_quality_marks: self.data_quality_marks,
            stale_after_seconds: stale_after,
            report_interval_seconds: interval,
        }
    }

    /// A pushed feed's health: its last delivery and its quarantine.
    pub fn of_delivery(delivery: &Delivery, quarantined: u64) -> Health {
        let (last_success, lag_seconds, last_error) = delivery.read();
        Health {
            last_success,
            last_error,
            lag_seconds,
            quarantined,
            data_quality_marks: 0,
        }
    }

    /// A pulled source's health: as fresh as its least fresh stream (a display must
    /// not look current while one export stream is stuck), with the first stream
    /// error.
    pub fn of_streams(streams: &BTreeMap<String, StreamStatus>) -> Health {
        let successes: Vec<Option<jiff::Timestamp>> = streams
            .values()
            .map(|s| s.last_success.as_deref().and_then(|t| t.parse().ok()))
            .collect();
        let oldest = if successes.is_empty() || successes.iter().any(Option::is_none) {
            None
        } else {
            successes.into_iter().flatten().min()
        };
        Health {
            last_success: oldest.map(|t| t.to_string()),
            last_error: streams
                .iter()
                .find_map(|(name, s)| s.last_error.as_ref().map(|e| format!("{name}: {e}"))),
            lag_seconds: oldest.map(|t| {
                jiff::Timestamp::now()
                    .duration_since(t)
                    .as_secs_f64()
                    .max(0.0)
            }),
            quarantined: streams.values().map(|s| s.records_quarantined).sum(),
            data_quality_marks: 0,
        }
    }
}

/// A running adapter as its admin server and its reporter see it.
pub trait Observed: Send + Sync + 'static {
    /// The `/status` document.
    fn status(&self) -> Value;
    /// Its freshness, reported to the core every report interval.
    fn health(&self) -> Health;
}

impl<S: PullSource + 'static> Observed for PullRunner<S> {
    fn status(&self) -> Value {
        json!({
            "source": self.name(),
            "streams": self.streams(),
            "quarantineFile": self.quarantine().path().display().to_string(),
        })
    }

    fn health(&self) -> Health {
        Health::of_streams(&self.streams())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(last_success: Option<&str>, error: Option<&str>, kept: u64) -> StreamStatus {
        StreamStatus {
            last_success: last_success.map(str::to_owned),
            last_error: error.map(str::to_owned),
            records_quarantined: kept,
            ..StreamStatus::default()
        }
    }

    #[test]
    fn a_pull_is_as_fresh_as_its_least_fresh_stream() {
        let streams = BTreeMap::from([
            (
                "a".to_owned(),
                stream(Some("2026-12-02T10:00:00Z"), None, 1),
            ),
            (
                "b".to_owned(),
                stream(Some("2026-12-02T09:00:00Z"), Some("500"), 2),
            ),
        ]);
        let health = Health::of_streams(&streams);
        assert_eq!(health.last_success.as_deref(), Some("2026-12-02T09:00:00Z"));
        assert_eq!(health.last_error.as_deref(), Some("b: 500"));
        assert_eq!(health.quarantined, 3);
        assert!(health.lag_seconds.is_some_and(|l| l > 0.0));
    }

    #[test]
    fn a_stream_never_synced_leaves_the_pull_without_a_success() {
        let streams = BTreeMap::from([
            (
                "a".to_owned(),
                stream(Some("2026-12-02T10:00:00Z"), None, 0),
            ),
            ("b".to_owned(), stream(None, None, 0)),
        ]);
        let health = Health::of_streams(&streams);
        assert_eq!((health.last_success, health.lag_seconds), (None, None));
        assert_eq!(Health::of_streams(&BTreeMap::new()).last_success, None);
    }

    #[test]
    fn the_report_carries_the_kind_and_the_timing() {
        let report = Health::default().report("adt", 900.0, 5.0);
        assert_eq!(report.kind, "adt");
        assert_eq!(report.stale_after_seconds, 900.0);
        assert_eq!(report.report_interval_seconds, 5.0);
    }
}
