//! What of a message the quarantine keeps: only the fields the mapping reads.
//!
//! A quarantined message is kept to see why it failed and to replay it once the cause
//! is fixed, and for both the mapping's own inputs are enough: MSH whole (delimiters,
//! character set, event, control id), EVN-1/2/3/6, PV1-2/3/6/19/42/44/45, PV2-8/9,
//! PID-18 alone (the account number, a visit key as PV1-19 is; each PID stays, empty
//! but for it, so that an A17's two patients are still told apart), and PD1-12 alone (the protection order, so that a replayed admission is restricted as
//! the original was; nothing else of PD1). Every other segment — PID, NK1, MRG, GT1,
//! IN1, DG1, … — and every other field (staff in PV1-7/8/17, the admit reason in
//! PV2-3, the operator in EVN-5) is dropped before anything is written. With the
//! default visit key (PV1-19) the mapping reads nothing else (`event.rs`), so a
//! replay reads the same event from what is kept as it would have from the whole
//! message; a test holds the two lists together. PID-3 and a merge's MRG are not kept:
//! identity stays out of the quarantine, and a message of a source keyed by PID-3
//! replays as one without that key (answered and kept again, never guessed).
//!
//! Bytes that cannot be split into segments (no `MSH` and field separator at the
//! start) are not kept at all: only their length and the shape of their first bytes,
//! letters and digits masked.

/// The segments kept and, for each, the fields kept (`None`: all of them).
const KEPT: &[(&[u8], Option<&[usize]>)] = &[
    (b"MSH", None),
    (b"EVN", Some(&[1, 2, 3, 6])),
    (b"PID", Some(&[18])),
    (b"PD1", Some(&[12])),
    (b"PV1", Some(&[1, 2, 3, 6, 19, 42, 44, 45])),
    (b"PV2", Some(&[8, 9])),
    // SIU (siu/read.rs, siu/timing.rs): the booking's keys, reasons, time and
    // status, and each resource's key, role and start. Of AIP-3 only the staff
    // member's id (see `ID_ONLY`).
    (b"SCH", Some(&[1, 2, 6, 7, 9, 10, 11, 25])),
    (b"TQ1", Some(&[6, 7, 8])),
    (b"AIS", Some(&[3, 4, 7, 8])),
    (b"AIG", Some(&[3, 4, 8])),
    (b"AIL", Some(&[3, 4, 6])),
    (b"AIP", Some(&[3, 4, 6])),
];

/// Fields of which only the first component is kept: an id whose later
/// components are a person's name (AIP-3, XCN).
const ID_ONLY: &[(&[u8], usize)] = &[(b"AIP", 3)];

/// How many bytes of an unsplittable input its diagnostic describes.
const SHAPE_BYTES: usize = 64;

/// What the quarantine keeps of one input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept {
    /// The message reduced to the fields the mapping reads (segments end in CR).
    Message(Vec<u8>),
    /// Bytes too broken to split into segments: a short description, no content.
    Diagnostic(String),
}

/// Reduces `raw` to what the quarantine may keep (see the module docs).
pub fn for_quarantine(raw: &[u8]) -> Kept {
    let body = raw.trim_ascii_start();
    let separator = match body {
        [b'M', b'S', b'H', sep, ..] if is_separator(*sep) => *sep,
        _ => return Kept::Diagnostic(diagnostic(raw)),
    };
    let component = body.get(4).copied().unwrap_or(b'^');
    let mut out = Vec::new();
    for segment in body
        .split(|b| *b == b'\r' || *b == b'\n')
        .filter(|s| !s.is_empty())
    {
        let id = segment
            .split(|b| *b == separator)
            .next()
            .unwrap_or_default();
        let Some((_, fields)) = KEPT.iter().find(|(kept, _)| *kept == id) else {
            continue;
        };
        match fields {
            None => out.extend_from_slice(segment),
            Some(fields) => {
                let id_only: Vec<usize> = ID_ONLY
                    .iter()
                    .filter(|(kept, _)| *kept == id)
                    .map(|(_, n)| *n)
                    .collect();
                out.extend(only_fields(
                    segment,
                    separator,
                    fields,
                    (component, &id_only),
                ));
            }
        }
        out.push(b'\r');
    }
    Kept::Message(out)
}

/// A field separator is a printable, non-alphanumeric ASCII character (MSH-1).
fn is_separator(byte: u8) -> bool {
    byte.is_ascii_graphic() && !byte.is_ascii_alphanumeric()
}

/// The segment with the fields not in `kept` emptied, trailing empty fields dropped;
/// of the fields in `id_only`, only what comes before the first `component`
/// separator (or repetition) is kept.
fn only_fields(
    segment: &[u8],
    separator: u8,
    kept: &[usize],
    (component, id_only): (u8, &[usize]),
) -> Vec<u8> {
    let mut fields: Vec<&[u8]> = segment
        .split(|b| *b == separator)
        .enumerate()
        .map(|(n, field)| {
            if n == 0 || !kept.contains(&n) {
                return if n == 0 { field } else { &[] };
            }
            if id_only.contains(&n) {
                let end = field
                    .iter()
                    .position(|b| *b == component || *b == b'~')
                    .unwrap_or(field.len());
                return &field[..end];
            }
            field
        })
        .collect();
    while fields.len() > 1 && fields.last().is_some_and(|f| f.is_empty()) {
        fields.pop();
    }
    fields.join(&separator)
}

/// The length of `raw` and the shape of its start: letters become `A`/`a`, digits
/// `9`, other bytes beyond ASCII `?`; punctuation and line ends stay, so the
/// structure shows and the content does not.
fn diagnostic(raw: &[u8]) -> String {
    let shape: String = raw
        .iter()
        .take(SHAPE_BYTES)
        .map(|b| match b {
            b'A'..=b'Z' => "A".to_owned(),
            b'a'..=b'z' => "a".to_owned(),
            b'0'..=b'9' => "9".to_owned(),
            b'\r' => "\\r".to_owned(),
            b'\n' => "\\n".to_owned(),
            b if b.is_ascii_graphic() || *b == b' ' => char::from(*b).to_string(),
            b if b.is_ascii() => format!("\\x{b:02x}"),
            _ => "?".to_owned(),
        })
        .collect();
    format!(
        "not an HL7 message that can be split into segments ({} bytes); its first bytes, letters and digits masked: \"{shape}\"",
        raw.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_mapped_fields_of_the_kept_segments_stay() {
        let raw = b"MSH|^~\\&|A|B|C|D|202601151000||ADT^A01|M1|P|2.3\r\
            EVN|A01|202601151000|||op\xe4tor^Olli|202601151001\r\
            PID|1||010190-900P||Meik\xe4l\xe4inen^Matti\r\
            PD1|||||||||||Kunta|Y\r\
            NK1|1|Meik\xe4l\xe4inen^Maija\r\
            PV1|1|I|K2^1^K2-1-1^OYS||||1234^Hoitaja^Hanna||||||||||||V-1\r\
            PV2|||Rintakipu||||||20260120\r\
            DG1|1||I21.0\r";
        let Kept::Message(kept) = for_quarantine(raw) else {
            panic!("a message");
        };
        assert_eq!(
            String::from_utf8_lossy(&kept),
            "MSH|^~\\&|A|B|C|D|202601151000||ADT^A01|M1|P|2.3\r\
             EVN|A01|202601151000||||202601151001\r\
             PID\r\
             PD1||||||||||||Y\r\
             PV1|1|I|K2^1^K2-1-1^OYS||||||||||||||||V-1\r\
             PV2|||||||||20260120\r"
        );
    }

    #[test]
    fn a_booking_keeps_its_keys_times_and_resources_but_no_names() {
        let raw = b"MSH|^~\\&|A|B|C|D|202603151000||SIU^S12|M2|P|2.5\r\
            SCH|P1|F1|||||ROUTINE^^HL70276||||^^M60^202603161000||||Kirurgi^Kalle\r\
            PID|1||010190-900P||Meik\xe4l\xe4inen^Matti\r\
            RGS|1\r\
            AIS|1||LEIK^Leikkaus|202603161000\r\
            AIL|1||^SALI1^^OYS|OR\r\
            AIP|1||1234^Kirurgi^Kalle|SURG\r";
        let Kept::Message(kept) = for_quarantine(raw) else {
            panic!("a message");
        };
        assert_eq!(
            String::from_utf8_lossy(&kept),
            "MSH|^~\\&|A|B|C|D|202603151000||SIU^S12|M2|P|2.5\r\
             SCH|P1|F1|||||ROUTINE^^HL70276||||^^M60^202603161000\r\
             PID\r\
             AIS|||LEIK^Leikkaus|202603161000\r\
             AIL|||^SALI1^^OYS|OR\r\
             AIP|||1234|SURG\r"
        );
    }

    #[test]
    fn line_feeds_and_other_separators_are_read() {
        let raw = b"\r\nMSH#^~\\&#A\nPID#1##X\r\nPV1#1#I#K2\n";
        assert_eq!(
            for_quarantine(raw),
            Kept::Message(b"MSH#^~\\&#A\rPID\rPV1#1#I#K2\r".to_vec())
        );
    }

    #[test]
    fn unsplittable_bytes_keep_no_content() {
        for raw in [
            &b"PID|1||010190-900P||Meik\xe4l\xe4inen"[..],
            b"MSHA|x",
            b"",
            b"\x00\xff hello",
        ] {
            let Kept::Diagnostic(text) = for_quarantine(raw) else {
                panic!("{raw:?} is not a message");
            };
            assert!(
                !text.contains("010190") && !text.contains("PID") && !text.contains("hello"),
                "{text}"
            );
            assert!(text.contains(&format!("({} bytes)", raw.len())), "{text}");
        }
        let Kept::Diagnostic(long) = for_quarantine(&[b'x'; 10_000]) else {
            panic!("not a message");
        };
        assert!(long.len() < 300, "bounded: {long}");
    }
}
