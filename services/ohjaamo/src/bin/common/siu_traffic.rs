//! SIU bookings sent to the HL7 v2 adapter beside the simulator's ADT feed, for
//! `bench-sources`: one MLLP connection, a booking's life in turn (S12 new, S13
//! moved to another theatre, S14 started, S14 complete, and every fifth one S15
//! cancelled instead), at a steady rate, each message timed from being sent to its
//! `AA` (which the adapter sends once the core stored the booking).

use std::time::{Duration, Instant};

use ohjaamo_hl7::mllp::{read_frame, write_frame};
use ohjaamo_hl7::{Message, MllpDecoder};
use tokio::net::TcpStream;

/// Lags in milliseconds of the messages answered `AA`, and how many were not.
#[derive(Debug, Default)]
pub struct SiuLags {
    pub lags_ms: Vec<f64>,
    pub not_accepted: u64,
}

/// One message of booking `n` (its `step`-th), in v2.5.1 with TQ1, in `room`.
fn message(n: u64, step: u64, room: &str, start: jiff::Timestamp) -> (String, Vec<u8>) {
    let control = format!("BENCH-{n}-{step}");
    let (trigger, status) = match step {
        0 => ("S12", "Booked"),
        1 => ("S13", "Booked"),
        2 if n % 5 == 4 => ("S15", "Cancelled"),
        2 => ("S14", "Started"),
        _ => ("S14", "Complete"),
    };
    let ts = |t: jiff::Timestamp| t.strftime("%Y%m%d%H%M%S+0000").to_string();
    let end = start + jiff::SignedDuration::from_mins(75);
    let text = format!(
        "MSH|^~\\&|SCHED|OYS|OHJAAMO|OHJAAMO|{now}||SIU^{trigger}^SIU_S12|{control}|P|2.5.1\r\
         SCH|P{n}^SCHED|BENCH-{n}^SCHED|||||ROUTINE^^HL70276|||||||||||||||{status}\r\
         TQ1|1||||||{start}|{end}\r\
         RGS|1|A\r\
         AIS|1|A|LEIK^Leikkaus\r\
         AIL|1|A|^{room}|OR\r\
         AIP|1|A|{surgeon}^Kirurgi|SURG\r",
        now = ts(jiff::Timestamp::now()),
        start = ts(start),
        end = ts(end),
        surgeon = 1000 + n % 50,
    );
    (control, text.into_bytes())
}

/// [`send`] as a task of its own.
pub async fn send_owned(
    mllp: String,
    rooms: Vec<String>,
    per_second: f64,
    until: Instant,
) -> anyhow::Result<SiuLags> {
    send(&mllp, &rooms, per_second, until).await
}

/// Sends bookings to `mllp` at `per_second` until `until`, in the theatres `rooms`.
pub async fn send(
    mllp: &str,
    rooms: &[String],
    per_second: f64,
    until: Instant,
) -> anyhow::Result<SiuLags> {
    anyhow::ensure!(!rooms.is_empty(), "no operating rooms to book");
    let mut stream = TcpStream::connect(mllp).await?;
    let mut decoder = MllpDecoder::new(1 << 20);
    let mut out = SiuLags::default();
    let interval = Duration::from_secs_f64(1.0 / per_second.max(0.01));
    let mut next = Instant::now();
    let mut sent: u64 = 0;
    let tomorrow = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24);
    while Instant::now() < until {
        let (n, step) = (sent / 4, sent % 4);
        // Booking n in its own theatre; the reschedule moves it to the next one.
        let room = &rooms[((n + step.min(1)) % rooms.len() as u64) as usize];
        let start = tomorrow
            + jiff::SignedDuration::from_mins(30 * (n % 20) as i64 + 60 * step.min(1) as i64);
        let (control, bytes) = message(n, step, room, start);
        tokio::time::sleep_until(next.into()).await;
        next += interval;
        let at = Instant::now();
        write_frame(&mut stream, &bytes).await?;
        let frame = tokio::time::timeout(
            Duration::from_secs(30),
            read_frame(&mut stream, &mut decoder),
        )
        .await??
        .ok_or_else(|| anyhow::anyhow!("the adapter closed the connection"))?;
        let ack = Message::parse(&frame.payload)?;
        if ack.get("MSA-1").as_deref() == Some("AA")
            && ack.get("MSA-2").as_deref() == Some(control.as_str())
        {
            out.lags_ms.push(at.elapsed().as_secs_f64() * 1000.0);
        } else {
            out.not_accepted += 1;
        }
        sent += 1;
    }
    Ok(out)
}
