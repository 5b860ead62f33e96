//! From bytes to a validated [`Message`].
//!
//! The order of work follows what each step needs to know:
//!
//! 1. The MSH segment is read from the raw bytes (as ISO-8859-1, which cannot fail and
//!    keeps ASCII intact) to learn the delimiters and MSH-18 — the character set has to
//!    be known before the rest of the message can be decoded.
//! 2. The whole message is decoded (see [`crate::charset`]).
//! 3. The text is split into segments and each is checked, so that every accessor on
//!    [`Message`] can rely on a well-formed MSH and valid segment IDs.
//!
//! Segments end at CR, as the standard says. Files and some feeds end them with LF or
//! CRLF instead: when a message has no CR at all, LF ends segments; when it has CRs, a LF
//! right after a CR is dropped and any other LF is data (an unescaped line break in a
//! note is more likely than a feed that mixes terminators).

use std::str::FromStr;

use crate::charset::{self, Charset, Declared, decode_latin1};
use crate::delimiters::{Delimiters, check_field_separator};
use crate::error::{ParseError, snippet};
use crate::message::Message;
use crate::path::is_segment_id;
use crate::view::{Ctx, Segment};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

impl Message {
    /// Parses one message from bytes, decoding them by MSH-18 (see
    /// [`charset`](crate::charset) for what happens when MSH-18 is empty).
    ///
    /// Any input gives either a message or an error; none panics.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        parse_bytes(bytes)
    }

    /// Parses a message that is already text (a fixture, a stored copy). MSH-18 still
    /// decides the character set used by [`Message::to_bytes`] and by `\X..\` escapes.
    pub fn parse_str(text: &str) -> Result<Self, ParseError> {
        parse_text(text)
    }
}

impl FromStr for Message {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Message::parse_str(s)
    }
}

/// Parses the bytes of one message; see [`Message::parse`].
fn parse_bytes(bytes: &[u8]) -> Result<Message, ParseError> {
    let body = trim_start_bytes(bytes);
    if body.is_empty() {
        return Err(ParseError::Empty);
    }
    if !body.starts_with(b"MSH") {
        let head = &body[..body.len().min(8)];
        return Err(ParseError::MissingMsh {
            found: snippet(&String::from_utf8_lossy(head)),
        });
    }
    let header = decode_latin1(first_segment(body));
    let (declared, msh18) = read_header(&header)?;
    let decoded = charset::decode(body, declared, &msh18)?;
    parse_decoded(&decoded.text, decoded.charset, decoded.guessed)
}

/// Parses a message that is already text; see [`Message::parse_str`].
fn parse_text(text: &str) -> Result<Message, ParseError> {
    let body = trim_start_text(text);
    if body.is_empty() {
        return Err(ParseError::Empty);
    }
    let first_line = split_segments(body).next().unwrap_or(body);
    let charset = match read_header(first_line)?.0 {
        Declared::Latin1 => Charset::Latin1,
        Declared::Utf8 => Charset::Utf8,
        Declared::Lenient if body.is_ascii() => Charset::Ascii,
        Declared::Lenient => Charset::Utf8,
    };
    parse_decoded(body, charset, false)
}

/// Reads the delimiters and MSH-18 of the first segment: what must be known before
/// decoding. Returns the declared character set and MSH-18 as sent.
fn read_header(first_line: &str) -> Result<(Declared, String), ParseError> {
    let delimiters = read_delimiters(first_line)?;
    let ctx = Ctx {
        delimiters,
        charset: Charset::Latin1,
    };
    let msh = Segment::new(first_line, 1, ctx);
    let msh18 = msh
        .field(18)
        .and_then(|f| f.component(1))
        .map_or("", |c| c.raw());
    Ok((Declared::from_msh18(msh18)?, msh18.to_owned()))
}

/// Splits decoded text into segments, checks them and builds the message.
fn parse_decoded(text: &str, charset: Charset, guessed: bool) -> Result<Message, ParseError> {
    let text = trim_start_text(text);
    if text.is_empty() {
        return Err(ParseError::Empty);
    }
    if !text.starts_with("MSH") {
        return Err(ParseError::MissingMsh {
            found: snippet(text),
        });
    }
    let mut normalised = String::with_capacity(text.len() + 1);
    let mut ranges = Vec::new();
    let mut ctx: Option<Ctx> = None;
    for piece in split_segments(text) {
        if piece.chars().all(char::is_whitespace) {
            continue;
        }
        let position = ranges.len() + 1;
        match ctx {
            None => {
                let header = Ctx {
                    delimiters: read_delimiters(piece)?,
                    charset,
                };
                check_required_fields(Segment::new(piece, position, header))?;
                ctx = Some(header);
            }
            Some(c) => check_segment(piece, position, &c.delimiters)?,
        }
        let start = normalised.len();
        normalised.push_str(piece);
        ranges.push(start..normalised.len());
        normalised.push('\r');
    }
    match ctx {
        Some(ctx) => Ok(Message::from_parts(normalised, ranges, ctx, guessed)),
        // Unreachable: the text starts with "MSH", so the first piece is not blank.
        None => Err(ParseError::Empty),
    }
}

/// The segments of a text, by the terminator rule in the module docs.
fn split_segments(text: &str) -> Box<dyn Iterator<Item = &str> + '_> {
    if text.contains('\r') {
        Box::new(text.split('\r').map(|p| p.strip_prefix('\n').unwrap_or(p)))
    } else {
        Box::new(text.split('\n'))
    }
}

/// The bytes of the first segment, by the same terminator rule as [`split_segments`]:
/// the header must be read from exactly the segment the accessors will see later.
pub(crate) fn first_segment(bytes: &[u8]) -> &[u8] {
    let terminator = if bytes.contains(&b'\r') { b'\r' } else { b'\n' };
    bytes.split(|&b| b == terminator).next().unwrap_or(bytes)
}

/// MSH-1 and MSH-2 of a segment that starts with `MSH`.
pub(crate) fn read_delimiters(msh: &str) -> Result<Delimiters, ParseError> {
    let rest = msh
        .strip_prefix("MSH")
        .ok_or_else(|| ParseError::MissingMsh {
            found: snippet(msh),
        })?;
    let Some(field) = rest.chars().next() else {
        return Err(ParseError::Truncated {
            detail: "the message ends right after \"MSH\"",
        });
    };
    check_field_separator(field)?;
    let after = &rest[field.len_utf8()..];
    if after.is_empty() {
        return Err(ParseError::Truncated {
            detail: "the message ends before MSH-2 (encoding characters)",
        });
    }
    let encoding = after.split(field).next().unwrap_or_default();
    Delimiters::new(field, encoding)
}

/// MSH-9 (type), MSH-10 (control ID) and MSH-12 (version) are what the adapter routes on
/// and what the ACK must echo; a message without them cannot be processed or answered.
fn check_required_fields(msh: Segment<'_>) -> Result<(), ParseError> {
    let first_component = |n| {
        msh.field(n)
            .and_then(|f| f.component(1))
            .is_some_and(|c| !c.raw().trim().is_empty())
    };
    for (field, name) in [
        (9, "message type"),
        (10, "message control ID"),
        (12, "version ID"),
    ] {
        let present = if field == 10 {
            msh.field(10).is_some_and(|f| !f.raw().trim().is_empty())
        } else {
            first_component(field)
        };
        if !present {
            return Err(ParseError::MissingHeaderField { field, name });
        }
    }
    Ok(())
}

/// A segment other than the first: a valid ID followed by the field separator (or
/// nothing), and not a second MSH.
fn check_segment(piece: &str, position: usize, d: &Delimiters) -> Result<(), ParseError> {
    let id = piece.get(..3).unwrap_or_default();
    let rest = piece.get(3..).unwrap_or_default();
    if !is_segment_id(id) || !(rest.is_empty() || rest.starts_with(d.field())) {
        return Err(ParseError::InvalidSegmentId {
            position,
            found: snippet(piece),
        });
    }
    if id == "MSH" {
        return Err(ParseError::UnexpectedMsh { position });
    }
    Ok(())
}

/// Skips a UTF-8 byte-order mark and leading whitespace (some senders put a line break
/// before the first segment).
pub(crate) fn trim_start_bytes(mut bytes: &[u8]) -> &[u8] {
    loop {
        if let Some(rest) = bytes.strip_prefix(UTF8_BOM) {
            bytes = rest;
        } else if let [first, rest @ ..] = bytes
            && first.is_ascii_whitespace()
        {
            bytes = rest;
        } else {
            return bytes;
        }
    }
}

fn trim_start_text(text: &str) -> &str {
    text.trim_start_matches(|c: char| c == '\u{FEFF}' || c.is_ascii_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A01: &str = "MSH|^~\\&|LIFECARE|SATKS|OHJAAMO|SATAKUNTA|20250314083000||ADT^A01^ADT_A01|MSG00001|P|2.3\rEVN|A01|20250314083000\rPID|1||120345-998Y^^^1.2.246.21^NNFIN\rPV1|1|I|OS5^101^1^SATKS\r";

    #[test]
    fn terminators_cr_lf_crlf_give_the_same_message() {
        let cr = Message::parse(A01.as_bytes()).unwrap();
        let lf = Message::parse(A01.replace('\r', "\n").as_bytes()).unwrap();
        let crlf = Message::parse(A01.replace('\r', "\r\n").as_bytes()).unwrap();
        assert_eq!(cr.as_str(), A01);
        assert_eq!(lf.as_str(), A01);
        assert_eq!(crlf.as_str(), A01);
        assert_eq!(cr.segment_count(), 4);
    }

    #[test]
    fn lf_inside_a_cr_message_is_data() {
        assert_eq!(Message::parse_str(" \r\n").unwrap_err(), ParseError::Empty);
        let text = A01.replace("OS5^101", "OS5\nx^101");
        let msg = Message::parse(text.as_bytes()).unwrap();
        assert_eq!(msg.get("PV1-3-1").unwrap(), "OS5\nx");
    }

    #[test]
    fn blank_lines_bom_and_leading_whitespace_are_skipped() {
        let text = format!("\u{FEFF}\r\n  {}\r\r\n \r", A01.replace("\rPID", "\r\rPID"));
        let msg = Message::parse(text.as_bytes()).unwrap();
        assert_eq!(msg.as_str(), A01);
    }

    #[test]
    fn header_errors_in_order() {
        let cases: [(&[u8], ParseError); 8] = [
            (b"", ParseError::Empty),
            (b" \r\n", ParseError::Empty),
            (
                b"PID|1",
                ParseError::MissingMsh {
                    found: "PID|1".into(),
                },
            ),
            (
                b"MSH",
                ParseError::Truncated {
                    detail: "the message ends right after \"MSH\"",
                },
            ),
            (
                b"MSH|",
                ParseError::Truncated {
                    detail: "the message ends before MSH-2 (encoding characters)",
                },
            ),
            (
                b"MSHA^~\\&",
                ParseError::InvalidFieldSeparator {
                    found: 'A',
                    reason: "the field separator must be printable ASCII punctuation",
                },
            ),
            (
                b"MSH|^~\\&|A|B|C|D|20250314||ADT^A01",
                ParseError::MissingHeaderField {
                    field: 10,
                    name: "message control ID",
                },
            ),
            (
                b"MSH|^~\\&|A|B|C|D|20250314||ADT^A01|1|P",
                ParseError::MissingHeaderField {
                    field: 12,
                    name: "version ID",
                },
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(
                Message::parse(input).unwrap_err(),
                expected,
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn missing_or_bad_encoding_characters() {
        for input in [
            "MSH||A|B|C|D|1||ADT^A01|1|P|2.3",
            "MSH|^~|\\&|A|B|C|D|1||ADT^A01|1|P|2.3",
            "MSH|^~\\&&|A|1||ADT^A01|1|P|2.3",
        ] {
            let err = Message::parse(input.as_bytes()).unwrap_err();
            assert!(
                matches!(err, ParseError::InvalidEncodingCharacters { .. }),
                "{input}: {err}"
            );
            assert_eq!(err.position(), Some((1, Some(2))));
        }
    }

    #[test]
    fn segment_errors_name_the_segment() {
        let bad_id = A01.replace("PV1|", "pv1|");
        assert_eq!(
            Message::parse(bad_id.as_bytes()).unwrap_err(),
            ParseError::InvalidSegmentId {
                position: 4,
                found: "pv1|1|I|".into()
            }
        );
        let no_separator = A01.replace("PV1|", "PV1 ");
        assert!(matches!(
            Message::parse(no_separator.as_bytes()).unwrap_err(),
            ParseError::InvalidSegmentId { position: 4, .. }
        ));
        let truncated = format!("{A01}PV");
        assert!(matches!(
            Message::parse(truncated.as_bytes()).unwrap_err(),
            ParseError::InvalidSegmentId { position: 5, .. }
        ));
        let two = format!("{A01}{A01}");
        assert_eq!(
            Message::parse(two.as_bytes()).unwrap_err(),
            ParseError::UnexpectedMsh { position: 5 }
        );
    }

    #[test]
    fn header_is_read_from_the_same_segment_the_accessors_see() {
        // One CR makes LF data: MSH then runs on into the EVN line, and its MSH-18 is
        // whatever field 18 of that line is. Reading MSH-18 from the first LF-terminated
        // line instead would accept a message whose MSH-18 the accessors see as a date.
        let text = "MSH|^~\\&|A|B|C|D|1||ADT^A01|1|P|2.3\nEVN|A01|1|2|3|4|5|6\rPID|1\r";
        let err = Message::parse(text.as_bytes()).unwrap_err();
        assert!(
            matches!(err, ParseError::UnsupportedCharset { .. }),
            "{err}"
        );
        assert_eq!(Message::parse_str(text).unwrap_err(), err);
    }

    #[test]
    fn segment_with_id_only_is_fine() {
        let msg = Message::parse(format!("{A01}ZZZ\r").as_bytes()).unwrap();
        assert_eq!(msg.segment("ZZZ").unwrap().field_count(), 0);
    }

    #[test]
    fn parse_text_takes_charset_from_msh18() {
        let latin = A01.replace("|2.3\r", "|2.3||||||8859/1\r");
        let msg = Message::parse_str(&latin).unwrap();
        assert_eq!(msg.charset(), Charset::Latin1);
        assert_eq!(Message::parse_str(A01).unwrap().charset(), Charset::Ascii);
        let utf8 = A01.replace("Y^^^", "Ä^^^");
        assert_eq!(Message::parse_str(&utf8).unwrap().charset(), Charset::Utf8);
    }
}
