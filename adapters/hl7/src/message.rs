//! A parsed HL7 v2 message and its accessors.
//!
//! The message keeps its text — segments joined by CR, whatever terminators were sent —
//! and the character set it was decoded with, so that it can be written back byte for
//! byte and so that `\X..\` escapes decode in the right character set.
//!
//! It deliberately has no `Display`, and its `Debug` shows only the header: messages
//! carry personal data and must not end up in logs by accident. Use
//! [`Message::as_str`] when the text is really wanted.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use crate::charset::Charset;
use crate::delimiters::Delimiters;
use crate::path::Path;
use crate::view::{Ctx, Segment};

/// One HL7 v2 message: validated MSH (delimiters, MSH-9, MSH-10, MSH-12) and valid
/// segment IDs.
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    text: String,
    segments: Vec<Range<usize>>,
    ctx: Ctx,
    charset_guessed: bool,
}

/// MSH-9: what the message is, such as `ADT^A01^ADT_A01`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MessageType {
    /// MSH-9-1, such as `ADT`.
    pub code: String,
    /// MSH-9-2, the trigger event, such as `A01`; empty when not sent.
    pub trigger: String,
    /// MSH-9-3, the message structure, such as `ADT_A01`; empty when not sent (common in
    /// v2.3).
    pub structure: String,
}

impl Message {
    /// Builds a message from parts the parser has checked. Parsing itself
    /// ([`Message::parse`], [`Message::parse_str`], `FromStr`) lives in the parser
    /// module, which builds on this type rather than the other way round.
    pub(crate) fn from_parts(
        text: String,
        segments: Vec<Range<usize>>,
        ctx: Ctx,
        charset_guessed: bool,
    ) -> Self {
        Message {
            text,
            segments,
            ctx,
            charset_guessed,
        }
    }

    /// The message text: every segment followed by a CR.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The message encoded in the character set it was decoded with: the bytes that were
    /// received, apart from normalised segment terminators and skipped blank lines. (For
    /// [`Message::parse_str`] text that its declared character set cannot hold,
    /// characters outside it become `?`.)
    pub fn to_bytes(&self) -> Vec<u8> {
        self.ctx.charset.encode(&self.text)
    }

    /// The character set the message was decoded with.
    pub fn charset(&self) -> Charset {
        self.ctx.charset
    }

    /// Whether the character set was guessed: MSH-18 was empty or `ASCII` but the bytes
    /// were not plain ASCII. Worth a metric per sender; a feed that sends ISO-8859-1
    /// without saying so is normal in Finland, one that alternates is not.
    pub fn charset_guessed(&self) -> bool {
        self.charset_guessed
    }

    /// The delimiters declared in MSH-1 and MSH-2.
    pub fn delimiters(&self) -> &Delimiters {
        &self.ctx.delimiters
    }

    /// All segments in order, MSH first.
    pub fn segments(&self) -> impl Iterator<Item = Segment<'_>> {
        self.segments
            .iter()
            .enumerate()
            .map(|(i, r)| Segment::new(&self.text[r.clone()], i + 1, self.ctx))
    }

    /// How many segments the message has.
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// The MSH segment.
    pub fn msh(&self) -> Segment<'_> {
        // The parser never builds a message without its MSH.
        let range = self.segments.first().cloned().unwrap_or(0..0);
        Segment::new(&self.text[range], 1, self.ctx)
    }

    /// The first segment with this ID.
    pub fn segment(&self, id: &str) -> Option<Segment<'_>> {
        self.segments_named(id).next()
    }

    /// Every segment with this ID, in order (for repeating segments such as NK1, DG1,
    /// OBX).
    pub fn segments_named<'a, 'b>(
        &'a self,
        id: &'b str,
    ) -> impl Iterator<Item = Segment<'a>> + use<'a, 'b> {
        self.segments().filter(move |s| s.id() == id)
    }

    /// The value at an HL7 position such as `"PV1-3-1"`, escape sequences resolved.
    ///
    /// Left-out parts mean the first one: `"MSH-9"` is `ADT`, not `ADT^A01^ADT_A01` (use
    /// [`Segment::field`] for a whole field). `None` when the position is absent, empty or
    /// malformed — use [`Path::parse`] to tell a malformed position apart. The HL7 null
    /// `""` is returned as the two quote characters; see [`crate::Field::is_null`].
    pub fn get(&self, position: &str) -> Option<Cow<'_, str>> {
        self.get_at(&Path::parse(position).ok()?)
    }

    /// The value at a parsed position; see [`Message::get`].
    pub fn get_at(&self, path: &Path) -> Option<Cow<'_, str>> {
        self.segments_named(path.segment())
            .nth(path.occurrence() - 1)?
            .get_at(&path.field_path())
    }

    /// MSH-9.
    pub fn message_type(&self) -> MessageType {
        let msh9 = self.msh().field(9);
        let part = |n| {
            msh9.and_then(|f| f.component(n))
                .map(|c| c.value().into_owned())
                .unwrap_or_default()
        };
        MessageType {
            code: part(1),
            trigger: part(2),
            structure: part(3),
        }
    }

    /// MSH-10, the message control ID, as sent: the value an ACK must echo in MSA-2.
    pub fn control_id(&self) -> &str {
        self.msh().field(10).map_or("", |f| f.raw())
    }

    /// MSH-11-1, the processing ID (`P` production, `T` training, `D` debugging); empty
    /// when not sent.
    pub fn processing_id(&self) -> &str {
        self.raw_component(11)
    }

    /// MSH-12-1, the version ID, such as `2.3`.
    pub fn version(&self) -> &str {
        self.raw_component(12)
    }

    fn raw_component(&self, field: usize) -> &str {
        self.msh()
            .field(field)
            .and_then(|f| f.component(1))
            .map_or("", |c| c.raw())
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.segments().map(|s| s.id()).collect();
        f.debug_struct("Message")
            .field("type", &self.message_type())
            .field("control_id", &self.control_id())
            .field("version", &self.version())
            .field("charset", &self.charset())
            .field("segments", &ids)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A08: &str = "MSH|^~\\&|LIFECARE|SATKS|OHJAAMO|SATAKUNTA|20250314101500||ADT^A08^ADT_A01|MSG00042|P|2.3\rEVN|A08|20250314101500\rPID|1||120345-998Y^^^1.2.246.21^NNFIN||Testinen^Matti\rNK1|1|Testinen^Maija|SPO\rNK1|2|Testinen^Pekka|LAP\rPV1|1|I|OS5^101^1^SATKS\r";

    #[test]
    fn header_accessors() {
        let msg: Message = A08.parse().unwrap();
        assert_eq!(
            msg.message_type(),
            MessageType {
                code: "ADT".into(),
                trigger: "A08".into(),
                structure: "ADT_A01".into()
            }
        );
        assert_eq!(msg.control_id(), "MSG00042");
        assert_eq!(msg.processing_id(), "P");
        assert_eq!(msg.version(), "2.3");
        assert_eq!(msg.msh().id(), "MSH");
        assert_eq!(msg.get("MSH-1").unwrap(), "|");
        assert_eq!(msg.get("MSH-2").unwrap(), "^~\\&");
        assert_eq!(msg.get("MSH-3").unwrap(), "LIFECARE");
        assert_eq!(msg.get("MSH-9").unwrap(), "ADT");
        assert_eq!(msg.get("MSH-9-2").unwrap(), "A08");
    }

    #[test]
    fn repeating_segments() {
        let msg = Message::parse_str(A08).unwrap();
        let relations: Vec<_> = msg
            .segments_named("NK1")
            .map(|s| s.get("3").unwrap().into_owned())
            .collect();
        assert_eq!(relations, ["SPO", "LAP"]);
        assert_eq!(msg.get("NK1(2)-2-2").unwrap(), "Pekka");
        assert!(msg.get("NK1(3)-2").is_none());
        assert!(msg.get("OBX-5").is_none());
        assert_eq!(msg.segment("PV1").unwrap().position(), 6);
    }

    #[test]
    fn debug_does_not_leak_patient_data() {
        let msg = Message::parse_str(A08).unwrap();
        let debug = format!("{msg:?}");
        assert!(debug.contains("MSG00042") && debug.contains("NK1"));
        assert!(!debug.contains("Testinen") && !debug.contains("120345"));
    }

    #[test]
    fn minimal_message_type() {
        let msg = Message::parse_str("MSH|^~\\&|||||||ACK|1||2.3").unwrap();
        let t = msg.message_type();
        assert_eq!((t.code.as_str(), t.trigger.as_str()), ("ACK", ""));
        assert_eq!(msg.processing_id(), "");
        assert_eq!(msg.as_str(), "MSH|^~\\&|||||||ACK|1||2.3\r");
    }
}
