//! Turning the bytes of a message into text, and text back into bytes.
//!
//! HL7 v2 says the character set is named in MSH-18 and that an empty MSH-18 means
//! ASCII. Finnish feeds disagree in practice: many send ISO-8859-1 (for Ä, Ö, Å) without
//! saying so, and newer ones send UTF-8 equally silently. So for an undeclared (or
//! "ASCII") message we take UTF-8 when the bytes are valid UTF-8 — a Latin-1 text with
//! letters above 0x7F is practically never valid UTF-8 by accident — and ISO-8859-1
//! otherwise, and we report that we guessed. A declared character set is taken at its
//! word; a declared UTF-8 message with invalid bytes is an error, not a guess.
//!
//! ISO-8859-1 is decoded by hand: it maps every byte to the Unicode code point of the
//! same number, which needs no table and no dependency.

use crate::error::ParseError;

/// The character set a message was decoded with (and an ACK is encoded with).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Charset {
    /// 7-bit ASCII: every byte was below 0x80, so no choice had to be made.
    Ascii,
    /// ISO-8859-1 (HL7 `8859/1`).
    Latin1,
    /// UTF-8 (HL7 `UNICODE UTF-8`).
    Utf8,
}

impl Charset {
    /// The name HL7 table 0211 gives this character set, as written in MSH-18.
    pub fn hl7_name(self) -> &'static str {
        match self {
            Charset::Ascii => "ASCII",
            Charset::Latin1 => "8859/1",
            Charset::Utf8 => "UNICODE UTF-8",
        }
    }

    /// Encodes text in this character set. Characters it cannot represent become `?`:
    /// an ACK must go out even when a reason text holds a character the sender's
    /// character set lacks.
    pub fn encode(self, text: &str) -> Vec<u8> {
        match self {
            Charset::Utf8 => text.as_bytes().to_vec(),
            Charset::Latin1 => text
                .chars()
                .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
                .collect(),
            Charset::Ascii => text
                .chars()
                .map(|c| if c.is_ascii() { c as u8 } else { b'?' })
                .collect(),
        }
    }

    /// Decodes the bytes of a hex escape (`\X..\`), which are in the message's own
    /// character set. `None` when they are not valid in it.
    pub(crate) fn decode_escaped(self, bytes: &[u8]) -> Option<String> {
        match self {
            Charset::Latin1 => Some(decode_latin1(bytes)),
            Charset::Utf8 => String::from_utf8(bytes.to_vec()).ok(),
            // An undeclared ASCII message has no character set of its own for bytes above
            // 0x7F; apply the same guess as for a whole undeclared message.
            Charset::Ascii => {
                Some(String::from_utf8(bytes.to_vec()).unwrap_or_else(|_| decode_latin1(bytes)))
            }
        }
    }
}

/// What MSH-18 says about the character set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Declared {
    /// Empty MSH-18, or `ASCII`: decode leniently (see the module docs).
    Lenient,
    /// `8859/1` and its common spellings.
    Latin1,
    /// `UNICODE UTF-8` or `UTF-8`.
    Utf8,
}

impl Declared {
    /// Reads the first repetition / component of MSH-18. Unknown names are an error,
    /// not a guess: decoding, say, UTF-16 as Latin-1 would silently corrupt every name.
    pub(crate) fn from_msh18(value: &str) -> Result<Self, ParseError> {
        let name = value.trim().to_ascii_uppercase();
        match name.as_str() {
            "" | "ASCII" => Ok(Declared::Lenient),
            "8859/1" | "8859-1" | "ISO-8859-1" | "ISO8859-1" | "ISO_8859-1" | "LATIN1" => {
                Ok(Declared::Latin1)
            }
            "UNICODE UTF-8" | "UTF-8" | "UTF8" => Ok(Declared::Utf8),
            _ => Err(ParseError::UnsupportedCharset {
                declared: crate::error::name_snippet(value.trim()),
            }),
        }
    }
}

/// Text decoded from bytes, and how.
#[derive(Debug)]
pub(crate) struct Decoded {
    pub text: String,
    pub charset: Charset,
    /// `true` when MSH-18 did not say and the bytes were not plain ASCII.
    pub guessed: bool,
}

/// Decodes a whole message. `msh18` is the declared name as sent, for error messages.
pub(crate) fn decode(bytes: &[u8], declared: Declared, msh18: &str) -> Result<Decoded, ParseError> {
    match declared {
        Declared::Latin1 => Ok(Decoded {
            text: decode_latin1(bytes),
            charset: Charset::Latin1,
            guessed: false,
        }),
        Declared::Utf8 => match std::str::from_utf8(bytes) {
            Ok(text) => Ok(Decoded {
                text: text.to_owned(),
                charset: Charset::Utf8,
                guessed: false,
            }),
            Err(e) => Err(ParseError::InvalidUtf8 {
                declared: crate::error::name_snippet(msh18.trim()),
                offset: e.valid_up_to(),
                segment: segment_at(bytes, e.valid_up_to()),
            }),
        },
        Declared::Lenient => {
            if bytes.is_ascii() {
                // Every byte is < 0x80, so this is the same as any ASCII-compatible decode.
                return Ok(Decoded {
                    text: decode_latin1(bytes),
                    charset: Charset::Ascii,
                    guessed: false,
                });
            }
            Ok(match std::str::from_utf8(bytes) {
                Ok(text) => Decoded {
                    text: text.to_owned(),
                    charset: Charset::Utf8,
                    guessed: true,
                },
                Err(_) => Decoded {
                    text: decode_latin1(bytes),
                    charset: Charset::Latin1,
                    guessed: true,
                },
            })
        }
    }
}

/// ISO-8859-1 to text: byte `b` is code point `U+00bb`.
pub fn decode_latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// The 1-based position of the segment holding byte `offset`, counting segments the way
/// the parser does (CR terminates segments; LF only when there is no CR at all; blank
/// lines do not count).
fn segment_at(bytes: &[u8], offset: usize) -> usize {
    let terminator = if bytes.contains(&b'\r') { b'\r' } else { b'\n' };
    let before = &bytes[..offset.min(bytes.len())];
    let mut pieces = before.split(|&b| b == terminator).peekable();
    let mut count = 0;
    while let Some(piece) = pieces.next() {
        // The last piece is the (possibly empty) start of the segment holding the offset.
        if pieces.peek().is_none() || !piece.iter().all(u8::is_ascii_whitespace) {
            count += 1;
        }
    }
    count.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_is_one_to_one() {
        assert_eq!(decode_latin1(b"\xC4\xD6\xC5 \xE4\xF6\xE5"), "ÄÖÅ äöå");
        let all: Vec<u8> = (0..=255).collect();
        let text = decode_latin1(&all);
        assert_eq!(text.chars().count(), 256);
        assert_eq!(Charset::Latin1.encode(&text), all);
    }

    #[test]
    fn encode_replaces_what_does_not_fit() {
        assert_eq!(Charset::Latin1.encode("Åbo €"), b"\xC5bo ?");
        assert_eq!(Charset::Ascii.encode("Åbo"), b"?bo");
        assert_eq!(Charset::Utf8.encode("Åbo"), "Åbo".as_bytes());
    }

    #[test]
    fn declared_names() {
        assert_eq!(Declared::from_msh18("").unwrap(), Declared::Lenient);
        assert_eq!(Declared::from_msh18("ASCII").unwrap(), Declared::Lenient);
        assert_eq!(Declared::from_msh18("8859/1").unwrap(), Declared::Latin1);
        assert_eq!(Declared::from_msh18(" 8859/1 ").unwrap(), Declared::Latin1);
        assert_eq!(
            Declared::from_msh18("UNICODE UTF-8").unwrap(),
            Declared::Utf8
        );
        assert_eq!(Declared::from_msh18("utf-8").unwrap(), Declared::Utf8);
        let err = Declared::from_msh18("UNICODE UTF-16").unwrap_err();
        assert!(err.to_string().contains("UNICODE"), "{err}");
        assert!(Declared::from_msh18("8859/15").is_err());
    }

    #[test]
    fn lenient_prefers_utf8_then_latin1() {
        let ascii = decode(b"MSH|x", Declared::Lenient, "").unwrap();
        assert_eq!((ascii.charset, ascii.guessed), (Charset::Ascii, false));

        let utf8 = decode("Äänekoski".as_bytes(), Declared::Lenient, "").unwrap();
        assert_eq!((utf8.charset, utf8.guessed), (Charset::Utf8, true));
        assert_eq!(utf8.text, "Äänekoski");

        let latin1 = decode(b"\xC4\xE4nekoski", Declared::Lenient, "").unwrap();
        assert_eq!((latin1.charset, latin1.guessed), (Charset::Latin1, true));
        assert_eq!(latin1.text, "Äänekoski");
    }

    #[test]
    fn declared_latin1_is_not_second_guessed() {
        // These bytes are valid UTF-8 ("Ä"), but the sender said Latin-1.
        let d = decode("Ä".as_bytes(), Declared::Latin1, "8859/1").unwrap();
        assert_eq!(d.text, "\u{C3}\u{84}");
        assert_eq!((d.charset, d.guessed), (Charset::Latin1, false));
    }

    #[test]
    fn declared_utf8_with_latin1_bytes_is_an_error() {
        let bytes = b"MSH|^~\\&|\rPID|1||\xC4\r";
        let err = decode(bytes, Declared::Utf8, "UNICODE UTF-8").unwrap_err();
        assert_eq!(
            err,
            ParseError::InvalidUtf8 {
                declared: "UNICODE UTF-8".into(),
                offset: 17,
                segment: 2
            }
        );
    }

    #[test]
    fn segment_positions() {
        assert_eq!(segment_at(b"MSH|\rPID|\r\rPV1|x", 13), 3);
        assert_eq!(segment_at(b"MSH|\nPID|x", 7), 2);
        assert_eq!(segment_at(b"MSH|x", 2), 1);
        assert_eq!(segment_at(b"", 0), 1);
    }

    #[test]
    fn hex_escapes_follow_the_charset() {
        assert_eq!(
            Charset::Latin1.decode_escaped(&[0xC4]).as_deref(),
            Some("Ä")
        );
        assert_eq!(
            Charset::Utf8.decode_escaped(&[0xC3, 0x84]).as_deref(),
            Some("Ä")
        );
        assert_eq!(Charset::Utf8.decode_escaped(&[0xC4]), None);
        assert_eq!(Charset::Ascii.decode_escaped(&[0xC4]).as_deref(), Some("Ä"));
        assert_eq!(
            Charset::Ascii.decode_escaped(&[0x0D]).as_deref(),
            Some("\r")
        );
    }
}
