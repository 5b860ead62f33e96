//! The frame itself: its three framing bytes, what can go wrong on a stream of frames,
//! and how a payload is wrapped. The decoder and the stream helpers build on it.

use thiserror::Error;

/// Start of a frame (VT).
pub const START_BLOCK: u8 = 0x0B;
/// End of a frame (FS), followed by [`CARRIAGE_RETURN`].
pub const END_BLOCK: u8 = 0x1C;
/// Last byte of a frame.
pub const CARRIAGE_RETURN: u8 = 0x0D;

/// Something went wrong on an MLLP stream.
///
/// `FrameTooLarge` and `IncompleteFrame` are reports, not failures: the decoder has
/// already dropped the bad frame and resynchronised, and the next call continues with the
/// next frame. `Io` and `UnexpectedEof` end the stream.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MllpError {
    /// A frame grew beyond the maximum size. It is reported when it ends (so the
    /// sender can be answered in turn); only its first bytes were kept, never more
    /// than [`super::KEPT_PREFIX`].
    #[error("MLLP frame of {length} bytes is larger than {limit} bytes; dropped it")]
    FrameTooLarge {
        /// The maximum frame size.
        limit: usize,
        /// The frame's whole payload length.
        length: usize,
        /// Its first bytes (at most [`super::KEPT_PREFIX`]): enough to read its MSH.
        prefix: Vec<u8>,
    },

    /// A start block arrived inside a frame: the sender gave up on a frame half way and
    /// started another. The partial frame was dropped.
    #[error("MLLP frame not finished ({discarded} bytes) when the next frame started; dropped it")]
    IncompleteFrame {
        /// Bytes of the dropped partial frame.
        discarded: usize,
    },

    /// The stream ended inside a frame.
    #[error("connection closed inside an MLLP frame ({discarded} bytes received)")]
    UnexpectedEof {
        /// Bytes of the unfinished frame.
        discarded: usize,
    },

    /// A payload to send contains a framing byte, which would corrupt the stream.
    #[error("payload byte {offset} is the MLLP framing byte {byte:#04x}")]
    InvalidPayload {
        /// Offset of the byte in the payload.
        offset: usize,
        /// The byte.
        byte: u8,
    },

    /// Nothing arrived on the stream for this long (see
    /// [`super::read_frame_within`]).
    #[error("no bytes for {0:?}: the connection is idle")]
    Idle(std::time::Duration),

    /// Reading or writing the stream failed.
    #[error("MLLP I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Wraps a payload in an MLLP frame.
///
/// Fails when the payload contains `0x0B` or `0x1C`: sent as is, the receiver would see
/// the frame end (or a new one start) in the middle of the message.
pub fn encode_frame(payload: &[u8]) -> Result<Vec<u8>, MllpError> {
    let mut frame = Vec::with_capacity(payload.len() + 3);
    encode_frame_into(payload, &mut frame)?;
    Ok(frame)
}

/// Appends an MLLP frame to `out`; on error `out` is left unchanged. See
/// [`encode_frame`].
pub fn encode_frame_into(payload: &[u8], out: &mut Vec<u8>) -> Result<(), MllpError> {
    if let Some(offset) = payload
        .iter()
        .position(|&b| b == START_BLOCK || b == END_BLOCK)
    {
        return Err(MllpError::InvalidPayload {
            offset,
            byte: payload[offset],
        });
    }
    out.reserve(payload.len() + 3);
    out.push(START_BLOCK);
    out.extend_from_slice(payload);
    out.push(END_BLOCK);
    out.push(CARRIAGE_RETURN);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_a_payload() {
        assert_eq!(
            encode_frame(b"MSH|^~\\&\r").unwrap(),
            b"\x0bMSH|^~\\&\r\x1c\x0d"
        );
        assert_eq!(encode_frame(b"").unwrap(), b"\x0b\x1c\x0d");
    }

    #[test]
    fn refuses_framing_bytes_in_the_payload() {
        let err = encode_frame(b"MSH|\x1c").unwrap_err();
        assert!(matches!(
            err,
            MllpError::InvalidPayload {
                offset: 4,
                byte: 0x1c
            }
        ));
        let mut out = b"keep".to_vec();
        assert!(encode_frame_into(b"\x0b", &mut out).is_err());
        assert_eq!(out, b"keep");
    }
}
