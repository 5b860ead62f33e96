//! Building the ACK that answers a message (original acknowledgment mode).
//!
//! The ACK speaks the sender's dialect: its delimiters, its version, its character set
//! (and MSH-18 when the sender declared one), its processing ID. Fields we copy from the
//! sender's MSH (MSH-3/4 into MSH-5/6, MSH-10 into MSA-2) are copied as sent, still
//! escaped, which is exact because the delimiters are the same; every text of ours is
//! escaped.
//!
//! The error goes where the sender's version looks for it: before v2.5 in `MSA-3` and in
//! `ERR-1` (location and a coded error from HL7 table 0357); from v2.5 on in `ERR-2`
//! (location), `ERR-3` (code), `ERR-4` (severity) and `ERR-8` (the text).
//!
//! A message that cannot be parsed still gets an answer — an `AR` — so that the sender
//! does not wait for a timeout; if its MSH can still be read, the answer echoes its
//! control ID and the sender can match it.

use std::time::SystemTime;

use crate::charset::{self, Charset, Declared};
use crate::delimiters::Delimiters;
use crate::error::ParseError;
use crate::escape::{escape, escape_controls};
use crate::message::Message;
use crate::parse;
use crate::timestamp::hl7_timestamp_utc;
use crate::view::{Ctx, Segment};

/// MSA-1 in original acknowledgment mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AckCode {
    /// `AA`: accepted and processed.
    Accept,
    /// `AE`: processing failed; resending the same message may not help.
    Error,
    /// `AR`: rejected (unparseable, unsupported type or version, or a temporary
    /// failure); the sender may resend.
    Reject,
}

impl AckCode {
    /// `AA`, `AE` or `AR`.
    pub fn as_str(self) -> &'static str {
        match self {
            AckCode::Accept => "AA",
            AckCode::Error => "AE",
            AckCode::Reject => "AR",
        }
    }
}

/// Error codes of HL7 table 0357.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 100
    SegmentSequence,
    /// 101
    RequiredFieldMissing,
    /// 102
    DataType,
    /// 103
    TableValueNotFound,
    /// 200
    UnsupportedMessageType,
    /// 201
    UnsupportedEventCode,
    /// 202
    UnsupportedProcessingId,
    /// 203
    UnsupportedVersionId,
    /// 204
    UnknownKeyIdentifier,
    /// 205
    DuplicateKey,
    /// 206
    ApplicationRecordLocked,
    /// 207
    ApplicationInternalError,
}

impl ErrorCode {
    /// The number in table 0357.
    pub fn code(self) -> u16 {
        match self {
            ErrorCode::SegmentSequence => 100,
            ErrorCode::RequiredFieldMissing => 101,
            ErrorCode::DataType => 102,
            ErrorCode::TableValueNotFound => 103,
            ErrorCode::UnsupportedMessageType => 200,
            ErrorCode::UnsupportedEventCode => 201,
            ErrorCode::UnsupportedProcessingId => 202,
            ErrorCode::UnsupportedVersionId => 203,
            ErrorCode::UnknownKeyIdentifier => 204,
            ErrorCode::DuplicateKey => 205,
            ErrorCode::ApplicationRecordLocked => 206,
            ErrorCode::ApplicationInternalError => 207,
        }
    }

    /// The description in table 0357.
    pub fn description(self) -> &'static str {
        match self {
            ErrorCode::SegmentSequence => "Segment sequence error",
            ErrorCode::RequiredFieldMissing => "Required field missing",
            ErrorCode::DataType => "Data type error",
            ErrorCode::TableValueNotFound => "Table value not found",
            ErrorCode::UnsupportedMessageType => "Unsupported message type",
            ErrorCode::UnsupportedEventCode => "Unsupported event code",
            ErrorCode::UnsupportedProcessingId => "Unsupported processing id",
            ErrorCode::UnsupportedVersionId => "Unsupported version id",
            ErrorCode::UnknownKeyIdentifier => "Unknown key identifier",
            ErrorCode::DuplicateKey => "Duplicate key",
            ErrorCode::ApplicationRecordLocked => "Application record locked",
            ErrorCode::ApplicationInternalError => "Application internal error",
        }
    }
}

/// Where in the acknowledged message the error is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorLocation {
    /// Segment ID, such as `PV1`; empty when unknown.
    pub segment: String,
    /// 1-based position of the segment in the message.
    pub sequence: usize,
    /// Field number, when the error is in one field.
    pub field: Option<usize>,
}

/// The reason for an `AE` or `AR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckError {
    /// Coded reason.
    pub code: ErrorCode,
    /// Human-readable reason, for the sender's integration team.
    pub text: String,
    /// Where, when known.
    pub location: Option<ErrorLocation>,
}

impl AckError {
    /// A reason without a location.
    pub fn new(code: ErrorCode, text: impl Into<String>) -> Self {
        AckError {
            code,
            text: text.into(),
            location: None,
        }
    }

    /// Points the error at a segment (ID and 1-based position) and optionally a field.
    pub fn at(mut self, segment: &str, sequence: usize, field: Option<usize>) -> Self {
        self.location = Some(ErrorLocation {
            segment: segment.to_owned(),
            sequence,
            field,
        });
        self
    }
}

impl From<&ParseError> for AckError {
    fn from(e: &ParseError) -> Self {
        let code = match e {
            ParseError::Empty
            | ParseError::MissingMsh { .. }
            | ParseError::InvalidSegmentId { .. }
            | ParseError::UnexpectedMsh { .. } => ErrorCode::SegmentSequence,
            ParseError::Truncated { .. } | ParseError::MissingHeaderField { .. } => {
                ErrorCode::RequiredFieldMissing
            }
            ParseError::UnsupportedCharset { .. } => ErrorCode::TableValueNotFound,
            _ => ErrorCode::DataType,
        };
        let mut ack = AckError::new(code, e.to_string());
        if let Some((sequence, field)) = e.position() {
            let segment = match e {
                ParseError::InvalidSegmentId { .. } | ParseError::InvalidUtf8 { .. } => "",
                _ => "MSH",
            };
            ack = ack.at(segment, sequence, field);
        }
        ack
    }
}

/// A finished ACK, in the sender's character set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    text: String,
    charset: Charset,
    code: AckCode,
}

impl Ack {
    /// The ACK text, segments terminated by CR.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The ACK in the character set of the message it answers (characters that set
    /// cannot hold become `?`); wrap it with [`crate::mllp::encode_frame`] to send.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.charset.encode(&self.text)
    }

    /// MSA-1.
    pub fn code(&self) -> AckCode {
        self.code
    }

    /// The character set [`Ack::to_bytes`] uses.
    pub fn charset(&self) -> Charset {
        self.charset
    }
}

/// Builds ACKs on behalf of one receiving application.
#[derive(Debug, Clone)]
pub struct AckBuilder {
    application: String,
    facility: String,
    timestamp: Option<String>,
    fallback_version: String,
}

/// What the ACK takes from the message it answers. Fields are raw (still escaped in
/// `delimiters`).
struct Original {
    delimiters: Delimiters,
    charset: Charset,
    application: String,
    facility: String,
    trigger: String,
    control_id: String,
    processing_id: String,
    version: String,
    msh18: String,
}

impl Original {
    fn from_msh(msh: Segment<'_>, charset: Charset) -> Self {
        let d = msh.delimiters();
        let copy = |raw: &str| escape_controls(raw, &d).into_owned();
        let field = |n| copy(msh.field(n).map_or("", |f| f.raw()));
        // Trimmed as the parser reads them: a version of " " is no version (the
        // fallback is used), and a name with stray line feeds around it is still the
        // name — echoed with the whitespace escaped, either would make our own ACK
        // unreadable.
        let first = |n, c| {
            copy(
                msh.field(n)
                    .and_then(|f| f.component(c))
                    .map_or("", |c| c.raw())
                    .trim(),
            )
        };
        Original {
            delimiters: msh.delimiters(),
            charset,
            application: field(3),
            facility: field(4),
            trigger: first(9, 2),
            control_id: field(10),
            processing_id: first(11, 1),
            version: first(12, 1),
            msh18: first(18, 1),
        }
    }

    /// For bytes that did not parse: read what can be read of their MSH.
    fn salvage(raw: &[u8]) -> Option<Self> {
        let body = parse::trim_start_bytes(raw);
        let line = parse::first_segment(body);
        let latin1 = charset::decode_latin1(line);
        let delimiters = parse::read_delimiters(&latin1).ok()?;
        let sniff = Segment::new(
            &latin1,
            1,
            Ctx {
                delimiters,
                charset: Charset::Latin1,
            },
        );
        let msh18 = sniff
            .field(18)
            .and_then(|f| f.component(1))
            .map_or("", |c| c.raw());
        let (charset, declared) = match Declared::from_msh18(msh18) {
            Ok(Declared::Latin1) => (Charset::Latin1, true),
            Ok(Declared::Utf8) => (Charset::Utf8, true),
            Ok(Declared::Lenient) => (
                charset::decode(body, Declared::Lenient, "").ok()?.charset,
                false,
            ),
            Err(_) => (Charset::Ascii, false),
        };
        let text = match charset {
            Charset::Utf8 => String::from_utf8_lossy(line).into_owned(),
            _ => latin1.clone(),
        };
        let ctx = Ctx {
            delimiters,
            charset,
        };
        let mut original = Original::from_msh(Segment::new(&text, 1, ctx), charset);
        if !declared {
            original.msh18.clear();
        }
        Some(original)
    }
}

impl AckBuilder {
    /// ACKs sent as `application` at `facility` (MSH-3 and MSH-4 of the ACK).
    pub fn new(application: impl Into<String>, facility: impl Into<String>) -> Self {
        AckBuilder {
            application: application.into(),
            facility: facility.into(),
            timestamp: None,
            fallback_version: "2.3".to_owned(),
        }
    }

    /// Uses a fixed MSH-7 instead of the current time (tests, replays).
    pub fn with_timestamp(mut self, timestamp: impl Into<String>) -> Self {
        self.timestamp = Some(timestamp.into());
        self
    }

    /// The version to write when the sender's is unknown (unparseable input); `2.3` by
    /// default, as most Finnish ADT feeds use it.
    pub fn with_fallback_version(mut self, version: impl Into<String>) -> Self {
        self.fallback_version = version.into();
        self
    }

    /// `AA`: the message was processed. `control_id` is the ACK's own MSH-10.
    pub fn accept(&self, message: &Message, control_id: &str) -> Ack {
        self.render(&self.original(message), AckCode::Accept, control_id, None)
    }

    /// `AA` with a note for the sender (a message accepted and not used): MSA-3
    /// before v2.5, an ERR of severity `I` (information) in either layout.
    pub fn accept_with_note(&self, message: &Message, control_id: &str, note: &AckError) -> Ack {
        self.render(
            &self.original(message),
            AckCode::Accept,
            control_id,
            Some(note),
        )
    }

    /// `AE`: the message was understood but could not be processed.
    pub fn error(&self, message: &Message, control_id: &str, error: &AckError) -> Ack {
        self.render(
            &self.original(message),
            AckCode::Error,
            control_id,
            Some(error),
        )
    }

    /// `AR`: the message was rejected.
    pub fn reject(&self, message: &Message, control_id: &str, error: &AckError) -> Ack {
        self.render(
            &self.original(message),
            AckCode::Reject,
            control_id,
            Some(error),
        )
    }

    /// `AR` for bytes that did not parse. MSA-2 echoes the sender's control ID when its
    /// MSH is still readable, and is empty otherwise; the ACK then uses the standard
    /// delimiters, ASCII and the fallback version.
    pub fn reject_unparseable(&self, raw: &[u8], control_id: &str, error: &ParseError) -> Ack {
        let original = Original::salvage(raw).unwrap_or_else(|| Original {
            delimiters: Delimiters::default(),
            charset: Charset::Ascii,
            application: String::new(),
            facility: String::new(),
            trigger: String::new(),
            control_id: String::new(),
            processing_id: String::new(),
            version: String::new(),
            msh18: String::new(),
        });
        self.render(&original, AckCode::Reject, control_id, Some(&error.into()))
    }

    fn original(&self, message: &Message) -> Original {
        Original::from_msh(message.msh(), message.charset())
    }

    fn render(
        &self,
        o: &Original,
        code: AckCode,
        control_id: &str,
        error: Option<&AckError>,
    ) -> Ack {
        let d = &o.delimiters;
        let (fs, cs) = (d.field(), d.component());
        let esc = |s: &str| escape(s, d).into_owned();
        let version = if o.version.is_empty() {
            esc(&self.fallback_version)
        } else {
            o.version.clone()
        };
        let timestamp = match &self.timestamp {
            Some(t) => esc(t),
            None => hl7_timestamp_utc(SystemTime::now()),
        };
        let processing_id = if o.processing_id.is_empty() {
            "P"
        } else {
            &o.processing_id
        };

        // MSH-3 onwards; MSH-1 and MSH-2 are written separately.
        let mut msh = vec![
            esc(&self.application),
            esc(&self.facility),
            o.application.clone(),
            o.facility.clone(),
            timestamp,
            String::new(),
            format!("ACK{cs}{}{cs}ACK", o.trigger),
            esc(control_id),
            processing_id.to_owned(),
            version.clone(),
        ];
        if !o.msh18.is_empty() {
            msh.resize(15, String::new());
            msh.push(o.msh18.clone());
        }
        let mut text = format!("MSH{fs}{}", d.encoding_characters());
        push_fields(&mut text, fs, &msh);

        let modern = is_v25_or_later(&version);
        let mut msa = vec![code.as_str().to_owned(), o.control_id.clone()];
        if let (Some(e), false) = (error, modern) {
            msa.push(esc(&e.text.chars().take(80).collect::<String>()));
        }
        text.push_str("MSA");
        push_fields(&mut text, fs, &msa);

        if let Some(e) = error {
            text.push_str("ERR");
            let severity = if code == AckCode::Accept { "I" } else { "E" };
            let fields = if modern {
                err_v25(e, d, severity)
            } else {
                err_v23(e, d)
            };
            push_fields(&mut text, fs, &fields);
        }
        Ack {
            text,
            charset: o.charset,
            code,
        }
    }
}

/// Appends `|f1|f2|…` and the segment terminator.
fn push_fields(text: &mut String, fs: char, fields: &[String]) {
    for f in fields {
        text.push(fs);
        text.push_str(f);
    }
    text.push('\r');
}

/// `seg^seq^field` (an empty string when there is no location).
fn location(e: &AckError, d: &Delimiters) -> String {
    let Some(l) = &e.location else {
        return String::new();
    };
    let cs = d.component();
    let field = l.field.map(|f| f.to_string()).unwrap_or_default();
    format!("{}{cs}{}{cs}{field}", escape(&l.segment, d), l.sequence)
}

/// Before v2.5: ERR-1 = location ^ (code & text & HL70357).
fn err_v23(e: &AckError, d: &Delimiters) -> Vec<String> {
    let (cs, ss) = (d.component(), d.subcomponent());
    let loc = match location(e, d) {
        l if l.is_empty() => format!("{cs}{cs}"),
        l => l,
    };
    let text = escape(&e.text, d);
    vec![format!("{loc}{cs}{}{ss}{text}{ss}HL70357", e.code.code())]
}

/// From v2.5 on: ERR-2 location, ERR-3 code, ERR-4 severity (`E` error, `I`
/// information: HL7 table 0516), ERR-8 text.
fn err_v25(e: &AckError, d: &Delimiters, severity: &str) -> Vec<String> {
    let cs = d.component();
    let code = format!(
        "{}{cs}{}{cs}HL70357",
        e.code.code(),
        escape(e.code.description(), d)
    );
    let mut fields = vec![String::new(); 7];
    fields[1] = location(e, d);
    fields[2] = code;
    fields[3] = severity.to_owned();
    fields.push(escape(&e.text, d).into_owned());
    fields
}

/// `2.5`, `2.5.1`, `2.6`, `2.7`, `2.8`, … ; anything unreadable counts as older, whose
/// ACK layout newer receivers still accept.
fn is_v25_or_later(version: &str) -> bool {
    let mut parts = version.split('.').map(|p| p.trim().parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(major), _) if major > 2 => true,
        (Some(2), Some(minor)) => minor >= 5,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        for v in ["2.5", "2.5.1", "2.6", "2.7", "2.8.2", "3.0"] {
            assert!(is_v25_or_later(v), "{v}");
        }
        for v in ["2.3", "2.3.1", "2.4", "2.1", "", "x", "2", "2.x"] {
            assert!(!is_v25_or_later(v), "{v}");
        }
    }

    #[test]
    fn parse_errors_become_coded_errors() {
        let e = AckError::from(&ParseError::MissingHeaderField {
            field: 10,
            name: "message control ID",
        });
        assert_eq!(e.code, ErrorCode::RequiredFieldMissing);
        assert_eq!(
            e.location,
            Some(ErrorLocation {
                segment: "MSH".into(),
                sequence: 1,
                field: Some(10)
            })
        );
        let e = AckError::from(&ParseError::InvalidSegmentId {
            position: 4,
            found: "pv1".into(),
        });
        assert_eq!(e.code, ErrorCode::SegmentSequence);
        assert_eq!(e.location.unwrap().sequence, 4);
        let e = AckError::from(&ParseError::UnsupportedCharset {
            declared: "UNICODE UTF-16".into(),
        });
        assert_eq!(
            (e.code.code(), e.code.description()),
            (103, "Table value not found")
        );
        assert_eq!(AckError::from(&ParseError::Empty).location, None);
    }
}
