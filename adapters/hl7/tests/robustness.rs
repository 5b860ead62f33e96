//! No input may panic: every truncation of real messages, random bytes, mutated
//! messages, random positions, random MLLP streams. Deterministic (xorshift), so a
//! failure reproduces.
//!
//! Beyond "no panic", two properties: every message that parses can be acknowledged,
//! and so can every input that does not — and both ACKs parse.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};

use common::exercise::exercise;
use common::{A01, A08, ALL, XorShift, latin1, wire};
use ohjaamo_hl7::mllp::{MllpDecoder, encode_frame};
use ohjaamo_hl7::{Message, MllpError};

fn encodings(text: &str) -> Vec<Vec<u8>> {
    let mut out = vec![
        text.as_bytes().to_vec(),
        text.replace('\r', "\n").into_bytes(),
    ];
    if !text.contains("UTF-8") {
        out.push(latin1(text));
    }
    out
}

#[test]
fn every_truncation_of_every_fixture() {
    for (trigger, text) in ALL {
        // Until MSH-12 (the version) has begun, the header is incomplete.
        let version_starts = text.find("|2.3").unwrap() + 1;
        for bytes in encodings(text) {
            for len in 0..=bytes.len() {
                let parsed = exercise(&bytes[..len]);
                if len <= version_starts {
                    assert!(!parsed, "{trigger}: prefix of {len} bytes parsed");
                }
            }
        }
    }
}

#[test]
fn random_bytes() {
    let mut rng = XorShift::new(0x0BAD_5EED);
    for _ in 0..20_000 {
        let len = rng.below(200);
        let bytes = rng.bytes(len);
        exercise(&bytes);
    }
}

#[test]
fn random_bytes_after_a_plausible_header() {
    let mut rng = XorShift::new(42);
    let mut parsed = 0;
    for i in 0..10_000 {
        let mut bytes = b"MSH|^~\\&|A|B|C|D|20250314||ADT^A01|1|P|2.3".to_vec();
        if i % 2 == 0 {
            bytes.push(b'\r');
        }
        let len = rng.below(120);
        bytes.extend(rng.bytes(len));
        parsed += usize::from(exercise(&bytes));
    }
    assert!(parsed > 0, "some of these must parse");
}

#[test]
fn mutated_messages() {
    // Bytes that matter to a parser, mixed with random ones.
    const INTERESTING: &[u8] = b"|^~\\&#\r\n\x0b\x1c\"XF.brMSH \xc3\xa4\xff\x00";
    let mut rng = XorShift::new(7);
    let bases: Vec<Vec<u8>> = [A01, A08].iter().flat_map(|t| encodings(t)).collect();
    let mut parsed = 0;
    for i in 0..4_000 {
        let mut bytes = bases[i % bases.len()].clone();
        for _ in 0..=rng.below(4) {
            let at = rng.below(bytes.len());
            let byte = if rng.below(2) == 0 {
                INTERESTING[rng.below(INTERESTING.len())]
            } else {
                rng.next_u64() as u8
            };
            match rng.below(3) {
                0 => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                _ => {
                    bytes.remove(at);
                }
            }
        }
        parsed += usize::from(exercise(&bytes));
    }
    assert!(
        parsed > 1_000,
        "most small mutations still parse ({parsed})"
    );
}

#[test]
fn random_positions() {
    const ALPHABET: &[u8] = b"PIDVMSH123059-().x \xc3";
    let msg = Message::parse_str(A08).unwrap();
    let mut rng = XorShift::new(99);
    for _ in 0..20_000 {
        let len = rng.below(14);
        let bytes: Vec<u8> = (0..len)
            .map(|_| ALPHABET[rng.below(ALPHABET.len())])
            .collect();
        let path = String::from_utf8_lossy(&bytes);
        let _ = catch_unwind(AssertUnwindSafe(|| msg.get(&path)))
            .unwrap_or_else(|_| panic!("panicked on position {path:?}"));
    }
}

#[test]
fn random_mllp_streams() {
    let mut rng = XorShift::new(1234);
    for _ in 0..2_000 {
        let mut decoder = MllpDecoder::new(rng.below(64) + 1);
        let len = rng.below(400);
        let mut stream = rng.bytes(len);
        // Make framing bytes common enough to matter.
        for b in stream.iter_mut() {
            match *b % 16 {
                0 => *b = 0x0b,
                1 => *b = 0x1c,
                2 => *b = 0x0d,
                _ => {}
            }
        }
        let mut rest = &stream[..];
        while !rest.is_empty() {
            let n = (rng.below(32) + 1).min(rest.len());
            decoder.feed(&rest[..n]);
            rest = &rest[n..];
            while decoder.next_frame().is_some() {}
        }
        let _ = decoder.finish();
        assert!(decoder.skipped_bytes() <= stream.len() as u64);
    }
}

#[test]
fn frames_survive_garbage_and_any_slicing() {
    let mut rng = XorShift::new(2025);
    let payloads: Vec<Vec<u8>> = ALL.iter().map(|(_, t)| wire(t)).collect();
    for _ in 0..300 {
        let mut stream = Vec::new();
        let mut sent = Vec::new();
        for _ in 0..rng.below(6) + 1 {
            // Garbage may hold anything but a start block.
            let garbage_len = rng.below(20);
            let garbage: Vec<u8> = rng
                .bytes(garbage_len)
                .into_iter()
                .filter(|&b| b != 0x0b)
                .collect();
            stream.extend(garbage);
            let payload = payloads[rng.below(payloads.len())].clone();
            stream.extend(encode_frame(&payload).unwrap());
            sent.push(payload);
        }
        let mut decoder = MllpDecoder::default();
        let mut received = Vec::new();
        let mut rest = &stream[..];
        while !rest.is_empty() {
            let n = (rng.below(64) + 1).min(rest.len());
            decoder.feed(&rest[..n]);
            rest = &rest[n..];
            while let Some(frame) = decoder.next_frame() {
                received.push(frame.unwrap().payload);
            }
        }
        assert!(decoder.finish().is_none());
        assert_eq!(received, sent);
        for payload in &received {
            assert!(Message::parse(payload).is_ok());
        }
    }
}

#[test]
fn every_truncation_of_an_mllp_stream() {
    let mut stream = Vec::new();
    for (_, text) in ALL {
        stream.extend(encode_frame(&wire(text)).unwrap());
    }
    for len in 0..=stream.len() {
        let mut decoder = MllpDecoder::default();
        decoder.feed(&stream[..len]);
        let mut frames = 0;
        while let Some(frame) = decoder.next_frame() {
            assert_eq!(frame.unwrap().payload, wire(ALL[frames].1));
            frames += 1;
        }
        match decoder.finish() {
            None => {}
            Some(MllpError::UnexpectedEof { .. }) => assert!(frames < ALL.len()),
            Some(other) => panic!("unexpected {other}"),
        }
    }
}
