//! `ohjaamo store export-access-log`: the access log as NDJSON AuditEvents (one per
//! line, BALP-shaped as `/fhir/AuditEvent` serves them) for a SIEM or an archive.
//!
//! Records go out in the order they were written. An export can continue where the
//! last one ended: the number of the last record exported is printed to stderr, and
//! `--after-record` starts past it, so a nightly job ships each record once.

use std::io::Write as _;

use anyhow::Context as _;
use clap::Args;
use ohjaamo_core::audit::audit_event::audit_events;
use ohjaamo_store::{AccessFilter, Store};

/// Records read per round trip to the database.
const PAGE: usize = 1_000;

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// One organisation's records; all organisations' when not given.
    #[arg(long)]
    organization: Option<String>,
    /// Records at or after this instant (RFC 3339, e.g. 2026-12-01T00:00:00Z).
    #[arg(long)]
    since: Option<String>,
    /// Records before this instant (RFC 3339).
    #[arg(long)]
    until: Option<String>,
    /// Records numbered after this one (the number the previous export printed last).
    #[arg(long)]
    after_record: Option<i64>,
}

/// Writes the records to stdout; answers how many AuditEvents went out.
pub async fn export(store: &Store, args: ExportArgs) -> anyhow::Result<u64> {
    let instant = |text: &Option<String>, name: &str| -> anyhow::Result<Option<i64>> {
        text.as_deref()
            .map(|t| {
                t.parse::<jiff::Timestamp>()
                    .map(|ts| ts.as_microsecond())
                    .with_context(|| format!("--{name} {t:?} is not an RFC 3339 instant"))
            })
            .transpose()
    };
    let mut filter = AccessFilter {
        tenant: args.organization,
        from: instant(&args.since, "since")?,
        until: instant(&args.until, "until")?,
        after_id: args.after_record,
        oldest_first: true,
        limit: PAGE,
        ..AccessFilter::default()
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut events = 0u64;
    loop {
        let page = store.access_records(&filter).await?;
        let Some(last) = page.last().map(|s| s.id) else {
            break;
        };
        for stored in &page {
            for event in audit_events(stored) {
                serde_json::to_writer(&mut out, &event)?;
                out.write_all(b"\n")?;
                events += 1;
            }
        }
        filter.after_id = Some(last);
        eprintln!("exported through access record {last}");
        if page.len() < PAGE {
            break;
        }
    }
    out.flush()?;
    Ok(events)
}
