//! The PID segment removed from a message before it is kept in the quarantine: the
//! identity code and the name are never needed to see why a message failed. A
//! message too broken to find its segments is kept whole, so the quarantine file must
//! be protected like the feed itself.

/// The message with its PID segment's fields removed (segments end in CR or LF).
pub(crate) fn without_pid(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    for segment in raw.split_inclusive(|b| *b == b'\r' || *b == b'\n') {
        if segment.starts_with(b"PID") {
            out.extend_from_slice(b"PID|(removed)");
            if let Some(end) = segment.last().filter(|b| **b == b'\r' || **b == b'\n') {
                out.push(*end);
            }
        } else {
            out.extend_from_slice(segment);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_is_blanked() {
        let raw = b"MSH|^~\\&|A\rPID|1||010190-900P||Meik\xe4l\xe4inen\rPV1|1|I\r";
        let kept = without_pid(raw);
        assert_eq!(kept, b"MSH|^~\\&|A\rPID|(removed)\rPV1|1|I\r");
    }
}
