//! The delimiters a message declares for itself in MSH-1 and MSH-2.
//!
//! HL7 v2 lets every sender choose its own field separator and encoding characters. Almost
//! everyone sends `|^~\&`, which is exactly why a parser that assumes them works until the
//! one feed that does not — so the parser reads them from each message and everything
//! downstream (splitting, escaping, the ACK) uses what was read.

use crate::error::{ParseError, snippet};

/// Field separator, encoding characters and (HL7 v2.7+) truncation character of one
/// message.
///
/// Only constructible through validation: all delimiters are distinct printable ASCII
/// punctuation, so splitting on them and escaping them is always well defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delimiters {
    field: char,
    component: char,
    repetition: char,
    escape: char,
    subcomponent: char,
    truncation: Option<char>,
}

impl Default for Delimiters {
    /// The delimiters nearly everyone uses: `|^~\&`.
    fn default() -> Self {
        Delimiters {
            field: '|',
            component: '^',
            repetition: '~',
            escape: '\\',
            subcomponent: '&',
            truncation: None,
        }
    }
}

impl Delimiters {
    /// Validates a field separator (MSH-1) and encoding characters (MSH-2).
    ///
    /// MSH-2 must hold component, repetition, escape and subcomponent characters in that
    /// order, optionally followed by the v2.7 truncation character.
    pub fn new(field: char, encoding_characters: &str) -> Result<Self, ParseError> {
        check_field_separator(field)?;
        let chars: Vec<char> = encoding_characters.chars().collect();
        let refuse = |reason| ParseError::InvalidEncodingCharacters {
            found: snippet(encoding_characters),
            reason,
        };
        if chars.is_empty() {
            return Err(refuse("MSH-2 is missing"));
        }
        if chars.len() < 4 {
            return Err(refuse(
                "expected 4 characters (component, repetition, escape, subcomponent)",
            ));
        }
        if chars.len() > 5 {
            return Err(refuse(
                "more than 5 characters; is the field separator right?",
            ));
        }
        for (i, &c) in chars.iter().enumerate() {
            if !is_delimiter_char(c) {
                return Err(refuse(
                    "encoding characters must be printable ASCII punctuation",
                ));
            }
            if c == field {
                return Err(refuse("an encoding character equals the field separator"));
            }
            if chars[..i].contains(&c) {
                return Err(refuse("an encoding character is repeated"));
            }
        }
        Ok(Delimiters {
            field,
            component: chars[0],
            repetition: chars[1],
            escape: chars[2],
            subcomponent: chars[3],
            truncation: chars.get(4).copied(),
        })
    }

    /// MSH-1: separates fields.
    pub fn field(&self) -> char {
        self.field
    }

    /// Separates components (`^`).
    pub fn component(&self) -> char {
        self.component
    }

    /// Separates repetitions of a field (`~`).
    pub fn repetition(&self) -> char {
        self.repetition
    }

    /// Starts and ends an escape sequence (`\`).
    pub fn escape(&self) -> char {
        self.escape
    }

    /// Separates subcomponents (`&`).
    pub fn subcomponent(&self) -> char {
        self.subcomponent
    }

    /// The v2.7 truncation character (`#`), when MSH-2 declares one.
    pub fn truncation(&self) -> Option<char> {
        self.truncation
    }

    /// MSH-2 as it must be written back: `^~\&` (plus the truncation character).
    pub fn encoding_characters(&self) -> String {
        let mut s = String::with_capacity(5);
        s.push(self.component);
        s.push(self.repetition);
        s.push(self.escape);
        s.push(self.subcomponent);
        if let Some(t) = self.truncation {
            s.push(t);
        }
        s
    }

    /// Whether `c` is any of this message's delimiters.
    pub(crate) fn is_delimiter(&self, c: char) -> bool {
        c == self.field
            || c == self.component
            || c == self.repetition
            || c == self.escape
            || c == self.subcomponent
            || Some(c) == self.truncation
    }
}

/// MSH-1 must be printable ASCII punctuation: letters, digits and whitespace would make
/// the segment ID and the data ambiguous.
pub(crate) fn check_field_separator(field: char) -> Result<(), ParseError> {
    if is_delimiter_char(field) {
        Ok(())
    } else {
        Err(ParseError::InvalidFieldSeparator {
            found: field,
            reason: "the field separator must be printable ASCII punctuation",
        })
    }
}

fn is_delimiter_char(c: char) -> bool {
    c.is_ascii_graphic() && !c.is_ascii_alphanumeric()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_delimiters() {
        let d = Delimiters::new('|', "^~\\&").unwrap();
        assert_eq!(d, Delimiters::default());
        assert_eq!(d.encoding_characters(), "^~\\&");
        assert_eq!(d.truncation(), None);
    }

    #[test]
    fn truncation_character_of_v27() {
        let d = Delimiters::new('|', "^~\\&#").unwrap();
        assert_eq!(d.truncation(), Some('#'));
        assert_eq!(d.encoding_characters(), "^~\\&#");
        assert!(d.is_delimiter('#'));
    }

    #[test]
    fn unusual_but_valid_delimiters() {
        let d = Delimiters::new('!', "*?/%").unwrap();
        assert_eq!(
            (
                d.field(),
                d.component(),
                d.repetition(),
                d.escape(),
                d.subcomponent()
            ),
            ('!', '*', '?', '/', '%')
        );
    }

    #[test]
    fn refuses_bad_encoding_characters() {
        for (field, enc) in [
            ('|', ""),
            ('|', "^~"),
            ('|', "^~\\"),
            ('|', "^~\\&#@"),
            ('|', "^~|&"),
            ('|', "^^\\&"),
            ('|', "^~A&"),
            ('|', "^~ &"),
            ('|', "^~\\Ä"),
        ] {
            let err = Delimiters::new(field, enc).unwrap_err();
            assert!(
                matches!(err, ParseError::InvalidEncodingCharacters { .. }),
                "{enc:?}: {err}"
            );
        }
    }

    #[test]
    fn refuses_bad_field_separators() {
        for field in ['A', '1', ' ', '\r', 'Ä', '\u{0}'] {
            let err = Delimiters::new(field, "^~\\&").unwrap_err();
            assert!(matches!(err, ParseError::InvalidFieldSeparator { .. }));
        }
    }
}
