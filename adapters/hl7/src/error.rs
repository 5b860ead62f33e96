//! Why a byte string is not a message we can use.
//!
//! Every variant names what is wrong and, where the parser knows it, the segment
//! (1-based position in the message) or the MSH field. The ACK builder turns these into
//! an `ERR` segment, so the sender's integration team sees the same words we log.
//!
//! Snippets of the input quoted in errors are kept to a few characters: errors end up in
//! logs, and an HL7 message carries personal data that must not.

use thiserror::Error;

/// The longest piece of input an error quotes.
const SNIPPET_CHARS: usize = 8;
/// The longest declared name an error quotes.
const NAME_CHARS: usize = 24;

/// A message could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Nothing but whitespace.
    #[error("empty input: no HL7 message")]
    Empty,

    /// The first segment is not `MSH`, so this is not an HL7 v2 message (or its start
    /// was lost).
    #[error("not an HL7 v2 message: expected it to start with \"MSH\", found {found:?}")]
    MissingMsh {
        /// The first few characters of the input.
        found: String,
    },

    /// The input ends inside the MSH segment before its delimiters were defined.
    #[error("truncated message: {detail}")]
    Truncated {
        /// What was missing.
        detail: &'static str,
    },

    /// MSH-1, the character right after `MSH`, cannot be a field separator.
    #[error("invalid field separator {found:?} in MSH-1: {reason}")]
    InvalidFieldSeparator {
        /// The character found.
        found: char,
        /// Why it was refused.
        reason: &'static str,
    },

    /// MSH-2 does not hold a usable set of encoding characters.
    #[error("invalid encoding characters {found:?} in MSH-2: {reason}")]
    InvalidEncodingCharacters {
        /// The content of MSH-2 (at most a few characters).
        found: String,
        /// Why it was refused.
        reason: &'static str,
    },

    /// A field of MSH that every message must value is missing or empty.
    #[error("required field MSH-{field} ({name}) is missing or empty")]
    MissingHeaderField {
        /// The MSH field number.
        field: usize,
        /// What the field means.
        name: &'static str,
    },

    /// A segment does not start with a three-character segment ID followed by the field
    /// separator.
    #[error("segment {position} has an invalid segment ID: {found:?}")]
    InvalidSegmentId {
        /// 1-based position of the segment in the message.
        position: usize,
        /// The start of the segment.
        found: String,
    },

    /// A second MSH: two messages glued together, or a batch.
    #[error(
        "segment {position} is a second MSH: one message per input (batches are not supported)"
    )]
    UnexpectedMsh {
        /// 1-based position of the segment in the message.
        position: usize,
    },

    /// MSH-18 names a character set this crate does not decode.
    #[error(
        "unsupported character set {declared:?} in MSH-18 (supported: ASCII, 8859/1, UNICODE UTF-8)"
    )]
    UnsupportedCharset {
        /// MSH-18 as sent.
        declared: String,
    },

    /// MSH-18 declares UTF-8 but the bytes are not UTF-8.
    #[error(
        "invalid UTF-8 at byte {offset} (segment {segment}) although MSH-18 declares {declared:?}"
    )]
    InvalidUtf8 {
        /// MSH-18 as sent.
        declared: String,
        /// Byte offset of the first invalid sequence, from the start of the message.
        offset: usize,
        /// 1-based position of the segment holding it.
        segment: usize,
    },
}

impl ParseError {
    /// The segment position and MSH field the error points at, when known: `(segment
    /// position, field)`. Used to fill the location of an `ERR` segment.
    pub fn position(&self) -> Option<(usize, Option<usize>)> {
        match self {
            ParseError::InvalidFieldSeparator { .. } => Some((1, Some(1))),
            ParseError::InvalidEncodingCharacters { .. } => Some((1, Some(2))),
            ParseError::MissingHeaderField { field, .. } => Some((1, Some(*field))),
            ParseError::UnsupportedCharset { .. } => Some((1, Some(18))),
            ParseError::InvalidSegmentId { position, .. }
            | ParseError::UnexpectedMsh { position } => Some((*position, None)),
            ParseError::InvalidUtf8 { segment, .. } => Some((*segment, None)),
            ParseError::Empty | ParseError::MissingMsh { .. } | ParseError::Truncated { .. } => {
                None
            }
        }
    }
}

/// The first few characters of `text`, for quoting in an error.
pub(crate) fn snippet(text: &str) -> String {
    text.chars().take(SNIPPET_CHARS).collect()
}

/// A declared name (such as MSH-18) for quoting in an error: longer than a snippet, since
/// names like `UNICODE UTF-16` must stay recognisable, but still bounded.
pub(crate) fn name_snippet(text: &str) -> String {
    text.chars().take(NAME_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_field() {
        let e = ParseError::MissingHeaderField {
            field: 10,
            name: "message control ID",
        };
        assert_eq!(
            e.to_string(),
            "required field MSH-10 (message control ID) is missing or empty"
        );
        assert_eq!(e.position(), Some((1, Some(10))));
    }

    #[test]
    fn snippet_is_short_and_char_safe() {
        assert_eq!(snippet("ÄÖÅäöåÄÖÅäöå"), "ÄÖÅäöåÄÖ");
        assert_eq!(snippet("PID"), "PID");
    }
}
