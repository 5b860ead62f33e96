//! Reading and writing MLLP frames on tokio streams (a TCP connection, in practice).
//!
//! The decoder keeps all state between calls, so these are plain functions over any
//! `AsyncRead` / `AsyncWrite` rather than a wrapper type: the caller keeps the stream
//! (and can split it into read and write halves for the ACKs) and one decoder per
//! connection.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::decoder::{Frame, MllpDecoder};
use super::frame::{MllpError, encode_frame};

/// Bytes asked of the stream per read.
const READ_CHUNK: usize = 8 * 1024;

/// Reads until the next frame (or report) is available.
///
/// Returns `Ok(None)` when the stream ends cleanly between frames, and
/// [`MllpError::UnexpectedEof`] when it ends inside one. [`MllpError::FrameTooLarge`] and
/// [`MllpError::IncompleteFrame`] are reports: call again to go on with the next frame.
///
/// Cancel-safe: bytes are handed to the decoder as soon as they are read, so dropping
/// the future (say, in `tokio::select!` with a shutdown signal) loses nothing.
pub async fn read_frame<R>(
    reader: &mut R,
    decoder: &mut MllpDecoder,
) -> Result<Option<Frame>, MllpError>
where
    R: AsyncRead + Unpin + ?Sized,
{
    read(reader, decoder, None).await
}

/// [`read_frame`] on a stream that may stay silent at most `idle` at a time: when no
/// byte arrives for that long, [`MllpError::Idle`]. Only silence counts, not a slow
/// frame: a sender still sending is not idle. Cancel-safe like [`read_frame`].
pub async fn read_frame_within<R>(
    reader: &mut R,
    decoder: &mut MllpDecoder,
    idle: Duration,
) -> Result<Option<Frame>, MllpError>
where
    R: AsyncRead + Unpin + ?Sized,
{
    read(reader, decoder, Some(idle)).await
}

async fn read<R>(
    reader: &mut R,
    decoder: &mut MllpDecoder,
    idle: Option<Duration>,
) -> Result<Option<Frame>, MllpError>
where
    R: AsyncRead + Unpin + ?Sized,
{
    let mut buf = [0u8; READ_CHUNK];
    loop {
        if let Some(result) = decoder.next_frame() {
            return result.map(Some);
        }
        let n = match idle {
            None => reader.read(&mut buf).await?,
            Some(idle) => tokio::time::timeout(idle, reader.read(&mut buf))
                .await
                .map_err(|_| MllpError::Idle(idle))??,
        };
        if n == 0 {
            return match decoder.finish() {
                Some(err) => Err(err),
                None => Ok(None),
            };
        }
        decoder.feed(&buf[..n]);
    }
}

/// Writes one payload as an MLLP frame and flushes, so that an ACK is not left sitting
/// in a buffer while the sender waits for it.
pub async fn write_frame<W>(writer: &mut W, payload: &[u8]) -> Result<(), MllpError>
where
    W: AsyncWrite + Unpin + ?Sized,
{
    let frame = encode_frame(payload)?;
    writer.write_all(&frame).await?;
    writer.flush().await?;
    Ok(())
}
