//! The wire contract between the adapters and the core beside FHIR: the report an
//! adapter sends of itself (`PUT /sources/{name}`, every few seconds) and the core
//! stores, judges for staleness and answers in `GET /sources`.
//!
//! Why a crate of its own: both sides must read one definition (two copies drifted
//! apart is how a renamed field silently goes missing), and neither side's plumbing
//! belongs to the other — the core must not depend on the adapter kit's HTTP client,
//! retry and quarantine, nor the kit on the core's store and API. This crate needs
//! only serde.

use serde::{Deserialize, Serialize};

/// The most bytes of a report the core takes (413 beyond): a report is a few hundred
/// bytes, and what the core takes it serves back to every display polling it.
pub const MAX_REPORT_BYTES: usize = 16 * 1024;

/// The most characters of `lastError` an adapter sends: enough to say what failed,
/// well inside [`MAX_REPORT_BYTES`] (a character is at most four bytes).
pub const MAX_ERROR_CHARS: usize = 2_000;

/// `error` cut to [`MAX_ERROR_CHARS`] characters, with a mark where it was cut.
pub fn bounded_error(error: &str) -> String {
    if error.chars().count() <= MAX_ERROR_CHARS {
        return error.to_owned();
    }
    let kept: String = error.chars().take(MAX_ERROR_CHARS - 1).collect();
    format!("{kept}…")
}

/// What an adapter reports of itself. The JSON names are the wire contract
/// (`lastSuccess`, `staleAfterSeconds`, …); unknown fields are refused, so that a
/// misspelt field is an error at the core rather than a silently missing value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SourceReport {
    /// `adt`, `pull`, or another adapter's kind.
    pub kind: String,
    /// When the source last delivered something the core stored (RFC 3339).
    pub last_success: Option<String>,
    /// The latest failure, while it lasts.
    pub last_error: Option<String>,
    /// How far behind the source the core is, as the adapter measures it.
    pub lag_seconds: Option<f64>,
    /// Records kept in the adapter's quarantine since it started.
    pub quarantined: u64,
    /// Records applied with a data-quality mark since the adapter started (a
    /// message that contradicted what the core had; see docs/adapters.md). Left out
    /// when none, so that a core that does not know the field still takes the report.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub data_quality_marks: u64,
    /// How old `lastSuccess` may get before the source counts as stale.
    pub stale_after_seconds: f64,
    /// How often the adapter reports.
    pub report_interval_seconds: f64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_error_is_cut_to_fit_a_report() {
        assert_eq!(bounded_error("refused"), "refused");
        let cut = bounded_error(&"ä".repeat(10_000));
        assert_eq!(cut.chars().count(), MAX_ERROR_CHARS);
        assert!(cut.ends_with('…'));
        assert!(cut.len() * 2 < MAX_REPORT_BYTES);
    }

    #[test]
    fn the_wire_names_are_the_contract() {
        let report = SourceReport {
            data_quality_marks: 0,
            kind: "adt".into(),
            last_success: Some("2026-12-02T10:00:00Z".into()),
            last_error: None,
            lag_seconds: Some(0.5),
            quarantined: 2,
            stale_after_seconds: 900.0,
            report_interval_seconds: 5.0,
        };
        let json = serde_json::to_value(&report).unwrap();
        let mut names: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "kind",
                "lagSeconds",
                "lastError",
                "lastSuccess",
                "quarantined",
                "reportIntervalSeconds",
                "staleAfterSeconds"
            ]
        );
        assert_eq!(
            serde_json::from_value::<SourceReport>(json).unwrap(),
            report
        );
    }

    #[test]
    fn an_unknown_field_is_refused() {
        let text = r#"{"kind":"pull","lastSuccess":null,"lastError":null,"lagSeconds":null,
            "quarantined":0,"staleAfterSeconds":60,"reportIntervalSeconds":5,"stale":true}"#;
        assert!(serde_json::from_str::<SourceReport>(text).is_err());
    }
}
