//! Step 4 of applying a request: each resource validated, its references rewritten
//! to literal ones in the validated copy (the entry keeps what was sent, so a request
//! planned again starts from the same content), and indexed.

use jiff::tz::TimeZone;

use crate::search::references::rewrite_references;
use crate::write::entry::{Outcomes, WriteEntry, WriteKind, fail};
use crate::write::ingest::{Prepared, finish, validated};
use crate::write::names::Names;

/// The prepared content of each entry still standing (`None` for deletes and for
/// entries that failed, now or before, their failures in `results`).
pub fn prepare(
    entries: &mut [WriteEntry],
    ids: &[Option<String>],
    names: &Names,
    tz: &TimeZone,
    results: &mut Outcomes,
) -> Vec<Option<Prepared>> {
    let mut prepared: Vec<Option<Prepared>> = vec![None; entries.len()];
    for (i, e) in entries.iter_mut().enumerate() {
        if matches!(e.kind, WriteKind::Delete { .. }) || results[i].is_some() {
            continue;
        }
        let (Some(id), Some(resource)) = (&ids[i], e.resource.as_mut()) else {
            continue;
        };
        let mut json = match validated(e.rtype, resource, id) {
            Ok(json) => json,
            Err(err) => {
                fail(results, i, err);
                continue;
            }
        };
        let mut problem = None;
        rewrite_references(&mut json, &mut |element, text| {
            names.resolve(element, text, &mut problem)
        });
        if let Some(p) = problem {
            fail(results, i, p);
            continue;
        }
        match finish(e.rtype, json, id, tz) {
            Ok(p) => prepared[i] = Some(p),
            Err(err) => fail(results, i, err),
        }
    }
    prepared
}
