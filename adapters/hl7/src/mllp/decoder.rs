//! The streaming MLLP decoder: bytes in, frames out.
//!
//! It is a small state machine that never needs to look back, so bytes can be fed in any
//! slicing — one at a time, or many frames at once — with the same result. What it does
//! not deliver it counts instead of reporting it as an error: stray line breaks between
//! frames are common and harmless, and a count per frame is enough to notice a feed that
//! is badly broken.

use std::collections::VecDeque;

use super::frame::{CARRIAGE_RETURN, END_BLOCK, MllpError, START_BLOCK};

/// The default maximum payload size: 1 MiB. An ADT message is a few kilobytes; a frame
/// this large is a broken sender, not a patient.
pub const DEFAULT_MAX_FRAME_SIZE: usize = 1 << 20;

/// How much of an oversized frame is kept to report it: enough for its MSH (to answer
/// it with an ACK that names it) and a few segments, and never more, however large
/// the frame.
pub const KEPT_PREFIX: usize = 8 * 1024;

/// One received frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The bytes between the start and end blocks: one HL7 message.
    pub payload: Vec<u8>,
    /// Bytes received since the previous frame (or the start of the stream) that were
    /// not part of a frame: garbage, and frames that were dropped as too large or
    /// unfinished.
    pub skipped_before: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Outside a frame, skipping until a start block.
    Between,
    /// After a start block, collecting the payload.
    InFrame,
    /// Just after an end block: a CR here belongs to the frame.
    AfterEnd,
    /// Dropping the rest of an oversized frame until its end block (reported then) or
    /// a start block (it was abandoned).
    Discarding,
}

/// Turns a byte stream into MLLP frames; see the [module docs](super).
///
/// Feed bytes with [`MllpDecoder::feed`], then take results with
/// [`MllpDecoder::next_frame`] until it returns `None`.
#[derive(Debug)]
pub struct MllpDecoder {
    state: State,
    payload: Vec<u8>,
    max_frame_size: usize,
    skipped_since_frame: usize,
    skipped_total: u64,
    /// Of the oversized frame being dropped: its first bytes and its length so far.
    oversized_prefix: Vec<u8>,
    oversized_length: usize,
    ready: VecDeque<Result<Frame, MllpError>>,
}

impl Default for MllpDecoder {
    fn default() -> Self {
        MllpDecoder::new(DEFAULT_MAX_FRAME_SIZE)
    }
}

impl MllpDecoder {
    /// A decoder that drops frames whose payload exceeds `max_frame_size` bytes.
    pub fn new(max_frame_size: usize) -> Self {
        MllpDecoder {
            state: State::Between,
            payload: Vec::new(),
            max_frame_size,
            skipped_since_frame: 0,
            skipped_total: 0,
            oversized_prefix: Vec::new(),
            oversized_length: 0,
            ready: VecDeque::new(),
        }
    }

    /// The maximum payload size.
    pub fn max_frame_size(&self) -> usize {
        self.max_frame_size
    }

    /// Every byte skipped so far (see [`Frame::skipped_before`]).
    pub fn skipped_bytes(&self) -> u64 {
        self.skipped_total
    }

    /// Whether a frame has started and not yet ended: at the end of a stream, such bytes
    /// are a message that was cut off.
    pub fn has_partial_frame(&self) -> bool {
        matches!(self.state, State::InFrame | State::Discarding)
    }

    /// The next frame, or the next report of a dropped frame; `None` when more bytes are
    /// needed. After an error, keep calling: the decoder has already resynchronised.
    pub fn next_frame(&mut self) -> Option<Result<Frame, MllpError>> {
        self.ready.pop_front()
    }

    /// Ends the stream: an unfinished frame is dropped and reported.
    pub fn finish(&mut self) -> Option<MllpError> {
        let discarded = match self.state {
            State::InFrame => {
                let discarded = self.payload.len();
                self.drop_frame();
                discarded
            }
            State::Discarding => self.take_oversized().1,
            State::Between | State::AfterEnd => {
                self.state = State::Between;
                return None;
            }
        };
        self.state = State::Between;
        Some(MllpError::UnexpectedEof { discarded })
    }

    /// Processes received bytes; results are queued for [`MllpDecoder::next_frame`].
    pub fn feed(&mut self, mut input: &[u8]) {
        while let Some(&first) = input.first() {
            match self.state {
                State::AfterEnd => {
                    if first == CARRIAGE_RETURN {
                        input = &input[1..];
                    }
                    self.state = State::Between;
                }
                State::Discarding => input = self.feed_discarding(input),
                State::Between => match input.iter().position(|&b| b == START_BLOCK) {
                    Some(start) => {
                        self.skip(start);
                        input = &input[start + 1..];
                        self.payload.clear();
                        self.state = State::InFrame;
                    }
                    None => {
                        self.skip(input.len());
                        input = &[];
                    }
                },
                State::InFrame => input = self.feed_in_frame(input),
            }
        }
    }

    /// Collects payload up to the next framing byte; returns the input left over.
    fn feed_in_frame<'a>(&mut self, input: &'a [u8]) -> &'a [u8] {
        let (chunk, rest) = until_framing_byte(input);
        if self.payload.len() + chunk.len() > self.max_frame_size {
            // Count what is dropped now; `Discarding` counts the rest of the frame.
            self.oversized_length = self.payload.len();
            self.oversized_prefix = std::mem::take(&mut self.payload);
            self.oversized_prefix.truncate(KEPT_PREFIX);
            self.skip(1 + self.oversized_length);
            self.state = State::Discarding;
            return self.feed_discarding(input);
        }
        self.payload.extend_from_slice(chunk);
        match rest.first() {
            Some(&END_BLOCK) => {
                let frame = Frame {
                    payload: std::mem::take(&mut self.payload),
                    skipped_before: std::mem::take(&mut self.skipped_since_frame),
                };
                self.ready.push_back(Ok(frame));
                self.state = State::AfterEnd;
                &rest[1..]
            }
            Some(_) => {
                // A start block: the current frame is abandoned, a new one begins.
                let discarded = self.payload.len();
                self.drop_frame();
                self.ready
                    .push_back(Err(MllpError::IncompleteFrame { discarded }));
                &rest[1..]
            }
            None => rest,
        }
    }

    /// Drops an oversized frame's bytes up to the next framing byte, keeping the first
    /// [`KEPT_PREFIX`]; at its end block it is reported, at a start block it was
    /// abandoned. Returns the input left over.
    fn feed_discarding<'a>(&mut self, input: &'a [u8]) -> &'a [u8] {
        let (chunk, rest) = until_framing_byte(input);
        let room = KEPT_PREFIX.saturating_sub(self.oversized_prefix.len());
        self.oversized_prefix
            .extend_from_slice(&chunk[..room.min(chunk.len())]);
        self.oversized_length = self.oversized_length.saturating_add(chunk.len());
        self.skip(chunk.len());
        match rest.first() {
            Some(&END_BLOCK) => {
                self.skip(1);
                let (prefix, length) = self.take_oversized();
                self.ready.push_back(Err(MllpError::FrameTooLarge {
                    limit: self.max_frame_size,
                    length,
                    prefix,
                }));
                // Its CR is skipped as garbage between frames.
                self.state = State::Between;
                &rest[1..]
            }
            Some(_) => {
                let (_, discarded) = self.take_oversized();
                self.ready
                    .push_back(Err(MllpError::IncompleteFrame { discarded }));
                self.payload.clear();
                self.state = State::InFrame;
                &rest[1..]
            }
            None => rest,
        }
    }

    /// The oversized frame's kept prefix and length, cleared for the next one.
    fn take_oversized(&mut self) -> (Vec<u8>, usize) {
        (
            std::mem::take(&mut self.oversized_prefix),
            std::mem::take(&mut self.oversized_length),
        )
    }

    /// Counts the current frame (its start block and payload so far) as skipped.
    fn drop_frame(&mut self) {
        self.skip(1 + self.payload.len());
        self.payload.clear();
    }

    fn skip(&mut self, n: usize) {
        self.skipped_since_frame = self.skipped_since_frame.saturating_add(n);
        self.skipped_total = self.skipped_total.saturating_add(n as u64);
    }
}

/// `input` split before its first start or end block (all of it when it has none).
fn until_framing_byte(input: &[u8]) -> (&[u8], &[u8]) {
    let end = input
        .iter()
        .position(|&b| b == START_BLOCK || b == END_BLOCK)
        .unwrap_or(input.len());
    input.split_at(end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mllp::frame::encode_frame;

    /// A comparable summary of what a decoder produced.
    #[derive(Debug, PartialEq, Eq)]
    enum Out {
        Frame(Vec<u8>, usize),
        TooLarge,
        Incomplete(usize),
    }

    fn drain(d: &mut MllpDecoder) -> Vec<Out> {
        std::iter::from_fn(|| d.next_frame())
            .map(|r| match r {
                Ok(f) => Out::Frame(f.payload, f.skipped_before),
                Err(MllpError::FrameTooLarge { .. }) => Out::TooLarge,
                Err(MllpError::IncompleteFrame { discarded }) => Out::Incomplete(discarded),
                Err(e) => panic!("unexpected {e}"),
            })
            .collect()
    }

    fn decode_in_chunks(stream: &[u8], chunk: usize, max: usize) -> (Vec<Out>, u64) {
        let mut d = MllpDecoder::new(max);
        let mut out = Vec::new();
        for piece in stream.chunks(chunk.max(1)) {
            d.feed(piece);
            out.extend(drain(&mut d));
        }
        (out, d.skipped_bytes())
    }

    #[test]
    fn one_frame_whole_and_byte_by_byte() {
        let stream = encode_frame(b"MSH|1\r").unwrap();
        for chunk in [1, 2, 3, stream.len()] {
            let (out, skipped) = decode_in_chunks(&stream, chunk, 100);
            assert_eq!(out, [Out::Frame(b"MSH|1\r".to_vec(), 0)], "chunk {chunk}");
            assert_eq!(skipped, 0);
        }
    }

    #[test]
    fn garbage_between_frames_is_counted() {
        let mut stream = b"\r\nnoise".to_vec();
        stream.extend(encode_frame(b"A").unwrap());
        stream.extend(b"\r\n");
        stream.extend(encode_frame(b"B").unwrap());
        stream.extend(b"tail");
        let (out, skipped) = decode_in_chunks(&stream, stream.len(), 100);
        assert_eq!(
            out,
            [Out::Frame(b"A".to_vec(), 7), Out::Frame(b"B".to_vec(), 2)]
        );
        assert_eq!(skipped, 13);
    }

    #[test]
    fn end_block_without_cr_is_tolerated() {
        let (out, skipped) = decode_in_chunks(b"\x0bA\x1c\x0bB\x1c", 1, 100);
        assert_eq!(
            out,
            [Out::Frame(b"A".to_vec(), 0), Out::Frame(b"B".to_vec(), 0)]
        );
        assert_eq!(skipped, 0);
    }

    #[test]
    fn oversized_frame_is_dropped_and_the_next_one_delivered() {
        let mut stream = encode_frame(&[b'x'; 20]).unwrap();
        stream.extend(encode_frame(b"ok").unwrap());
        for chunk in [1, 7, stream.len()] {
            let (out, skipped) = decode_in_chunks(&stream, chunk, 10);
            // The dropped frame's 20 payload bytes and 3 framing bytes were skipped.
            assert_eq!(
                out,
                [Out::TooLarge, Out::Frame(b"ok".to_vec(), 23)],
                "chunk {chunk}"
            );
            assert_eq!(skipped, 23);
        }
        let (out, _) = decode_in_chunks(&encode_frame(&[b'x'; 10]).unwrap(), 1, 10);
        assert_eq!(
            out,
            [Out::Frame(vec![b'x'; 10], 0)],
            "exactly the limit fits"
        );
    }

    #[test]
    fn an_oversized_frame_is_reported_at_its_end_with_a_bounded_prefix() {
        let mut payload = b"MSH|^~\\&|".to_vec();
        payload.resize(3 * KEPT_PREFIX, b'x');
        let mut stream = encode_frame(&payload).unwrap();
        stream.extend(encode_frame(b"ok").unwrap());
        for chunk in [1, 100, stream.len()] {
            let mut d = MllpDecoder::new(64);
            let mut reports = Vec::new();
            for piece in stream.chunks(chunk) {
                d.feed(piece);
                reports.extend(std::iter::from_fn(|| d.next_frame()));
            }
            match &reports[..] {
                [
                    Err(MllpError::FrameTooLarge {
                        limit: 64,
                        length,
                        prefix,
                    }),
                    Ok(frame),
                ] => {
                    assert_eq!(*length, payload.len());
                    assert_eq!(prefix[..], payload[..KEPT_PREFIX], "chunk {chunk}");
                    assert_eq!(frame.payload, b"ok");
                }
                other => panic!("chunk {chunk}: {other:?}"),
            }
        }
    }

    #[test]
    fn an_oversized_frame_abandoned_or_cut_off_is_reported_so() {
        let (out, _) = decode_in_chunks(b"\x0bxxxxxxxxxxxx\x0bok\x1c\r", 3, 5);
        assert_eq!(out, [Out::Incomplete(12), Out::Frame(b"ok".to_vec(), 13)]);
        let mut d = MllpDecoder::new(5);
        d.feed(b"\x0bxxxxxxxxxxxx");
        assert!(d.has_partial_frame() && d.next_frame().is_none());
        assert!(matches!(
            d.finish(),
            Some(MllpError::UnexpectedEof { discarded: 12 })
        ));
        assert_eq!(d.skipped_bytes(), 13);
    }

    #[test]
    fn start_block_inside_a_frame_restarts() {
        let (out, skipped) = decode_in_chunks(b"\x0bhalf\x0bwhole\x1c\x0d", 3, 100);
        assert_eq!(out, [Out::Incomplete(4), Out::Frame(b"whole".to_vec(), 5)]);
        assert_eq!(skipped, 5);
    }

    #[test]
    fn finish_reports_a_cut_off_frame() {
        let mut d = MllpDecoder::default();
        d.feed(b"\x0bMSH|");
        assert!(d.has_partial_frame() && d.next_frame().is_none());
        assert!(matches!(
            d.finish(),
            Some(MllpError::UnexpectedEof { discarded: 4 })
        ));
        assert!(!d.has_partial_frame() && d.finish().is_none());
        assert_eq!(d.skipped_bytes(), 5);
        d.feed(b"\x0bA\x1c");
        assert!(
            d.finish().is_none(),
            "a missing final CR is not a cut-off frame"
        );
        assert_eq!(drain(&mut d), [Out::Frame(b"A".to_vec(), 5)]);
    }

    #[test]
    fn every_slicing_gives_the_same_result() {
        let mut stream = b"junk\x1c\x0d".to_vec();
        stream.extend(encode_frame(b"MSH|first\r").unwrap());
        stream.extend(b"\x0bcut off");
        stream.extend(encode_frame(&[b'y'; 40]).unwrap());
        stream.extend(encode_frame(b"").unwrap());
        stream.extend(b"\n");
        stream.extend(encode_frame(b"MSH|last\r").unwrap());
        let expected = decode_in_chunks(&stream, stream.len(), 32);
        assert_eq!(expected.0.len(), 5, "{:?}", expected.0);
        for chunk in 1..stream.len() {
            assert_eq!(
                decode_in_chunks(&stream, chunk, 32),
                expected,
                "chunk {chunk}"
            );
        }
        // Every byte is either delivered (payload and framing) or counted as skipped.
        let delivered: usize = expected
            .0
            .iter()
            .map(|o| match o {
                Out::Frame(p, _) => p.len() + 3,
                _ => 0,
            })
            .sum();
        assert_eq!(delivered as u64 + expected.1, stream.len() as u64);
    }
}
