//! Parsing realistic Finnish ADT messages as different feeds send them: ISO-8859-1 with
//! and without MSH-18, UTF-8, CR / LF / CRLF terminators, escape sequences, repetitions.

mod common;

use common::{A01, A02, A03, A08, A11, A12, A13, ALL, latin1};
use ohjaamo_hl7::mllp::{MllpDecoder, encode_frame};
use ohjaamo_hl7::{Charset, Message, ParseError};

/// The values every fixture shares: patient, visit, the PV1-3 structure.
fn check_common(msg: &Message, trigger: &str) {
    let t = msg.message_type();
    assert_eq!((t.code.as_str(), t.trigger.as_str()), ("ADT", trigger));
    assert_eq!(msg.get("EVN-1").as_deref(), Some(trigger));
    assert_eq!(msg.version(), "2.3");
    assert_eq!(msg.processing_id(), "P");
    assert_eq!(msg.control_id(), format!("LC00001{}", &trigger[1..]));
    assert_eq!(msg.get("MSH-3").as_deref(), Some("LIFECARE"));
    assert_eq!(msg.get("MSH-4").as_deref(), Some("SATKS"));
    assert_eq!(msg.get("MSH-15").as_deref(), Some("AL"));

    // Patient: made-up identity, names with Ä, Ö, Å decoded whatever the bytes were.
    assert_eq!(msg.get("PID-5-1").as_deref(), Some("Ääkkönen"));
    assert_eq!(msg.get("PID-5-2").as_deref(), Some("Åsa"));
    assert_eq!(msg.get("PID-5-3").as_deref(), Some("Östen"));
    assert_eq!(msg.get("PID-7").as_deref(), Some("19450312"));
    assert_eq!(msg.get("PID-11-3").as_deref(), Some("Pori"));
    let ids: Vec<(String, String)> = msg
        .segment("PID")
        .unwrap()
        .field(3)
        .unwrap()
        .repetitions()
        .map(|r| {
            let part = |n| r.component(n).map(|c| c.value().into_owned()).unwrap();
            (part(1), part(5))
        })
        .collect();
    assert_eq!(
        ids,
        [
            ("120345-998Y".to_owned(), "NNFIN".to_owned()),
            ("0012345".to_owned(), "PI".to_owned())
        ]
    );
    assert_eq!(msg.get("PID-3(2)-4").as_deref(), Some("LIFECARE"));
    assert_eq!(
        msg.get("PID-13(2)-4").as_deref(),
        Some("testi@example.invalid")
    );

    // Visit.
    assert_eq!(msg.get("PV1-2").as_deref(), Some("I"));
    assert_eq!(msg.get("PV1-10").as_deref(), Some("SIS"));
    assert_eq!(msg.get("PV1-19").as_deref(), Some("V0001234"));
    assert_eq!(msg.get("PV1-44").as_deref(), Some("20250314083000"));
    assert_eq!(msg.get("PV1-7-2").as_deref(), Some("Lääkäri"));
    assert_eq!(msg.get("PV1-3-4").as_deref(), Some("SATKS"));
}

/// PV1-3 as (point of care, room, bed).
fn location(msg: &Message, field: usize) -> Option<(String, String, String)> {
    let pv1 = msg.segment("PV1")?;
    let f = pv1.field(field)?;
    let part = |n| f.component(n).map(|c| c.value().into_owned());
    Some((part(1)?, part(2)?, part(3)?))
}

fn loc(poc: &str, room: &str, bed: &str) -> Option<(String, String, String)> {
    Some((poc.into(), room.into(), bed.into()))
}

#[test]
fn a01_admission_in_declared_8859_1() {
    let bytes = latin1(A01);
    assert!(bytes.contains(&0xC4), "Ä is one byte, 0xC4");
    let msg = Message::parse(&bytes).unwrap();
    check_common(&msg, "A01");
    assert_eq!(msg.message_type().structure, "ADT_A01");
    assert_eq!(
        (msg.charset(), msg.charset_guessed()),
        (Charset::Latin1, false)
    );
    assert_eq!(msg.get("MSH-18").as_deref(), Some("8859/1"));
    assert_eq!(location(&msg, 3), loc("OS5", "101", "1"));
    assert_eq!(msg.get("PV2-9").as_deref(), Some("20250318"));
    assert_eq!(msg.get("PV2-3-2").as_deref(), Some("Sydämen vajaatoiminta"));
    assert_eq!(msg.get("EVN-6").as_deref(), Some("20250314082500"));
    assert_eq!(msg.segment_count(), 5);
}

#[test]
fn a02_transfer_undeclared_8859_1_with_lf() {
    let bytes = latin1(&A02.replace('\r', "\n"));
    let msg = Message::parse(&bytes).unwrap();
    check_common(&msg, "A02");
    assert_eq!(msg.get("MSH-18"), None);
    assert_eq!(
        (msg.charset(), msg.charset_guessed()),
        (Charset::Latin1, true)
    );
    assert_eq!(location(&msg, 3), loc("OS6", "204", "2"));
    assert_eq!(location(&msg, 6), loc("OS5", "101", "1"));
    assert_eq!(msg.as_str(), A02, "LF terminators are normalised to CR");
}

#[test]
fn a03_discharge_in_declared_utf8_with_crlf() {
    let msg = Message::parse(A03.replace('\r', "\r\n").as_bytes()).unwrap();
    check_common(&msg, "A03");
    assert_eq!(
        (msg.charset(), msg.charset_guessed()),
        (Charset::Utf8, false)
    );
    assert_eq!(msg.get("PV1-45").as_deref(), Some("20250319100000"));
    assert_eq!(msg.get("PV1-36").as_deref(), Some("01"));
    assert_eq!(location(&msg, 3), loc("OS6", "204", "2"));
}

#[test]
fn a08_update_with_escapes_nulls_and_repeating_segments() {
    let msg = Message::parse(A08.as_bytes()).unwrap();
    check_common(&msg, "A08");
    assert_eq!(
        (msg.charset(), msg.charset_guessed()),
        (Charset::Utf8, true)
    );
    assert_eq!(msg.get("PV2-9").as_deref(), Some("20250320"));

    let pv2_8 = msg.segment("PV2").unwrap().field(8).unwrap();
    assert!(pv2_8.is_null(), "\"\" deletes the expected admit date");
    assert!(msg.segment("PV2").unwrap().field(7).unwrap().is_empty());

    let diagnoses: Vec<_> = msg
        .segments_named("DG1")
        .map(|dg1| dg1.get("3-1").unwrap().into_owned())
        .collect();
    assert_eq!(diagnoses, ["I50.0", "E11.9"]);
    let dg1 = msg.segment("DG1").unwrap();
    assert_eq!(
        dg1.field(4).unwrap().raw(),
        r"Vajaatoiminta \T\ turvotus\.br\tark. \F\ seuranta"
    );
    assert_eq!(
        msg.get("DG1-4").as_deref(),
        Some("Vajaatoiminta & turvotus\ntark. | seuranta")
    );
    assert_eq!(msg.get("DG1(2)-3-2").as_deref(), Some("Tyypin 2 diabetes"));
    assert_eq!(msg.get("DG1(2)-4"), None);
}

#[test]
fn a11_a12_a13_cancellations() {
    let a11 = Message::parse(&latin1(A11)).unwrap();
    check_common(&a11, "A11");
    assert_eq!(a11.message_type().structure, "ADT_A09");
    assert_eq!(location(&a11, 3), loc("OS5", "101", "1"));
    assert!(a11.segment("PV2").is_none());

    let a12 = Message::parse(&latin1(&A12.replace('\r', "\r\n"))).unwrap();
    check_common(&a12, "A12");
    assert_eq!(
        (a12.charset(), a12.charset_guessed()),
        (Charset::Latin1, true)
    );
    assert_eq!(
        location(&a12, 3),
        loc("OS5", "101", "1"),
        "back where they were"
    );
    assert_eq!(
        location(&a12, 6),
        loc("OS6", "204", "2"),
        "the cancelled move"
    );

    let a13 = Message::parse(&latin1(A13)).unwrap();
    check_common(&a13, "A13");
    assert_eq!(a13.get("PV1-45"), None, "no discharge time any more");
    assert_eq!(a13.get("PV2-9").as_deref(), Some("20250321"));
}

#[test]
fn hand_written_latin1_bytes() {
    let bytes =
        b"MSH|^~\\&|LIFECARE|PHHYKY|OHJAAMO|PHHYKY|20250314083000||ADT^A01|X1|P|2.3||||||8859/1\r\
                  PID|1||010101-999X^^^1.2.246.21||\xC4\xE4nekoski^\xD6rjan^\xC5ke\r\
                  PV1|1|I|K3^12^2^PHKS\r";
    let msg = Message::parse(bytes).unwrap();
    assert_eq!(msg.get("PID-5-1").as_deref(), Some("Äänekoski"));
    assert_eq!(msg.get("PID-5-2").as_deref(), Some("Örjan"));
    assert_eq!(msg.get("PID-5-3").as_deref(), Some("Åke"));
    assert_eq!(msg.message_type().structure, "", "v2.3 often omits MSH-9-3");
    assert_eq!(msg.to_bytes(), bytes.to_vec());
}

#[test]
fn hex_escapes_decode_in_the_message_charset() {
    let latin = A01.replace("Ääkkönen^", r"\XC4\kk\XF6\nen^");
    let msg = Message::parse(&latin1(&latin)).unwrap();
    assert_eq!(msg.get("PID-5-1").as_deref(), Some("Äkkönen"));

    let utf8 = A03.replace("Ääkkönen^", r"\XC384\kk\XC3B6\nen^");
    let msg = Message::parse(utf8.as_bytes()).unwrap();
    assert_eq!(msg.get("PID-5-1").as_deref(), Some("Äkkönen"));
}

#[test]
fn declared_utf8_with_latin1_bytes_is_refused() {
    let err = Message::parse(&latin1(A03)).unwrap_err();
    match err {
        ParseError::InvalidUtf8 {
            ref declared,
            segment,
            ..
        } => {
            assert_eq!(declared, "UNICODE UTF-8");
            assert_eq!(segment, 2, "EVN-5 holds the first Ä");
        }
        other => panic!("expected InvalidUtf8, got {other}"),
    }
}

#[test]
fn unsupported_charset_is_refused() {
    let text = A01.replace("||8859/1\r", "||UNICODE UTF-16\r");
    let err = Message::parse(text.as_bytes()).unwrap_err();
    assert_eq!(
        err,
        ParseError::UnsupportedCharset {
            declared: "UNICODE UTF-16".into()
        }
    );
    assert!(err.to_string().contains("MSH-18"));
}

#[test]
fn delimiters_are_read_from_the_message() {
    let translated: String = A08
        .chars()
        .map(|c| match c {
            '|' => '!',
            '^' => '*',
            '~' => '?',
            '\\' => '/',
            '&' => '%',
            other => other,
        })
        .collect();
    assert!(translated.starts_with("MSH!*?/%!LIFECARE"));
    let standard = Message::parse_str(A08).unwrap();
    let custom = Message::parse_str(&translated).unwrap();
    assert_eq!(custom.get("MSH-1").as_deref(), Some("!"));
    assert_eq!(custom.get("MSH-2").as_deref(), Some("*?/%"));
    assert_eq!(custom.delimiters().escape(), '/');

    // Every leaf value is the same, escape sequences included.
    let leaves = |m: &Message| -> Vec<String> {
        let mut out = Vec::new();
        for seg in m.segments() {
            for field in seg.fields().skip(if seg.id() == "MSH" { 2 } else { 0 }) {
                for rep in field.repetitions() {
                    for comp in rep.components() {
                        out.extend(comp.subcomponents().map(|s| s.value().into_owned()));
                    }
                }
            }
        }
        out
    };
    // Every leaf value is the same, except that an escaped delimiter now stands for this
    // message's delimiter: `/T/` is `%`, as `\T\` was `&`.
    let back = |v: String| -> String {
        v.chars()
            .map(|c| match c {
                '!' => '|',
                '%' => '&',
                other => other,
            })
            .collect()
    };
    let custom_leaves: Vec<String> = leaves(&custom).into_iter().map(back).collect();
    assert_eq!(custom_leaves, leaves(&standard));
    assert_eq!(
        custom.get("DG1-4").as_deref(),
        Some("Vajaatoiminta % turvotus\ntark. ! seuranta")
    );
}

#[test]
fn v27_truncation_character() {
    let text = "MSH|^~\\&#|LAB|SATKS|OHJAAMO|SATAKUNTA|20250314083000||ADT^A08^ADT_A01|T1|P|2.7\r\
                NTE|1||Pitkä kommentti, katkaistu#\rNTE|2||Risuaita \\P\\ mukana\r";
    let msg = Message::parse(text.as_bytes()).unwrap();
    assert_eq!(msg.delimiters().truncation(), Some('#'));
    assert_eq!(msg.get("MSH-2").as_deref(), Some("^~\\&#"));
    assert_eq!(
        msg.get("NTE-3").as_deref(),
        Some("Pitkä kommentti, katkaistu#")
    );
    assert_eq!(msg.get("NTE(2)-3").as_deref(), Some("Risuaita # mukana"));
}

#[test]
fn round_trips() {
    for (trigger, text) in ALL {
        // Each fixture in the encodings a feed could really send it in.
        let mut encodings: Vec<Vec<u8>> = Vec::new();
        if !text.contains("UTF-8") {
            encodings.push(latin1(text));
            encodings.push(latin1(&text.replace('\r', "\n")));
        }
        if !text.contains("8859/1") {
            encodings.push(text.as_bytes().to_vec());
            encodings.push(text.replace('\r', "\r\n").into_bytes());
        }
        for bytes in encodings {
            let msg = Message::parse(&bytes).unwrap();
            assert_eq!(msg.as_str(), text, "{trigger}");
            // Bytes out are the bytes in, with CR terminators.
            let with_cr: Vec<u8> = if bytes.contains(&b'\r') {
                bytes.iter().copied().filter(|&b| b != b'\n').collect()
            } else {
                bytes
                    .iter()
                    .map(|&b| if b == b'\n' { b'\r' } else { b })
                    .collect()
            };
            assert_eq!(msg.to_bytes(), with_cr, "{trigger}");
            assert_eq!(Message::parse(&msg.to_bytes()).unwrap(), msg);

            // Through MLLP and back: the same message text.
            let frame = encode_frame(&msg.to_bytes()).unwrap();
            let mut decoder = MllpDecoder::default();
            decoder.feed(&frame);
            let payload = decoder.next_frame().unwrap().unwrap().payload;
            assert_eq!(payload, msg.to_bytes());
            assert_eq!(Message::parse(&payload).unwrap().as_str(), text);
        }
    }
}

#[test]
fn declared_8859_1_is_believed_even_for_utf8_bytes() {
    // The sender is wrong, but guessing against its word would make every message's
    // meaning depend on its content; mojibake is visible and fixable at the source.
    let msg = Message::parse(A01.as_bytes()).unwrap();
    assert_eq!(msg.charset(), Charset::Latin1);
    assert_eq!(
        msg.get("PID-5-1").as_deref(),
        Some("\u{C3}\u{84}\u{C3}\u{A4}kk\u{C3}\u{B6}nen")
    );
    assert_eq!(msg.to_bytes(), A01.as_bytes());
}
