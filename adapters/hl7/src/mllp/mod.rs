//! MLLP, the Minimal Lower Layer Protocol that carries HL7 v2 over TCP.
//!
//! A frame is `0x0B` (vertical tab), the message, `0x1C` (file separator) and `0x0D`
//! (CR). TCP delivers bytes, not frames, so the [`MllpDecoder`] is fed whatever arrives
//! and hands back whole frames; the [`read_frame`] / [`write_frame`] helpers do the same
//! over tokio streams.
//!
//! Neither byte can occur in an HL7 message (they are control characters outside every
//! character set a message may declare), which is what makes resynchronising possible:
//! after garbage or an oversized frame, the next `0x0B` is the next message.

mod decoder;
mod frame;
mod io;

pub use decoder::{DEFAULT_MAX_FRAME_SIZE, Frame, KEPT_PREFIX, MllpDecoder};
pub use frame::{
    CARRIAGE_RETURN, END_BLOCK, MllpError, START_BLOCK, encode_frame, encode_frame_into,
};
pub use io::{read_frame, read_frame_within, write_frame};
