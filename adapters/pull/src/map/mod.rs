//! Export records in FHIR R4 (docs/adapters.md has the table).
//!
//! Each function maps one record faithfully and without state: identifiers carry the
//! source's keys, references are conditional references by identifier, and a
//! tombstone (`poistettu: true`) retires what the record stood for. A record that
//! lacks what its FHIR form needs is unmappable, with a reason naming the field.

mod fields;
mod operations;
mod places;
mod resources;

use ohjaamo_adapter_kit::{Mapped, SourceIds};
use serde_json::Value;

pub use fields::{OHJAAMO_CODES, coding};

/// The export's streams, parents first.
pub const STREAMS: [&str; 8] = [
    "toimipisteet",
    "yksikot",
    "huoneet",
    "vuodepaikat",
    "laitteet",
    "tyovuorot",
    "leikkaukset",
    "vastaanottoajat",
];

/// The FHIR writes of one record of `stream`.
pub fn record(ids: &SourceIds, stream: &str, record: &Value) -> Mapped {
    let result = match stream {
        "toimipisteet" => places::site(ids, record),
        "yksikot" => places::unit(ids, record),
        "huoneet" => places::room(ids, record),
        "vuodepaikat" => places::bed_place(ids, record),
        "laitteet" => resources::equipment(ids, record),
        "tyovuorot" => resources::shift(ids, record),
        "leikkaukset" => operations::operation(ids, record),
        "vastaanottoajat" => operations::clinic_window(ids, record),
        other => Err(format!("unknown stream {other}")),
    };
    match result {
        Ok(upserts) => Mapped::Upserts(upserts),
        Err(reason) => Mapped::Unmappable(reason),
    }
}
