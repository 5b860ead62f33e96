//! The access record of the request being served, noted as it runs.
//!
//! The HTTP layer (`http::access_log`) opens a [`Note`] for each request and runs the
//! handler inside it (a task-local, as the trace context rides the request's span):
//! the authentication step notes who the caller is, the request context the
//! organisation, the handlers what they read, the write path takes the record into the
//! write's own transaction. Code that runs outside a request (the occupancy follower,
//! the deriver) finds no note and notes nothing.

use std::sync::{Arc, Mutex, MutexGuard};

use ohjaamo_store::{AccessEntity, AccessRecord};

use crate::auth::verify::Principal;

tokio::task_local! {
    static CURRENT: Note;
}

/// One request's record in the making.
#[derive(Debug, Clone)]
pub struct Note(Arc<Mutex<Draft>>);

#[derive(Debug)]
struct Draft {
    record: AccessRecord,
    /// A write's transaction committed a record of this request (with what it read
    /// until then): only what it reads afterwards still needs one.
    logged_with_write: bool,
}

impl Note {
    pub fn new(record: AccessRecord) -> Note {
        Note(Arc::new(Mutex::new(Draft {
            record,
            logged_with_write: false,
        })))
    }

    /// Runs `work` with this note as the current request's.
    pub async fn scope<F: Future>(self, work: F) -> F::Output {
        CURRENT.scope(self, work).await
    }

    fn draft(&self) -> MutexGuard<'_, Draft> {
        // A panic while noting leaves a record still worth writing.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The record to write once the answer is known, or `None` when the write's
    /// transaction already holds everything it did.
    pub fn finish(&self, status: u16, outcome: Option<String>) -> Option<AccessRecord> {
        let mut draft = self.draft();
        if draft.logged_with_write && draft.record.entities.is_empty() {
            return None;
        }
        let mut record = std::mem::take(&mut draft.record);
        record.status = status;
        record.outcome = outcome;
        Some(record)
    }
}

/// Runs `f` on the current request's draft, if there is one.
fn with_current(f: impl FnOnce(&mut Draft)) {
    let _ = CURRENT.try_with(|note| f(&mut note.draft()));
}

/// The caller, once its token is verified.
pub fn caller(principal: &Principal) {
    with_current(|d| {
        d.record.subject.clone_from(&principal.subject);
        d.record.client_id.clone_from(&principal.client_id);
        d.record.subject_name.clone_from(&principal.name);
        d.record.scopes.clone_from(&principal.scopes);
    });
}

/// The organisation the request acts for.
pub fn acting_for(tenant: &str) {
    with_current(|d| {
        if d.record.claimed_tenant.as_deref() == Some(tenant) {
            d.record.claimed_tenant = None;
        }
        tenant.clone_into(&mut d.record.tenant);
    });
}

/// What the request turned out to be, where the path alone does not say (a Bundle is
/// a `batch` or a `transaction`).
pub fn interaction(name: &str) {
    with_current(|d| name.clone_into(&mut d.record.interaction));
}

/// A resource the request is about to show the client.
pub fn read(rtype: &str, id: &str, version: Option<i64>, content: &str) {
    with_current(|d| {
        d.record.entities.push(AccessEntity {
            reference: format!("{rtype}/{id}"),
            version,
            visit: visit_of_text(rtype, content),
            changed: false,
        });
    });
}

/// The unit whose picture the request reads, when it names one (the picture shows
/// beds and pseudonymous case numbers, no stay's identity: the unit is what was read).
pub fn unit(unit: Option<&str>) {
    let Some(unit) = unit else { return };
    with_current(|d| {
        d.record.entities.push(AccessEntity {
            reference: format!("Location/{unit}"),
            version: None,
            visit: None,
            changed: false,
        });
    });
}

/// The record a write inserts in its own transaction, with what the request read so
/// far; `None` outside a request, and once a write of this request committed its
/// record (what the server derives from the request's write — bed occupancy — is the
/// server's doing, recorded by the change that caused it). The status says committed
/// (200): the record exists only if the transaction does.
pub fn for_write() -> Option<AccessRecord> {
    CURRENT
        .try_with(|note| {
            let draft = note.draft();
            (!draft.logged_with_write).then(|| {
                let mut record = draft.record.clone();
                record.status = 200;
                record
            })
        })
        .ok()
        .flatten()
}

/// The write's transaction committed the record [`for_write`] gave: what it held
/// needs no record of its own any more.
pub fn written() {
    with_current(|d| {
        d.logged_with_write = true;
        d.record.entities.clear();
    });
}

/// The patient-visit identifier in a stored Encounter's JSON.
fn visit_of_text(rtype: &str, content: &str) -> Option<String> {
    if rtype != "Encounter" {
        return None;
    }
    let resource: serde_json::Value = serde_json::from_str(content).ok()?;
    ohjaamo_store::visit_identifier(rtype, &resource)
}
