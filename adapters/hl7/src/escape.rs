//! HL7 escape sequences: how a value may contain the very characters that delimit it.
//!
//! A value is split on the delimiters first and unescaped afterwards; an escape sequence
//! never contains a delimiter, so splitting first is safe, and unescaping first would
//! turn `\S\` into a component separator that splits the value in two.
//!
//! Escape sequences are written with the message's own escape character (`\` below):
//!
//! | sequence | means |
//! | --- | --- |
//! | `\F\` `\S\` `\T\` `\R\` `\E\` | field, component, subcomponent, repetition separator, escape character |
//! | `\P\` | truncation character (v2.7, when MSH-2 declares one) |
//! | `\Xhh..\` | bytes in hex, in the message's character set |
//! | `\.br\` | line break |
//!
//! Anything else (`\H\`, `\N\`, `\Zxx\`, `\Cxxyy\`, other formatting commands, a lone
//! escape character) is kept literally: dropping it would lose data, and guessing its
//! meaning could invent some.

use std::borrow::Cow;

use crate::charset::Charset;
use crate::delimiters::Delimiters;

/// Resolves the escape sequences in one value (a subcomponent, or any part without
/// delimiters). Borrows when there is nothing to resolve.
pub fn unescape<'a>(raw: &'a str, delimiters: &Delimiters, charset: Charset) -> Cow<'a, str> {
    let esc = delimiters.escape();
    if !raw.contains(esc) {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(start) = rest.find(esc) {
        out.push_str(&rest[..start]);
        let after = &rest[start + esc.len_utf8()..];
        let Some(end) = after.find(esc) else {
            // An escape character that is never closed is data.
            out.push_str(&rest[start..]);
            return Cow::Owned(out);
        };
        let content = &after[..end];
        match resolve(content, delimiters, charset) {
            Some(text) => out.push_str(&text),
            None => {
                out.push(esc);
                out.push_str(content);
                out.push(esc);
            }
        }
        rest = &after[end + esc.len_utf8()..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// What one escape sequence (without its escape characters) stands for, or `None` when
/// it is not one we resolve.
fn resolve<'a>(content: &str, d: &Delimiters, charset: Charset) -> Option<Cow<'a, str>> {
    let single = |c: char| Some(Cow::Owned(c.to_string()));
    match content {
        "F" => single(d.field()),
        "S" => single(d.component()),
        "T" => single(d.subcomponent()),
        "R" => single(d.repetition()),
        "E" => single(d.escape()),
        "P" => d.truncation().and_then(single),
        ".br" => Some(Cow::Borrowed("\n")),
        _ => {
            let hex = content.strip_prefix('X')?;
            let bytes = decode_hex(hex)?;
            charset.decode_escaped(&bytes).map(Cow::Owned)
        }
    }
}

/// `"C4E4"` to `[0xC4, 0xE4]`; `None` for an empty, odd-length or non-hex string.
fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.is_empty() || !hex.len().is_multiple_of(2) || !hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect()
}

/// Escapes text so that it can be written as one value (down to a subcomponent) of a
/// message with these delimiters. Control characters other than TAB become hex escapes
/// (`\X0D\`, `\X0A\`, …): a raw CR would end the segment, and a raw `0x0B` or `0x1C`
/// would break the MLLP frame. Borrows when nothing needs escaping.
pub fn escape<'a>(text: &'a str, delimiters: &Delimiters) -> Cow<'a, str> {
    let needs = |c: char| delimiters.is_delimiter(c) || is_control(c);
    if !text.chars().any(needs) {
        return Cow::Borrowed(text);
    }
    let esc = delimiters.escape();
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        let code = if c == delimiters.field() {
            "F"
        } else if c == delimiters.component() {
            "S"
        } else if c == delimiters.subcomponent() {
            "T"
        } else if c == delimiters.repetition() {
            "R"
        } else if c == esc {
            "E"
        } else if Some(c) == delimiters.truncation() {
            "P"
        } else if is_control(c) {
            out.push(esc);
            out.push_str(&format!("X{:02X}", u32::from(c)));
            out.push(esc);
            continue;
        } else {
            out.push(c);
            continue;
        };
        out.push(esc);
        out.push_str(code);
        out.push(esc);
    }
    Cow::Owned(out)
}

/// Escapes only the control characters of a value that is already escaped (a field
/// copied as sent): its delimiters are structure and stay, but a control character in it
/// must not reach a segment or an MLLP frame raw.
pub(crate) fn escape_controls<'a>(raw: &'a str, delimiters: &Delimiters) -> Cow<'a, str> {
    if !raw.chars().any(is_control) {
        return Cow::Borrowed(raw);
    }
    let esc = delimiters.escape();
    let mut out = String::with_capacity(raw.len() + 8);
    for c in raw.chars() {
        if is_control(c) {
            out.push(esc);
            out.push_str(&format!("X{:02X}", u32::from(c)));
            out.push(esc);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// ASCII control characters except TAB, which is harmless in a value.
fn is_control(c: char) -> bool {
    c.is_ascii_control() && c != '\t'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn std_delims() -> Delimiters {
        Delimiters::default()
    }

    fn un(raw: &str) -> String {
        unescape(raw, &std_delims(), Charset::Latin1).into_owned()
    }

    #[test]
    fn delimiter_escapes() {
        assert_eq!(un(r"A\F\B\S\C\T\D\R\E\E\F"), r"A|B^C&D~E\F");
    }

    #[test]
    fn nothing_to_do_borrows() {
        let d = std_delims();
        assert!(matches!(
            unescape("Testinen", &d, Charset::Ascii),
            Cow::Borrowed(_)
        ));
        assert!(matches!(escape("Testinen", &d), Cow::Borrowed(_)));
    }

    #[test]
    fn line_break_and_hex() {
        assert_eq!(un(r"rivi 1\.br\rivi 2"), "rivi 1\nrivi 2");
        assert_eq!(un(r"\XC4\kk\XF6\nen"), "Äkkönen");
        assert_eq!(un(r"a\X0D0A\b"), "a\r\nb");
        let utf8 = unescape(r"\XC384\", &std_delims(), Charset::Utf8);
        assert_eq!(utf8, "Ä");
    }

    #[test]
    fn unknown_and_broken_sequences_stay_literal() {
        assert_eq!(un(r"\H\lihavoitu\N\"), r"\H\lihavoitu\N\");
        assert_eq!(un(r"\Zabc\"), r"\Zabc\");
        assert_eq!(un(r"\.sp2\"), r"\.sp2\");
        assert_eq!(un(r"\X\ \XABC\ \XZZ\"), r"\X\ \XABC\ \XZZ\");
        assert_eq!(un(r"\\"), r"\\");
        assert_eq!(un(r"loppuu \F"), r"loppuu \F");
        assert_eq!(un(r"\"), r"\");
        // Valid hex that is not valid in the message's character set.
        let bad = unescape(r"\XC4\", &std_delims(), Charset::Utf8);
        assert_eq!(bad, r"\XC4\");
        // \P\ only means something when MSH-2 declares a truncation character.
        assert_eq!(un(r"\P\"), r"\P\");
        let v27 = Delimiters::new('|', "^~\\&#").unwrap();
        assert_eq!(unescape(r"\P\", &v27, Charset::Ascii), "#");
    }

    #[test]
    fn escape_everything_that_would_split() {
        let d = std_delims();
        assert_eq!(escape("a|b^c&d~e\\f", &d), r"a\F\b\S\c\T\d\R\e\E\f");
        assert_eq!(escape("rivi\r\nrivi", &d), r"rivi\X0D\\X0A\rivi");
        assert_eq!(
            escape("a\x0bb\x1cc\td\x7f", &d),
            "a\\X0B\\b\\X1C\\c\td\\X7F\\"
        );
        assert_eq!(escape("50 # 2", &d), "50 # 2");
        let v27 = Delimiters::new('|', "^~\\&#").unwrap();
        assert_eq!(escape("50 # 2", &v27), r"50 \P\ 2");
    }

    #[test]
    fn escape_controls_keeps_structure() {
        let d = std_delims();
        assert_eq!(escape_controls("A^B\\F\\", &d), "A^B\\F\\");
        assert_eq!(escape_controls("A^\x0bB", &d), "A^\\X0B\\B");
    }

    #[test]
    fn uses_the_message_escape_character() {
        let d = Delimiters::new('!', "*?/%").unwrap();
        assert_eq!(escape("a!b*c/d", &d), "a/F/b/S/c/E/d");
        assert_eq!(unescape("a/F/b/S/c/E/d", &d, Charset::Ascii), "a!b*c/d");
        // A backslash is plain data here.
        assert_eq!(unescape(r"C:\temp", &d, Charset::Ascii), r"C:\temp");
    }

    #[test]
    fn escape_then_unescape_round_trips() {
        let delims = [
            std_delims(),
            Delimiters::new('|', "^~\\&#").unwrap(),
            Delimiters::new('!', "*?/%").unwrap(),
        ];
        let samples = [
            "",
            "Sydämen vajaatoiminta",
            "a|b^c&d~e\\f#g!h*i?j/k%l",
            "rivi 1\nrivi 2\r\n",
            "\\F\\ kirjaimellisesti",
            "ÄÖÅ äöå €",
            "\x0b\x1c\x00\t\x7f",
        ];
        for d in &delims {
            for s in samples {
                let escaped = escape(s, d);
                assert!(!escaped.contains(['\r', '\n']));
                assert_eq!(unescape(&escaped, d, Charset::Utf8), s, "{d:?} {s:?}");
            }
        }
    }
}
