//! Step 6 of applying a request: the store's operations for the entries still
//! standing, in the order R4 gives a transaction: deletes, creates, updates.

use ohjaamo_store::{Action, WriteOp, WriteTarget};

use crate::base::error::ApiError;
use crate::write::entry::{Outcomes, WriteEntry, WriteKind, fail};
use crate::write::ingest::Prepared;

/// Each standing entry's position and its operation, in transaction order; the
/// prepared content moves into the operations.
pub fn ops(
    entries: &[WriteEntry],
    ids: &[Option<String>],
    prepared: &mut [Option<Prepared>],
    results: &mut Outcomes,
) -> Vec<(usize, WriteOp)> {
    let mut order: Vec<usize> = (0..entries.len())
        .filter(|i| results[*i].is_none())
        .collect();
    order.sort_by_key(|i| match entries[*i].kind {
        WriteKind::Delete { .. } => 0,
        WriteKind::Create => 1,
        _ => 2,
    });
    let mut ops = Vec::with_capacity(order.len());
    for &i in &order {
        let e = &entries[i];
        let Some(id) = ids[i].clone() else { continue };
        let target = match &e.kind {
            WriteKind::Create => WriteTarget::New(id),
            WriteKind::Update { .. } | WriteKind::Delete { .. } => WriteTarget::Id(id),
            WriteKind::ConditionalUpdate { system, code } => WriteTarget::Identifier {
                system: system.clone(),
                code: code.clone(),
                new_id: id,
            },
        };
        let action = match prepared[i].take() {
            Some(p) => Action::Put(Box::new(p.content)),
            None if matches!(e.kind, WriteKind::Delete { .. }) => Action::Delete,
            None => {
                fail(
                    results,
                    i,
                    ApiError::BadRequest("the entry has no resource".into()),
                );
                continue;
            }
        };
        ops.push((
            i,
            WriteOp {
                rtype: e.rtype.as_str(),
                target,
                action,
                if_match: e.if_match,
            },
        ));
    }
    ops
}
