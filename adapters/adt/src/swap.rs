//! A17: two patients swap beds, in one transaction — both moves are stored, or
//! neither, so the picture never shows two patients in one bed.
//!
//! Each PID–PV1 group's PV1-3 is that patient's new place. Some senders fill PV1-3
//! with the place each patient is in *before* the swap; when both PV1-3s name the
//! patients' current places, the two are exchanged.

use crate::adapter::AdtAdapter;
use crate::core_client::CoreError;
use crate::encounter::{apply_event, place_key};
use crate::event::AdtEvent;
use crate::history;
use crate::settle::Failure;
use crate::stays::StayWrite;

/// Re-reads after a stay changed under the transaction before giving up.
const MAX_REAPPLY: u32 = 5;

impl AdtAdapter {
    pub(crate) async fn swap(&self, first: &AdtEvent, second: &AdtEvent) -> Result<(), Failure> {
        for _ in 0..MAX_REAPPLY {
            let (key1, stay1) = self.find_stay(first).await?;
            let (key2, stay2) = self.find_stay(second).await?;
            let (mut one, mut two) = (first.clone(), second.clone());
            let now_at = |stay: &Option<crate::core_client::StoredStay>| {
                stay.as_ref().and_then(|s| {
                    let entries: Vec<history::Entry> = s.encounter["location"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|l| l.as_object().cloned())
                        .collect();
                    history::current(&entries)
                })
            };
            let named = |event: &AdtEvent| {
                event.location.as_ref().and_then(|p| {
                    place_key(p).map(|(kind, key)| format!("{}|{key}", self.ids.system(kind)))
                })
            };
            if named(&one).is_some()
                && named(&one) == now_at(&stay1)
                && named(&two) == now_at(&stay2)
            {
                std::mem::swap(&mut one.location, &mut two.location);
            }
            let applied1 = apply_event(stay1.as_ref().map(|s| &s.encounter), &one, &self.ids)?;
            let applied2 = apply_event(stay2.as_ref().map(|s| &s.encounter), &two, &self.ids)?;
            if applied1.repeat && applied2.repeat {
                self.observe(&one, &applied1);
                return Ok(());
            }
            let writes = [
                StayWrite {
                    key: &key1,
                    encounter: &applied1.encounter,
                    version: stay1.as_ref().map(|s| s.version.as_str()),
                },
                StayWrite {
                    key: &key2,
                    encounter: &applied2.encounter,
                    version: stay2.as_ref().map(|s| s.version.as_str()),
                },
            ];
            match self.core.write_together(&writes).await {
                Err(CoreError::Changed) => continue,
                Ok(()) => {
                    self.observe(&one, &applied1);
                    self.observe(&two, &applied2);
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(
            CoreError::Transient("the stays kept changing while they were being swapped".into())
                .into(),
        )
    }
}
