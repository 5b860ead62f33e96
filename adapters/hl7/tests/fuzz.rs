//! Fuzz targets under stable Rust with `proptest`: the parser and the MLLP decoder
//! against arbitrary and structurally mutated input. `robustness.rs` walks fixed
//! seeds; these explore further with each run, shrink what they find to a small
//! case, and keep it in `proptest-regressions/` — a crash found becomes a regression
//! test there, and a named one in `robustness.rs`.
//!
//! Cases per target come from `PROPTEST_CASES` (256 without it; CI sets 1000).

mod common;

use common::exercise::exercise;
use common::{ALL, latin1, wire};
use ohjaamo_hl7::MllpError;
use ohjaamo_hl7::mllp::{KEPT_PREFIX, MllpDecoder, encode_frame};
use proptest::prelude::*;
use proptest::sample::Index;

/// Bytes that mean something to an HL7 parser or to MLLP.
const INTERESTING: &[u8] = b"|^~\\&#\r\n\x0b\x1c\"XFSTREH.0123456789MSHPIDV \xc3\xa4\xe4\xff\x00";

/// A byte, often one that matters.
fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        2 => prop::sample::select(INTERESTING),
        1 => any::<u8>(),
    ]
}

/// One change to a message, at positions taken modulo its size.
#[derive(Debug, Clone)]
enum Mutation {
    DropSegment(Index),
    DuplicateSegment(Index),
    SwapSegments(Index, Index),
    /// Field `n` of a segment replaced (or appended) with these bytes.
    ReplaceField(Index, usize, Vec<u8>),
    InsertBytes(Index, Vec<u8>),
    Truncate(Index),
    /// One of MSH's delimiter characters (MSH-1, MSH-2) changed.
    Delimiter(usize, u8),
    /// Segments ended by LF, or CRLF, instead of CR.
    Terminators(bool),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let bytes = || prop::collection::vec(byte(), 0..24);
    prop_oneof![
        any::<Index>().prop_map(Mutation::DropSegment),
        any::<Index>().prop_map(Mutation::DuplicateSegment),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapSegments(a, b)),
        (any::<Index>(), 0..60usize, bytes()).prop_map(|(s, f, v)| Mutation::ReplaceField(s, f, v)),
        (any::<Index>(), bytes()).prop_map(|(at, v)| Mutation::InsertBytes(at, v)),
        any::<Index>().prop_map(Mutation::Truncate),
        (3..8usize, byte()).prop_map(|(at, b)| Mutation::Delimiter(at, b)),
        any::<bool>().prop_map(Mutation::Terminators),
    ]
}

/// `message` (segments ended by CR) with `mutation` applied.
fn mutate(message: Vec<u8>, mutation: &Mutation) -> Vec<u8> {
    let mut segments: Vec<Vec<u8>> = message
        .split(|b| *b == b'\r')
        .filter(|s| !s.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    if segments.is_empty() {
        return message;
    }
    let mut joined_with = b"\r".to_vec();
    match mutation {
        Mutation::DropSegment(i) => {
            segments.remove(i.index(segments.len()));
        }
        Mutation::DuplicateSegment(i) => {
            let at = i.index(segments.len());
            segments.insert(at, segments[at].clone());
        }
        Mutation::SwapSegments(a, b) => {
            let n = segments.len();
            segments.swap(a.index(n), b.index(n));
        }
        Mutation::ReplaceField(s, field, value) => {
            let at = s.index(segments.len());
            let mut fields: Vec<Vec<u8>> = segments[at]
                .split(|b| *b == b'|')
                .map(<[u8]>::to_vec)
                .collect();
            if *field >= fields.len() {
                fields.resize(*field + 1, Vec::new());
            }
            fields[*field] = value.clone();
            segments[at] = fields.join(&b'|');
        }
        Mutation::InsertBytes(at, bytes) => {
            let mut flat = segments.join(&b'\r');
            let at = at.index(flat.len() + 1);
            flat.splice(at..at, bytes.iter().copied());
            return flat;
        }
        Mutation::Truncate(at) => {
            let mut flat = segments.join(&b'\r');
            flat.truncate(at.index(flat.len() + 1));
            return flat;
        }
        Mutation::Delimiter(at, byte) => {
            if let Some(b) = segments[0].get_mut(*at) {
                *b = *byte;
            }
        }
        Mutation::Terminators(crlf) => {
            joined_with = if *crlf {
                b"\r\n".to_vec()
            } else {
                b"\n".to_vec()
            };
        }
    }
    let mut out = segments.join(&joined_with[..]);
    out.extend_from_slice(&joined_with);
    out
}

/// A fixture message as a feed sends it: UTF-8 as written, or ISO-8859-1.
fn fixture() -> impl Strategy<Value = Vec<u8>> {
    (0..ALL.len(), any::<bool>()).prop_map(|(n, as_latin1)| {
        let text = ALL[n].1;
        if as_latin1 && !text.contains("UTF-8") {
            latin1(text)
        } else {
            wire(text)
        }
    })
}

/// What a decoder made of a stream, comparable between two feedings of it.
#[derive(Debug, PartialEq, Eq)]
enum Out {
    Frame(Vec<u8>, usize),
    TooLarge { length: usize, prefix: Vec<u8> },
    Incomplete(usize),
    Other(String),
}

/// Feeds `stream` in pieces of the given sizes (the last piece takes the rest) and
/// collects every result, the end of the stream and the bytes skipped.
fn decode(stream: &[u8], pieces: &[usize], max: usize) -> (Vec<Out>, Option<String>, u64) {
    let mut decoder = MllpDecoder::new(max);
    let mut out = Vec::new();
    let mut rest = stream;
    let mut sizes = pieces.iter().copied().cycle();
    while !rest.is_empty() {
        let n = sizes.next().unwrap_or(rest.len()).clamp(1, rest.len());
        decoder.feed(&rest[..n]);
        rest = &rest[n..];
        out.extend(
            std::iter::from_fn(|| decoder.next_frame()).map(|r| match r {
                Ok(frame) => Out::Frame(frame.payload, frame.skipped_before),
                Err(MllpError::FrameTooLarge { length, prefix, .. }) => {
                    Out::TooLarge { length, prefix }
                }
                Err(MllpError::IncompleteFrame { discarded }) => Out::Incomplete(discarded),
                Err(other) => Out::Other(other.to_string()),
            }),
        );
    }
    let end = decoder.finish().map(|e| e.to_string());
    (out, end, decoder.skipped_bytes())
}

/// A stream in which the framing bytes are common.
fn mllp_stream() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            1 => Just(0x0b_u8),
            1 => Just(0x1c_u8),
            1 => Just(0x0d_u8),
            6 => any::<u8>(),
        ],
        0..600,
    )
}

proptest! {
    #[test]
    fn the_parser_takes_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        exercise(&bytes);
    }

    #[test]
    fn the_parser_takes_any_bytes_after_a_header(
        tail in prop::collection::vec(byte(), 0..512),
        cr in any::<bool>(),
    ) {
        let mut bytes = b"MSH|^~\\&|A|B|C|D|20250314||ADT^A01|1|P|2.3".to_vec();
        if cr {
            bytes.push(b'\r');
        }
        bytes.extend(tail);
        exercise(&bytes);
    }

    #[test]
    fn the_parser_takes_mutated_messages(
        message in fixture(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let mutated = mutations.iter().fold(message, mutate);
        exercise(&mutated);
    }

    #[test]
    fn any_chunking_of_any_stream_decodes_the_same(
        stream in mllp_stream(),
        pieces in prop::collection::vec(1..64usize, 1..8),
        max in 1..256usize,
    ) {
        let whole = decode(&stream, &[stream.len().max(1)], max);
        let chunked = decode(&stream, &pieces, max);
        prop_assert_eq!(&chunked, &whole);
        let (out, _, skipped) = whole;
        prop_assert!(skipped <= stream.len() as u64);
        for result in &out {
            match result {
                Out::Frame(payload, _) => prop_assert!(payload.len() <= max),
                Out::TooLarge { length, prefix } => {
                    prop_assert!(*length > max && prefix.len() <= KEPT_PREFIX.min(*length));
                }
                Out::Incomplete(_) => {}
                Out::Other(e) => prop_assert!(false, "unexpected report {}", e),
            }
        }
    }

    #[test]
    fn framed_payloads_come_out_in_order_whatever_the_garbage_and_chunking(
        payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 1..6),
        garbage in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..16), 6),
        pieces in prop::collection::vec(1..97usize, 1..8),
        max in 1..400usize,
    ) {
        let mut stream = Vec::new();
        let mut expected = Vec::new();
        for (payload, noise) in payloads.iter().zip(&garbage) {
            // Garbage may hold anything but a start block; a payload no framing byte.
            stream.extend(noise.iter().filter(|b| **b != 0x0b));
            let payload: Vec<u8> = payload.iter().copied().filter(|b| *b != 0x0b && *b != 0x1c).collect();
            stream.extend(encode_frame(&payload).unwrap());
            expected.push(if payload.len() <= max { Ok(payload) } else { Err(payload.len()) });
        }
        let (out, end, _) = decode(&stream, &pieces, max);
        let got: Vec<Result<Vec<u8>, usize>> = out
            .into_iter()
            .map(|o| match o {
                Out::Frame(payload, _) => Ok(payload),
                Out::TooLarge { length, .. } => Err(length),
                other => Err(usize::MAX - format!("{other:?}").len()),
            })
            .collect();
        prop_assert_eq!(got, expected);
        prop_assert_eq!(end, None);
    }
}
