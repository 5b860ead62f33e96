//! What the stay remembers of its messages, so that order and repeats are decided
//! by the stay itself and the adapter stays stateless: the messages applied to it
//! (control id, trigger, event time, and the place a transfer named), and the
//! data-quality marks of messages that contradicted it.
//!
//! Both live on the Encounter as extensions:
//! - [`MESSAGE_URL`]: one complex extension per message applied (`controlId`,
//!   `trigger`, `occurred`, and `place` for a move), the last [`KEPT_MESSAGES`].
//!   A message whose control id and trigger are there is a repeat: acknowledged,
//!   nothing changed. A message older than the newest there is late: it is merged
//!   into the history by its time rather than over what is newer. A late event
//!   whose cancel is already there (the cancel overtook it) is recorded and not
//!   applied.
//! - [`QUALITY_URL`]: `valueString`, one per contradiction (the last
//!   [`KEPT_MARKS`]): which message, and what of it was not applied and why. The
//!   stay is kept as consistent as the messages allow; the mark tells the reader
//!   that the source said something else too.

use serde_json::{Map, Value, json};

use crate::event::{AdtEvent, Trigger};

/// An ADT message applied to the stay.
pub const MESSAGE_URL: &str = "https://ohjaamo.fi/fhir/StructureDefinition/adt-message";
/// A data-quality mark: a message that contradicted the stay.
pub const QUALITY_URL: &str = "https://ohjaamo.fi/fhir/StructureDefinition/data-quality";
/// Messages remembered per stay; a repeat older than these is applied again, which
/// the history's own checks make harmless.
pub const KEPT_MESSAGES: usize = 100;
/// Data-quality marks kept per stay.
pub const KEPT_MARKS: usize = 20;

/// One applied message, as the ledger keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub control_id: String,
    pub trigger: String,
    pub occurred: String,
    /// The place (`system|key`) of a move or a cancelled move.
    pub place: Option<String>,
}

/// The ledger of an Encounter, taken out of its extensions.
#[derive(Debug, Default, Clone)]
pub struct Ledger {
    pub entries: Vec<Entry>,
    pub marks: Vec<String>,
}

impl Ledger {
    /// Takes the ledger's extensions out of `encounter` (the others stay).
    pub fn take(encounter: &mut Map<String, Value>) -> Ledger {
        let mut ledger = Ledger::default();
        let Some(Value::Array(items)) = encounter.remove("extension") else {
            return ledger;
        };
        let mut others = Vec::new();
        for item in items {
            match item.get("url").and_then(Value::as_str) {
                Some(MESSAGE_URL) => ledger.entries.extend(entry_of(&item)),
                Some(QUALITY_URL) => {
                    ledger
                        .marks
                        .extend(item["valueString"].as_str().map(str::to_owned));
                }
                _ => others.push(item),
            }
        }
        if !others.is_empty() {
            encounter.insert("extension".into(), Value::Array(others));
        }
        ledger
    }

    /// Puts the ledger back as extensions of `encounter`, after the others.
    pub fn put(mut self, encounter: &mut Map<String, Value>) {
        let drop = self.entries.len().saturating_sub(KEPT_MESSAGES);
        self.entries.drain(..drop);
        let drop = self.marks.len().saturating_sub(KEPT_MARKS);
        self.marks.drain(..drop);
        let mut items = match encounter.remove("extension") {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        };
        items.extend(self.entries.iter().map(extension_of));
        items.extend(
            self.marks
                .iter()
                .map(|m| json!({ "url": QUALITY_URL, "valueString": m })),
        );
        if !items.is_empty() {
            encounter.insert("extension".into(), Value::Array(items));
        }
    }

    /// Whether this message (control id and trigger) was applied already.
    pub fn has(&self, event: &AdtEvent) -> bool {
        self.entries.iter().any(|e| {
            !event.control_id.is_empty()
                && e.control_id == event.control_id
                && e.trigger == event.trigger.code()
        })
    }

    /// Whether a message newer than `event` was applied: it is late.
    pub fn is_late(&self, event: &AdtEvent) -> bool {
        self.entries
            .iter()
            .any(|e| later(&e.occurred, &event.occurred))
    }

    /// Whether a cancel of `event` (its trigger, and for a transfer its place) was
    /// applied with a time not before it: the cancel overtook the event.
    pub fn cancelled(&self, event: &AdtEvent, place: Option<&str>) -> bool {
        self.entries.iter().any(|e| {
            Trigger::parse(&e.trigger).is_some_and(|t| t.cancels().contains(&event.trigger))
                && !later(&event.occurred, &e.occurred)
                && (event.trigger != Trigger::A02 || e.place.as_deref() == place)
        })
    }

    /// Records `event` as applied (with the place it moved to or cancelled).
    pub fn record(&mut self, event: &AdtEvent, place: Option<String>) {
        self.entries.push(Entry {
            control_id: event.control_id.clone(),
            trigger: event.trigger.code().to_owned(),
            occurred: event.occurred.clone(),
            place,
        });
    }

    /// Marks the stay: `event` said `what`, which contradicts it.
    pub fn mark(&mut self, event: &AdtEvent, what: &str) {
        self.marks.push(format!(
            "{} {} at {}: {what}",
            event.trigger.code(),
            event.control_id,
            event.occurred
        ));
    }
}

/// Whether instant `a` is after instant `b` (both FHIR instants; text that does not
/// read as one is never later).
pub fn later(a: &str, b: &str) -> bool {
    match (a.parse::<jiff::Timestamp>(), b.parse::<jiff::Timestamp>()) {
        (Ok(a), Ok(b)) => a > b,
        _ => false,
    }
}

fn entry_of(item: &Value) -> Option<Entry> {
    let part = |name: &str, kind: &str| {
        item["extension"]
            .as_array()?
            .iter()
            .find(|e| e["url"] == name)?[kind]
            .as_str()
            .map(str::to_owned)
    };
    Some(Entry {
        control_id: part("controlId", "valueString")?,
        trigger: part("trigger", "valueCode")?,
        occurred: part("occurred", "valueDateTime")?,
        place: part("place", "valueString"),
    })
}

fn extension_of(entry: &Entry) -> Value {
    let mut parts = vec![
        json!({ "url": "controlId", "valueString": entry.control_id }),
        json!({ "url": "trigger", "valueCode": entry.trigger }),
        json!({ "url": "occurred", "valueDateTime": entry.occurred }),
    ];
    if let Some(place) = &entry.place {
        parts.push(json!({ "url": "place", "valueString": place }));
    }
    json!({ "url": MESSAGE_URL, "extension": parts })
}
