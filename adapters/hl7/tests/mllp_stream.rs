//! MLLP over real tokio streams: an in-memory duplex pipe and a TCP connection, the way
//! the ADT adapter will use it (read a frame, parse, answer with an ACK).

mod common;

use common::{ALL, wire};
use ohjaamo_hl7::mllp::{MllpDecoder, encode_frame, read_frame, read_frame_within, write_frame};
use ohjaamo_hl7::{AckBuilder, Message, MllpError};
use tokio::io::{AsyncWriteExt, duplex};
use tokio::net::{TcpListener, TcpStream};

#[tokio::test]
async fn frames_over_a_duplex_pipe() {
    let (mut client, mut server) = duplex(64);
    let writer = tokio::spawn(async move {
        for (_, text) in ALL {
            write_frame(&mut client, &wire(text)).await.unwrap();
        }
        // Dropping the client ends the stream cleanly.
    });
    let mut decoder = MllpDecoder::default();
    let mut triggers = Vec::new();
    while let Some(frame) = read_frame(&mut server, &mut decoder).await.unwrap() {
        assert_eq!(frame.skipped_before, 0);
        let msg = Message::parse(&frame.payload).unwrap();
        triggers.push(msg.message_type().trigger);
    }
    writer.await.unwrap();
    let expected: Vec<_> = ALL.iter().map(|(t, _)| t.to_string()).collect();
    assert_eq!(triggers, expected);
}

#[tokio::test]
async fn garbage_split_writes_and_oversized_frames() {
    let (mut client, mut server) = duplex(16);
    let mut stream = b"\r\n".to_vec();
    stream.extend(encode_frame(&wire(ALL[0].1)).unwrap());
    stream.extend(encode_frame(&vec![b'x'; 5_000]).unwrap());
    stream.extend(b"noise");
    stream.extend(encode_frame(&wire(ALL[1].1)).unwrap());
    tokio::spawn(async move {
        // Small, uneven writes: TCP segments never line up with frames.
        for chunk in stream.chunks(7) {
            client.write_all(chunk).await.unwrap();
        }
    });

    let mut decoder = MllpDecoder::new(4_096);
    let first = read_frame(&mut server, &mut decoder)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.skipped_before, 2);
    assert_eq!(
        Message::parse(&first.payload).unwrap().control_id(),
        "LC0000101"
    );

    let too_large = read_frame(&mut server, &mut decoder).await.unwrap_err();
    assert!(matches!(
        too_large,
        MllpError::FrameTooLarge { limit: 4_096, length: 5_000, ref prefix } if prefix.len() == 5_000
    ));

    let second = read_frame(&mut server, &mut decoder)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.skipped_before, 5_003 + 5);
    assert_eq!(
        Message::parse(&second.payload).unwrap().control_id(),
        "LC0000102"
    );
    assert!(
        read_frame(&mut server, &mut decoder)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn connection_closed_inside_a_frame() {
    let (mut client, mut server) = duplex(64);
    client.write_all(b"\x0bMSH|^~\\&|cut").await.unwrap();
    drop(client);
    let mut decoder = MllpDecoder::default();
    let err = read_frame(&mut server, &mut decoder).await.unwrap_err();
    assert!(
        matches!(err, MllpError::UnexpectedEof { discarded: 12 }),
        "{err}"
    );
}

#[tokio::test]
async fn write_frame_refuses_a_payload_with_framing_bytes() {
    let (mut client, _server) = duplex(64);
    let err = write_frame(&mut client, b"MSH|\x0b").await.unwrap_err();
    assert!(matches!(err, MllpError::InvalidPayload { offset: 4, .. }));
}

/// The adapter's loop in miniature: a sender pushes ADT messages over TCP and waits for
/// each ACK; the receiver parses and acknowledges, and rejects what does not parse.
#[tokio::test]
async fn adt_feed_over_tcp_with_acks() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();

    let receiver = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let (mut read, mut write) = socket.into_split();
        let mut decoder = MllpDecoder::default();
        let acks = AckBuilder::new("OHJAAMO", "SATAKUNTA");
        let mut n = 0;
        while let Some(frame) = read_frame(&mut read, &mut decoder).await.unwrap() {
            n += 1;
            let control_id = format!("OHJ{n:07}");
            let ack = match Message::parse(&frame.payload) {
                Ok(msg) => acks.accept(&msg, &control_id),
                Err(err) => acks.reject_unparseable(&frame.payload, &control_id, &err),
            };
            write_frame(&mut write, &ack.to_bytes()).await.unwrap();
        }
        n
    });

    let mut socket = TcpStream::connect(addr).await.unwrap();
    let mut decoder = MllpDecoder::default();
    let mut payloads: Vec<Vec<u8>> = ALL.iter().map(|(_, t)| wire(t)).collect();
    payloads.push(b"not HL7 at all".to_vec());
    let mut answers = Vec::new();
    for payload in &payloads {
        write_frame(&mut socket, payload).await.unwrap();
        let frame = read_frame(&mut socket, &mut decoder)
            .await
            .unwrap()
            .unwrap();
        let ack = Message::parse(&frame.payload).unwrap();
        answers.push((
            ack.get("MSA-1").unwrap().into_owned(),
            ack.get("MSA-2").map(|c| c.into_owned()),
        ));
    }
    socket.shutdown().await.unwrap();
    drop(socket);
    assert_eq!(receiver.await.unwrap(), payloads.len());

    let mut expected: Vec<(String, Option<String>)> = ALL
        .iter()
        .map(|(t, _)| ("AA".to_owned(), Some(format!("LC00001{}", &t[1..]))))
        .collect();
    expected.push(("AR".to_owned(), None));
    assert_eq!(answers, expected);
}

#[tokio::test]
async fn silence_is_idle_and_a_slow_frame_is_not() {
    let idle = std::time::Duration::from_millis(300);
    let (mut client, mut server) = duplex(64);
    let mut decoder = MllpDecoder::default();
    let payload = wire(ALL[0].1);
    let frame = encode_frame(&payload).unwrap();
    let sender = tokio::spawn(async move {
        // The whole frame takes longer than `idle`, but no pause is that long.
        for piece in frame.chunks(frame.len() / 4 + 1) {
            client.write_all(piece).await.unwrap();
            tokio::time::sleep(idle / 3).await;
        }
        // Then silence, with the connection open.
        tokio::time::sleep(idle * 4).await;
        drop(client);
    });
    let received = read_frame_within(&mut server, &mut decoder, idle)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(received.payload, payload);
    let started = std::time::Instant::now();
    let silent = read_frame_within(&mut server, &mut decoder, idle).await;
    assert!(
        matches!(silent, Err(MllpError::Idle(d)) if d == idle),
        "{silent:?}"
    );
    assert!(started.elapsed() >= idle);
    sender.abort();
}
