//! Borrowed views of the parts of a message: segment, field, repetition, component,
//! subcomponent.
//!
//! A message is kept as one string; the views split it on demand. HL7 messages are small
//! (a few kilobytes) and an adapter reads a dozen fields of each, so splitting again per
//! access costs less than building and allocating a tree of every part up front — and
//! the views can never disagree with the text they came from.
//!
//! Every view has `raw()`, the text as sent (still escaped), and `value()`, the first
//! leaf below it with escape sequences resolved. MSH-1 and MSH-2 are *literal*: they hold
//! the delimiters themselves, so they are never split or unescaped.

use std::borrow::Cow;

use crate::charset::Charset;
use crate::delimiters::Delimiters;
use crate::escape::unescape;
use crate::path::FieldPath;

/// What a view needs to split and unescape: the message's delimiters and character set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ctx {
    pub delimiters: Delimiters,
    pub charset: Charset,
}

/// The parts of `raw` between `sep`; none for an empty `raw`, all of it when `sep` is
/// `None` (a literal part).
fn parts(raw: &str, sep: Option<char>) -> impl Iterator<Item = &str> {
    (!raw.is_empty())
        .then(|| raw.split(move |c| Some(c) == sep))
        .into_iter()
        .flatten()
}

/// One segment, such as `PV1|1|I|OS5^101^1^SATKS`.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    raw: &'a str,
    position: usize,
    ctx: Ctx,
}

impl<'a> Segment<'a> {
    pub(crate) fn new(raw: &'a str, position: usize, ctx: Ctx) -> Self {
        Segment { raw, position, ctx }
    }

    /// The segment ID, such as `PV1`.
    pub fn id(&self) -> &'a str {
        self.raw.get(..3).unwrap_or(self.raw)
    }

    /// The segment as sent, without its terminator.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// 1-based position of the segment in its message (MSH is 1).
    pub fn position(&self) -> usize {
        self.position
    }

    /// The delimiters of the message this segment belongs to.
    pub(crate) fn delimiters(&self) -> Delimiters {
        self.ctx.delimiters
    }

    fn is_msh(&self) -> bool {
        self.id() == "MSH"
    }

    /// Field `n` (1-based, as in the HL7 tables), or `None` past the end of the segment.
    ///
    /// In MSH the field separator itself is MSH-1, so MSH-2 is the encoding characters
    /// and MSH-3 the sending application, just as the standard numbers them.
    pub fn field(&self, n: usize) -> Option<Field<'a>> {
        let sep = self.ctx.delimiters.field();
        let (raw, literal) = match (self.is_msh(), n) {
            (_, 0) => return None,
            (true, 1) => (self.raw.get(3..3 + sep.len_utf8())?, true),
            (true, _) => (self.raw.split(sep).nth(n - 1)?, n == 2),
            (false, _) => (self.raw.split(sep).nth(n)?, false),
        };
        Some(Field {
            raw,
            ctx: self.ctx,
            literal,
        })
    }

    /// How many fields the segment holds, trailing empty ones included.
    pub fn field_count(&self) -> usize {
        let pieces = self.raw.split(self.ctx.delimiters.field()).count();
        if self.is_msh() { pieces } else { pieces - 1 }
    }

    /// Fields 1, 2, … in order.
    pub fn fields(&self) -> impl Iterator<Item = Field<'a>> + use<'a> {
        let ctx = self.ctx;
        let is_msh = self.is_msh();
        // MSH-1 is the separator itself and is not between separators; MSH-2 is the
        // first piece after the ID, and literal.
        let msh1 = is_msh.then(|| self.field(1)).flatten();
        let pieces = self.raw.split(ctx.delimiters.field()).skip(1);
        msh1.into_iter()
            .chain(pieces.enumerate().map(move |(i, raw)| Field {
                raw,
                ctx,
                literal: is_msh && i == 0,
            }))
    }

    /// The value at a position inside this segment, such as `"3-1"`; see
    /// [`Message::get`](crate::Message::get). `None` for a malformed position.
    pub fn get(&self, position: &str) -> Option<Cow<'a, str>> {
        self.get_at(&FieldPath::parse(position).ok()?)
    }

    /// The value at a position inside this segment; `None` when absent or empty.
    pub fn get_at(&self, path: &FieldPath) -> Option<Cow<'a, str>> {
        let value = self
            .field(path.field)?
            .repetition(path.repetition)?
            .component(path.component)?
            .subcomponent(path.subcomponent)?
            .value();
        (!value.is_empty()).then_some(value)
    }
}

/// One field, with all its repetitions.
#[derive(Debug, Clone, Copy)]
pub struct Field<'a> {
    raw: &'a str,
    ctx: Ctx,
    literal: bool,
}

impl<'a> Field<'a> {
    /// The field as sent, still escaped.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// Whether the field is empty (not valued).
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Whether the field is the HL7 null `""`, which in an update (A08) means "delete the
    /// value we had", unlike an empty field, which means "no change".
    pub fn is_null(&self) -> bool {
        self.raw == "\"\""
    }

    /// The repetitions, in order; none for an empty field.
    pub fn repetitions(&self) -> impl Iterator<Item = Repetition<'a>> + use<'a> {
        let (ctx, literal) = (self.ctx, self.literal);
        let sep = (!literal).then_some(ctx.delimiters.repetition());
        parts(self.raw, sep).map(move |raw| Repetition { raw, ctx, literal })
    }

    /// Repetition `n` (1-based).
    pub fn repetition(&self, n: usize) -> Option<Repetition<'a>> {
        self.repetitions().nth(n.checked_sub(1)?)
    }

    /// Component `n` of the first repetition.
    pub fn component(&self, n: usize) -> Option<Component<'a>> {
        self.repetition(1)?.component(n)
    }

    /// The first component of the first repetition, unescaped; empty when not valued.
    pub fn value(&self) -> Cow<'a, str> {
        self.repetition(1).map_or(Cow::Borrowed(""), |r| r.value())
    }
}

/// One repetition of a field.
#[derive(Debug, Clone, Copy)]
pub struct Repetition<'a> {
    raw: &'a str,
    ctx: Ctx,
    literal: bool,
}

impl<'a> Repetition<'a> {
    /// The repetition as sent, still escaped.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// The components, in order; none for an empty repetition.
    pub fn components(&self) -> impl Iterator<Item = Component<'a>> + use<'a> {
        let (ctx, literal) = (self.ctx, self.literal);
        let sep = (!literal).then_some(ctx.delimiters.component());
        parts(self.raw, sep).map(move |raw| Component { raw, ctx, literal })
    }

    /// Component `n` (1-based).
    pub fn component(&self, n: usize) -> Option<Component<'a>> {
        self.components().nth(n.checked_sub(1)?)
    }

    /// The first component, unescaped; empty when not valued.
    pub fn value(&self) -> Cow<'a, str> {
        self.component(1).map_or(Cow::Borrowed(""), |c| c.value())
    }
}

/// One component of a repetition.
#[derive(Debug, Clone, Copy)]
pub struct Component<'a> {
    raw: &'a str,
    ctx: Ctx,
    literal: bool,
}

impl<'a> Component<'a> {
    /// The component as sent, still escaped.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// The subcomponents, in order; none for an empty component.
    pub fn subcomponents(&self) -> impl Iterator<Item = Subcomponent<'a>> + use<'a> {
        let (ctx, literal) = (self.ctx, self.literal);
        let sep = (!literal).then_some(ctx.delimiters.subcomponent());
        parts(self.raw, sep).map(move |raw| Subcomponent { raw, ctx, literal })
    }

    /// Subcomponent `n` (1-based).
    pub fn subcomponent(&self, n: usize) -> Option<Subcomponent<'a>> {
        self.subcomponents().nth(n.checked_sub(1)?)
    }

    /// The first subcomponent, unescaped; empty when not valued.
    pub fn value(&self) -> Cow<'a, str> {
        self.subcomponent(1)
            .map_or(Cow::Borrowed(""), |s| s.value())
    }
}

/// One subcomponent: a leaf value.
#[derive(Debug, Clone, Copy)]
pub struct Subcomponent<'a> {
    raw: &'a str,
    ctx: Ctx,
    literal: bool,
}

impl<'a> Subcomponent<'a> {
    /// The subcomponent as sent, still escaped.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// The value with escape sequences resolved.
    pub fn value(&self) -> Cow<'a, str> {
        if self.literal {
            Cow::Borrowed(self.raw)
        } else {
            unescape(self.raw, &self.ctx.delimiters, self.ctx.charset)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Ctx {
        Ctx {
            delimiters: Delimiters::default(),
            charset: Charset::Utf8,
        }
    }

    #[test]
    fn msh_numbering() {
        let msh = Segment::new(
            r"MSH|^~\&|LIFECARE|SATKS|OHJAAMO|SATAKUNTA|20250314083000||ADT^A01^ADT_A01|MSG1|P|2.3",
            1,
            ctx(),
        );
        assert_eq!(msh.field(1).unwrap().raw(), "|");
        assert_eq!(msh.field(2).unwrap().raw(), r"^~\&");
        assert_eq!(msh.field(2).unwrap().value(), r"^~\&");
        assert_eq!(msh.field(2).unwrap().repetitions().count(), 1);
        assert_eq!(msh.field(3).unwrap().value(), "LIFECARE");
        assert_eq!(msh.field(9).unwrap().raw(), "ADT^A01^ADT_A01");
        assert_eq!(msh.get("9-2").unwrap(), "A01");
        assert_eq!(msh.field(10).unwrap().value(), "MSG1");
        assert_eq!(msh.field(12).unwrap().value(), "2.3");
        assert!(msh.field(13).is_none());
        assert!(msh.field(0).is_none());
        assert_eq!(msh.field_count(), 12);
        assert_eq!(msh.fields().count(), 12);
        let all: Vec<_> = msh.fields().map(|f| f.raw()).collect();
        let by_number: Vec<_> = (1..=12).map(|n| msh.field(n).unwrap().raw()).collect();
        assert_eq!(all, by_number);
        assert_eq!(
            msh.fields().nth(1).unwrap().value(),
            r"^~\&",
            "MSH-2 stays literal"
        );
    }

    #[test]
    fn ordinary_segment_numbering_and_levels() {
        let seg = Segment::new(
            r"PID|1||120345-998Y^^^1.2.246.21^NNFIN~4711^^^LIFECARE^PI||Testinen^Matti||||||Katu 1^^Pori&Björneborg",
            2,
            ctx(),
        );
        assert_eq!((seg.id(), seg.position()), ("PID", 2));
        assert_eq!(seg.field_count(), 11);
        let all: Vec<_> = seg.fields().map(|f| f.raw()).collect();
        let by_number: Vec<_> = (1..=11).map(|n| seg.field(n).unwrap().raw()).collect();
        assert_eq!(all, by_number);
        assert_eq!(seg.field(1).unwrap().value(), "1");
        assert!(seg.field(2).unwrap().is_empty());
        assert_eq!(seg.field(2).unwrap().repetitions().count(), 0);

        let ids = seg.field(3).unwrap();
        let reps: Vec<_> = ids.repetitions().map(|r| r.value()).collect();
        assert_eq!(reps, ["120345-998Y", "4711"]);
        assert_eq!(ids.repetition(2).unwrap().component(5).unwrap().raw(), "PI");
        assert_eq!(ids.repetition(2).unwrap().component(2).unwrap().raw(), "");
        assert!(ids.repetition(3).is_none());
        assert!(ids.repetition(0).is_none());

        assert_eq!(seg.get("3(2)-4").unwrap(), "LIFECARE");
        assert_eq!(seg.get("5-2").unwrap(), "Matti");
        assert_eq!(seg.get("11-3-2").unwrap(), "Björneborg");
        assert_eq!(seg.get("11-3").unwrap(), "Pori");
        assert!(seg.get("3-2").is_none(), "empty component reads as absent");
        assert!(seg.get("5-9").is_none());
        assert!(seg.get("99").is_none());
        assert!(seg.get("nonsense").is_none());
    }

    #[test]
    fn values_are_unescaped_after_splitting() {
        let seg = Segment::new(
            r"NTE|1||Huom\S\ eristys\T\kontakti\F\ \.br\2. rivi",
            3,
            ctx(),
        );
        let f = seg.field(3).unwrap();
        assert_eq!(
            f.component(1).unwrap().raw(),
            r"Huom\S\ eristys\T\kontakti\F\ \.br\2. rivi"
        );
        assert_eq!(f.value(), "Huom^ eristys&kontakti| \n2. rivi");
    }

    #[test]
    fn hl7_null_is_not_empty() {
        let seg = Segment::new(r#"PV2|||""||||||20250318"#, 4, ctx());
        let f = seg.field(3).unwrap();
        assert!(f.is_null() && !f.is_empty());
        assert_eq!(f.value(), "\"\"");
        assert!(!seg.field(9).unwrap().is_null());
    }

    #[test]
    fn segment_without_fields() {
        let seg = Segment::new("ZZZ", 5, ctx());
        assert_eq!(seg.field_count(), 0);
        assert!(seg.field(1).is_none());
        assert_eq!(seg.fields().count(), 0);
    }
}
