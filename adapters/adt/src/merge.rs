//! A34 / A40: identifiers merged in the source. The stays known by a merged-away
//! key are re-keyed to the surviving one, so that the next message finds them, and
//! no stay is made twice: a stay the surviving key already names keeps its place,
//! and the merged-away one is retired (`entered-in-error`) with a data-quality mark.
//!
//! Which keys change depends on the source's visit-key rule (`visit_key`): a merge
//! of patients changes nothing of stays keyed by visit numbers.

use serde_json::{Value, json};

use crate::adapter::AdtAdapter;
use crate::core_client::CoreError;
use crate::event::AdtEvent;
use crate::ledger::Ledger;
use crate::settle::Failure;
use crate::visit_key::PATIENT;

impl AdtAdapter {
    pub(crate) async fn merge(&self, event: &AdtEvent) -> Result<(), Failure> {
        for (old, new) in &event.renames {
            for (id, stay) in self.core.stays_with(old).await? {
                let mut encounter = stay.encounter.clone();
                let Some(map) = encounter.as_object_mut() else {
                    continue;
                };
                let labels = map.get("meta").and_then(|m| m.get("security")).cloned();
                map.remove("meta");
                rename(map, old, new);
                let mut ledger = Ledger::take(map);
                let taken = !new.starts_with(PATIENT)
                    && self
                        .core
                        .read_stay(new)
                        .await?
                        .is_some_and(|other| other.encounter["id"] != id.as_str());
                if taken {
                    map.insert("status".into(), json!("entered-in-error"));
                    ledger.mark(
                        event,
                        &format!(
                            "merged into the stay already known as {new}: this one is retired"
                        ),
                    );
                    metrics::counter!("ohjaamo_adapter_data_quality_marks_total", "source" => "adt", "trigger" => event.trigger.code())
                        .increment(1);
                    self.count_mark();
                }
                ledger.record(event, None);
                ledger.put(map);
                if let Some(labels) = labels {
                    map.insert("meta".into(), json!({ "security": labels }));
                }
                match self.core.write_by_id(&id, &encounter, &stay.version).await {
                    // Someone wrote it meanwhile: the settle loop reads again.
                    Err(CoreError::Changed) => {
                        return Err(CoreError::Transient(
                            "a merged stay changed while it was re-keyed".into(),
                        )
                        .into());
                    }
                    other => other?,
                }
            }
        }
        Ok(())
    }
}

/// Renames the stay's identifiers: `old` becomes `new`; for a patient's
/// pseudonym, every key made of it too.
fn rename(encounter: &mut serde_json::Map<String, Value>, old: &str, new: &str) {
    let pseudonyms = old.strip_prefix(PATIENT).zip(new.strip_prefix(PATIENT));
    let mut identifiers: Vec<Value> = Vec::new();
    for mut identifier in encounter
        .remove("identifier")
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
    {
        let value = identifier["value"].as_str().unwrap_or_default().to_owned();
        let renamed = match pseudonyms {
            _ if value == old => new.to_owned(),
            Some((from, to)) if value.starts_with("patient-admit:") => value.replacen(from, to, 1),
            _ => value,
        };
        identifier["value"] = json!(renamed);
        if !identifiers.contains(&identifier) {
            identifiers.push(identifier);
        }
    }
    encounter.insert("identifier".into(), Value::Array(identifiers));
}
