//! ACKs: exact text for the common cases, the sender's dialect (delimiters, version,
//! character set, processing ID), and answers to input that does not parse.

mod common;

use common::{A01, A02, A08, ALL, latin1};
use ohjaamo_hl7::{AckBuilder, AckCode, AckError, Charset, ErrorCode, Message};

const TS: &str = "20250314083005+0200";

fn builder() -> AckBuilder {
    AckBuilder::new("OHJAAMO", "SATAKUNTA").with_timestamp(TS)
}

#[test]
fn accept_a01() {
    let msg = Message::parse(&latin1(A01)).unwrap();
    let ack = builder().accept(&msg, "OHJ0000001");
    assert_eq!(
        ack.as_str(),
        "MSH|^~\\&|OHJAAMO|SATAKUNTA|LIFECARE|SATKS|20250314083005+0200||ACK^A01^ACK|OHJ0000001|P|2.3||||||8859/1\r\
         MSA|AA|LC0000101\r"
    );
    assert_eq!(ack.code(), AckCode::Accept);
    assert_eq!(ack.charset(), Charset::Latin1);

    let parsed = Message::parse(&ack.to_bytes()).unwrap();
    assert_eq!(parsed.message_type().code, "ACK");
    assert_eq!(parsed.get("MSA-2").as_deref(), Some("LC0000101"));
    assert_eq!(parsed.get("MSH-5").as_deref(), Some("LIFECARE"));
}

#[test]
fn application_error_is_escaped_and_encoded_for_the_sender() {
    let msg = Message::parse(&latin1(A01)).unwrap();
    let error = AckError::new(
        ErrorCode::TableValueNotFound,
        "Paikkaa OS5^999 ei löydy | tarkista & korjaa",
    )
    .at("PV1", 4, Some(3));
    let ack = builder().error(&msg, "OHJ0000002", &error);
    assert_eq!(ack.code(), AckCode::Error);
    let text = ack.as_str();
    assert!(
        text.ends_with(
            "MSA|AE|LC0000101|Paikkaa OS5\\S\\999 ei löydy \\F\\ tarkista \\T\\ korjaa\r\
             ERR|PV1^4^3^103&Paikkaa OS5\\S\\999 ei löydy \\F\\ tarkista \\T\\ korjaa&HL70357\r"
        ),
        "{text}"
    );
    // ISO-8859-1 on the wire, like the message it answers: ö is one byte.
    let bytes = ack.to_bytes();
    assert!(bytes.windows(2).any(|w| w == b"l\xF6"));

    let parsed = Message::parse(&bytes).unwrap();
    assert_eq!(
        parsed.get("ERR-1-4-2").as_deref(),
        Some("Paikkaa OS5^999 ei löydy | tarkista & korjaa")
    );
    assert_eq!(parsed.get("ERR-1-4-1").as_deref(), Some("103"));
    assert_eq!(parsed.get("ERR-1-1").as_deref(), Some("PV1"));
    assert_eq!(parsed.get("MSA-3").as_deref(), Some(error.text.as_str()));
}

#[test]
fn msa3_is_limited_to_80_characters() {
    let msg = Message::parse_str(A08).unwrap();
    let long = "ä".repeat(100);
    let ack = builder().reject(
        &msg,
        "1",
        &AckError::new(ErrorCode::ApplicationInternalError, long.clone()),
    );
    let parsed = Message::parse_str(ack.as_str()).unwrap();
    assert_eq!(parsed.get("MSA-3").unwrap().chars().count(), 80);
    assert_eq!(parsed.get("ERR-1-4-2").as_deref(), Some(long.as_str()));
    assert_eq!(ack.code(), AckCode::Reject);
}

#[test]
fn an_accept_with_a_note_is_information_not_an_error() {
    let note = AckError::new(ErrorCode::UnsupportedEventCode, "ADT^A60 ei käytössä");
    let v23 = Message::parse(A02.as_bytes()).unwrap();
    let ack = builder().accept_with_note(&v23, "OHJ0000005", &note);
    assert_eq!(ack.code(), AckCode::Accept);
    let parsed = Message::parse(ack.as_str().as_bytes()).unwrap();
    assert_eq!(parsed.get("MSA-1").as_deref(), Some("AA"));
    assert_eq!(parsed.get("MSA-3").as_deref(), Some("ADT^A60 ei käytössä"));
    let v25 = Message::parse(A02.replace("|P|2.3|||AL|NE", "|T|2.5.1|||AL|NE").as_bytes()).unwrap();
    let ack = builder().accept_with_note(&v25, "OHJ0000006", &note);
    assert!(
        ack.as_str().ends_with(
            "MSA|AA|LC0000102\r\
             ERR|||201^Unsupported event code^HL70357|I||||ADT\\S\\A60 ei käytössä\r"
        ),
        "{}",
        ack.as_str()
    );
}

#[test]
fn v25_layout() {
    let v25 = A02.replace("|P|2.3|||AL|NE", "|T|2.5.1|||AL|NE");
    let msg = Message::parse(v25.as_bytes()).unwrap();
    let error = AckError::new(
        ErrorCode::UnknownKeyIdentifier,
        "Tuntematon käynti V0001234",
    )
    .at("PV1", 4, Some(19));
    let ack = builder().reject(&msg, "OHJ0000003", &error);
    assert_eq!(
        ack.as_str(),
        "MSH|^~\\&|OHJAAMO|SATAKUNTA|LIFECARE|SATKS|20250314083005+0200||ACK^A02^ACK|OHJ0000003|T|2.5.1\r\
         MSA|AR|LC0000102\r\
         ERR||PV1^4^19|204^Unknown key identifier^HL70357|E||||Tuntematon käynti V0001234\r"
    );
    // A02 was Latin-1 without MSH-18: the answer is too, and says nothing either.
    assert_eq!(
        ack.charset(),
        Charset::Utf8,
        "this copy of A02 was sent as UTF-8"
    );
    let latin = Message::parse(&latin1(&v25)).unwrap();
    let ack = builder().reject(&latin, "OHJ0000004", &error);
    assert_eq!(ack.charset(), Charset::Latin1);
    assert!(!ack.as_str().contains("8859"));
}

#[test]
fn unusual_delimiters_are_used_in_the_answer() {
    let text =
        "MSH!*?/%!LAB!SATKS!OHJAAMO!SATAKUNTA!20250314083000!!ADT*A08!C/F/1!P!2.3\rPV1!1!I\r";
    let msg = Message::parse_str(text).unwrap();
    assert_eq!(msg.control_id(), "C/F/1");
    let error = AckError::new(ErrorCode::DataType, "a!b*c");
    let ack = builder().error(&msg, "X!1", &error);
    assert_eq!(
        ack.as_str(),
        "MSH!*?/%!OHJAAMO!SATAKUNTA!LAB!SATKS!20250314083005+0200!!ACK*A08*ACK!X/F/1!P!2.3\r\
         MSA!AE!C/F/1!a/F/b/S/c\r\
         ERR!***102%a/F/b/S/c%HL70357\r"
    );
    let parsed = Message::parse_str(ack.as_str()).unwrap();
    assert_eq!(parsed.get("MSA-2").as_deref(), Some("C!1"));
    assert_eq!(parsed.get("MSH-10").as_deref(), Some("X!1"));
}

#[test]
fn unparseable_garbage_gets_an_ar_without_control_id() {
    let garbage = b"GET / HTTP/1.1\r\nHost: example\r\n\r\n";
    let err = Message::parse(garbage).unwrap_err();
    let ack = builder().reject_unparseable(garbage, "OHJ0000005", &err);
    assert_eq!(ack.code(), AckCode::Reject);
    assert_eq!(
        ack.as_str(),
        "MSH|^~\\&|OHJAAMO|SATAKUNTA|||20250314083005+0200||ACK^^ACK|OHJ0000005|P|2.3\r\
         MSA|AR||not an HL7 v2 message: expected it to start with \"MSH\", found \"GET / HT\"\r\
         ERR|^^^100&not an HL7 v2 message: expected it to start with \"MSH\", found \"GET / HT\"&HL70357\r"
    );
    assert_eq!(ack.charset(), Charset::Ascii);
    let parsed = Message::parse(&ack.to_bytes()).unwrap();
    assert_eq!(parsed.get("MSA-1").as_deref(), Some("AR"));
    assert_eq!(parsed.get("MSA-2"), None);

    let empty = builder().with_fallback_version("2.5").reject_unparseable(
        b"",
        "E1",
        &Message::parse(b"").unwrap_err(),
    );
    assert!(
        empty.as_str().ends_with(
            "|E1|P|2.5\rMSA|AR|\rERR|||100^Segment sequence error^HL70357|E||||empty input: no HL7 message\r"
        ),
        "{}",
        empty.as_str()
    );
}

#[test]
fn unparseable_with_readable_msh_echoes_the_control_id() {
    let broken = format!("{A01}pv2|oops\r");
    let bytes = latin1(&broken);
    let err = Message::parse(&bytes).unwrap_err();
    let ack = builder().reject_unparseable(&bytes, "OHJ0000006", &err);
    assert_eq!(ack.charset(), Charset::Latin1);
    let parsed = Message::parse(&ack.to_bytes()).unwrap();
    assert_eq!(parsed.get("MSA-2").as_deref(), Some("LC0000101"));
    assert_eq!(parsed.get("MSH-9-2").as_deref(), Some("A01"));
    assert_eq!(parsed.get("MSH-18").as_deref(), Some("8859/1"));
    assert_eq!(parsed.get("ERR-1-2").as_deref(), Some("6"));
    assert_eq!(parsed.get("ERR-1-4-1").as_deref(), Some("100"));
    assert!(
        parsed
            .get("ERR-1-4-2")
            .unwrap()
            .contains("segment 6 has an invalid segment ID")
    );
}

#[test]
fn unsupported_charset_answer_is_ascii_without_msh18() {
    let text = A01.replace("||8859/1\r", "||UNICODE UTF-16\r");
    let bytes = latin1(&text);
    let err = Message::parse(&bytes).unwrap_err();
    let ack = builder().reject_unparseable(&bytes, "OHJ0000007", &err);
    assert_eq!(ack.charset(), Charset::Ascii);
    let parsed = Message::parse(&ack.to_bytes()).unwrap();
    assert_eq!(parsed.get("MSA-2").as_deref(), Some("LC0000101"));
    assert_eq!(parsed.get("MSH-18"), None);
    assert_eq!(parsed.get("ERR-1").as_deref(), Some("MSH"));
    assert_eq!(parsed.get("ERR-1-3").as_deref(), Some("18"));
    assert_eq!(parsed.get("ERR-1-4-1").as_deref(), Some("103"));
}

#[test]
fn every_fixture_can_be_acknowledged() {
    for (trigger, text) in ALL {
        let msg = Message::parse_str(text).unwrap();
        let ack = AckBuilder::new("OHJAAMO", "SATAKUNTA").accept(&msg, "A1");
        let parsed = Message::parse(&ack.to_bytes()).unwrap();
        assert_eq!(parsed.message_type().trigger, trigger);
        assert_eq!(parsed.get("MSA-2").as_deref(), Some(msg.control_id()));
        assert_eq!(parsed.version(), "2.3");
        // MSH-7 defaults to the current time in UTC.
        let ts = parsed.get("MSH-7").unwrap();
        assert_eq!(ts.len(), 19, "{ts}");
        assert!(ts.starts_with("20") && ts.ends_with("+0000"), "{ts}");
    }
}

#[test]
fn control_characters_never_reach_the_wire_raw() {
    // A control character in a field we copy (MSH-3) or in our own text must be escaped:
    // raw, 0x0B or 0x1C would break the MLLP frame the ACK travels in.
    let text = "MSH|^~\\&|LIFE\x0bCARE|SATKS|OHJAAMO|SATAKUNTA|1||ADT^A01|C\x1c1|P|2.3\r";
    let msg = Message::parse_str(text).unwrap();
    let error = AckError::new(ErrorCode::ApplicationInternalError, "rivi\x1c\r\nrivi");
    let ack = builder().error(&msg, "OHJ1", &error);
    assert!(
        ack.as_str().contains("|LIFE\\X0B\\CARE|"),
        "{}",
        ack.as_str()
    );
    assert!(
        ack.as_str()
            .contains("MSA|AE|C\\X1C\\1|rivi\\X1C\\\\X0D\\\\X0A\\rivi")
    );
    let bytes = ack.to_bytes();
    assert!(ohjaamo_hl7::mllp::encode_frame(&bytes).is_ok());
    let parsed = Message::parse(&bytes).unwrap();
    assert_eq!(parsed.get("MSH-5").as_deref(), Some("LIFE\x0bCARE"));
    assert_eq!(parsed.get("MSA-2").as_deref(), Some("C\x1c1"));
    assert_eq!(parsed.get("MSA-3").as_deref(), Some("rivi\x1c\r\nrivi"));
}

/// Found by the fuzz target: a sender whose MSH-18 is followed by line feeds (segments
/// split oddly) got an ACK echoing `UNICODE UTF-8\X0A\\X0A\` — a character set nobody
/// knows, so the ACK itself did not parse. MSH-18 is echoed as the parser reads it.
#[test]
fn an_msh18_with_stray_whitespace_is_echoed_as_its_name() {
    let raw = "MSH|^~\\&|LIFECARE|SATKS|OHJAAMO|SATAKUNTA|20250319101500||ADT^A03^ADT_A01|\
               LC0000103|P|2.3|||AL|NE||UNICODE UTF-8\n\n~x\rEVN|A03|20250319101500\r";
    let ack = match Message::parse(raw.as_bytes()) {
        Ok(msg) => builder().accept(&msg, "R1"),
        Err(err) => builder().reject_unparseable(raw.as_bytes(), "R1", &err),
    };
    assert!(
        Message::parse(&ack.to_bytes()).is_ok(),
        "{:?}",
        ack.as_str()
    );
    assert!(
        ack.as_str().contains("|UNICODE UTF-8\r"),
        "{:?}",
        ack.as_str()
    );
}

/// Found by the fuzz target too: a version of only whitespace (fields shifted by a
/// mutated MSH-11) was echoed as it came, and our ACK then had no version.
#[test]
fn a_blank_version_gets_the_fallback() {
    let raw = "MSH|^~\\&|LIFECARE|SATKS|OHJAAMO|SATAKUNTA|20250319101500||ADT^A01^ADT_A01|\
               LC0000101|P| |||AL|NE||8859/1\rEVN|A01|20250319101500\r";
    let ack = match Message::parse(raw.as_bytes()) {
        Ok(msg) => builder().accept(&msg, "R1"),
        Err(err) => builder().reject_unparseable(raw.as_bytes(), "R1", &err),
    };
    let parsed = Message::parse(&ack.to_bytes());
    assert!(parsed.is_ok(), "{:?}", ack.as_str());
    assert_eq!(parsed.unwrap().get("MSH-12").as_deref(), Some("2.3"));
}
